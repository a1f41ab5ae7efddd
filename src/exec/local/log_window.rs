//! The kernel log of one operation: opened at the end of /dev/kmsg before
//! an ioctl, read after it fails, so the error carries the kernel's words.

use std::cell::RefCell;

use super::kmsg::{self, KmsgReader};
use crate::exec::protocol::KmsgRecord;

pub struct LogWindow {
    reader: Option<RefCell<KmsgReader>>,
}

impl LogWindow {
    /// A window starting now. Without /dev/kmsg it stays empty: errors then
    /// carry only the errno, which is still correct.
    pub fn open() -> LogWindow {
        let reader = KmsgReader::open()
            .and_then(|mut r| r.seek_to_end().map(|_| r))
            .ok()
            .map(RefCell::new);
        LogWindow { reader }
    }

    pub fn records(&self) -> Vec<KmsgRecord> {
        self.reader
            .as_ref()
            .and_then(|r| r.borrow_mut().read_available().ok())
            .map(|(records, _)| records)
            .unwrap_or_default()
    }

    /// `device-mapper:` warnings and errors logged since the window opened.
    pub fn dm_reasons(&self) -> Vec<String> {
        kmsg::dm_reasons_since(&self.records(), None)
    }

    /// What the kernel said about `module` since the window opened.
    pub fn module_reasons(&self, module: &str) -> Vec<String> {
        kmsg::module_reasons_since(&self.records(), None, module)
    }
}
