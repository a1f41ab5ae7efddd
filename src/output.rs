//! Lines for the user's terminal that never take the program down.
//!
//! `println!` panics when stdout is gone, and a closed terminal window
//! makes every write fail with EIO. A panic there would cut teardown
//! short, so front ends print through these, which drop what cannot be
//! written.

use std::io::Write;

/// A line on stdout; lost if stdout is gone.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// A line on stderr; lost if stderr is gone.
pub fn error_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Text as given (it carries its own newlines) on stdout.
pub fn text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
