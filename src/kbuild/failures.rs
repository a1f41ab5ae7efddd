//! Builds that failed, remembered for the rest of one grading run. Only
//! working builds go into the module cache, so without this a submission
//! whose module does not build would be built again for each of its labs
//! (and its Makefile's `$(shell ...)` run again each time). The grader
//! names a private directory in `DMBENCH_BUILD_FAILURES`; each run it
//! starts finds there what an earlier lab's build of the same source, for
//! the same kernel, in the same place, already found.

use std::path::{Path, PathBuf};

use super::diagnostics::BuildFailure;

/// The variable the grader sets for the runs it starts.
pub const ENV: &str = "DMBENCH_BUILD_FAILURES";

pub struct FailureMemo {
    dir: PathBuf,
}

impl FailureMemo {
    /// The memo this process was given, if its directory is private to
    /// this user (another user's file must not fail a student's build).
    pub fn from_env() -> Option<FailureMemo> {
        let dir = std::env::var_os(ENV)?;
        let dir = crate::private_dir::ensure_private_dir(Path::new(&dir)).ok()?;
        Some(FailureMemo { dir })
    }

    pub fn at(dir: PathBuf) -> FailureMemo {
        FailureMemo { dir }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The failure an earlier build under `key` ended with.
    pub fn recall(&self, key: &str) -> Option<BuildFailure> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps `failure` under `key`; written aside and renamed, so a run
    /// reading at the same time sees all of it or nothing.
    pub fn remember(&self, key: &str, failure: &BuildFailure) {
        let Ok(text) = serde_json::to_vec(failure) else {
            return;
        };
        let aside = self
            .dir
            .join(format!(".{key}.{}.partial", std::process::id()));
        if std::fs::write(&aside, text).is_ok() && std::fs::rename(&aside, self.path(key)).is_err()
        {
            let _ = std::fs::remove_file(&aside);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_recalled_whole_under_its_key_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let memo = FailureMemo::at(dir.path().to_path_buf());
        let failure = BuildFailure {
            source: PathBuf::from("/class/bob/kmod/c"),
            status: "exit status: 2".into(),
            errors: vec![super::super::diagnostics::Diagnostic {
                file: "stripe_target.c".into(),
                line: 42,
                column: 7,
                severity: "error".into(),
                message: "expected ';' before '}' token".into(),
            }],
            tail: vec!["make: *** [Makefile:7: modules] Error 2".into()],
            outside: Vec::new(),
        };
        assert!(memo.recall("k1").is_none());
        memo.remember("k1", &failure);
        let recalled = memo.recall("k1").expect("remembered");
        assert_eq!(recalled.to_string(), failure.to_string());
        assert!(memo.recall("k2").is_none(), "another source's key");
    }
}
