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

/// Whether a failure is the source's own, and so the same on every try:
/// a make that exited with an error (compiler errors, a Makefile mistake),
/// a reach outside the box, or a build past its deadline. Not a make killed by a signal (the OOM
/// killer), nor a box bubblewrap could not set up (a namespace limit hit
/// while many builds run): those are retried by the next lab.
pub fn is_the_sources_own(failure: &BuildFailure, overran: bool, exited: bool) -> bool {
    if overran || !failure.outside.is_empty() {
        return true;
    }
    let box_failed = failure.tail.iter().any(|l| l.starts_with("bwrap:"));
    exited && !box_failed
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

    #[test]
    fn only_the_sources_own_failures_are_kept() {
        let failure = |errors: usize, tail: &str| BuildFailure {
            source: PathBuf::from("/s"),
            status: "exit status: 2".into(),
            errors: (0..errors)
                .map(|_| super::super::diagnostics::Diagnostic {
                    file: "x.c".into(),
                    line: 1,
                    column: 1,
                    severity: "error".into(),
                    message: "m".into(),
                })
                .collect(),
            tail: vec![tail.to_string()],
            outside: Vec::new(),
        };
        assert!(is_the_sources_own(
            &failure(1, "make: *** Error 2"),
            false,
            true
        ));
        assert!(
            !is_the_sources_own(&failure(1, "x"), false, false),
            "killed"
        );
        assert!(!is_the_sources_own(
            &failure(1, "bwrap: Creating new namespace failed"),
            false,
            true
        ));
        assert!(is_the_sources_own(
            &failure(0, "Makefile:3: *** missing separator"),
            false,
            true
        ));
        assert!(
            is_the_sources_own(&failure(0, "x"), true, false),
            "past its deadline"
        );
    }
}
