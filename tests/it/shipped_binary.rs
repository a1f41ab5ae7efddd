//! The shipped binary (also the sandbox guest's `/init`) carries no code of
//! the test doubles: they are compiled into the library for tests and
//! benchmarks, and the linker drops them because nothing in the binary
//! reaches them.

/// How the symbols of a module's own items begin (length-prefixed path).
const PRESENT: &str = "7dmbench4exec5local";
const ABSENT: [&str; 2] = ["7dmbench4exec4fake", "7dmbench3tui7testing"];
/// How generic instances and trait impls name a module's types.
const ABSENT_IN_GENERICS: [&str; 2] = ["dmbench..exec..fake", "dmbench..tui..testing"];
/// Drop glue is one exception: LLVM merges identical drop functions and
/// the merged one keeps one of their names, so a fake type's name can
/// label glue the binary uses for another type.
const MERGED_DROP_GLUE: &str = "drop_in_place$LT$";

#[test]
fn the_binary_carries_no_test_doubles() {
    let path = env!("CARGO_BIN_EXE_dmbench");
    let bytes = std::fs::read(path).expect("the dmbench binary");
    let positions = |needle: &str| -> Vec<usize> {
        bytes
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle.as_bytes())
            .map(|(i, _)| i)
            .collect()
    };
    // Without a symbol table the checks below would pass for nothing.
    assert!(
        !positions(PRESENT).is_empty(),
        "{path} has no symbols of dmbench::exec::local: cannot check it"
    );
    for module in ABSENT {
        assert!(positions(module).is_empty(), "{path} carries {module}");
    }
    for module in ABSENT_IN_GENERICS {
        for at in positions(module) {
            let before = &bytes[at.saturating_sub(MERGED_DROP_GLUE.len())..at];
            assert!(
                before == MERGED_DROP_GLUE.as_bytes(),
                "{path} carries {module} in {}",
                String::from_utf8_lossy(&bytes[at.saturating_sub(40)..(at + 80).min(bytes.len())])
            );
        }
    }
}
