//! Grading figures for docs/performance.md ("Grading"): a class of
//! course hand-ins graded with the five C labs of the course, at each
//! `--jobs` asked for, every run from a cold module cache.
//!
//! A hand-in is what a student of the course would turn in: the five C
//! exercises in one `kmod/c`, one Makefile with five objects (each lab
//! loads its own module from it); every third student left one exercise
//! as the skeleton, so some pairs fail part-way, as in a real class. Each
//! run stamps every source with its own nonce, so no build of an earlier
//! run is found in the module cache.
//!
//! Prints: wall time, pairs per minute, the cost of one pair (median and
//! p90), what a pair spends outside its steps (VM boot, teardown, process
//! start), module builds and their cost, and host memory per VM (peak RSS
//! of each QEMU). Run it on a quiet machine:
//!
//!   cargo bench --bench grade
//!   GRADE_BENCH_SUBMISSIONS=30 GRADE_BENCH_JOBS="1 2" cargo bench --bench grade

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXERCISES: [(&str, &str); 5] = [
    ("01-first-target", "first_target"),
    ("02-read-only", "ro_target"),
    ("03-counting-proxy", "count_target"),
    ("04-striping", "stripe_target"),
    ("05-fault-injection", "drop_target"),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// Student `i`'s hand-in, stamped with `nonce`.
fn hand_in(dir: &Path, i: usize, nonce: u128) {
    let kmod = dir.join("kmod/c");
    std::fs::create_dir_all(&kmod).expect("mkdir");
    let mut objects = Vec::new();
    for (n, (exercise, module)) in EXERCISES.iter().enumerate() {
        let tree = if i % 3 == 2 && n == i % EXERCISES.len() {
            "skeleton"
        } else {
            "solution"
        };
        let source = repo()
            .join("assets/course")
            .join(exercise)
            .join(tree)
            .join("kmod/c")
            .join(format!("{module}.c"));
        let text = std::fs::read_to_string(&source).expect("course source");
        std::fs::write(
            kmod.join(format!("{module}.c")),
            format!("{text}\n/* hand-in {i}, bench run {nonce} */\n"),
        )
        .expect("write");
        objects.push(format!("{module}.o"));
    }
    std::fs::write(
        kmod.join("Makefile"),
        format!("obj-m := {}\n", objects.join(" ")),
    )
    .expect("makefile");
}

/// Peak RSS (VmHWM, KiB) of every QEMU whose command line mentions `tag`.
fn sample_qemu(tag: &str, peaks: &mut HashMap<u32, u64>) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.starts_with("qemu-system") || !cmdline.contains(tag) {
            continue;
        }
        let hwm = std::fs::read_to_string(entry.path().join("status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            });
        if let Some(hwm) = hwm {
            let peak = peaks.entry(pid).or_default();
            *peak = (*peak).max(hwm);
        }
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let i = ((values.len() - 1) as f64 * p).round() as usize;
    values[i]
}

fn run(submissions: usize, jobs: usize) -> serde_json::Value {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = tempfile::tempdir().expect("tmp");
    let class = dir.path().join("class");
    let names: Vec<String> = (0..submissions).map(|i| format!("s{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        hand_in(&class.join(name), i, nonce);
    }
    // The run's own runtime directory: its QEMUs are the ones whose
    // sockets lie below it.
    let xdg = dir.path().join("xdg");
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&xdg)
            .expect("xdg");
    }
    let report_path = dir.path().join("report.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmbench"));
    cmd.arg("grade")
        .arg("--jobs")
        .arg(jobs.to_string())
        .arg("--report")
        .arg(&report_path);
    for (exercise, _) in EXERCISES {
        cmd.arg("--lab").arg(
            repo()
                .join("assets/course")
                .join(exercise)
                .join("lab-c.toml"),
        );
    }
    let mut child = cmd
        .args(&names)
        .current_dir(&class)
        .env("XDG_RUNTIME_DIR", &xdg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dmbench grade");
    let started = Instant::now();
    let tag = xdg.display().to_string();
    let mut peaks = HashMap::new();
    while child.try_wait().expect("wait").is_none() {
        sample_qemu(&tag, &mut peaks);
        std::thread::sleep(Duration::from_millis(200));
    }
    let wall = started.elapsed();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).expect("report")).expect("json");
    let results = report["results"].as_array().cloned().unwrap_or_default();
    let mut pair = Vec::new();
    let mut passed_pair = Vec::new();
    let mut outside = Vec::new();
    let mut builds = Vec::new();
    let mut cached = 0;
    for r in &results {
        let ms = r["duration_ms"].as_f64().unwrap_or(0.0);
        pair.push(ms);
        if r["verdict"] == "passed" {
            passed_pair.push(ms);
        }
        let steps = r["report"]["steps"].as_array().cloned().unwrap_or_default();
        let in_steps: f64 = steps.iter().filter_map(|s| s["duration_ms"].as_f64()).sum();
        if !steps.is_empty() {
            outside.push(ms - in_steps);
        }
        if let Some(build) = steps.first().filter(|s| s["kind"] == "build") {
            if build["summary"]
                .as_str()
                .is_some_and(|s| s.contains("cached build"))
            {
                cached += 1;
            } else {
                builds.push(build["duration_ms"].as_f64().unwrap_or(0.0));
            }
        }
    }
    let mut rss: Vec<f64> = peaks.values().map(|k| *k as f64 / 1024.0).collect();
    let summary = &report["summary"];
    println!(
        "--jobs {jobs}: {submissions} submissions x {} labs = {} pairs in {:.0} s wall \
         ({:.1} min; {:.1} pairs/min)",
        EXERCISES.len(),
        results.len(),
        wall.as_secs_f64(),
        wall.as_secs_f64() / 60.0,
        results.len() as f64 / wall.as_secs_f64() * 60.0
    );
    println!(
        "  verdicts: {} passed, {} failed, {} timed out, {} not run, {} errors",
        summary["passed"],
        summary["failed"],
        summary["timed_out"],
        summary["not_run"],
        summary["errors"]
    );
    println!(
        "  one pair: median {:.2} s, p90 {:.2} s (passing pairs: median {:.2} s)",
        percentile(&mut pair, 0.5) / 1e3,
        percentile(&mut pair, 0.9) / 1e3,
        percentile(&mut passed_pair, 0.5) / 1e3
    );
    println!(
        "  outside the steps (VM boot, teardown, process start): median {:.2} s",
        percentile(&mut outside, 0.5) / 1e3
    );
    println!(
        "  module builds: {} (of {} build steps; {} found in the cache), median {:.2} s, \
         max {:.2} s",
        builds.len(),
        builds.len() + cached,
        cached,
        percentile(&mut builds, 0.5) / 1e3,
        percentile(&mut builds, 1.0) / 1e3
    );
    println!(
        "  QEMU peak RSS: {} VMs, median {:.0} MiB, max {:.0} MiB (guest RAM 512 MiB)",
        rss.len(),
        percentile(&mut rss, 0.5),
        percentile(&mut rss, 1.0)
    );
    serde_json::json!({
        "submissions": submissions,
        "labs": EXERCISES.len(),
        "pairs": results.len(),
        "wall_s": wall.as_secs_f64(),
        "verdicts": summary,
        "pair_s": {"median": percentile(&mut pair, 0.5) / 1e3, "p90": percentile(&mut pair, 0.9) / 1e3},
        "outside_steps_s": {"median": percentile(&mut outside, 0.5) / 1e3},
        "module_builds": {
            "built": builds.len(),
            "cached": cached,
            "median_s": percentile(&mut builds, 0.5) / 1e3,
            "max_s": percentile(&mut builds, 1.0) / 1e3,
        },
        "qemu_peak_rss_mib": {"vms": rss.len(), "median": percentile(&mut rss, 0.5), "max": percentile(&mut rss, 1.0)},
    })
}

/// Writes `target/bench/grade.json`, as the vm bench does for its sections.
fn write_json(by_jobs: serde_json::Map<String, serde_json::Value>) {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
        .join("bench");
    let doc = serde_json::json!({
        "host_cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "measured_unix": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        "jobs": by_jobs,
    });
    let path = dir.join("grade.json");
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        Ok(()) => println!("(figures written to {})", path.display()),
        Err(e) => println!("(could not write {}: {e})", path.display()),
    }
}

fn main() {
    // `cargo bench` passes --bench; a filter may follow.
    let submissions: usize = env_or("GRADE_BENCH_SUBMISSIONS", "30")
        .parse()
        .expect("GRADE_BENCH_SUBMISSIONS is a number");
    let jobs: Vec<usize> = env_or("GRADE_BENCH_JOBS", "1 2")
        .split_whitespace()
        .map(|j| j.parse().expect("GRADE_BENCH_JOBS lists numbers"))
        .collect();
    println!(
        "grading bench: load average {} (figures are only worth keeping on a quiet machine)",
        load_average()
    );
    let mut by_jobs = serde_json::Map::new();
    for j in jobs {
        by_jobs.insert(j.to_string(), run(submissions, j));
        println!("  load average after the run: {}", load_average());
    }
    write_json(by_jobs);
}

fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
