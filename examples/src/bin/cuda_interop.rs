//! `cuda_interop`: see `handoff_examples::cuda_interop` for what it does, how to build its
//! CUDA side and how to run it with the layer.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(handoff_examples::cuda_interop::run(&args));
}
