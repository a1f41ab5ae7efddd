//! Hot reload: a rebuilt module swapped in under the live devices that use
//! it, each keeping its name, its dev_t and its data.
//!
//! A loaded target module is pinned by every table that uses its target,
//! and the kernel releases a live table only when another one takes its
//! place (DM_DEV_SUSPEND without the suspend flag swaps the inactive table
//! in). So each user is parked on a stand-in table of the same size
//! (`error`): suspend, load the stand-in, resume (the swap), suspend again.
//! Then the old module goes, the new one comes, the original tables are
//! loaded again (the new module's constructors run) and the devices
//! resume. The stand-in is live only between one resume and the next
//! suspend of the same device, two back-to-back ioctls; the session's own
//! I/O never runs then (requests are sequential).
//!
//! If the new module does not load, or refuses a table, the old module is
//! loaded again and every device gets its original table back.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::exec::protocol::{Request, TableLine};

use super::{ModuleBuild, Session, SessionError, SessionResult};

/// What a swap did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSwap {
    pub module: String,
    /// The devices that were parked and now run on the new module.
    pub devices: Vec<String>,
    /// How long the longest-parked device had its I/O stopped.
    pub stalled: Duration,
    pub image: PathBuf,
}

/// A device parked on the stand-in, with what to give back.
struct Parked {
    name: String,
    table: Vec<TableLine>,
    since: Instant,
}

impl Session {
    /// Swaps the loaded module `name` for the build at `image` under every
    /// session device whose table uses its target.
    pub fn swap_module(&mut self, name: &str, build: ModuleBuild) -> SessionResult<ModuleSwap> {
        let image = build.image.as_path();
        let (old_image, params) = self
            .modules
            .get(name)
            .filter(|m| m.loaded)
            .and_then(|m| Some((m.image.clone()?, m.params.clone())))
            .ok_or_else(|| {
                SessionError::refused(format!(
                    "module '{name}' is not loaded by this session: load it before reloading it"
                ))
            })?;
        let new_bytes = std::fs::read(image)
            .map_err(|e| SessionError::File(format!("reading {}: {e}", image.display())))?;
        let users: Vec<(String, Vec<TableLine>)> = self
            .devices_using_target(name)
            .into_iter()
            .filter_map(|d| self.devices.get(&d).map(|dev| (d, dev.table.clone())))
            .collect();

        let mut parked = Vec::new();
        for (device, table) in &users {
            let since = Instant::now();
            if let Err(e) = self.park(device, table) {
                self.give_back(&parked);
                return Err(e);
            }
            parked.push(Parked {
                name: device.clone(),
                table: table.clone(),
                since,
            });
        }
        let unloaded = self.call_in(
            Request::UnloadModule {
                name: name.to_string(),
            },
            || format!("unloading the old '{name}'"),
        );
        if let Err(e) = unloaded {
            self.give_back(&parked);
            return Err(e);
        }
        let loaded = self.call_in(
            Request::LoadModule {
                name: name.to_string(),
                image: new_bytes,
                params: params.clone(),
            },
            || format!("loading the new '{name}' from {}", image.display()),
        );
        if let Err(e) = loaded {
            self.bring_back_old(name, &old_image, &params, &parked);
            return Err(e);
        }
        // The new module's constructors run on the original tables.
        for p in &parked {
            let reloaded = self.call_in(
                Request::DmLoad {
                    name: p.name.clone(),
                    table: p.table.clone(),
                },
                || format!("loading the table of '{}' on the new module", p.name),
            );
            if let Err(e) = reloaded {
                let _ = self.call(Request::UnloadModule {
                    name: name.to_string(),
                });
                self.bring_back_old(name, &old_image, &params, &parked);
                return Err(e);
            }
        }
        let mut stalled = Duration::ZERO;
        for p in &parked {
            self.call_in(
                Request::DmResume {
                    name: p.name.clone(),
                },
                || format!("resuming '{}'", p.name),
            )?;
            stalled = stalled.max(p.since.elapsed());
        }
        let image = image.to_path_buf();
        self.register_module(name, build);
        self.action(format!(
            "module {name}: swapped for {} under {} device(s), I/O stopped {:.1} ms",
            image.display(),
            parked.len(),
            stalled.as_secs_f64() * 1e3
        ));
        Ok(ModuleSwap {
            module: name.to_string(),
            devices: parked.into_iter().map(|p| p.name).collect(),
            stalled,
            image,
        })
    }

    /// Suspends `device` and swaps a stand-in of the same size in for its
    /// table, leaving it suspended: the module's table is released.
    fn park(&mut self, device: &str, table: &[TableLine]) -> SessionResult<()> {
        let sectors = table.iter().map(|l| l.start + l.length).max().unwrap_or(0);
        let stand_in = vec![TableLine {
            start: 0,
            length: sectors,
            target: "error".into(),
            params: String::new(),
        }];
        let name = device.to_string();
        self.call_in(Request::DmSuspend { name: name.clone() }, || {
            format!("suspending '{device}'")
        })?;
        let parked = self
            .call_in(
                Request::DmLoad {
                    name: name.clone(),
                    table: stand_in,
                },
                || format!("loading a stand-in table into '{device}'"),
            )
            .and_then(|_| {
                self.call_in(Request::DmResume { name: name.clone() }, || {
                    format!("switching '{device}' to its stand-in")
                })
            })
            .and_then(|_| {
                self.call_in(Request::DmSuspend { name: name.clone() }, || {
                    format!("suspending '{device}' on its stand-in")
                })
            });
        if parked.is_err() {
            let _ = self.call(Request::DmResume { name });
        }
        parked.map(|_| ())
    }

    /// Every parked device gets its original table back and resumes.
    fn give_back(&mut self, parked: &[Parked]) {
        for p in parked {
            let _ = self.call(Request::DmLoad {
                name: p.name.clone(),
                table: p.table.clone(),
            });
            let _ = self.call(Request::DmResume {
                name: p.name.clone(),
            });
        }
    }

    /// The new module is out: the old build goes back in, and so do the
    /// devices' tables.
    fn bring_back_old(&mut self, name: &str, old_image: &Path, params: &str, parked: &[Parked]) {
        if let Ok(bytes) = std::fs::read(old_image) {
            let _ = self.call(Request::LoadModule {
                name: name.to_string(),
                image: bytes,
                params: params.to_string(),
            });
        }
        self.give_back(parked);
    }
}
