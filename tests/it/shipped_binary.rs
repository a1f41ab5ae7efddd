//! The shipped binary (also the sandbox guest's `/init`) carries none of
//! the test doubles: they are compiled into the library for tests and
//! benchmarks, and the linker drops them because nothing in the binary
//! reaches them.

/// Length-prefixed module paths, as both Rust symbol manglings write them.
const PRESENT: &str = "7dmbench4exec5local";
const ABSENT: [&str; 2] = ["7dmbench4exec4fake", "7dmbench3tui7testing"];

#[test]
fn the_binary_carries_no_test_doubles() {
    let path = env!("CARGO_BIN_EXE_dmbench");
    let bytes = std::fs::read(path).expect("the dmbench binary");
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    // Without a symbol table the check below would pass for nothing.
    assert!(
        contains(PRESENT),
        "{path} has no symbols of dmbench::exec::local: cannot check it"
    );
    for module in ABSENT {
        assert!(!contains(module), "{path} carries {module}");
    }
}
