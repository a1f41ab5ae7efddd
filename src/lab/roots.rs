//! Where a lab's `build.source` paths resolve. `--root DIR` names the
//! place; without it, the nearest ancestor of the lab file that holds
//! `kmod/` is tried first, then the current directory, so a lab kept
//! outside the project still finds the project's modules when run from
//! there. A miss names every place tried.

use std::path::{Path, PathBuf};

use super::model::{Lab, LabError, LabErrors, StepKind};

#[derive(Debug, Clone)]
struct Candidate {
    dir: PathBuf,
    why: &'static str,
}

#[derive(Debug, Clone)]
pub struct SourceRoots {
    candidates: Vec<Candidate>,
}

impl SourceRoots {
    /// `explicit` is `--root`; `lab` the lab file, when there is one.
    pub fn new(lab: Option<&Path>, explicit: Option<&Path>) -> SourceRoots {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        if let Some(root) = explicit {
            let dir = if root.is_absolute() {
                root.to_path_buf()
            } else {
                cwd.join(root)
            };
            return SourceRoots {
                candidates: vec![Candidate { dir, why: "--root" }],
            };
        }
        let mut candidates = Vec::new();
        let lab_dir = lab
            .and_then(|l| l.canonicalize().ok())
            .and_then(|p| p.parent().map(Path::to_path_buf));
        if let Some(ancestor) = lab_dir
            .as_deref()
            .and_then(|d| d.ancestors().find(|a| a.join("kmod").is_dir()))
        {
            candidates.push(Candidate {
                dir: ancestor.to_path_buf(),
                why: "the nearest folder above the lab that holds kmod/",
            });
        }
        if !candidates.iter().any(|c| c.dir == cwd) {
            candidates.push(Candidate {
                dir: cwd,
                why: "the current directory",
            });
        }
        SourceRoots { candidates }
    }

    /// One fixed root (tests, the TUI without a lab).
    pub fn fixed(dir: PathBuf) -> SourceRoots {
        SourceRoots {
            candidates: vec![Candidate {
                dir,
                why: "the project root",
            }],
        }
    }

    /// The root the TUI lists kmod sources under: the first place tried.
    pub fn primary(&self) -> &Path {
        self.candidates
            .first()
            .map_or(Path::new("."), |c| c.dir.as_path())
    }

    /// The directory a `build.source` names, or why there is none.
    pub fn resolve(&self, source: &Path) -> Result<PathBuf, String> {
        if source.is_absolute() {
            return if source.is_dir() {
                Ok(source.to_path_buf())
            } else {
                Err(format!(
                    "kmod source {} is not a directory",
                    source.display()
                ))
            };
        }
        let mut tried = Vec::new();
        for candidate in &self.candidates {
            let path = candidate.dir.join(source);
            if path.is_dir() {
                return Ok(path);
            }
            tried.push(format!("{} ({})", path.display(), candidate.why));
        }
        Err(format!(
            "kmod source '{}' not found; tried {}{}",
            source.display(),
            tried.join(", "),
            if self.candidates.iter().any(|c| c.why == "--root") {
                ""
            } else {
                "; name the project with --root DIR"
            }
        ))
    }

    /// Every build step's source resolves, or the misses with file:line,
    /// before anything is created.
    pub fn check(&self, file: &str, lab: &Lab) -> Result<(), LabErrors> {
        let errors: Vec<LabError> = lab
            .steps
            .iter()
            .filter_map(|step| match &step.kind {
                StepKind::Build { source } | StepKind::ReloadModule { source, .. } => {
                    self.resolve(source).err().map(|message| LabError {
                        file: file.to_string(),
                        line: step.line,
                        message,
                    })
                }
                _ => None,
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(LabErrors(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_outside_the_project_finds_kmod_in_the_current_directory() {
        let project = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(project.path().join("kmod/rust")).expect("mkdir");
        let elsewhere = tempfile::tempdir().expect("tmp");
        let lab = elsewhere.path().join("lab.toml");
        std::fs::write(&lab, "").expect("write");
        let roots = SourceRoots {
            candidates: vec![Candidate {
                dir: project.path().to_path_buf(),
                why: "the current directory",
            }],
        };
        assert_eq!(
            roots.resolve(Path::new("kmod/rust")).expect("found"),
            project.path().join("kmod/rust")
        );
    }

    #[test]
    fn the_nearest_ancestor_with_kmod_comes_first() {
        let project = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(project.path().join("kmod/c")).expect("mkdir");
        std::fs::create_dir_all(project.path().join("labs/deep")).expect("mkdir");
        let lab = project.path().join("labs/deep/lab.toml");
        std::fs::write(&lab, "").expect("write");
        let roots = SourceRoots::new(Some(&lab), None);
        let found = roots.resolve(Path::new("kmod/c")).expect("found");
        assert_eq!(
            found.canonicalize().expect("canon"),
            project.path().join("kmod/c").canonicalize().expect("canon")
        );
    }

    #[test]
    fn a_miss_names_every_place_tried() {
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let roots = SourceRoots {
            candidates: vec![
                Candidate {
                    dir: a.path().to_path_buf(),
                    why: "the nearest folder above the lab that holds kmod/",
                },
                Candidate {
                    dir: b.path().to_path_buf(),
                    why: "the current directory",
                },
            ],
        };
        let err = roots.resolve(Path::new("kmod/rust")).expect_err("miss");
        assert!(
            err.contains(&a.path().join("kmod/rust").display().to_string()),
            "{err}"
        );
        assert!(
            err.contains(&b.path().join("kmod/rust").display().to_string()),
            "{err}"
        );
        assert!(err.contains("--root"), "{err}");
    }

    #[test]
    fn an_explicit_root_is_the_only_place() {
        let root = tempfile::tempdir().expect("tmp");
        let roots = SourceRoots::new(None, Some(root.path()));
        let err = roots.resolve(Path::new("kmod/rust")).expect_err("miss");
        assert!(err.contains("(--root)"), "{err}");
        assert!(!err.contains("current directory"), "{err}");
    }
}
