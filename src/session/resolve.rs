//! The session's devices as the table validator sees them: every way a
//! table may name a session disk or device, with its size and dev_t.

use std::collections::HashMap;

use crate::table::{DevT, DeviceInfo, Table, validate};

use super::Session;

impl Session {
    /// Paths (`/dev/loop0`, `/dev/mapper/x`, `/dev/dm-0`) and `major:minor`
    /// of every session disk and device.
    pub fn device_map(&self) -> HashMap<String, DeviceInfo> {
        let mut map = HashMap::new();
        for disk in self.disks() {
            let info = DeviceInfo::new(disk.sectors(), DevT::new(disk.major, disk.minor));
            map.insert(disk.device.display().to_string(), info);
            map.insert(disk.dev_t(), info);
        }
        for dev in self.devices() {
            let info = DeviceInfo::new(dev.sectors(), DevT::new(dev.major, dev.minor));
            map.insert(dev.path().display().to_string(), info);
            map.insert(format!("/dev/{}", dev.kernel_name()), info);
            map.insert(format!("{}:{}", dev.major, dev.minor), info);
        }
        map
    }

    /// Validates a table against the session's devices; the error lists
    /// every problem with its line and argument.
    pub fn check_table(&self, table: &Table) -> anyhow::Result<()> {
        let map = self.device_map();
        let result = validate(table, &map);
        if result.is_ok() {
            return Ok(());
        }
        let errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
        anyhow::bail!("the table is invalid:\n  {}", errors.join("\n  "))
    }
}
