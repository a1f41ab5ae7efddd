//! What a grading run will do, decided before any VM boots: the labs
//! (every one must load, or nothing runs), the submissions in their stable
//! order and this shard's slice of them, and the pairs, each either ready
//! to run or already failed for a reason found here (not a directory, no
//! kmod/, a source a lab builds is missing).

use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use anyhow::{Result, bail};

use super::model::LabInfo;
use crate::lab::model::{self, Lab, StepKind};
use crate::lab::roots::SourceRoots;

/// `--shard I/N`: the I-th of N slices, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("'{text}' is not I/N with 1 <= I <= N (e.g. 2/4)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// A path as given, tidied without touching the file system (`./a//b/`
/// is `a/b`): the name a submission is sorted, sliced and reported by, the
/// same on every machine that runs the same command.
pub fn normalize(path: &Path) -> String {
    let tidy: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    let text = tidy.display().to_string();
    if text.is_empty() { ".".into() } else { text }
}

/// Every submission once, in the stable order: sorted by its normalized
/// path, whatever order the arguments came in.
pub fn ordered(submissions: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = submissions.iter().map(|p| normalize(p)).collect();
    names.sort();
    names.dedup();
    names
}

/// This shard's slice of the ordered submissions: every N-th one from the
/// I-th, so slices stay even when submissions differ in size by name.
pub fn slice(all: &[String], shard: Option<Shard>) -> Vec<String> {
    match shard {
        None => all.to_vec(),
        Some(s) => all
            .iter()
            .enumerate()
            .filter(|(i, _)| i % s.count == s.index - 1)
            .map(|(_, name)| name.clone())
            .collect(),
    }
}

/// A lab to grade with: its file, its model, its report entry.
pub struct PlannedLab {
    pub path: PathBuf,
    pub lab: Lab,
    pub info: LabInfo,
}

/// Loads every lab; any mistake in any of them stops the run here, with
/// every `FILE:LINE` found.
pub fn load_labs(paths: &[PathBuf]) -> Result<Vec<PlannedLab>> {
    let mut errors = Vec::new();
    let mut loaded = Vec::new();
    for path in paths {
        match model::load_lab(path) {
            Ok(lab) => loaded.push((path.clone(), lab)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        bail!(
            "not grading: {} lab file(s) have mistakes\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
    let names = lab_names(paths);
    if names
        .iter()
        .enumerate()
        .any(|(i, n)| names[..i].contains(n))
    {
        bail!("not grading: a lab is named twice");
    }
    Ok(loaded
        .into_iter()
        .zip(names)
        .map(|((path, lab), name)| PlannedLab {
            info: LabInfo {
                name,
                path: normalize(&path),
                title: lab.title.clone(),
                steps: lab.steps.len(),
            },
            path,
            lab,
        })
        .collect())
}

/// Short names that tell labs apart: the file stem, with parent folders
/// added while two labs would share one.
fn lab_names(paths: &[PathBuf]) -> Vec<String> {
    let parts: Vec<Vec<String>> = paths
        .iter()
        .map(|p| {
            let mut parts: Vec<String> = p
                .with_extension("")
                .components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            parts.reverse();
            parts
        })
        .collect();
    let name = |p: &[String], depth: usize| {
        let mut taken: Vec<&str> = p.iter().take(depth).map(String::as_str).collect();
        taken.reverse();
        taken.join("/")
    };
    let mut depth = vec![1; paths.len()];
    loop {
        let names: Vec<String> = parts.iter().zip(&depth).map(|(p, d)| name(p, *d)).collect();
        let mut grew = false;
        for i in 0..names.len() {
            let clash = names
                .iter()
                .enumerate()
                .any(|(j, n)| j != i && *n == names[i]);
            if clash && depth[i] < parts[i].len() {
                depth[i] += 1;
                grew = true;
            }
        }
        if !grew {
            return names;
        }
    }
}

/// Why a submission cannot be graded with `lab` at all, found without
/// running anything: the submission's failure, with the reason.
pub fn precheck(submission: &str, lab: &PlannedLab) -> Option<String> {
    let dir = Path::new(submission);
    match std::fs::metadata(dir) {
        Err(e) => return Some(format!("{submission} cannot be read: {e}")),
        Ok(m) if !m.is_dir() => return Some(format!("{submission} is not a directory")),
        Ok(_) => {}
    }
    if !dir.join("kmod").is_dir() {
        return Some(format!(
            "{submission} has no kmod/ directory (a submission holds its module sources \
             in kmod/, e.g. kmod/c)"
        ));
    }
    let roots = SourceRoots::new(Some(&lab.path), Some(dir));
    if let Err(errors) = roots.check(&lab.info.path, &lab.lab) {
        return Some(errors.to_string());
    }
    outside_sources(submission, &roots, lab)
}

/// A module source that resolves outside the submission, through a
/// symlink (`kmod/c -> ../alice/kmod/c`) or `..`: grading it would grade
/// another directory's files under this student's name.
fn outside_sources(submission: &str, roots: &SourceRoots, lab: &PlannedLab) -> Option<String> {
    let home = match Path::new(submission).canonicalize() {
        Ok(home) => home,
        Err(e) => return Some(format!("{submission} cannot be resolved: {e}")),
    };
    lab.lab.steps.iter().find_map(|step| {
        let (StepKind::Build { source } | StepKind::ReloadModule { source, .. }) = &step.kind
        else {
            return None;
        };
        // A lab may name an absolute source on purpose (a shared helper
        // module the teacher provides); only the submission's own are checked.
        if source.is_absolute() {
            return None;
        }
        let resolved = roots.resolve(source).ok()?;
        match resolved.canonicalize() {
            Ok(real) if real.starts_with(&home) => None,
            Ok(real) => Some(format!(
                "{submission}: module source {} resolves to {}, outside the submission \
                 (a symlink or '..'): only the submission's own files are graded",
                source.display(),
                real.display()
            )),
            Err(e) => Some(format!(
                "{submission}: module source {} cannot be resolved: {e}",
                source.display()
            )),
        }
    })
}

/// How many pairs run at once when `--jobs` is not given: one per core
/// (each VM keeps a core busy under TCG), as many as memory holds at
/// `per_vm_mib` each, at least one.
pub fn default_jobs(per_vm_mib: u64) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let available_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map(|kib| kib / 1024);
    let by_memory = available_mib.map_or(cores, |mib| (mib / per_vm_mib.max(1)) as usize);
    cores.min(by_memory).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kmod_symlinked_to_another_submission_is_refused() {
        let class = tempfile::tempdir().expect("tmp");
        let alice = class.path().join("alice");
        let mallory = class.path().join("mallory");
        std::fs::create_dir_all(alice.join("kmod/c")).expect("mkdir");
        std::fs::create_dir_all(mallory.join("kmod")).expect("mkdir");
        std::os::unix::fs::symlink(alice.join("kmod/c"), mallory.join("kmod/c")).expect("ln");
        let lab_path = class.path().join("lab.toml");
        std::fs::write(
            &lab_path,
            "title = \"t\"\n[[steps]]\nrun = \"build\"\nsource = \"kmod/c\"\n",
        )
        .expect("lab");
        let labs = load_labs(&[lab_path]).expect("lab loads");
        let name = |p: &Path| p.display().to_string();
        assert_eq!(precheck(&name(&alice), &labs[0]), None);
        let why = precheck(&name(&mallory), &labs[0]).expect("refused");
        assert!(
            why.contains("outside the submission") && why.contains("alice"),
            "{why}"
        );
    }

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_order_ignores_argument_order_and_spelling() {
        let a = ordered(&[
            PathBuf::from("subs/carol/"),
            PathBuf::from("./subs/alice"),
            PathBuf::from("subs/bob"),
            PathBuf::from("subs//alice"),
        ]);
        let b = ordered(&[
            PathBuf::from("subs/bob"),
            PathBuf::from("subs/alice"),
            PathBuf::from("subs/carol"),
        ]);
        assert_eq!(a, b);
        assert_eq!(a, ["subs/alice", "subs/bob", "subs/carol"]);
    }

    #[test]
    fn slices_cover_every_submission_once() {
        let all: Vec<String> = (0..11).map(|i| format!("s{i:02}")).collect();
        for count in 1..=5 {
            let mut seen: Vec<String> = (1..=count)
                .flat_map(|index| slice(&all, Some(Shard { index, count })))
                .collect();
            seen.sort();
            assert_eq!(seen, all, "{count} shards");
        }
        assert_eq!(
            slice(&all, Some(Shard { index: 2, count: 4 })),
            ["s01", "s05", "s09"]
        );
    }

    #[test]
    fn lab_names_grow_until_they_differ() {
        let names = lab_names(&[
            PathBuf::from("assets/course/01-first-target/lab-c.toml"),
            PathBuf::from("assets/course/02-read-only/lab-c.toml"),
            PathBuf::from("assets/labs/03-stock-targets.toml"),
        ]);
        assert_eq!(
            names,
            [
                "01-first-target/lab-c",
                "02-read-only/lab-c",
                "03-stock-targets"
            ]
        );
    }

    #[test]
    fn default_jobs_is_at_least_one() {
        assert!(default_jobs(u64::MAX) >= 1);
        assert!(default_jobs(512) <= std::thread::available_parallelism().map_or(1, |n| n.get()));
    }
}
