//! The grading examples in examples/grading stay wired right: the GitHub
//! Actions workflow runs one job per shard and merges them, the Kubernetes
//! manifest is an Indexed Job whose completion index picks the shard, and
//! the command each runs is a `dmbench grade` that dmbench itself accepts,
//! with the right `--shard I/N` for every job or pod (the commands are run
//! by sh with a stand-in dmbench that records its arguments).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use dmbench::cli::{Cli, Command as Sub};
use dmbench::grade::GradeArgs;
use dmbench::grade::plan::Shard;
use serde_yaml_ng::Value;

fn example(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/grading")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("example");
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `script` with sh, `dmbench` being a stand-in that writes its
/// arguments; returns them as dmbench's own parser reads them.
fn run_as_dmbench(script: &str, env: &[(&str, &str)], dir: &Path) -> GradeArgs {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let args = dir.join("args");
    let stub = bin.join("dmbench");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > {}\n",
            args.display()
        ),
    )
    .expect("stub");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let results = dir.join("results");
    std::fs::create_dir_all(&results).expect("mkdir");
    let script = script.replace("/results/", &format!("{}/", results.display()));
    // A run that does not call dmbench must not find an earlier run's args.
    let _ = std::fs::remove_file(&args);
    // Its exit status is the script's business (the pod's ends with a
    // check of the report, which the stand-in does not write).
    Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .envs(env.iter().copied())
        .current_dir(dir)
        .status()
        .expect("sh");
    let recorded = std::fs::read(&args).expect("dmbench was run");
    let argv: Vec<String> = std::iter::once("dmbench".to_string())
        .chain(
            recorded
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned()),
        )
        .collect();
    match Cli::try_parse_from(&argv) {
        Ok(Cli {
            command: Some(Sub::Grade(args)),
            ..
        }) => args,
        Ok(other) => panic!("not `dmbench grade`: {other:?}"),
        Err(e) => panic!("dmbench would refuse {argv:?}: {e}"),
    }
}

#[test]
fn the_github_workflow_runs_one_job_per_shard_then_merges() {
    let workflow = example("github-actions.yml");
    let grade = &workflow["jobs"]["grade"];
    let shards: Vec<u64> = grade["strategy"]["matrix"]["shard"]
        .as_sequence()
        .expect("a matrix of shards")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let count = shards.len();
    assert!(count >= 2);
    assert_eq!(shards, (1..=count as u64).collect::<Vec<_>>(), "1..N");
    assert_eq!(
        workflow["env"]["SHARDS"].as_u64(),
        Some(count as u64),
        "SHARDS matches the matrix"
    );
    assert_eq!(grade["strategy"]["fail-fast"], Value::Bool(false));
    let step = grade["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("dmbench grade"))
        })
        .expect("a step runs dmbench grade");
    let run = step["run"].as_str().expect("run");
    let dir = tempfile::tempdir().expect("tmp");
    for shard in &shards {
        let script = run
            .replace("${{ matrix.shard }}", &shard.to_string())
            .replace("${{ env.SHARDS }}", &count.to_string());
        let args = run_as_dmbench(&script, &[], dir.path());
        assert_eq!(
            args.shard,
            Some(Shard {
                index: *shard as usize,
                count
            })
        );
        assert!(!args.labs.is_empty());
        assert!(args.report.is_some() && args.junit.is_some());
    }
    let merge = &workflow["jobs"]["merge"];
    assert_eq!(merge["needs"].as_str(), Some("grade"));
    assert_eq!(merge["if"].as_str(), Some("always()"));
    let merging = merge["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find_map(|s| s["run"].as_str())
        .expect("a merge step");
    let args = run_as_dmbench(merging, &[], dir.path());
    assert!(!args.merge.is_empty(), "{merging}");
}

#[test]
fn the_kubernetes_job_is_indexed_and_its_index_picks_the_shard() {
    let job = example("k8s-indexed-job.yaml");
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_u64().expect("completions") as usize;
    assert!(completions >= 2);
    assert_eq!(spec["parallelism"].as_u64(), Some(completions as u64));
    // One shard's failure must not end the others: a per-index limit, not
    // a Job-wide backoffLimit of 0 (which fails the Job at the first pod).
    assert_eq!(spec["backoffLimitPerIndex"].as_u64(), Some(0));
    assert!(
        spec["backoffLimit"].is_null(),
        "backoffLimit ends every shard"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let container = &pod["containers"][0];
    let script = container["args"][0].as_str().expect("a shell script");
    assert_eq!(
        container["command"]
            .as_sequence()
            .map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>()),
        Some(vec!["/bin/sh", "-c"])
    );
    let dir = tempfile::tempdir().expect("tmp");
    for index in 0..completions {
        let args = run_as_dmbench(
            script,
            &[("JOB_COMPLETION_INDEX", &index.to_string())],
            dir.path(),
        );
        assert_eq!(
            args.shard,
            Some(Shard {
                index: index + 1,
                count: completions
            }),
            "pod {index}"
        );
        assert!(
            args.report
                .as_deref()
                .is_some_and(|r| r.ends_with(format!("report-{}.json", index + 1))),
            "{:?}",
            args.report
        );
    }
    // The class is mounted read-only: grading never writes to it.
    let mounts = container["volumeMounts"].as_sequence().expect("mounts");
    assert!(
        mounts
            .iter()
            .any(|m| m["mountPath"] == "/class" && m["readOnly"] == Value::Bool(true))
    );
}
