//! The layer and the mock ICD reach the fuzzer as libraries the Vulkan loader `dlopen`s;
//! built by `cargo fuzz` they are instrumented too and call back into libFuzzer's coverage
//! hooks (and ASan's runtime) that live in the fuzzer executable. Exporting the executable's
//! symbols makes those hooks resolvable from the libraries.
fn main() {
    println!("cargo:rustc-link-arg-bins=-rdynamic");
}
