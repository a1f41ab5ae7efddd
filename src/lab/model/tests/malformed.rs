//! Every kind of mistake, reported at its file and line.

use super::*;

/// PREAMBLE plus `more`, which starts on line 12.
fn with(more: &str) -> String {
    format!("{PREAMBLE}{more}")
}

#[test]
fn toml_syntax_errors_have_a_line() {
    assert_lab_errors(
        "title = \"t\"\n\n[[steps]]\nrun = \n",
        &["lab.toml:4: string values must be quoted"],
    );
}

#[test]
fn unknown_step_kind_lists_the_valid_ones() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"bulid\"\nsource = \"kmod\"\n"),
        &[
            "lab.toml:13: unknown step kind 'bulid'; did you mean 'build'? valid kinds: build, \
           load, disk, create, write, read, status, table, info, message, suspend, resume, \
           reload, remove, unload, reload-module, detach",
        ],
    );
    assert_lab_errors(
        &with("[[steps]]\nsource = \"kmod\"\n"),
        &["lab.toml:12: step has no 'run' key"],
    );
}

#[test]
fn missing_keys_are_named() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"disk\"\nname = \"d2\"\n"),
        &["lab.toml:12: disk step has no 'size' key (e.g. size = \"20000s\" or \"10MiB\")"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"message\"\ndevice = \"dev\"\n"),
        &["lab.toml:12: message step has no 'text' key"],
    );
    assert_lab_errors(
        "summary = \"s\"\nsteps = []\n",
        &[
            "lab.toml:1: the lab has no 'title' key",
            "lab.toml:2: the lab has no steps",
        ],
    );
}

#[test]
fn unknown_keys_suggest_the_closest() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"status\"\ndevcie = \"dev\"\n"),
        &[
            "lab.toml:12: status step has no 'device' key",
            "lab.toml:14: unknown key 'devcie' in status step; did you mean 'device'?",
        ],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"write\"\ndevice = \"dev\"\nskip = 3\n"),
        &["lab.toml:15: unknown key 'skip' in write step; writes position with 'seek'"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"read\"\ndevice = \"dev\"\n[steps.expect]\nkmesg = \"x\"\n"),
        &["lab.toml:16: unknown key 'kmesg' in expect table; did you mean 'kmsg'?"],
    );
    assert_lab_errors(
        &format!("autor = \"me\"\n{PREAMBLE}"),
        &["lab.toml:1: unknown key 'autor' in the lab; valid keys: title, summary, steps"],
    );
}

#[test]
fn bad_sizes_patterns_and_numbers() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"disk\"\nname = \"d2\"\nsize = \"20 MB\"\n"),
        &["lab.toml:15: 'size': '20 MB' has unknown unit 'MB'"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"disk\"\nname = \"d2\"\nsize = 1000\n"),
        &["lab.toml:15: size 1000 bytes is not a whole number of 512-byte sectors"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"write\"\ndevice = \"dev\"\npattern = \"ones\"\n"),
        &["lab.toml:15: 'pattern': 'ones' is not a pattern: use stamp, zero, random or a byte"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"read\"\ndevice = \"dev\"\nverify = \"random\"\n"),
        &["lab.toml:15: verify = \"random\" cannot be checked"],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"write\"\ndevice = \"dev\"\ncount = -1\ndirect = \"yes\"\n\
             bs = 100\n",
        ),
        &[
            "lab.toml:15: 'count' must not be negative, got -1",
            "lab.toml:16: 'direct' must be true or false, not a string",
        ],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"write\"\ndevice = \"dev\"\ndirect = true\nbs = 100\n"),
        &["lab.toml:16: with direct = true, bs must be a multiple of 512 bytes, not 100"],
    );
}

#[test]
fn bad_regexes_and_contradictions() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"status\"\ndevice = \"dev\"\n[steps.expect]\nkmsg = \"(oops\"\n"),
        &["lab.toml:16: 'kmsg' is not a valid regex: unclosed group"],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"status\"\ndevice = \"dev\"\n[steps.expect]\noutput = \"[a-\"\n\
             error = \"x(\"\n",
        ),
        &[
            "lab.toml:16: 'output' is not a valid regex",
            "lab.toml:17: 'error' is neither an errno name nor a valid regex",
        ],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"status\"\ndevice = \"dev\"\n[steps.expect]\nok = true\n\
             error = \"EIO\"\n",
        ),
        &["lab.toml:16: ok = true contradicts 'error'"],
    );
}

#[test]
fn tables_that_fail_report_the_table_line() {
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"reload\"\ndevice = \"dev\"\ntable = \"\"\"\n0 100 zero\n\
             100 x zero\"\"\"\n",
        ),
        &["lab.toml:15: table line 2, length: 'x' is not a number of sectors"],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"reload\"\ndevice = \"dev\"\n\
             table = \"0 20000 striped 2 12 {disk1} 0 {disk1} 0\\n20000 5 zero 1\"\n",
        ),
        &[
            "lab.toml:15: table line 1, argument 2 (chunk_size): the stripe width of 10000 \
             sectors",
            "lab.toml:15: table line 2, argument 1: unexpected '1'; zero takes no arguments",
        ],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"reload\"\ndevice = \"dev\"\ntable = \"0 30000 linear {disk1} 0\"\n",
        ),
        &[
            "lab.toml:15: table line 1, argument 1 (device): '{disk1}' has 20000 sectors, but this \
           segment needs 30000 sectors",
        ],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"reload\"\ndevice = \"dev\"\ntable = \"0 10 linear /dev/loop0 0\"\n",
        ),
        &[
            "lab.toml:15: table line 1, argument 1 (device): '/dev/loop0' is not a disk or device \
           of this lab: write {disk}",
        ],
    );
}

#[test]
fn placeholders_must_name_earlier_disks() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"reload\"\ndevice = \"dev\"\ntable = \"0 10 linear {disk9} 0\"\n"),
        &["lab.toml:15: table line 1: {disk9} names no disk defined by an earlier disk step"],
    );
    // Defined, but only later.
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"create\"\nname = \"dev2\"\ntable = \"0 10 linear {late} 0\"\n\n\
             [[steps]]\nrun = \"disk\"\nname = \"late\"\nsize = \"1MiB\"\n",
        ),
        &["lab.toml:15: table line 1: {late} names no disk defined by an earlier disk step"],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"detach\"\ndisk = \"disk1\"\n\n\
             [[steps]]\nrun = \"create\"\nname = \"dev2\"\ntable = \"0 10 my_target {disk1}\"\n",
        ),
        &["lab.toml:19: table line 1: {disk1} names disk 'disk1', detached at line 12"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"create\"\nname = \"dev2\"\ntable = \"0 10 linear {disk1 0\"\n"),
        &["lab.toml:15: table line 1: unclosed '{' in '{disk1'"],
    );
}

#[test]
fn devices_are_used_only_while_they_exist() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"status\"\ndevice = \"ghost\"\n"),
        &["lab.toml:14: device 'ghost' is not created by an earlier step"],
    );
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"remove\"\ndevice = \"dev\"\n\n\
             [[steps]]\nrun = \"write\"\ndevice = \"dev\"\n",
        ),
        &["lab.toml:18: device 'dev' was removed at line 12 (nor is it a disk)"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"detach\"\ndisk = \"disk2\"\n"),
        &["lab.toml:14: disk 'disk2' is not created by an earlier step"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"unload\"\nmodule = \"basic_target\"\n"),
        &["lab.toml:14: module 'basic_target' is not loaded by an earlier step"],
    );
}

#[test]
fn duplicate_names_are_refused() {
    assert_lab_errors(
        &with("[[steps]]\nrun = \"disk\"\nname = \"disk1\"\nsize = \"1MiB\"\n"),
        &["lab.toml:14: duplicate name: 'disk1' is already a disk (line 3)"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"create\"\nname = \"dev\"\ntable = \"0 8 zero\"\n"),
        &["lab.toml:14: duplicate name: 'dev' is already a device (line 8)"],
    );
    assert_lab_errors(
        &with("[[steps]]\nrun = \"create\"\nname = \"disk1\"\ntable = \"0 8 zero\"\n"),
        &["lab.toml:14: duplicate name: 'disk1' is already a disk (line 3)"],
    );
}

#[test]
fn what_a_step_expects_to_fail_is_never_refused_up_front() {
    // The kernel's refusal of a second device of one name is the lesson.
    let text = with(
        "[[steps]]\nrun = \"create\"\nname = \"dev\"\ntable = \"0 8 zero\"\n\
         [steps.expect]\nerror = \"EBUSY\"\n",
    );
    let parsed = lab(&text);
    assert_eq!(parsed.steps.len(), 3);
    // So is removing what is not there, or writing to it.
    lab(&with(
        "[[steps]]\nrun = \"remove\"\ndevice = \"ghost\"\n[steps.expect]\nerror = \"no DM device\"\n\n\
         [[steps]]\nrun = \"write\"\ndevice = \"ghost\"\ncount = 1\n[steps.expect]\nerror = \"ghost\"\n",
    ));
    // A failed step creates nothing: the name stays free, and stays taken.
    assert_lab_errors(
        &with(
            "[[steps]]\nrun = \"create\"\nname = \"dev\"\ntable = \"0 8 zero\"\n\
             [steps.expect]\nerror = \"EBUSY\"\n\n\
             [[steps]]\nrun = \"create\"\nname = \"dev\"\ntable = \"0 8 zero\"\n",
        ),
        &["lab.toml:21: duplicate name: 'dev' is already a device (line 8)"],
    );
}

#[test]
fn all_errors_are_collected_in_line_order() {
    let text = r#"title = "t"

[[steps]]
run = "disk"
name = "a"
size = "lots"

[[steps]]
run = "creat"

[[steps]]
run = "create"
name = "x"
table = "0 8 linear {b} 0"

[[steps]]
run = "write"
device = "y"
pattern = "ff"
"#;
    assert_lab_errors(
        text,
        &[
            "lab.toml:6: 'size': 'lots' is not a size",
            "lab.toml:9: unknown step kind 'creat'; did you mean 'create'?",
            "lab.toml:14: table line 1: {b} names no disk defined by an earlier disk step",
            "lab.toml:18: device 'y' is not created by an earlier step",
            "lab.toml:19: 'pattern': 'ff' is not a pattern",
        ],
    );
}
