//! The whole TUI on the real terminal over the fake executor, for trying
//! the key flows by hand or from tmux:
//!
//! ```text
//! cargo test --lib tui::live_demo -- --ignored --nocapture
//! ```
//!
//! `DMBENCH_DEMO_LAB=path.toml` shows a lab. The session takes a moment
//! to start, as the sandbox VM does.

use std::path::PathBuf;
use std::time::Duration;

use crate::exec::fake::FakeExecutor;
use crate::session::{Session, SessionOptions};

use super::testing::fake_builder;
use super::{LabInput, TuiOptions};

#[test]
#[ignore = "interactive: takes over this terminal"]
fn interactive_fake_session() {
    let root = std::env::temp_dir().join(format!("dmbench-demo-{}", std::process::id()));
    for lang in ["rust", "c"] {
        std::fs::create_dir_all(root.join("kmod").join(lang)).expect("scratch project");
    }
    let options = TuiOptions {
        roots: crate::lab::roots::SourceRoots::fixed(root.clone()),
        kdir: Some(PathBuf::from("/kdir")),
        executor: crate::exec::Placement::Vm,
        stats_interval: Duration::from_secs(1),
        builder: Some(fake_builder(root.clone(), "basic_target")),
    };
    let lab = std::env::var_os("DMBENCH_DEMO_LAB").map(|p| LabInput::Path(p.into()));
    let outcome = super::run(
        |events| {
            std::thread::sleep(Duration::from_millis(1500));
            Session::open(
                |sink| Ok(Box::new(FakeExecutor::new(sink))),
                events,
                SessionOptions {
                    work_dir: std::env::temp_dir().join("dmbench-demo-work"),
                    ledger_dir: None,
                },
            )
        },
        lab,
        options,
    );
    let _ = std::fs::remove_dir_all(&root);
    outcome.expect("the TUI runs and tears down");
}
