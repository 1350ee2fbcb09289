//! One scenario per process: `handoff-scenario NAME [ARGS…]` prints one JSON line.
//! See `handoff_tests::app` for the scenarios and their arguments.

fn main() {
    let code = handoff_tests::app::main(std::env::args().collect());
    std::process::exit(code);
}
