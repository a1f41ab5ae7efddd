//! `dmbench new NAME`: the start of a new target. Writes `DIR/NAME/` with a
//! module source tree under `kmod/<lang>/` (a pass-through target called
//! NAME), a lab `NAME.toml` that exercises it, and a README.
//!
//! The texts are the templates in `assets/scaffold/` with `@KEY@`
//! placeholders filled in; a Rust tree also gets the generic glue, taken
//! byte for byte from `kmod/rust/` so there is one copy to maintain.

mod name;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use name::{DM_MAX_TYPE_NAME, MAX_NAME_LEN, NameError, advice, check_name, rust_type_name};

/// The language of the generated module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    C,
}

impl Lang {
    /// The directory under `kmod/`, as the shipped modules use.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::C => "c",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::C => "C",
        }
    }
}

/// The generic Rust glue, shared with `kmod/rust/` (one copy in the tree).
pub const GLUE: &[(&str, &str)] = &[
    ("dm.rs", include_str!("../../kmod/rust/dm.rs")),
    ("dm_glue.c", include_str!("../../kmod/rust/dm_glue.c")),
    ("dm_glue.h", include_str!("../../kmod/rust/dm_glue.h")),
];

const LAB: &str = include_str!("../../assets/scaffold/lab.toml");
const README: &str = include_str!("../../assets/scaffold/README.md");
const RUST_MAIN: &str = include_str!("../../assets/scaffold/rust/main.rs");
const RUST_MAKEFILE: &str = include_str!("../../assets/scaffold/rust/Makefile");
const C_SOURCE: &str = include_str!("../../assets/scaffold/c/target.c");
const C_MAKEFILE: &str = include_str!("../../assets/scaffold/c/Makefile");

/// One file to write, relative to `DIR/NAME/`.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub path: PathBuf,
    pub text: String,
}

/// Every file of a new target, in memory: nothing is written until all of
/// them exist.
pub fn render(name: &str, lang: Lang) -> Result<Vec<NewFile>, NameError> {
    check_name(name)?;
    // Rust: the crate root may not share the module's name (kbuild links
    // NAME.o from the objects), and a crate name is lowercase by lint.
    let crate_name = format!("{}_main", name.to_ascii_lowercase());
    let main = match lang {
        Lang::Rust => format!("{crate_name}.rs"),
        Lang::C => format!("{name}.c"),
    };
    let files_table = match lang {
        Lang::Rust => format!(
            "| `kmod/rust/{main}` | the target: make it yours here |\n\
             | `kmod/rust/dm.rs`, `dm_glue.c`, `dm_glue.h` | the glue that lets Rust reach \
             device-mapper, the same in every Rust target: leave it as it is |\n\
             | `kmod/rust/Makefile` | kbuild: links `{crate_name}.o` and `dm_glue.o` into \
             `{name}.ko` |\n"
        ),
        Lang::C => format!(
            "| `kmod/c/{main}` | the target: make it yours here |\n\
             | `kmod/c/Makefile` | kbuild: builds `{name}.ko` |\n"
        ),
    };
    let vars: [(&str, &str); 7] = [
        ("NAME", name),
        ("TYPE", &rust_type_name(name)),
        ("LANG", lang.dir()),
        ("LANG_NAME", lang.title()),
        ("MAIN", &main),
        ("CRATE", &crate_name),
        ("FILES", &files_table),
    ];
    let fill = |template: &str| {
        vars.iter()
            .fold(template.to_string(), |text, (key, value)| {
                text.replace(&format!("@{key}@"), value)
            })
    };
    let kmod = PathBuf::from("kmod").join(lang.dir());
    let mut files = vec![
        NewFile {
            path: PathBuf::from("README.md"),
            text: fill(README),
        },
        NewFile {
            path: PathBuf::from(format!("{name}.toml")),
            text: fill(LAB),
        },
    ];
    match lang {
        Lang::Rust => {
            files.push(NewFile {
                path: kmod.join("Makefile"),
                text: fill(RUST_MAKEFILE),
            });
            files.push(NewFile {
                path: kmod.join(&main),
                text: fill(RUST_MAIN),
            });
            files.extend(GLUE.iter().map(|(file, text)| NewFile {
                path: kmod.join(file),
                text: (*text).to_string(),
            }));
        }
        Lang::C => {
            files.push(NewFile {
                path: kmod.join("Makefile"),
                text: fill(C_MAKEFILE),
            });
            files.push(NewFile {
                path: kmod.join(&main),
                text: fill(C_SOURCE),
            });
        }
    }
    Ok(files)
}

/// Creates `dir/name/` with the new target's files and returns its path.
///
/// `dir` must exist; `dir/name` must not: it is created exclusively (so an
/// existing directory, file or symlink there is never touched), and if any
/// later write fails, what this call created is removed again.
pub fn create(name: &str, lang: Lang, dir: &Path) -> Result<PathBuf> {
    let files = render(name, lang).with_context(|| format!("cannot name a target '{name}'"))?;
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: create it first (dmbench new makes only {}/{name})",
            dir.display(),
            dir.display()
        );
    }
    materialise(&dir.join(name), &files)
}

/// Creates `root` exclusively and writes `files` into it; on any error,
/// removes again what it made.
fn materialise(root: &Path, files: &[NewFile]) -> Result<PathBuf> {
    match std::fs::create_dir(root) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} already exists: dmbench new never overwrites; pick another name or --dir",
            root.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("creating {}", root.display())),
    }
    let mut created = Vec::new();
    match write_all(root, files, &mut created) {
        Ok(()) => Ok(root.to_path_buf()),
        Err(e) => {
            // Undo only what this call made, newest first, so nothing half
            // made is left behind; the directory was ours alone.
            for path in created.iter().rev() {
                let _ = std::fs::remove_file(path).or_else(|_| std::fs::remove_dir(path));
            }
            let _ = std::fs::remove_dir(root);
            Err(e)
        }
    }
}

fn write_all(root: &Path, files: &[NewFile], created: &mut Vec<PathBuf>) -> Result<()> {
    for file in files {
        let path = root.join(&file.path);
        if let Some(parent) = path.parent() {
            // Each missing level on its own, to know what to undo.
            let mut missing: Vec<&Path> = parent
                .ancestors()
                .take_while(|a| *a != root && !a.exists())
                .collect();
            missing.reverse();
            for d in missing {
                std::fs::create_dir(d).with_context(|| format!("creating {}", d.display()))?;
                created.push(d.to_path_buf());
            }
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        created.push(path.clone());
        out.write_all(file.text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `dmbench new`: creates the tree and says what to do next.
pub fn run(name: &str, lang: Lang, dir: &Path) -> Result<bool> {
    let root = create(name, lang, dir)?;
    if let Some(note) = advice(name) {
        eprintln!("{note}");
    }
    println!(
        "created {} ({} target '{name}')",
        root.display(),
        lang.title()
    );
    let lab = root.join(format!("{name}.toml"));
    println!("  run its lab:   dmbench --headless {} --vm", lab.display());
    println!("  or step it:    dmbench {}", lab.display());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders_left(text: &str) -> Vec<String> {
        let re = regex::Regex::new(r"@[A-Z_]+@").expect("regex");
        re.find_iter(text).map(|m| m.as_str().to_string()).collect()
    }

    #[test]
    fn every_placeholder_is_filled_in_both_languages() {
        for lang in [Lang::Rust, Lang::C] {
            let files = render("my_target", lang).expect("valid name");
            for f in &files {
                assert!(
                    placeholders_left(&f.text).is_empty(),
                    "{lang:?} {}: {:?}",
                    f.path.display(),
                    placeholders_left(&f.text)
                );
            }
        }
    }

    #[test]
    fn a_rust_tree_has_the_glue_byte_for_byte_and_names_itself_once() {
        let files = render("my_target", Lang::Rust).expect("valid name");
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        for expected in [
            "README.md",
            "my_target.toml",
            "kmod/rust/Makefile",
            "kmod/rust/my_target_main.rs",
            "kmod/rust/dm.rs",
            "kmod/rust/dm_glue.c",
            "kmod/rust/dm_glue.h",
        ] {
            assert!(paths.iter().any(|p| p == expected), "{expected}: {paths:?}");
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (file, _) in GLUE {
            let ours = files
                .iter()
                .find(|f| f.path == Path::new("kmod/rust").join(file))
                .expect("glue file");
            let shipped = std::fs::read_to_string(repo.join("kmod/rust").join(file)).expect("read");
            assert_eq!(ours.text, shipped, "{file}");
            // The glue never names a target (its docs use my_target as an example).
            assert!(
                !ours.text.contains("basic_target"),
                "{file} names no target"
            );
        }
        let main = files
            .iter()
            .find(|f| f.path.ends_with("my_target_main.rs"))
            .expect("main");
        assert_eq!(main.text.matches("\"my_target\"").count(), 1);
        assert!(main.text.contains("type: MyTarget,"));
        let make = files
            .iter()
            .find(|f| f.path.ends_with("Makefile"))
            .expect("Makefile");
        assert!(make.text.contains("obj-m := my_target.o"));
        assert!(
            make.text
                .contains("my_target-y := my_target_main.o dm_glue.o")
        );
    }

    #[test]
    fn a_c_tree_is_one_source_and_a_makefile() {
        let files = render("blk_t", Lang::C).expect("valid name");
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                "README.md",
                "blk_t.toml",
                "kmod/c/Makefile",
                "kmod/c/blk_t.c"
            ]
        );
        let lab = &files[1].text;
        assert!(lab.contains("source = \"kmod/c\""), "{lab}");
        assert!(lab.contains("table = \"0 16384 blk_t {disk1} 0\""), "{lab}");
    }

    #[test]
    fn a_bad_name_renders_nothing() {
        assert_eq!(
            render("my-target", Lang::Rust).map(|_| ()),
            Err(NameError::BadChar { ch: '-', at: 2 })
        );
    }

    #[test]
    fn an_existing_directory_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let existing = dir.path().join("mine");
        std::fs::create_dir(&existing).expect("mkdir");
        std::fs::write(existing.join("mine.toml"), "my own lab").expect("write");
        let err = create("mine", Lang::Rust, dir.path()).expect_err("must refuse");
        assert!(err.to_string().contains("already exists"), "{err:#}");
        assert_eq!(
            std::fs::read_to_string(existing.join("mine.toml")).expect("read"),
            "my own lab"
        );
        assert_eq!(std::fs::read_dir(&existing).expect("ls").count(), 1);
    }

    #[test]
    fn a_file_or_symlink_in_the_way_is_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("plain"), "x").expect("write");
        assert!(create("plain", Lang::C, dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("plain")).expect("read"),
            "x"
        );
        let elsewhere = tempfile::tempdir().expect("tmp");
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("link")).expect("symlink");
        assert!(create("link", Lang::Rust, dir.path()).is_err());
        assert_eq!(std::fs::read_dir(elsewhere.path()).expect("ls").count(), 0);
    }

    #[test]
    fn nothing_is_written_for_a_bad_name_or_a_missing_dir() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(create("2bad", Lang::Rust, dir.path()).is_err());
        assert!(create(&"a".repeat(16), Lang::C, dir.path()).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
        let missing = dir.path().join("nope");
        let err = create("fine", Lang::Rust, &missing).expect_err("no dir");
        assert!(err.to_string().contains("not a directory"), "{err:#}");
        assert!(!missing.exists());
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut files = render("half", Lang::Rust).expect("render");
        // The same file twice: the second exclusive create fails midway.
        files.push(files[3].clone());
        let err = materialise(&dir.path().join("half"), &files).expect_err("must fail");
        assert!(err.to_string().contains("creating"), "{err:#}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
    }

    #[test]
    fn a_new_tree_has_every_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = create("fresh", Lang::Rust, dir.path()).expect("create");
        assert_eq!(root, dir.path().join("fresh"));
        for f in render("fresh", Lang::Rust).expect("render") {
            assert_eq!(
                std::fs::read_to_string(root.join(&f.path)).expect("read"),
                f.text
            );
        }
    }
}
