//! Loading and unloading modules (init_module/delete_module), with the
//! kernel's own words when it refuses.

use std::ffi::CString;

use nix::errno::Errno;
use nix::kmod::{DeleteModuleFlags, delete_module, init_module};

use super::log_window::LogWindow;
use crate::exec::protocol::{ErrorKind, ExecError, ModuleInfo};

pub fn load(name: &str, image: &[u8], params: &str) -> Result<(), ExecError> {
    let params = CString::new(params)
        .map_err(|_| ExecError::new(ErrorKind::Invalid, "module parameters contain a NUL byte"))?;
    let kmsg = LogWindow::open();
    init_module(image, &params).map_err(|errno| {
        let lines = kmsg.module_reasons(name);
        let (kind, why) = match errno {
            Errno::EEXIST => (
                ErrorKind::Exists,
                format!(
                    "a module named '{name}' is already loaded (the C and Rust builds share \
                     that name: unload the other one first)"
                ),
            ),
            Errno::ENOEXEC => (
                ErrorKind::Kernel,
                "invalid module format: it was built for a different kernel (vermagic) \
                 or is not a module"
                    .to_string(),
            ),
            Errno::ENOENT => (
                ErrorKind::Kernel,
                "unknown symbol: the module needs something this kernel does not export"
                    .to_string(),
            ),
            Errno::EPERM => (
                ErrorKind::Kernel,
                "not permitted (not root, or module loading is disabled)".to_string(),
            ),
            Errno::ENOSYS => (
                ErrorKind::Unsupported,
                "this kernel was built without module support".to_string(),
            ),
            other => (ErrorKind::Kernel, other.desc().to_string()),
        };
        ExecError {
            kind,
            message: format!("load module '{name}': {why}"),
            errno: Some(errno as i32),
            kernel_log: lines,
        }
    })
}

pub fn unload(name: &str) -> Result<(), ExecError> {
    let cname = CString::new(name)
        .map_err(|_| ExecError::new(ErrorKind::Invalid, "module name contains a NUL byte"))?;
    delete_module(&cname, DeleteModuleFlags::O_NONBLOCK).map_err(|errno| {
        let (kind, why) = match errno {
            Errno::EWOULDBLOCK | Errno::EBUSY => {
                let users = list()
                    .ok()
                    .and_then(|m| m.into_iter().find(|m| m.name == name))
                    .map(|m| format!("refcount {}", m.refcount))
                    .unwrap_or_default();
                (
                    ErrorKind::Busy,
                    format!("in use ({users}): remove the DM devices that use its target first"),
                )
            }
            Errno::ENOENT => (ErrorKind::NotFound, "not loaded".to_string()),
            other => (ErrorKind::Kernel, other.desc().to_string()),
        };
        ExecError {
            kind,
            message: format!("unload module '{name}': {why}"),
            errno: Some(errno as i32),
            kernel_log: Vec::new(),
        }
    })
}

pub fn list() -> Result<Vec<ModuleInfo>, ExecError> {
    match std::fs::read_to_string("/proc/modules") {
        Ok(text) => Ok(parse_proc_modules(&text)),
        // No module support at all: nothing is loaded.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(ExecError::new(
            ErrorKind::Io,
            format!("read /proc/modules: {e}"),
        )),
    }
}

/// `name size refcount used_by,... state address`
pub fn parse_proc_modules(text: &str) -> Vec<ModuleInfo> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let name = f.next()?.to_string();
            let size = f.next()?.parse().ok()?;
            let refcount = f.next()?.parse().unwrap_or(0);
            let used_by = f
                .next()
                .unwrap_or("-")
                .split(',')
                .filter(|s| !s.is_empty() && *s != "-")
                .map(str::to_string)
                .collect();
            Some(ModuleInfo {
                name,
                size,
                refcount,
                used_by,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_modules_lines_parse() {
        let m = parse_proc_modules(
            "basic_target 16384 1 - Live 0xffffffffc0000000 (O)\n\
             dm_mod 180224 3 basic_target,dm_zero, Live 0xffffffffc0100000\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name, "basic_target");
        assert_eq!(m[0].refcount, 1);
        assert!(m[0].used_by.is_empty());
        assert_eq!(m[1].used_by, vec!["basic_target", "dm_zero"]);
    }
}
