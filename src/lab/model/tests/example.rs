//! The example of the lab format contract, verbatim.

use super::*;

const CONTRACT_EXAMPLE: &str = r#"title = "Write your own target: basic_target"
summary = "Build the target, map one loop device through it, watch a write."

[[steps]]
run = "build"                 # build a module from a kmod source directory
source = "kmod/rust"          # relative to the lab file's project root
note = "Build the Rust basic_target module."   # any step may carry a note

[[steps]]
run = "load"                  # load a module built earlier, by name
module = "basic_target"

[[steps]]
run = "disk"                  # sparse backing file + loop device
name = "disk1"
size = "20000s"               # units: s (512-byte sectors), B, KiB, MiB, GiB

[[steps]]
run = "create"                # create a DM device from a table
name = "my_basic_target_device"
table = "0 20000 basic_target {disk1} 0"   # {disk} -> that disk's loop device
                                            # several lines = several segments

[[steps]]
run = "write"                 # dd-style probe
device = "my_basic_target_device"
bs = 512                      # bytes per block
seek = 10                     # in blocks, as dd
count = 1
pattern = "stamp"             # stamp | zero | random | 0xNN
direct = true                 # O_DIRECT
[steps.expect]
kmsg = "write request"        # regex; must appear in the kernel log during this step

[[steps]]
run = "read"
device = "my_basic_target_device"
bs = 512
skip = 10                     # in blocks, as dd
count = 1
verify = "stamp"              # stamp | zero | 0xNN: compare what was read
[steps.expect]
ok = true                     # default; `error = "EIO"` expects an I/O error instead

[[steps]]
run = "status"                # also: table, info
device = "my_basic_target_device"
[steps.expect]
output = "reads=\\d+"         # regex on the status line(s)
"#;

#[test]
fn the_contract_example_parses_into_the_expected_steps() {
    let lab = lab(CONTRACT_EXAMPLE);
    assert_eq!(lab.title, "Write your own target: basic_target");
    assert_eq!(
        lab.summary,
        "Build the target, map one loop device through it, watch a write."
    );
    let kinds: Vec<&str> = lab.steps.iter().map(|s| s.kind.name()).collect();
    assert_eq!(
        kinds,
        ["build", "load", "disk", "create", "write", "read", "status"]
    );
    let lines: Vec<usize> = lab.steps.iter().map(|s| s.line).collect();
    assert_eq!(lines, [4, 9, 13, 18, 24, 35, 45]);

    let build = &lab.steps[0];
    assert_eq!(
        build.kind,
        StepKind::Build {
            source: "kmod/rust".into()
        }
    );
    assert_eq!(
        build.note.as_deref(),
        Some("Build the Rust basic_target module.")
    );
    assert_eq!(
        lab.steps[1].kind,
        StepKind::Load {
            module: "basic_target".into(),
            params: String::new()
        }
    );
    assert_eq!(
        lab.steps[2].kind,
        StepKind::Disk {
            name: "disk1".into(),
            size_bytes: 20000 * 512,
            read_only: false,
            direct_io: false
        }
    );
    let StepKind::Create { name, table } = &lab.steps[3].kind else {
        panic!("step 4 is a create step");
    };
    assert_eq!(name, "my_basic_target_device");
    assert_eq!(
        crate::table::format(&table.table),
        "0 20000 basic_target {disk1} 0"
    );
    let disks = [("disk1".to_string(), PathBuf::from("/dev/loop7"))].into();
    assert_eq!(
        table.render_text(&disks),
        Ok("0 20000 basic_target /dev/loop7 0".to_string())
    );

    assert_eq!(
        lab.steps[4].kind,
        StepKind::Write(WriteStep {
            device: IoTarget::Device("my_basic_target_device".into()),
            bs: 512,
            seek: 10,
            count: Some(1),
            pattern: PatternSpec::Stamp,
            direct: true,
            random_order: false,
        })
    );
    let kmsg = lab.steps[4].expect.kmsg.as_ref().expect("kmsg regex");
    assert!(kmsg.is_match("basic_target: write request at sector 10"));
    assert!(lab.steps[4].expect.ok);

    assert_eq!(
        lab.steps[5].kind,
        StepKind::Read(ReadStep {
            device: IoTarget::Device("my_basic_target_device".into()),
            bs: 512,
            skip: 10,
            count: Some(1),
            verify: Some(PatternSpec::Stamp),
            direct: false,
            random_order: false,
        })
    );
    assert!(lab.steps[5].expect.ok && lab.steps[5].expect.error.is_none());

    assert_eq!(
        lab.steps[6].kind,
        StepKind::Status {
            device: "my_basic_target_device".into()
        }
    );
    let output = lab.steps[6].expect.output.as_ref().expect("output regex");
    assert!(output.is_match("0 20000 basic_target reads=3 writes=1"));
}

#[test]
fn every_other_step_kind_and_expectation() {
    let text = format!(
        "{PREAMBLE}{}",
        r#"
[[steps]]
run = "message"
device = "dev"
sector = 0
text = "addbadblock 5"
[steps.expect]
output = "ok"

[[steps]]
run = "suspend"
device = "dev"

[[steps]]
run = "reload"
device = "dev"
table = """
0 10000 zero
10000 10000 error"""

[[steps]]
run = "resume"
device = "dev"

[[steps]]
run = "table"
device = "dev"

[[steps]]
run = "info"
device = "dev"

[[steps]]
run = "read"
device = "dev"
bs = "4KiB"
[steps.expect]
error = "EIO"

[[steps]]
run = "write"
device = "disk1"
pattern = "0xA5"
random_order = true
[steps.expect]
ok = false

[[steps]]
run = "remove"
device = "dev"

[[steps]]
run = "detach"
disk = "disk1"
"#
    );
    let lab = lab(&text);
    let kinds: Vec<&str> = lab.steps.iter().map(|s| s.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "disk", "create", "message", "suspend", "reload", "resume", "table", "info", "read",
            "write", "remove", "detach"
        ]
    );
    assert_eq!(
        lab.steps[2].kind,
        StepKind::Message {
            device: "dev".into(),
            sector: Some(0),
            text: "addbadblock 5".into()
        }
    );
    let StepKind::Reload { table, .. } = &lab.steps[4].kind else {
        panic!("reload");
    };
    assert_eq!(table.table.segments.len(), 2);
    let read = &lab.steps[8];
    assert!(matches!(&read.kind, StepKind::Read(r) if r.bs == 4096 && r.count.is_none()));
    assert!(!read.expect.ok);
    assert!(matches!(
        read.expect.error,
        Some(ErrorMatch::Errno { code, .. }) if code == libc::EIO
    ));
    let write = &lab.steps[9];
    assert!(matches!(
        &write.kind,
        StepKind::Write(w) if w.device == IoTarget::Disk("disk1".into())
            && w.pattern == PatternSpec::Byte(0xA5)
            && w.random_order
    ));
    assert!(write.expect.expects_failure() && write.expect.error.is_none());
}
