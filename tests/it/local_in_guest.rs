//! `--local` proven on a host with device-mapper: the sandbox guest is such
//! a host. Every shipped lab runs there as `dmbench --local --headless`, a
//! process beside the agent, through the real local front end (its own
//! LocalExecutor, ledger and teardown), and reaches the same verdicts as
//! the same lab run from here with `--vm`. The guest has no compiler: its
//! build steps find the modules this host built for that very kernel in
//! the module cache, as any host without a kernel tree would. Runs in CI.

use crate::common;
use crate::common::repo;

use std::path::Path;

use dmbench::exec::protocol::{Request, Response};
use dmbench::exec::{Executor, discard_events};
use dmbench::kbuild::cache::{self, KernelIdentity, ModuleCache, is_build_output};
use dmbench::lab::model::{StepKind, load_lab};
use dmbench::vm::VmExecutor;

/// Where the project lands in the guest.
const GUEST_ROOT: &str = "/w";

fn put(vm: &mut VmExecutor, path: String, data: Vec<u8>) {
    vm.call(Request::PutFile {
        path: path.clone().into(),
        data,
        mode: 0o644,
    })
    .unwrap_or_else(|e| panic!("writing {path} in the guest: {e}"));
}

/// Every source file of a kmod directory, at the same place under /w.
fn push_sources(vm: &mut VmExecutor, dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("kmod dir").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with('.') {
            push_sources(vm, &path);
        } else if path.is_file() && !is_build_output(&name) {
            let relative = path.strip_prefix(repo()).expect("inside the repo");
            put(
                vm,
                format!("{GUEST_ROOT}/{}", relative.display()),
                std::fs::read(&path).expect("read"),
            );
        }
    }
}

#[test]
fn every_shipped_lab_passes_with_the_local_front_end_inside_the_guest() {
    let Some(config) = common::vm_config() else {
        return;
    };
    let kdir = dmbench::kernel::find_cached()
        .expect("a cached lab kernel")
        .tree();
    let kernel = KernelIdentity::of_tree(&kdir).expect("the lab kernel names itself");
    let labs = common::shipped_labs();

    // From here, in the VM: the verdicts to match, and (a side effect of
    // the build steps) the module cache filled for the lab kernel.
    let expected: Vec<Vec<common::Verdict>> = labs
        .iter()
        .map(|lab| common::Headless::shipped(lab).verdicts())
        .collect();

    let mut vm = VmExecutor::boot(config, discard_events()).expect("the sandbox VM boots");
    let modules = ModuleCache::default_location().expect("the module cache");
    let mut pushed = Vec::new();
    for lab in &labs {
        put(
            &mut vm,
            format!(
                "{GUEST_ROOT}/{}",
                lab.strip_prefix(repo()).expect("in repo").display()
            ),
            std::fs::read(lab).expect("lab"),
        );
        for step in load_lab(lab).expect("lab parses").steps {
            let StepKind::Build { source } = step.kind else {
                continue;
            };
            let dir = repo().join(&source);
            if pushed.contains(&dir) {
                continue;
            }
            push_sources(&mut vm, &dir);
            let digest = cache::source_digest(&dir).expect("digest");
            let built = modules
                .lookup(&digest, &kernel)
                .unwrap_or_else(|| panic!("{} was built for the lab kernel", dir.display()));
            for module in built {
                let entry = module.parent().and_then(Path::file_name).expect("entry");
                let file = module.file_name().expect("name");
                put(
                    &mut vm,
                    format!(
                        "{GUEST_ROOT}/cache/modules/{}/{}",
                        entry.to_string_lossy(),
                        file.to_string_lossy()
                    ),
                    std::fs::read(&module).expect("module"),
                );
            }
            pushed.push(dir);
        }
    }

    for (lab, expected) in labs.iter().zip(&expected) {
        let relative = lab.strip_prefix(repo()).expect("in repo");
        let guest_lab = format!("{GUEST_ROOT}/{}", relative.display());
        let guest_report = format!("{guest_lab}.report.json");
        let ran = vm
            .call(Request::RunCommand {
                argv: vec![
                    "/init".into(),
                    "--local".into(),
                    "--headless".into(),
                    guest_lab.clone(),
                    "--report".into(),
                    guest_report.clone(),
                ],
                env: vec![("DMBENCH_CACHE".into(), format!("{GUEST_ROOT}/cache"))],
            })
            .expect("dmbench runs in the guest");
        let Response::CommandOutput {
            status,
            stdout,
            stderr,
            ..
        } = ran
        else {
            panic!("unexpected answer {ran:?}");
        };
        let output = format!("{stdout}{stderr}");
        assert_eq!(status, 0, "{guest_lab} in the guest:\n{output}");
        assert!(output.contains("ready: local executor"), "{output}");
        let builds = expected.iter().filter(|v| v.kind == "build").count();
        assert_eq!(
            output.matches("the cached build").count(),
            builds,
            "the guest built nothing itself:\n{output}"
        );
        let report: serde_json::Value = match vm
            .call(Request::GetFile {
                path: guest_report.into(),
            })
            .expect("the report")
        {
            Response::File { data } => serde_json::from_slice(&data).expect("json"),
            other => panic!("unexpected answer {other:?}"),
        };
        assert_eq!(report["executor"], "local", "{output}");
        assert_eq!(
            &common::verdicts(&report),
            expected,
            "{}:\n{output}",
            lab.display()
        );
    }
    // Every local run tore down after itself: nothing of theirs is left.
    match vm
        .call(Request::Inventory {
            dir: "/run/dmbench".into(),
        })
        .expect("inventory")
    {
        Response::Inventory { dm, loops, .. } => {
            assert!(dm.is_empty(), "DM devices left: {dm:?}");
            assert!(loops.is_empty(), "loop devices left: {loops:?}");
        }
        other => panic!("unexpected answer {other:?}"),
    }
}
