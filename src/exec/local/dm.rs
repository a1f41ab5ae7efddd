//! Device-mapper ioctls through the `devicemapper` crate, with the kernel's
//! own reason attached when it refuses, and `/dev/mapper/NAME` links made
//! by hand where no udev runs.

use std::path::{Path, PathBuf};

use devicemapper::{DM, DevId, DeviceInfo, DmError, DmFlags, DmName, DmOptions, DmUuid};

use super::log_window::LogWindow;
use crate::exec::protocol::{DmInfo, ErrorKind, ExecError, TableLine, TargetVersion};

pub struct Dm {
    dm: DM,
}

impl Dm {
    pub fn open() -> Result<Dm, ExecError> {
        DM::new().map(|dm| Dm { dm }).map_err(|e| {
            ExecError::new(
                ErrorKind::Unsupported,
                format!(
                    "cannot open /dev/mapper/control ({e}): this kernel has no device-mapper \
                     or you are not root"
                ),
            )
        })
    }

    pub fn create(&self, name: &str, uuid: &str, table: &[TableLine]) -> Result<DmInfo, ExecError> {
        let dm_name = dm_name(name)?;
        let dm_uuid = DmUuid::new(uuid).map_err(|e| invalid(format!("uuid '{uuid}': {e}")))?;
        let kmsg = LogWindow::open();
        self.dm
            .device_create(dm_name, Some(dm_uuid), DmOptions::private())
            .map_err(|e| ioctl_error(&format!("create '{name}'"), e, &kmsg))?;
        // From here on a failure must not leave the empty device behind.
        let loaded = self
            .load(name, table)
            .and_then(|_| self.resume(name).map(|_| ()));
        if let Err(err) = loaded {
            let _ = self
                .dm
                .device_remove(&DevId::Name(dm_name), DmOptions::private());
            return Err(err);
        }
        let info = self.info(name)?;
        ensure_mapper_link(name, info.minor);
        Ok(info)
    }

    pub fn load(&self, name: &str, table: &[TableLine]) -> Result<DmInfo, ExecError> {
        let dm_name = dm_name(name)?;
        if table.is_empty() {
            return Err(invalid(format!("table for '{name}' has no lines")));
        }
        let targets: Vec<(u64, u64, String, String)> = table
            .iter()
            .map(|l| (l.start, l.length, l.target.clone(), l.params.clone()))
            .collect();
        for (start, length, target, _) in &targets {
            if target.len() >= 16 {
                return Err(invalid(format!(
                    "target type '{target}' at sector {start}+{length} is longer than the \
                     kernel's 15-character limit"
                )));
            }
        }
        let kmsg = LogWindow::open();
        self.dm
            .table_load(&DevId::Name(dm_name), &targets, DmOptions::private())
            .map(|i| to_info(&i))
            .map_err(|e| ioctl_error(&format!("load table into '{name}'"), e, &kmsg))
    }

    pub fn suspend(&self, name: &str) -> Result<DmInfo, ExecError> {
        let kmsg = LogWindow::open();
        self.dm
            .device_suspend(
                &DevId::Name(dm_name(name)?),
                DmOptions::private().set_flags(DmFlags::DM_SUSPEND),
            )
            .map(|i| to_info(&i))
            .map_err(|e| ioctl_error(&format!("suspend '{name}'"), e, &kmsg))
    }

    pub fn resume(&self, name: &str) -> Result<DmInfo, ExecError> {
        let kmsg = LogWindow::open();
        self.dm
            .device_suspend(&DevId::Name(dm_name(name)?), DmOptions::private())
            .map(|i| to_info(&i))
            .map_err(|e| ioctl_error(&format!("resume '{name}'"), e, &kmsg))
    }

    /// Suspend, load, resume. If the kernel refuses the new table the old
    /// one is resumed, so a bad reload never leaves the device suspended.
    pub fn reload(&self, name: &str, table: &[TableLine]) -> Result<DmInfo, ExecError> {
        let was_suspended = self.info(name)?.suspended;
        if !was_suspended {
            self.suspend(name)?;
        }
        if let Err(err) = self.load(name, table) {
            if !was_suspended {
                let _ = self.resume(name);
            }
            return Err(err);
        }
        let info = self.resume(name)?;
        ensure_mapper_link(name, info.minor);
        Ok(info)
    }

    pub fn remove(&self, name: &str, deferred: bool) -> Result<DmInfo, ExecError> {
        let options = if deferred {
            DmOptions::private().set_flags(DmFlags::DM_DEFERRED_REMOVE)
        } else {
            DmOptions::private()
        };
        let kmsg = LogWindow::open();
        let info = self
            .dm
            .device_remove(&DevId::Name(dm_name(name)?), options)
            .map(|i| to_info(&i))
            .map_err(|e| ioctl_error(&format!("remove '{name}'"), e, &kmsg))?;
        remove_mapper_link(name);
        Ok(info)
    }

    pub fn info(&self, name: &str) -> Result<DmInfo, ExecError> {
        let kmsg = LogWindow::open();
        let mut info = self
            .dm
            .device_info(&DevId::Name(dm_name(name)?))
            .map(|i| to_info(&i))
            .map_err(|e| ioctl_error(&format!("info '{name}'"), e, &kmsg))?;
        if info.live_table {
            info.target_count = self.table(name, false).map_or(0, |(_, l)| l.len() as u32);
        }
        Ok(info)
    }

    /// The live table (`status = false`) or the targets' status lines.
    pub fn table(&self, name: &str, status: bool) -> Result<(DmInfo, Vec<TableLine>), ExecError> {
        let options = if status {
            DmOptions::private()
        } else {
            DmOptions::private().set_flags(DmFlags::DM_STATUS_TABLE)
        };
        let kmsg = LogWindow::open();
        let (info, lines) = self
            .dm
            .table_status(&DevId::Name(dm_name(name)?), options)
            .map_err(|e| ioctl_error(&format!("table of '{name}'"), e, &kmsg))?;
        Ok((
            to_info(&info),
            lines
                .into_iter()
                .map(|(start, length, target, params)| TableLine {
                    start,
                    length,
                    target,
                    params,
                })
                .collect(),
        ))
    }

    pub fn message(
        &self,
        name: &str,
        sector: Option<u64>,
        text: &str,
    ) -> Result<Option<String>, ExecError> {
        let kmsg = LogWindow::open();
        self.dm
            .target_msg(&DevId::Name(dm_name(name)?), sector, text)
            .map(|(_, out)| out)
            .map_err(|e| ioctl_error(&format!("message '{text}' to '{name}'"), e, &kmsg))
    }

    pub fn list(&self) -> Result<Vec<DmInfo>, ExecError> {
        let kmsg = LogWindow::open();
        let devices = self
            .dm
            .list_devices()
            .map_err(|e| ioctl_error("list devices", e, &kmsg))?;
        let mut infos = Vec::new();
        for (name, _, _) in devices {
            // A device may vanish between list and info: skip it.
            if let Ok(info) = self.dm.device_info(&DevId::Name(&name)) {
                infos.push(to_info(&info));
            }
        }
        Ok(infos)
    }

    /// Name and event number of every device, cheaply, for the event watcher.
    pub fn event_numbers(&self) -> Vec<(String, u32)> {
        self.dm
            .list_devices()
            .map(|devs| {
                devs.into_iter()
                    .filter_map(|(name, _, ev)| ev.map(|ev| (name.to_string(), ev)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn target_versions(&self) -> Result<Vec<TargetVersion>, ExecError> {
        let kmsg = LogWindow::open();
        let mut targets: Vec<TargetVersion> = self
            .dm
            .list_versions()
            .map_err(|e| ioctl_error("list target versions", e, &kmsg))?
            .into_iter()
            .map(|(name, a, b, c)| TargetVersion {
                name,
                version: [a, b, c],
            })
            .collect();
        targets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(targets)
    }
}

fn dm_name(name: &str) -> Result<&DmName, ExecError> {
    DmName::new(name).map_err(|e| invalid(format!("device name '{name}': {e}")))
}

fn invalid(message: String) -> ExecError {
    ExecError::new(ErrorKind::Invalid, message)
}

fn to_info(i: &DeviceInfo) -> DmInfo {
    let flags = i.flags();
    let dev = i.device();
    DmInfo {
        name: i.name().map(|n| n.to_string()).unwrap_or_default(),
        uuid: i.uuid().map(|u| u.to_string()).unwrap_or_default(),
        major: dev.major,
        minor: dev.minor,
        open_count: i.open_count(),
        event_nr: i.event_nr(),
        // The crate does not expose the header's count; `info` fills it in.
        target_count: 0,
        suspended: flags.contains(DmFlags::DM_SUSPEND),
        live_table: flags.contains(DmFlags::DM_ACTIVE_PRESENT),
        inactive_table: flags.contains(DmFlags::DM_INACTIVE_PRESENT),
        read_only: flags.contains(DmFlags::DM_READONLY),
    }
}

/// Maps a devicemapper error to ours, with errno, a kind the session can
/// act on, and the kernel's `device-mapper:` lines logged meanwhile.
fn ioctl_error(what: &str, err: DmError, kmsg: &LogWindow) -> ExecError {
    let errno = match &err {
        DmError::Core(devicemapper::errors::Error::Ioctl(_, _, _, e)) => Some(**e as i32),
        _ => None,
    };
    let kind = match errno {
        Some(libc::ENXIO) | Some(libc::ENOENT) | Some(libc::ENODEV) => ErrorKind::NotFound,
        Some(libc::EBUSY) => ErrorKind::Busy,
        Some(libc::EEXIST) => ErrorKind::Exists,
        Some(libc::EINVAL) => ErrorKind::Kernel,
        Some(_) => ErrorKind::Io,
        None => ErrorKind::Invalid,
    };
    let reason = errno
        .map(|e| nix::errno::Errno::from_raw(e).desc().to_string())
        .unwrap_or_else(|| err.to_string());
    let kernel_log = kmsg.dm_reasons();
    ExecError {
        kind,
        message: format!("{what}: {reason}"),
        errno,
        kernel_log,
    }
}

fn mapper_link(name: &str) -> PathBuf {
    Path::new("/dev/mapper").join(name)
}

/// Without udev nothing creates /dev/mapper/NAME; make it point at dm-N.
fn ensure_mapper_link(name: &str, minor: u32) {
    let link = mapper_link(name);
    if link.exists() {
        return;
    }
    let _ = std::fs::create_dir_all("/dev/mapper");
    let _ = std::os::unix::fs::symlink(format!("../dm-{minor}"), &link);
}

/// Removes only a link of ours: a symlink into ../dm-N.
fn remove_mapper_link(name: &str) {
    let link = mapper_link(name);
    if let Ok(target) = std::fs::read_link(&link)
        && target.to_string_lossy().starts_with("../dm-")
    {
        let _ = std::fs::remove_file(&link);
    }
}
