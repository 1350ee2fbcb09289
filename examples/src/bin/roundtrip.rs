//! `roundtrip`: see `handoff_examples::roundtrip` for what it does and how to run it with
//! the layer.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(handoff_examples::roundtrip::run(&args));
}
