//! Shared by the end-to-end tests: boot the sandbox VM or explain why not.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dmbench::exec::{Event, EventSink};
use dmbench::vm::VmConfig;

/// The VM configuration, or None (with a printed reason) when no lab kernel
/// is cached — but in CI, or with DMBENCH_REQUIRE_VM=1, a missing kernel
/// fails the test instead of skipping it.
pub fn vm_config() -> Option<VmConfig> {
    match dmbench::kernel::locate() {
        Ok(kernel) => Some(VmConfig::new(
            kernel,
            PathBuf::from(env!("CARGO_BIN_EXE_dmbench")),
        )),
        Err(e) => {
            let required = std::env::var_os("CI").is_some()
                || std::env::var("DMBENCH_REQUIRE_VM").is_ok_and(|v| v == "1");
            if required {
                panic!("the VM end-to-end tests must run here: {e:#}");
            }
            eprintln!("SKIPPED (no lab kernel; run scripts/dev.sh setup): {e:#}");
            None
        }
    }
}

/// An event sink that records everything, for assertions.
pub fn recorder() -> (EventSink, Arc<Mutex<Vec<Event>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = seen.clone();
    let sink: EventSink = Arc::new(move |e| {
        if std::env::var_os("DMBENCH_TEST_EVENTS").is_some() {
            eprintln!("event: {e:?}");
        }
        if let Ok(mut v) = sink_seen.lock() {
            v.push(e);
        }
    });
    (sink, seen)
}

pub fn kmsg_lines(events: &Arc<Mutex<Vec<Event>>>) -> Vec<String> {
    events
        .lock()
        .map(|v| {
            v.iter()
                .filter_map(|e| match e {
                    Event::Kmsg(r) => Some(r.text.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}
