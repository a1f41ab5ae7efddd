//! KVM or TCG: detected, not assumed. /dev/kvm can exist on hosts where an
//! ordinary guest cannot run (nested or paravirtual ones), so the verdict of
//! a real boot is remembered per host kernel.

use std::fs::OpenOptions;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::qemu::Accel;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Verdicts {
    /// host kernel release -> KVM worked
    kvm: std::collections::BTreeMap<String, bool>,
}

/// In the verified cache dir; None when that dir cannot be trusted (then
/// nothing is remembered and KVM is simply tried).
fn verdict_file() -> Option<PathBuf> {
    super::cache_subdir("").ok().map(|d| d.join("accel.json"))
}

fn host_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn load() -> Verdicts {
    verdict_file()
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|t| serde_json::from_slice(&t).ok())
        .unwrap_or_default()
}

/// `DMBENCH_ACCEL=kvm|tcg` forces a choice; otherwise KVM when /dev/kvm
/// opens and no earlier boot on this host kernel found it broken.
pub fn choose() -> Accel {
    match std::env::var("DMBENCH_ACCEL").as_deref() {
        Ok("kvm") => return Accel::Kvm,
        Ok("tcg") => return Accel::Tcg,
        _ => {}
    }
    let usable = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if !usable {
        return Accel::Tcg;
    }
    match load().kvm.get(&host_release()) {
        Some(false) => Accel::Tcg,
        _ => Accel::Kvm,
    }
}

/// Records whether `accel` booted, so the next VM skips a failing KVM.
pub fn remember(accel: Accel, worked: bool) {
    if accel != Accel::Kvm {
        return;
    }
    let mut v = load();
    if v.kvm.get(&host_release()) == Some(&worked) {
        return;
    }
    v.kvm.insert(host_release(), worked);
    if let (Some(file), Ok(text)) = (verdict_file(), serde_json::to_vec_pretty(&v)) {
        let _ = std::fs::write(file, text);
    }
}
