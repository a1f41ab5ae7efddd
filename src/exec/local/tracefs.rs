//! Block tracepoints through tracefs, recorded for one probe only: the
//! buffer is emptied and recording turned on; afterwards recording goes
//! off and the buffer is read and emptied. The journey's events are
//! enabled once, on the first traced probe, and stay enabled: enabling
//! one patches the kernel's code (a static key), which took ~10 ms per
//! probe under TCG, while an enabled tracepoint with recording off costs
//! a few instructions per bio. Tracing is global to a kernel, so only the
//! sandbox VM's agent does this.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The events are enabled (in this kernel, by this process).
static EVENTS_ON: AtomicBool = AtomicBool::new(false);

use crate::exec::blocktrace;
use crate::exec::protocol::TraceRecord;

/// Where the agent mounts tracefs.
pub const TRACEFS: &str = "/sys/kernel/tracing";

/// At most this many records go back over the wire; a journey is asked
/// for small probes, so more means something else was doing I/O.
pub const MAX_RECORDS: usize = 4096;

pub struct Capture {
    root: PathBuf,
}

impl Capture {
    /// Empties the buffer, enables the block events (the first time) and
    /// turns recording on.
    pub fn start() -> Result<Capture, String> {
        let root = PathBuf::from(TRACEFS);
        if !root.join("events/block").is_dir() {
            return Err(format!(
                "no block tracepoints under {TRACEFS} (a lab kernel built without event tracing)"
            ));
        }
        let capture = Capture { root };
        capture.write("tracing_on", "0")?;
        // Opening `trace` for writing with truncation empties the buffer.
        capture.write("trace", "")?;
        if !EVENTS_ON.load(Ordering::SeqCst) {
            for event in blocktrace::EVENTS {
                capture.write(&format!("events/block/{event}/enable"), "1")?;
            }
            EVENTS_ON.store(true, Ordering::SeqCst);
        }
        capture.write("tracing_on", "1")?;
        Ok(capture)
    }

    /// Stops tracing and returns the records (at most `MAX_RECORDS`) and
    /// whether some were left out.
    pub fn finish(self) -> Result<(Vec<TraceRecord>, bool), String> {
        self.write("tracing_on", "0")?;
        let text = fs::read_to_string(self.root.join("trace"))
            .map_err(|e| format!("reading {TRACEFS}/trace: {e}"))?;
        let mut records = blocktrace::parse(&text);
        let cut = records.len() > MAX_RECORDS;
        records.truncate(MAX_RECORDS);
        Ok((records, cut))
    }

    /// Recording off, buffer empty: nothing recorded outside a probe.
    fn reset(&self) {
        let _ = self.write("tracing_on", "0");
        let _ = self.write("trace", "");
    }

    fn write(&self, file: &str, text: &str) -> Result<(), String> {
        write_file(&self.root.join(file), text)
    }
}

impl Drop for Capture {
    /// Also when the probe failed or panicked half-way.
    fn drop(&mut self) {
        self.reset();
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
