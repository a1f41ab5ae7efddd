//! `dmbench grade` on a small class made from the course's first exercise:
//! a passing submission, the skeleton, one that crashes the kernel, one
//! that does not compile, one that is a file, one without kmod/, one that
//! builds into a subdirectory, one whose module has another name, and one
//! whose Makefile reads another directory. Each gets its own verdict and
//! evidence; the JUnit file is valid against the schema CI tools read;
//! two shards merged give what the whole run gives; a hanging submission
//! times out alone; Ctrl-C keeps the partial report; no submission
//! directory is ever changed. The VM tests run in CI
//! (DMBENCH_REQUIRE_VM=1 makes a missing lab kernel a failure).

use crate::common;
use crate::common::repo;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn lab() -> PathBuf {
    repo().join("assets/course/01-first-target/lab-c.toml")
}

/// The exercise's C module from `tree` (skeleton or solution), its
/// source edited by `edit`, as `dir/kmod/c` (or `dir/kmod/c/<sub>`).
fn submission(
    dir: &Path,
    tree: &str,
    sub: &str,
    makefile: Option<&str>,
    edit: &dyn Fn(String) -> String,
) {
    let from = repo()
        .join("assets/course/01-first-target")
        .join(tree)
        .join("kmod/c");
    let kmod = dir.join("kmod/c");
    std::fs::create_dir_all(kmod.join(sub)).expect("mkdir");
    let c = std::fs::read_to_string(from.join("first_target.c")).expect("source");
    std::fs::write(kmod.join(sub).join("first_target.c"), edit(c)).expect("write");
    let make = match makefile {
        Some(m) => m.to_string(),
        None => std::fs::read_to_string(from.join("Makefile")).expect("makefile"),
    };
    std::fs::write(kmod.join("Makefile"), make).expect("write");
}

fn same(c: String) -> String {
    c
}

/// A line's number in a submission's source.
fn line_of(file: &Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .expect("source")
        .lines()
        .position(|l| l.contains(needle))
        .expect("in the source")
        + 1
}

/// Every file under `dir` with its contents and mode.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                stack.push(path.clone());
            }
            let data = if meta.is_file() {
                std::fs::read(&path).expect("read")
            } else {
                Vec::new()
            };
            out.insert(path, (data, meta.permissions().mode()));
        }
    }
    out
}

/// A runtime directory of the test's own (0700): the grading run's VMs
/// have their sockets below it, so a test can tell its VMs from others'.
fn runtime_dir(dir: &Path) -> PathBuf {
    use std::os::unix::fs::DirBuilderExt;
    let xdg = dir.join("xdg");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&xdg)
        .expect("runtime dir");
    xdg
}

fn grade_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmbench"));
    cmd.arg("grade")
        .current_dir(cwd)
        .env("XDG_RUNTIME_DIR", runtime_dir_of(cwd));
    cmd
}

/// Every test keeps its class in `<tmp>/class`: its runtime dir beside.
fn runtime_dir_of(cwd: &Path) -> PathBuf {
    let tmp = cwd.parent().unwrap_or(cwd);
    let xdg = tmp.join("xdg");
    if !xdg.exists() {
        runtime_dir(tmp);
    }
    xdg
}

fn grade(cwd: &Path, args: &[&str]) -> Output {
    grade_command(cwd)
        .args(args)
        .output()
        .expect("dmbench runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("report")).expect("json")
}

/// The JUnit file is valid against the Ant schema (tests/schemas).
fn assert_valid_junit(path: &Path) {
    let schema = repo().join("tests/schemas/JUnit.xsd");
    match Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(path)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{} is not valid JUnit:\n{}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            assert!(
                !common::vm_required(),
                "xmllint (libxml2-utils) is needed here: {e}"
            );
            eprintln!("not validating {}: no xmllint ({e})", path.display());
        }
    }
}

/// (suite, case, failure/error type) for every testcase.
fn junit_cases(path: &Path) -> Vec<(String, String, String)> {
    let xml = std::fs::read_to_string(path).expect("junit");
    let attr = |line: &str, name: &str| {
        line.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("")
            .to_string()
    };
    let mut out = Vec::new();
    let mut lines = xml.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(case) = line.trim_start().strip_prefix("<testcase") {
            let outcome = if case.trim_end().ends_with("/>") {
                "passed".to_string()
            } else {
                lines.peek().map_or(String::new(), |next| {
                    let kind = next
                        .trim_start()
                        .trim_start_matches('<')
                        .split(' ')
                        .next()
                        .unwrap_or("");
                    format!("{kind} {}", attr(next, "type"))
                })
            };
            out.push((attr(line, "classname"), attr(line, "name"), outcome));
        }
    }
    out
}

/// What must be equal between a whole run and its merged shards.
fn verdicts(report: &Value) -> Vec<(String, String, String, String, Value)> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["submission"].as_str().unwrap_or("").to_string(),
                r["lab"].as_str().unwrap_or("").to_string(),
                r["verdict"].as_str().unwrap_or("").to_string(),
                r["reason"].as_str().unwrap_or("").to_string(),
                serde_json::json!([r["step"]["index"], r["step"]["line"], r["step"]["kind"]]),
            )
        })
        .collect()
}

fn result<'a>(report: &'a Value, submission: &str) -> &'a Value {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["submission"] == submission)
        .unwrap_or_else(|| panic!("no result for {submission}"))
}

fn make_class(class: &Path, other: &Path, leak: &Path) {
    submission(&class.join("pass"), "solution", "", None, &same);
    submission(&class.join("skeleton"), "skeleton", "", None, &same);
    submission(&class.join("crash"), "solution", "", None, &|c| {
        c.replacen(
            "\tfc->offset = offset;\n",
            "\tif (offset == 5000)\n\t\tfc = NULL;\n\tfc->offset = offset;\n",
            1,
        )
    });
    submission(&class.join("broken"), "solution", "", None, &|c| {
        c.replacen("\tfc->offset = offset;\n", "\tfc->offset = offset\n", 1)
    });
    std::fs::write(class.join("notdir"), "a tarball, not a directory").expect("write");
    std::fs::create_dir_all(class.join("nokmod/src")).expect("mkdir");
    submission(
        &class.join("subdir"),
        "solution",
        "source",
        Some("obj-m = source/first_target.o\n"),
        &same,
    );
    submission(
        &class.join("misnamed"),
        "solution",
        "",
        Some("obj-m := dmp.o\ndmp-y := first_target.o\n"),
        &same,
    );
    submission(
        &class.join("escape"),
        "solution",
        "",
        Some(&format!(
            "LEAK := $(shell id > {leak}; ls {other} >> {leak})\nobj-m := first_target.o\n",
            leak = leak.display(),
            other = other.display()
        )),
        &same,
    );
}

const CLASS: [&str; 9] = [
    "pass", "skeleton", "crash", "broken", "notdir", "nokmod", "subdir", "misnamed", "escape",
];

#[test]
fn a_class_is_graded_each_submission_on_its_own_and_shards_merge_to_the_whole() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let class = dir.path().join("class");
    let other = dir.path().join("another-student");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("answer.c"), "not yours").expect("write");
    let leak = dir.path().join("leak.txt");
    make_class(&class, &other, &leak);
    let before = snapshot(&class);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).expect("mkdir");
    let o = |name: &str| out_dir.join(name).display().to_string();
    let lab = lab().display().to_string();

    let whole = grade(
        &class,
        &[
            &["--lab", &lab, "--jobs", "2", "--timeout", "240"][..],
            &["--junit", &o("whole.xml"), "--report", &o("whole.json")],
            &CLASS,
        ]
        .concat(),
    );
    let said = text(&whole);
    assert!(!whole.status.success(), "not everything passed:\n{said}");
    let report = read_json(&out_dir.join("whole.json"));
    let verdict = |s: &str| {
        result(&report, s)["verdict"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let step = |s: &str| result(&report, s)["step"]["index"].as_u64().unwrap_or(0);
    let reason = |s: &str| {
        result(&report, s)["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for passing in ["pass", "subdir"] {
        assert_eq!(verdict(passing), "passed", "{passing}:\n{said}");
    }
    for failing in [
        "skeleton", "crash", "broken", "notdir", "nokmod", "misnamed", "escape",
    ] {
        assert_eq!(verdict(failing), "failed", "{failing}:\n{said}");
    }
    assert_eq!(report["passed"], false);
    assert_eq!(report["summary"]["passed"], 2);
    assert_eq!(report["summary"]["failed"], 7);

    // The skeleton fails where the course says, with the verify result.
    assert_eq!(step("skeleton"), 9, "{said}");
    let steps = &result(&report, "skeleton")["report"]["steps"];
    assert!(
        steps[8]["error"]
            .as_str()
            .is_some_and(|m| m.contains("misdirected")),
        "{}",
        steps[8]
    );
    // The reads before it verified their stamps.
    assert_eq!(steps[7]["outcome"], "passed");
    assert!(steps[7]["probe"]["bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(steps[7]["probe"]["mismatch"].is_null());
    assert_eq!(steps[9]["outcome"], "skipped");
    assert!(
        steps[1]["kmsg"].is_array() && steps[4]["output"][0].as_str().is_some(),
        "evidence: kernel log and table output"
    );

    // The crash: step 4, decoded to the student's own file and line.
    let source = class.join("crash/kmod/c/first_target.c");
    let line = line_of(&source, "fc->offset = offset;");
    assert_eq!(step("crash"), 4, "{said}");
    let crash = &result(&report, "crash")["step"]["crash"];
    let location = crash["location"].as_str().expect("a location");
    assert!(
        location.ends_with(&format!("crash/kmod/c/first_target.c:{line}")),
        "{location} is not line {line}"
    );
    assert_eq!(crash["function"], "first_target_ctr");
    assert!(reason("crash").contains(location), "{}", reason("crash"));

    // Build errors as file:line.
    assert_eq!(step("broken"), 1);
    let errors = &result(&report, "broken")["step"]["diagnostics"];
    let bad = line_of(
        &class.join("broken/kmod/c/first_target.c"),
        "fc->offset = offset",
    );
    assert!(
        errors.as_array().is_some_and(|e| e.iter().any(|d| d
            .as_str()
            .is_some_and(|d| d.contains(&format!("first_target.c:{}", bad + 1))
                || d.contains(&format!("first_target.c:{bad}"))))),
        "{errors}"
    );

    // Not submissions at all, each with the reason.
    assert!(
        reason("notdir").contains("is not a directory"),
        "{}",
        reason("notdir")
    );
    assert!(
        reason("nokmod").contains("has no kmod/"),
        "{}",
        reason("nokmod")
    );
    assert!(result(&report, "notdir")["report"].is_null(), "nothing ran");
    // Another module name than the lab loads: both names said.
    assert_eq!(step("misnamed"), 2);
    assert!(
        reason("misnamed").contains("'first_target'") && reason("misnamed").contains("'dmp'"),
        "{}",
        reason("misnamed")
    );
    // The Makefile that read another student's directory.
    assert_eq!(step("escape"), 1);
    assert!(
        reason("escape").contains("reached outside its box"),
        "{}",
        reason("escape")
    );
    assert!(!leak.exists(), "nothing of the box's reaches this host");

    // JUnit: valid, one suite per submission, the crash location in the
    // failure text, no skipped case anywhere.
    let junit = out_dir.join("whole.xml");
    assert_valid_junit(&junit);
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert_eq!(xml.matches("<testsuite ").count(), CLASS.len());
    assert!(xml.contains(location), "the crash location is in the JUnit");
    assert!(!xml.contains("<skipped"));
    let cases = junit_cases(&junit);
    assert_eq!(
        cases.iter().filter(|c| c.2 == "passed").count(),
        2,
        "{cases:?}"
    );
    assert_eq!(
        cases.iter().filter(|c| c.2 == "failure failed").count(),
        7,
        "{cases:?}"
    );

    // Two shards, the submissions in another order, merged: the whole run.
    let mut reversed: Vec<&str> = CLASS.to_vec();
    reversed.reverse();
    for (shard, order) in [("2/2", &reversed), ("1/2", &CLASS.to_vec())] {
        let name = shard.replace('/', "of");
        let run = grade(
            &class,
            &[
                &[
                    "--lab",
                    &lab,
                    "--jobs",
                    "2",
                    "--timeout",
                    "240",
                    "--shard",
                    shard,
                ][..],
                &["--report", &o(&format!("{name}.json"))],
                order,
            ]
            .concat(),
        );
        assert!(!run.status.success(), "{}", text(&run));
    }
    let merged = grade(
        &class,
        &[
            "--merge",
            &o("2of2.json"),
            &o("1of2.json"),
            "--report",
            &o("merged.json"),
            "--junit",
            &o("merged.xml"),
        ],
    );
    assert!(!merged.status.success(), "{}", text(&merged));
    let merged_report = read_json(&out_dir.join("merged.json"));
    assert_eq!(verdicts(&merged_report), verdicts(&report));
    for key in ["labs", "submissions", "summary", "passed", "interrupted"] {
        assert_eq!(merged_report[key], report[key], "{key}");
    }
    assert!(merged_report.get("shard").is_none());
    assert_valid_junit(&out_dir.join("merged.xml"));
    assert_eq!(junit_cases(&out_dir.join("merged.xml")), cases);
    // A slice alone is not the class.
    let partial = grade(&class, &["--merge", &o("1of2.json")]);
    assert!(text(&partial).contains("2/2"), "{}", text(&partial));

    assert_eq!(snapshot(&class), before, "grading changed a submission");
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn a_hanging_submission_times_out_alone_and_leaves_nothing_running() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let class = dir.path().join("class");
    submission(&class.join("pass"), "solution", "", None, &same);
    // Writes are never completed: the write probe waits forever.
    submission(&class.join("hang"), "solution", "", None, &|c| {
        c.replacen(
            "\tbio_set_dev(bio, fc->dev->bdev);\n",
            "\tif (bio_data_dir(bio) == WRITE && bio_sectors(bio))\n\
             \t\treturn DM_MAPIO_SUBMITTED;\n\tbio_set_dev(bio, fc->dev->bdev);\n",
            1,
        )
    });
    let before = snapshot(&class);
    // Built before the clock starts: the timeout is for the lab.
    let kdir = dmbench::kernel::find_cached().expect("lab kernel").tree();
    for s in ["pass", "hang"] {
        dmbench::kbuild::build(&class.join(s).join("kmod/c"), &kdir, &mut |_| {}).expect("builds");
    }
    let report_path = dir.path().join("r.json");
    let junit = dir.path().join("j.xml");
    let started = std::time::Instant::now();
    let out = grade(
        &class,
        &[
            "--lab",
            &lab().display().to_string(),
            "--jobs",
            "2",
            "--timeout",
            "25",
            "--report",
            &report_path.display().to_string(),
            "--junit",
            &junit.display().to_string(),
            "pass",
            "hang",
        ],
    );
    let took = started.elapsed();
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    let report = read_json(&report_path);
    assert_eq!(result(&report, "pass")["verdict"], "passed", "{said}");
    let hang = result(&report, "hang");
    assert_eq!(hang["verdict"], "timed_out", "{said}");
    assert_eq!(hang["step"]["index"], 7, "the write step: {said}");
    assert!(
        hang["reason"]
            .as_str()
            .is_some_and(|r| r.contains("25 s timeout in step 7 write")),
        "{hang}"
    );
    // SIGTERM, then SIGKILL after the grace period: well before a minute.
    assert!(took.as_secs() < 60, "{took:?}");
    assert_valid_junit(&junit);
    assert!(
        std::fs::read_to_string(&junit)
            .expect("junit")
            .contains("type=\"timeout\""),
        "a timeout is a failure in JUnit"
    );
    let ours = runtime_dir_of(&class).display().to_string();
    assert_eq!(
        processes_mentioning(&ours),
        Vec::<String>::new(),
        "no VM left"
    );
    assert_eq!(snapshot(&class), before);
}

#[test]
fn ctrl_c_stops_every_vm_and_keeps_the_partial_report() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let class = dir.path().join("class");
    for s in ["a", "b", "c"] {
        submission(&class.join(s), "solution", "", None, &same);
    }
    let report_path = dir.path().join("r.json");
    let junit = dir.path().join("j.xml");
    let mut child = grade_command(&class)
        .args(["--jobs", "1", "--lab"])
        .arg(lab())
        .arg("--report")
        .arg(&report_path)
        .arg("--junit")
        .arg(&junit)
        .args(["a", "b", "c"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dmbench runs");
    // After the first pair is done, the second is under way: interrupt.
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let first_done = line.starts_with("[1/3]");
        seen.push(line);
        if first_done {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().expect("wait");
    let said = seen.join("\n");
    assert!(!status.success(), "{said}");
    let report = read_json(&report_path);
    assert_eq!(report["interrupted"], true, "{said}");
    assert_eq!(report["passed"], false);
    assert_eq!(
        report["results"].as_array().map(Vec::len),
        Some(3),
        "every pair is there"
    );
    assert_eq!(result(&report, "a")["verdict"], "passed", "{said}");
    for s in ["b", "c"] {
        let r = result(&report, s);
        assert_eq!(r["verdict"], "not_run", "{s}: {said}");
        assert!(
            r["reason"]
                .as_str()
                .is_some_and(|t| t.contains("interrupted")),
            "{r}"
        );
    }
    assert_valid_junit(&junit);
    let cases = junit_cases(&junit);
    assert_eq!(
        cases.iter().filter(|c| c.2 == "error not-run").count(),
        2,
        "{cases:?}"
    );
    let ours = runtime_dir_of(&class).display().to_string();
    assert_eq!(
        processes_mentioning(&ours),
        Vec::<String>::new(),
        "no VM left"
    );
}

#[test]
fn a_source_that_does_not_build_is_built_once_for_all_its_labs() {
    if common::vm_config().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let class = dir.path().join("class");
    submission(&class.join("broken"), "solution", "", None, &|c| {
        c.replacen("\tfc->offset = offset;\n", "\tfc->offset = offset\n", 1)
    });
    // The same lab under a second name: two labs building one source.
    let again = dir.path().join("again.toml");
    std::fs::copy(lab(), &again).expect("copy");
    let report_path = dir.path().join("report.json");
    let lab = lab().display().to_string();
    let again = again.display().to_string();
    let report_arg = report_path.display().to_string();
    let out = grade(
        &class,
        &[
            "--lab",
            &lab,
            "--lab",
            &again,
            "--jobs",
            "1",
            "--report",
            &report_arg,
            "broken",
        ],
    );
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    let report = read_json(&report_path);
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{said}");
    let mut replayed = 0;
    for r in results {
        assert_eq!(r["verdict"], "failed", "{said}");
        let step = &r["step"];
        assert_eq!(step["index"], 1, "both fail at the build: {step}");
        let errors = step["diagnostics"].to_string();
        assert!(
            errors.contains("first_target.c"),
            "the same errors: {errors}"
        );
        if r.to_string().contains("not built again") {
            replayed += 1;
        }
    }
    assert_eq!(
        replayed, 1,
        "the second lab reuses the first's failure:\n{said}"
    );
}

#[test]
fn a_malformed_lab_stops_everything_before_any_vm_boots() {
    let dir = tempfile::tempdir().expect("tmp");
    submission(&dir.path().join("s"), "solution", "", None, &same);
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "title = \"t\"\n\n[[steps]]\nrun = \"build\"\nsource = \"kmod/c\"\n\n\
         [[steps]]\nrun = \"laod\"\nmodule = \"first_target\"\n",
    )
    .expect("lab");
    let started = std::time::Instant::now();
    let out = grade(
        dir.path(),
        &[
            "--lab",
            &lab().display().to_string(),
            "--lab",
            &bad.display().to_string(),
            "--report",
            "r.json",
            "s",
        ],
    );
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!("{}:8: unknown step kind", bad.display())),
        "{said}"
    );
    assert!(!said.contains("grading "), "nothing was graded:\n{said}");
    assert!(!dir.path().join("r.json").exists());
    assert!(started.elapsed().as_secs() < 5, "no VM booted");
}

#[test]
fn without_bubblewrap_nothing_is_graded() {
    let dir = tempfile::tempdir().expect("tmp");
    submission(&dir.path().join("s"), "solution", "", None, &same);
    let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
        .args(["grade", "--lab"])
        .arg(lab())
        .arg("s")
        .current_dir(dir.path())
        .env("PATH", dir.path())
        .output()
        .expect("dmbench runs");
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("bubblewrap is not installed"), "{said}");
    assert!(!said.contains("grading "), "{said}");
}

#[test]
fn junit_for_every_verdict_is_valid_and_nothing_is_skipped() {
    use dmbench::grade::junit;
    use dmbench::grade::model::{GradeReport, LabInfo, PairResult, StepRef, Verdict};
    let pair = |s: &str, verdict: Verdict, step: Option<StepRef>| PairResult {
        submission: s.into(),
        lab: "01-first-target/lab-c".into(),
        verdict,
        reason: (verdict != Verdict::Passed).then(|| format!("why <{s}> & \"so\"")),
        step,
        duration_ms: 1234.5,
        started: "2026-11-30T01:02:03".into(),
        host: "grader".into(),
        report: None,
        log: vec!["\u{1b}[1mlast line\u{7}".into()],
    };
    let crashed = StepRef {
        index: 4,
        kind: "create".into(),
        label: "create first_dev (1 segment)".into(),
        line: 21,
        error: Some("the guest kernel crashed: BUG\n  in first_target_ctr".into()),
        diagnostics: vec!["first_target.c:54:9: error: expected ';'".into()],
        crash: Some(serde_json::json!({
            "message": "BUG: kernel NULL pointer dereference",
            "function": "first_target_ctr", "module": "first_target",
            "location": "subs/carol/kmod/c/first_target.c:54",
            "source_line": "\tfc->offset = offset;"
        })),
        kmsg: vec!["first_target: ctr \u{0}".into()],
    };
    let subs = ["alice", "bob", "carol", "dave", "erin"];
    let report = GradeReport::new(
        vec![LabInfo {
            name: "01-first-target/lab-c".into(),
            path: "lab-c.toml".into(),
            title: "Course 01 <C>".into(),
            steps: 12,
        }],
        subs.iter().map(|s| s.to_string()).collect(),
        None,
        vec![
            pair("alice", Verdict::Passed, None),
            pair("bob", Verdict::Failed, Some(crashed)),
            pair("carol", Verdict::TimedOut, None),
            pair("dave", Verdict::NotRun, None),
            pair("erin", Verdict::Error, None),
        ],
        false,
    );
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j.xml");
    std::fs::write(&path, junit::render(&report)).expect("write");
    assert_valid_junit(&path);
    let cases = junit_cases(&path);
    let kinds: Vec<&str> = cases.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "passed",
            "failure failed",
            "failure timeout",
            "error not-run",
            "error grading-error"
        ]
    );
    let xml = std::fs::read_to_string(&path).expect("xml");
    assert!(!xml.contains("skipped=\"1\"") && !xml.contains("<skipped"));
    for needle in [
        "step 4: create first_dev (1 segment) (lab line 21)",
        "in first_target_ctr [first_target] at subs/carol/kmod/c/first_target.c:54",
        "54 | fc-&gt;offset = offset;",
        "first_target.c:54:9: error: expected",
    ] {
        assert!(xml.contains(needle), "{needle} in:\n{xml}");
    }
}
