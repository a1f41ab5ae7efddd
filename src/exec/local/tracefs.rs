//! Block tracepoints through tracefs, switched on for one probe only: the
//! buffer is emptied, the journey's events enabled, tracing turned on;
//! afterwards tracing goes off, the buffer is read and emptied and the
//! events are disabled again. Tracing is global to a kernel, so only the
//! sandbox VM's agent does this.

use std::fs;
use std::path::{Path, PathBuf};

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
    /// Empties the buffer and enables the block events.
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
        for event in blocktrace::EVENTS {
            capture.write(&format!("events/block/{event}/enable"), "1")?;
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

    /// Events off, buffer empty: nothing traced outside a probe.
    fn reset(&self) {
        let _ = self.write("tracing_on", "0");
        for event in blocktrace::EVENTS {
            let _ = self.write(&format!("events/block/{event}/enable"), "0");
        }
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
