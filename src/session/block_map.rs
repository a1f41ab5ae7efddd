//! The session's block devices by every name a table may use for them:
//! the loop device path of a disk, `/dev/mapper/NAME` and `/dev/dm-N` of a
//! DM device, and `major:minor` of both. One map serves table validation,
//! "which devices does this table use" and the TUI's composer.

use std::collections::BTreeMap;

use crate::table::{DevT, DeviceInfo, DeviceResolver, Table, validate};

use super::{Device, Disk, SessionError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockDeviceMap {
    by_reference: BTreeMap<String, DeviceInfo>,
}

impl BlockDeviceMap {
    pub fn new<'a>(
        disks: impl IntoIterator<Item = &'a Disk>,
        devices: impl IntoIterator<Item = &'a Device>,
    ) -> Self {
        let mut by_reference = BTreeMap::new();
        for disk in disks {
            let info = DeviceInfo::new(disk.sectors(), disk.dev_t());
            by_reference.insert(disk.device.display().to_string(), info);
            by_reference.insert(disk.dev_t().to_string(), info);
        }
        for dev in devices {
            let info = DeviceInfo::new(dev.sectors(), dev.dev_t());
            by_reference.insert(dev.path().display().to_string(), info);
            by_reference.insert(format!("/dev/{}", dev.kernel_name()), info);
            by_reference.insert(dev.dev_t().to_string(), info);
        }
        BlockDeviceMap { by_reference }
    }

    /// The device number a table token names, if it names one of these.
    pub fn dev_t(&self, token: &str) -> Option<DevT> {
        self.by_reference.get(token).and_then(|i| i.dev_t)
    }

    pub fn contains(&self, token: &str) -> bool {
        self.by_reference.contains_key(token)
    }

    /// Whether any line of `table` names the device `dev_t`.
    pub fn table_uses(&self, table: &[crate::exec::protocol::TableLine], dev_t: DevT) -> bool {
        table.iter().any(|line| {
            line.params
                .split_whitespace()
                .any(|token| self.dev_t(token) == Some(dev_t))
        })
    }

    /// Validates a table against these devices; the error lists every
    /// problem with its line and argument.
    pub fn check(&self, table: &Table) -> Result<(), SessionError> {
        let result = validate(table, self);
        if result.is_ok() {
            return Ok(());
        }
        let errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
        Err(SessionError::refused(format!(
            "the table is invalid:\n  {}",
            errors.join("\n  ")
        )))
    }
}

impl DeviceResolver for BlockDeviceMap {
    fn resolve(&self, reference: &str) -> Option<DeviceInfo> {
        self.by_reference.get(reference).copied()
    }
}
