//! Why a session operation failed, typed: the executor's own error (errno
//! and the kernel's words) travels intact from the ioctl to whoever shows
//! or judges it, a lab step or the TUI, across the worker channel.

use std::path::PathBuf;

use crate::exec::{ErrorKind, ExecError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The executor failed the request: the kernel refused, an I/O error,
    /// the guest died. `context` says what the session was doing.
    #[error("{context}: {source}")]
    Exec {
        context: String,
        #[source]
        source: ExecError,
    },
    /// A session rule or precondition refused before anything was asked of
    /// the kernel (a name taken, a device that is not the session's, an
    /// invalid table).
    #[error("{0}")]
    Refused(String),
    /// The sandbox VM died earlier in this session; nothing can run in it.
    #[error("the sandbox VM is gone ({0}); nothing can run in it")]
    GuestGone(String),
    /// A module did not build; the text carries the compiler's diagnostics.
    #[error("{message}")]
    Build { dir: PathBuf, message: String },
    /// The ledger (the session's record of what it created) could not be
    /// written.
    #[error("the session ledger: {0}")]
    Ledger(String),
    /// A file the user named could not be read or written.
    #[error("{0}")]
    File(String),
    /// The executor answered with something else than the request asks for.
    #[error("unexpected answer to {request}: {answer}")]
    UnexpectedAnswer {
        request: &'static str,
        answer: String,
    },
}

impl SessionError {
    pub fn refused(text: impl Into<String>) -> Self {
        SessionError::Refused(text.into())
    }

    pub fn exec(context: impl Into<String>, source: ExecError) -> Self {
        SessionError::Exec {
            context: context.into(),
            source,
        }
    }

    pub fn ledger(err: anyhow::Error) -> Self {
        SessionError::Ledger(format!("{err:#}"))
    }

    /// The executor's error, when the failure came from it.
    pub fn exec_error(&self) -> Option<&ExecError> {
        match self {
            SessionError::Exec { source, .. } => Some(source),
            _ => None,
        }
    }

    /// errno of the failing system call, when there was one.
    pub fn errno(&self) -> Option<i32> {
        self.exec_error().and_then(|e| e.errno)
    }

    pub fn kind(&self) -> Option<ErrorKind> {
        self.exec_error().map(|e| e.kind)
    }

    /// The kernel's own reason, if it logged one: the table line that
    /// names the target's complaint (`device-mapper: table: ...`) rather
    /// than the ioctl's summary after it.
    pub fn kernel_reason(&self) -> Option<&str> {
        let log = &self.exec_error()?.kernel_log;
        log.iter()
            .find(|l| l.contains("device-mapper: table:"))
            .or_else(|| log.first())
            .map(String::as_str)
    }

    /// Whether the sandbox VM died (now or earlier): nothing is left in it.
    pub fn guest_gone(&self) -> bool {
        matches!(self, SessionError::GuestGone(_)) || self.kind() == Some(ErrorKind::GuestDied)
    }

    /// The most specific line: the kernel's words if any, else the text.
    pub fn reason(&self) -> String {
        match (self.kernel_reason(), self) {
            (Some(line), _) => line.to_string(),
            (None, SessionError::Exec { source, .. }) => source.message.clone(),
            (None, other) => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_errno_and_the_kernels_words_survive() {
        let err = SessionError::exec(
            "creating DM device 'x'",
            ExecError {
                kind: ErrorKind::Kernel,
                message: "DM_TABLE_LOAD: Invalid argument".into(),
                errno: Some(libc::EINVAL),
                kernel_log: vec![
                    "device-mapper: table: 254:0: basic_target: invalid argument count".into(),
                    "device-mapper: ioctl: error adding target to table".into(),
                ],
            },
        );
        assert_eq!(err.errno(), Some(libc::EINVAL));
        assert_eq!(
            err.reason(),
            "device-mapper: table: 254:0: basic_target: invalid argument count"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("creating DM device 'x': DM_TABLE_LOAD"),
            "{text}"
        );
        assert!(text.contains("(kernel: device-mapper: table:"), "{text}");
        assert!(!err.guest_gone());
    }

    #[test]
    fn a_dead_guest_is_recognised_either_way() {
        let died = SessionError::exec("probe", ExecError::new(ErrorKind::GuestDied, "panic"));
        assert!(died.guest_gone());
        assert!(SessionError::GuestGone("Oops".into()).guest_gone());
        assert!(!SessionError::refused("no").guest_gone());
    }
}
