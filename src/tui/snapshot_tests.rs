//! Snapshot tests of every pane in its main states, driven through the
//! real worker and Session over the fake executor.

use super::testing::Harness;

#[test]
fn scratch_view() {
    let mut h = Harness::with_sources();
    println!("{}", h.render(160, 48));
    h.keys("d<Enter><Enter>d<Enter>10MiB<Enter>");
    h.keys("4a<Enter><Enter><Enter><Enter>");
    println!("{}", h.render(160, 48));
    h.keys("<Right><Right><Right><Right><Right><Right><Right><Right><Right><Right>s");
    h.keys("t");
    println!("{}", h.render(160, 48));
    h.keys("zero<Enter>");
    println!("{}", h.render(160, 48));
    h.keys("<Enter><Enter>");
    println!("{}", h.render(160, 48));
    println!("{}", h.render(80, 24));
}
