//! `image_handoff`: see `handoff_examples::image_handoff` for what it does and how to run it
//! with the layer.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(handoff_examples::image_handoff::run(&args));
}
