//! Figures, not pass/fail: `cargo bench --bench vm` (or
//! `scripts/dev.sh bench`). Everything compared is measured in the same
//! run on the same VM, interleaved. Each section prints a table and writes
//! `target/bench/<section>.json` (figures with median/min/max over runs,
//! the kernel they were measured on and the module hashes), so figures can
//! be compared over time.
//!
//! Two clock modes: `wall` (the guest's clock follows the host's; TCG
//! figures wobble with host load) and `icount` (QEMU -icount: guest time
//! counts executed instructions, so a figure is an instruction-cost model
//! that repeats exactly; see docs/performance.md for what it leaves out).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use dmbench::exec::Executor;
use dmbench::exec::discard_events;
use dmbench::exec::protocol::{Pattern, ProbeOp, ProbeResult, Request, Response, TableLine};
use dmbench::session::{ModuleBuild, ProbeRequest, ProbeTarget, Session, SessionOptions};
use dmbench::vm::{VmConfig, VmExecutor};

// ---- figures ----------------------------------------------------------------

/// Median, min and max of samples (median of an even count: the upper one).
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(samples: &[f64]) -> Spread {
        let mut v = samples.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        if v.is_empty() {
            return Spread {
                median: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        Spread {
            median: v[v.len() / 2],
            min: v[0],
            max: v[v.len() - 1],
        }
    }

    /// (max - min) / median: the run-to-run spread.
    fn relative(&self) -> f64 {
        (self.max - self.min) / self.median
    }

    fn json(&self) -> Value {
        json!({"median": self.median, "min": self.min, "max": self.max})
    }
}

/// The spread of each workload's samples.
fn spreads(per_workload: &[Vec<f64>]) -> Vec<Spread> {
    per_workload.iter().map(|v| Spread::of(v)).collect()
}

/// `{WORKLOAD: {"median", "min", "max"}}`, in the workloads' order.
fn by_workload(spreads: &[Spread]) -> Value {
    Value::Object(
        WORKLOADS
            .iter()
            .zip(spreads)
            .map(|(w, s)| (w.key.to_string(), s.json()))
            .collect(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Wall,
    Icount,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Wall => "wall",
            Mode::Icount => "icount",
        }
    }
}

/// Modes to run: both unless `DMBENCH_BENCH_MODES=wall` (or `icount`).
fn modes() -> Vec<Mode> {
    let wanted = std::env::var("DMBENCH_BENCH_MODES").unwrap_or_default();
    [Mode::Icount, Mode::Wall]
        .into_iter()
        .filter(|m| wanted.is_empty() || wanted.split(',').any(|w| w == m.name()))
        .collect()
}

fn kernel() -> dmbench::kernel::BuiltKernel {
    dmbench::kernel::find_cached().expect("a lab kernel (scripts/dev.sh setup)")
}

/// What every JSON file names: the kernel and the machine it ran on.
fn provenance() -> Value {
    let k = kernel();
    let qemu = Command::new(dmbench::vm::qemu::qemu_binary())
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_default();
    json!({
        "kernel": {"version": k.version, "fragment": k.fragment_hash, "rustc": k.rustc_version},
        "qemu": qemu,
        "host_cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "measured_unix": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    })
}

fn bench_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
        .join("bench")
}

/// Writes `target/bench/<section>.json`: provenance first, then `body`'s keys.
fn write_json(section: &str, body: Value) {
    let mut doc = provenance();
    if let (Some(doc), Value::Object(body)) = (doc.as_object_mut(), body) {
        doc.extend(body);
    }
    let dir = bench_dir();
    let path = dir.join(format!("{section}.json"));
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text));
    match written {
        Ok(()) => println!("(figures written to {})", path.display()),
        Err(e) => println!("(could not write {}: {e})", path.display()),
    }
}

fn config(mode: Mode) -> VmConfig {
    let kernel = dmbench::kernel::locate().expect("a lab kernel (scripts/dev.sh setup)");
    let mut c = VmConfig::new(kernel, PathBuf::from(env!("CARGO_BIN_EXE_dmbench")));
    c.deterministic = mode == Mode::Icount;
    c
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Guest programs a section needs beside the agent (`DMBENCH_IMAGE_EXTRA`).
fn set_image_extra(programs: &[&str]) {
    // SAFETY: changed before a boot spawns any thread that reads the
    // environment; the bench runs its sections one after another. Cleared
    // when not asked for, so later sections boot the plain guest image.
    unsafe {
        if programs.is_empty() {
            std::env::remove_var("DMBENCH_IMAGE_EXTRA");
        } else {
            std::env::set_var("DMBENCH_IMAGE_EXTRA", programs.join(":"));
        }
    }
}

fn session(mode: Mode, extra: &[&str]) -> Session {
    let mut config = config(mode);
    // Room for the sparse backing files, which fill up as they are written.
    config.memory_mib = 1536;
    set_image_extra(extra);
    let mut session = Session::open(
        |sink| Ok(Box::new(VmExecutor::boot(config, sink)?)),
        discard_events(),
        SessionOptions {
            work_dir: "/run/dmbench".into(),
            ledger_dir: None,
        },
    )
    .expect("session");
    // The targets alone, as dmsetup would make them: no statistics
    // regions (their per-bio accounting would be measured too).
    session.set_statistics(false);
    session.set_journeys(false);
    session
}

fn hash_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    Sha256::digest(&bytes)[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---- workloads ----------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Workload {
    key: &'static str,
    op: ProbeOp,
    bs: u32,
    random: bool,
}

const WORKLOADS: [Workload; 4] = [
    Workload {
        key: "1MiB-seq-write",
        op: ProbeOp::Write,
        bs: 1 << 20,
        random: false,
    },
    Workload {
        key: "1MiB-seq-read",
        op: ProbeOp::Read,
        bs: 1 << 20,
        random: false,
    },
    Workload {
        key: "4KiB-rand-write",
        op: ProbeOp::Write,
        bs: 4096,
        random: true,
    },
    Workload {
        key: "4KiB-rand-read",
        op: ProbeOp::Read,
        bs: 4096,
        random: true,
    },
];

/// Bytes one pass covers: the whole 1 MiB range, a quarter of it in 4 KiB
/// blocks (a pass is then short enough to repeat).
fn pass_blocks(w: &Workload, device_bytes: u64) -> u64 {
    let range = if w.bs >= 1 << 20 {
        device_bytes
    } else {
        device_bytes / 4
    };
    range / u64::from(w.bs)
}

/// How many runs a figure is a median of, and the guest time each run
/// lasts at least: passes repeat until it is reached, so every figure
/// rests on the same amount of guest time whatever the device's speed (a
/// 64 MiB run of a fast device lasts under 0.1 s and resolves nothing).
/// icount figures repeat to 0.05 %, so fewer and shorter runs do; wall
/// figures need more. `DMBENCH_BENCH_RUNS` and
/// `DMBENCH_BENCH_GUEST_SECONDS` override both.
#[derive(Debug, Clone, Copy)]
struct Sizing {
    runs: usize,
    guest_seconds: f64,
}

fn sizing(mode: Mode) -> Sizing {
    let (runs, guest_seconds) = match mode {
        Mode::Icount => (5, 0.25),
        Mode::Wall => (9, 0.4),
    };
    let env = |name: &str| std::env::var(name).ok();
    Sizing {
        runs: env("DMBENCH_BENCH_RUNS")
            .and_then(|v| v.parse().ok())
            .unwrap_or(runs),
        guest_seconds: env("DMBENCH_BENCH_GUEST_SECONDS")
            .and_then(|v| v.parse().ok())
            .unwrap_or(guest_seconds),
    }
}

/// Runs of the wall-clock-only sections (boot, lab, dd).
fn wall_runs() -> usize {
    sizing(Mode::Wall).runs
}

fn probe_once(s: &mut Session, target: &ProbeTarget, w: &Workload, count: u64) -> ProbeResult {
    let r = s
        .probe(&ProbeRequest {
            target: target.clone(),
            op: w.op,
            bs: w.bs,
            count,
            offset_blocks: 0,
            // Writes are zeros and reads are not verified, as with dd and fio.
            pattern: (w.op == ProbeOp::Write).then_some(Pattern::Zero),
            direct: true,
            random_order: w.random,
            stamp_shift: 0,
        })
        .expect("probe")
        .result;
    assert!(r.io_error.is_none() && r.mismatch.is_none(), "{r:?}");
    r
}

/// MiB/s over at least `guest_seconds` of guest time.
fn probe_rate(
    s: &mut Session,
    target: &ProbeTarget,
    w: &Workload,
    device_bytes: u64,
    guest_seconds: f64,
) -> f64 {
    let count = pass_blocks(w, device_bytes);
    let (mut bytes, mut ns) = (0u64, 0u64);
    while (ns as f64) < guest_seconds * 1e9 {
        let r = probe_once(s, target, w, count);
        bytes += r.bytes;
        ns += r.elapsed_ns;
    }
    mib_per_s(bytes, ns)
}

fn mib_per_s(bytes: u64, ns: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64 / (ns as f64 / 1e9)
}

// ---- boot and round trip -------------------------------------------------------

fn boot_and_round_trip() {
    let boots = wall_runs().max(7);
    println!("\n## Boot to handshake ({boots} boots per mode) and request round trip");
    set_image_extra(&[]);
    let mut body = serde_json::Map::new();
    let mut modes_json = serde_json::Map::new();
    let mut image = 0;
    let mut accel = String::new();
    for mode in modes() {
        let mut handshake = Vec::new();
        for _ in 0..boots {
            let mut vm = VmExecutor::boot(config(mode), discard_events()).expect("boot");
            handshake.push(vm.timings.spawn_to_handshake.as_secs_f64());
            accel = vm.timings.accel.to_string();
            image = vm.timings.image_bytes;
            vm.shutdown().expect("poweroff");
        }
        let h = Spread::of(&handshake);
        println!(
            "{:6}: QEMU spawn -> agent handshake median {:.3} s (min {:.3}, max {:.3})",
            mode.name(),
            h.median,
            h.min,
            h.max
        );
        let mut vm = VmExecutor::boot(config(mode), discard_events()).expect("boot");
        let mut rtt = Vec::new();
        for _ in 0..500 {
            let t = Instant::now();
            vm.call(Request::SystemInfo).expect("rtt");
            rtt.push(t.elapsed().as_secs_f64() * 1e3);
        }
        vm.shutdown().expect("poweroff");
        let r = Spread::of(&rtt);
        let mut sorted = rtt.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let p99 = sorted[sorted.len() * 99 / 100];
        println!(
            "        request round trip (500 x SystemInfo): median {:.3} ms, p99 {p99:.3} ms",
            r.median
        );
        modes_json.insert(
            mode.name().into(),
            json!({
                "boot_to_handshake_s": h.json(),
                "round_trip_ms": {"median": r.median, "p99": p99, "max": r.max},
            }),
        );
    }
    println!("accelerator: {accel}, guest image {} KiB", image / 1024);
    body.insert("accelerator".into(), json!(accel));
    body.insert("image_kib".into(), json!(image / 1024));
    body.insert("modes".into(), Value::Object(modes_json));
    write_json("boot", Value::Object(body));
}

fn seed_lab_wall() {
    let n = wall_runs().max(7);
    println!("\n## Headless seed lab end to end, boot and teardown included ({n} runs)");
    set_image_extra(&[]);
    let mut walls = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_dmbench"))
            .arg("--headless")
            .arg(repo().join("assets/labs/00-seed-linear.toml"))
            .arg("--vm")
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        walls.push(t.elapsed().as_secs_f64());
    }
    let w = Spread::of(&walls);
    println!(
        "dmbench --headless assets/labs/00-seed-linear.toml --vm: median {:.2} s wall (min {:.2}, max {:.2})",
        w.median, w.min, w.max
    );
    write_json("lab", json!({"modes": {"wall": {"seed_lab_s": w.json()}}}));
}

// ---- probe vs dd ------------------------------------------------------------------

/// GNU dd in the guest, timed by the agent around the process.
fn dd(s: &mut Session, args: &[&str]) -> f64 {
    let argv: Vec<String> = std::iter::once("/bin/dd".to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    match s.run_command(argv).expect("dd runs") {
        Response::CommandOutput {
            status,
            stderr,
            elapsed_ns,
            ..
        } => {
            assert_eq!(status, 0, "dd failed: {stderr}");
            elapsed_ns as f64 / 1e9
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn probe_vs_dd() {
    println!("\n## Probe vs GNU dd (same VM, same loop device, O_DIRECT, sequential, wall clock)");
    let mut s = session(Mode::Wall, &["/bin/dd"]);
    let disk = s.add_disk("bench", 256 << 20, false, false).expect("disk");
    let dev = disk.device.display().to_string();
    let target = ProbeTarget::Disk("bench".into());
    let mut figures = serde_json::Map::new();
    println!("| op | bs | bytes | dd MiB/s | probe MiB/s | probe / dd |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (bs, count) in [(4096u32, 16384u64), (1 << 20, 256)] {
        let bytes = u64::from(bs) * count;
        for op in [ProbeOp::Write, ProbeOp::Read] {
            let w = Workload {
                key: "",
                op,
                bs,
                random: false,
            };
            let (mut dd_rates, mut probe_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..wall_runs() {
                let (bs_arg, count_arg, dev_arg) =
                    (format!("bs={bs}"), format!("count={count}"), dev.clone());
                let secs = match op {
                    ProbeOp::Write => dd(
                        &mut s,
                        &[
                            "if=/dev/zero",
                            &format!("of={dev_arg}"),
                            &bs_arg,
                            &count_arg,
                            "oflag=direct",
                        ],
                    ),
                    ProbeOp::Read => dd(
                        &mut s,
                        &[
                            &format!("if={dev_arg}"),
                            "of=/dev/null",
                            &bs_arg,
                            &count_arg,
                            "iflag=direct",
                        ],
                    ),
                };
                let d = bytes as f64 / (1u64 << 20) as f64 / secs;
                let r = probe_once(&mut s, &target, &w, count);
                dd_rates.push(d);
                probe_rates.push(r.mib_per_s);
                ratios.push(r.mib_per_s / d);
            }
            let key = format!(
                "{}-seq-{}",
                if bs >= 1 << 20 { "1MiB" } else { "4KiB" },
                if op == ProbeOp::Write {
                    "write"
                } else {
                    "read"
                }
            );
            let (d, p, q) = (
                Spread::of(&dd_rates),
                Spread::of(&probe_rates),
                Spread::of(&ratios),
            );
            println!(
                "| {key} | {bs} | {} MiB | {:.1} | {:.1} | {:.2}x ({:.2}-{:.2}) |",
                bytes >> 20,
                d.median,
                p.median,
                q.median,
                q.min,
                q.max
            );
            figures.insert(key, json!({"probe/dd": q.json(), "dd_mib_per_s": d.json(), "probe_mib_per_s": p.json()}));
        }
    }
    let _ = s.close();
    write_json("dd", json!({"modes": {"wall": figures}}));
}

// ---- probe vs fio -------------------------------------------------------------------

/// fio's figure for one job: MiB/s from the bytes it moved and its runtime.
fn fio(s: &mut Session, device: &str, w: &Workload, io_bytes: u64) -> f64 {
    let rw = match (w.op, w.random) {
        (ProbeOp::Write, false) => "write",
        (ProbeOp::Read, false) => "read",
        (ProbeOp::Write, true) => "randwrite",
        (ProbeOp::Read, true) => "randread",
    };
    let argv: Vec<String> = [
        "/bin/fio",
        "--name=bench",
        "--ioengine=psync",
        "--direct=1",
        "--thread",
        "--output-format=json",
        "--zero_buffers",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([
        format!("--filename={device}"),
        format!("--rw={rw}"),
        format!("--bs={}", w.bs),
        format!(
            "--size={}",
            pass_blocks(w, FIO_DEVICE_BYTES) * u64::from(w.bs)
        ),
        format!("--io_size={io_bytes}"),
    ])
    .collect();
    let out = match s.run_command(argv).expect("fio runs") {
        Response::CommandOutput {
            status,
            stdout,
            stderr,
            ..
        } => {
            assert_eq!(status, 0, "fio failed: {stderr}");
            stdout
        }
        other => panic!("unexpected {other:?}"),
    };
    let v: Value = serde_json::from_str(&out).expect("fio JSON");
    let side = if w.op == ProbeOp::Write {
        "write"
    } else {
        "read"
    };
    let job = &v["jobs"][0][side];
    let bytes = job["io_bytes"].as_u64().unwrap_or(0);
    // runtime is in ms; runs last long enough that this resolves to 0.1 %.
    let ms = job["runtime"].as_u64().unwrap_or(0);
    assert!(bytes > 0 && ms > 0, "fio moved nothing: {job}");
    bytes as f64 / (1u64 << 20) as f64 / (ms as f64 / 1e3)
}

/// The mode's sizing, noted in `sizes` for the JSON file.
fn sized(mode: Mode, sizes: &mut serde_json::Map<String, Value>) -> Sizing {
    let size = sizing(mode);
    sizes.insert(
        mode.name().into(),
        json!({"runs": size.runs, "guest_seconds": size.guest_seconds}),
    );
    size
}

const FIO_DEVICE_BYTES: u64 = 256 << 20;

fn probe_vs_fio() {
    println!("\n## Probe vs fio (psync, O_DIRECT, same VM and devices, interleaved)");
    let fio_path = which("fio").expect("fio on the host (apt-get install fio)");
    let fio_path = fio_path.display().to_string();
    let mut modes_json = serde_json::Map::new();
    let mut rates_json = serde_json::Map::new();
    let mut sizes = serde_json::Map::new();
    for mode in modes() {
        let size = sized(mode, &mut sizes);
        let mut s = session(mode, &[&fio_path]);
        let disk = s
            .add_disk("bench", FIO_DEVICE_BYTES, false, false)
            .expect("disk");
        let sectors = disk.sectors();
        let loop_dev = disk.device.display().to_string();
        s.create_device(
            "lin",
            &[TableLine {
                start: 0,
                length: sectors,
                target: "linear".into(),
                params: format!("{loop_dev} 0"),
            }],
        )
        .expect("linear");
        let lin_dev = s
            .device("lin")
            .map(|d| d.path().display().to_string())
            .expect("device path");
        let devices = [
            ("loop", ProbeTarget::Disk("bench".into()), loop_dev),
            ("linear", ProbeTarget::Device("lin".into()), lin_dev),
        ];
        // ratio[device][workload], rates[(tool, device)][workload]
        let mut ratio = vec![vec![Vec::new(); WORKLOADS.len()]; devices.len()];
        let mut probe_rates = ratio.clone();
        let mut fio_rates = ratio.clone();
        for w in &WORKLOADS {
            for (_, target, path) in &devices {
                // Warm-up: the first pass allocates the backing file's pages.
                let blocks = pass_blocks(w, FIO_DEVICE_BYTES);
                probe_once(&mut s, target, w, blocks);
                fio(&mut s, path, w, blocks * u64::from(w.bs));
            }
        }
        for _ in 0..size.runs {
            for (wi, w) in WORKLOADS.iter().enumerate() {
                for (di, (_, target, path)) in devices.iter().enumerate() {
                    let p = probe_rate(&mut s, target, w, FIO_DEVICE_BYTES, size.guest_seconds);
                    // fio moves as many bytes as the probe did in its guest
                    // time, so both run equally long.
                    let io = bytes_for(p, w, size.guest_seconds);
                    let f = fio(&mut s, path, w, io);
                    probe_rates[di][wi].push(p);
                    fio_rates[di][wi].push(f);
                    ratio[di][wi].push(p / f);
                }
            }
        }
        let _ = s.close();
        println!(
            "\n{} mode: probe / fio (median, min-max), MiB/s",
            mode.name()
        );
        println!("| device | {} |", WORKLOADS.map(|w| w.key).join(" | "));
        println!("| --- | --- | --- | --- | --- |");
        let mut per_device = serde_json::Map::new();
        let mut rates = serde_json::Map::new();
        for (di, (name, _, _)) in devices.iter().enumerate() {
            let cells: Vec<String> = (0..WORKLOADS.len())
                .map(|wi| {
                    let q = Spread::of(&ratio[di][wi]);
                    format!(
                        "{:.3} ({:.3}-{:.3}); {:.1} vs {:.1}",
                        q.median,
                        q.min,
                        q.max,
                        Spread::of(&probe_rates[di][wi]).median,
                        Spread::of(&fio_rates[di][wi]).median
                    )
                })
                .collect();
            println!("| {name} | {} |", cells.join(" | "));
            per_device.insert((*name).into(), by_workload(&spreads(&ratio[di])));
            for (tool, table) in [("probe", &probe_rates), ("fio", &fio_rates)] {
                rates.insert(format!("{tool}/{name}"), by_workload(&spreads(&table[di])));
            }
        }
        modes_json.insert(mode.name().into(), json!({"probe/fio": per_device}));
        rates_json.insert(mode.name().into(), Value::Object(rates));
    }
    write_json(
        "fio",
        json!({"sizing": sizes, "modes": modes_json, "mib_per_s": rates_json}),
    );
}

/// Bytes a run at `mib_s` moves in `guest_seconds`, whole blocks.
fn bytes_for(mib_s: f64, w: &Workload, guest_seconds: f64) -> u64 {
    let bytes = (mib_s * (1u64 << 20) as f64 * guest_seconds) as u64;
    (bytes / u64::from(w.bs)).max(1) * u64::from(w.bs)
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

// ---- basic_target vs dm-linear vs loop ------------------------------------------------

const TARGET_DEVICE_BYTES: u64 = 128 << 20;

/// rates[device][workload] = samples, one per run, for one module build.
type Rates = Vec<Vec<Vec<f64>>>;

/// One VM: the Rust build, then the C build of basic_target, each beside
/// dm-linear and the raw loop device, every run visiting each workload on
/// the three devices in turn.
fn targets_in(mode: Mode, hashes: &mut serde_json::Map<String, Value>) -> [Rates; 2] {
    let size = sizing(mode);
    let kdir = kernel().tree();
    let mut s = session(mode, &[]);
    let disk = s
        .add_disk("bench", TARGET_DEVICE_BYTES, false, false)
        .expect("disk");
    let sectors = disk.sectors();
    let line = |target: &str, params: String| {
        vec![TableLine {
            start: 0,
            length: sectors,
            target: target.into(),
            params,
        }]
    };
    s.create_device(
        "lin",
        &line("linear", format!("{} 0", disk.device.display())),
    )
    .expect("linear");
    let devices = [
        ProbeTarget::Device("bt".into()),
        ProbeTarget::Device("lin".into()),
        ProbeTarget::Disk("bench".into()),
    ];
    let mut out: [Rates; 2] = Default::default();
    for (i, (lang, dir)) in [("rust", "kmod/rust"), ("c", "kmod/c")].iter().enumerate() {
        let built =
            dmbench::kbuild::build(&repo().join(dir), &kdir, &mut |_| {}).expect("module builds");
        hashes.insert((*lang).into(), json!(hash_file(&built.path)));
        s.register_module(&built.name, ModuleBuild::of(&built, &repo().join(dir)));
        s.load_module("basic_target", "").expect("load");
        s.create_device(
            "bt",
            &line("basic_target", format!("{} 0", disk.device.display())),
        )
        .expect("bt");
        s.message("bt", Some(0), "log off").expect("log off");
        for w in &WORKLOADS {
            for d in &devices {
                probe_once(&mut s, d, w, pass_blocks(w, TARGET_DEVICE_BYTES));
            }
        }
        let mut samples = vec![vec![Vec::new(); WORKLOADS.len()]; devices.len()];
        for _ in 0..size.runs {
            for (wi, w) in WORKLOADS.iter().enumerate() {
                for (di, d) in devices.iter().enumerate() {
                    samples[di][wi].push(probe_rate(
                        &mut s,
                        d,
                        w,
                        TARGET_DEVICE_BYTES,
                        size.guest_seconds,
                    ));
                }
            }
        }
        out[i] = samples;
        s.remove_device("bt").expect("remove bt");
        s.unload_module("basic_target").expect("unload");
    }
    let _ = s.close();
    out
}

fn targets_compared() {
    println!(
        "\n## basic_target (log off) vs dm-linear vs the raw loop device \
         (O_DIRECT, devices interleaved)"
    );
    const DEVICES: [&str; 3] = ["basic_target", "linear", "loop"];
    let mut hashes = serde_json::Map::new();
    let mut modes_json = serde_json::Map::new();
    let mut rates_json = serde_json::Map::new();
    let mut sizes = serde_json::Map::new();
    for mode in modes() {
        let size = sized(mode, &mut sizes);
        let [rust, c] = targets_in(mode, &mut hashes);
        // Per run: basic_target / dm-linear in the same run; Rust / C as the
        // ratio of those two, so drift between the two halves cancels.
        let per_run = |a: &Rates, b: &Rates, wi: usize| -> Vec<f64> {
            a[0][wi].iter().zip(&b[1][wi]).map(|(x, y)| x / y).collect()
        };
        let mut ratios = serde_json::Map::new();
        let mut rows: Vec<(String, Vec<Spread>)> = Vec::new();
        for (name, rs) in [
            (
                "rust/linear",
                (0..4)
                    .map(|wi| per_run(&rust, &rust, wi))
                    .collect::<Vec<_>>(),
            ),
            ("c/linear", (0..4).map(|wi| per_run(&c, &c, wi)).collect()),
            (
                "rust/c",
                (0..4)
                    .map(|wi| {
                        per_run(&rust, &rust, wi)
                            .iter()
                            .zip(per_run(&c, &c, wi))
                            .map(|(r, c)| r / c)
                            .collect()
                    })
                    .collect(),
            ),
            (
                "linear/loop",
                (0..4)
                    .map(|wi| {
                        rust[1][wi]
                            .iter()
                            .zip(&rust[2][wi])
                            .map(|(l, d)| l / d)
                            .collect()
                    })
                    .collect(),
            ),
        ] {
            let spreads = spreads(&rs);
            if name != "linear/loop" {
                ratios.insert(name.into(), by_workload(&spreads));
            }
            rows.push((name.to_string(), spreads));
        }
        println!(
            "\n{} mode ({} runs of >= {} s guest time): ratios, median (min-max)",
            mode.name(),
            size.runs,
            size.guest_seconds
        );
        println!("| ratio | {} |", WORKLOADS.map(|w| w.key).join(" | "));
        println!("| --- | --- | --- | --- | --- |");
        for (name, spreads) in &rows {
            let cells: Vec<String> = spreads
                .iter()
                .map(|s| format!("{:.4} ({:.4}-{:.4})", s.median, s.min, s.max))
                .collect();
            println!("| {name} | {} |", cells.join(" | "));
        }
        println!("\n{} mode: MiB/s, median (run-to-run spread)", mode.name());
        println!("| device | {} |", WORKLOADS.map(|w| w.key).join(" | "));
        println!("| --- | --- | --- | --- | --- |");
        let mut rates = serde_json::Map::new();
        for (lang, table) in [("rust", &rust), ("c", &c)] {
            let mut per_device = serde_json::Map::new();
            for (di, dev) in DEVICES.iter().enumerate() {
                let spreads = spreads(&table[di]);
                let cells: Vec<String> = spreads
                    .iter()
                    .map(|s| format!("{:.1} ({:.2} %)", s.median, 100.0 * s.relative()))
                    .collect();
                println!("| {dev} ({lang} half) | {} |", cells.join(" | "));
                per_device.insert((*dev).into(), by_workload(&spreads));
            }
            rates.insert(lang.into(), Value::Object(per_device));
        }
        modes_json.insert(mode.name().into(), Value::Object(ratios));
        rates_json.insert(mode.name().into(), Value::Object(rates));
    }
    write_json(
        "targets",
        json!({
            "modules": hashes,
            "sizing": sizes,
            "modes": modes_json,
            "mib_per_s": rates_json,
        }),
    );
}

// ---- kernel build ----------------------------------------------------------------------

fn kernel_build() {
    println!("\n## Lab kernel cold build (recorded by `dmbench kernel build`)");
    let k = kernel();
    let vmlinux = std::fs::metadata(k.image()).map_or(0, |m| m.len());
    println!(
        "{} with fragment {} and rustc {}: {:.0} s ({:.1} min) on {} cores; vmlinux {:.1} MiB",
        k.version,
        k.fragment_hash,
        k.rustc_version,
        k.build_seconds,
        k.build_seconds / 60.0,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        vmlinux as f64 / (1u64 << 20) as f64
    );
    write_json(
        "kernel",
        json!({"modes": {"wall": {"build_s": k.build_seconds, "vmlinux_bytes": vmlinux}}}),
    );
}

fn main() {
    // `cargo bench` passes --bench; words after `--` pick sections
    // (boot, lab, dd, fio, targets, kernel, tui).
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let started = Instant::now();
    if want("boot") {
        boot_and_round_trip();
    }
    if want("lab") {
        seed_lab_wall();
    }
    if want("dd") {
        probe_vs_dd();
    }
    if want("fio") {
        probe_vs_fio();
    }
    if want("targets") {
        targets_compared();
    }
    if want("kernel") {
        kernel_build();
    }
    if want("tui") {
        tui_figures();
    }
    println!(
        "\n(bench run took {:.0} s)",
        started.elapsed().as_secs_f64()
    );
}

/// The TUI under a kernel-log flood, on a virtual 160x48 terminal: frame
/// time, and the time from a key press to the frame that shows it while
/// 20,000 records per second arrive (the run loop coalesces them per frame).
fn tui_figures() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use dmbench::exec::Event;
    use dmbench::exec::protocol::KmsgRecord;
    use dmbench::tui::{Update, keys, testing, ui};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    println!("\n## TUI (virtual 160x48 terminal, release build)");
    let frame = dmbench::tui::bench_render(200);
    println!(
        "frame render with 10,000 events kept: {:.3} ms mean over 200 frames",
        frame.as_secs_f64() * 1e3
    );
    let mut app = testing::flood_app(10_000);
    let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
    let per_frame = 20_000 * dmbench::tui::runloop_frame().as_millis() as usize / 1000;
    let mut seq = 10_000u64;
    let mut work = Vec::new();
    let started = Instant::now();
    for i in 0..300 {
        let key_at = Instant::now();
        // A key that changes what is drawn: cycle the events filter.
        keys::handle_key(
            &mut app,
            KeyEvent::new(
                KeyCode::Char(if i % 2 == 0 { '6' } else { 'f' }),
                KeyModifiers::NONE,
            ),
        );
        for _ in 0..per_frame {
            seq += 1;
            app.apply(Update::Event(Event::Kmsg(KmsgRecord {
                seq,
                level: 6,
                ts_us: seq * 50,
                text: format!(
                    "basic_target: write request: sector {} size 512",
                    seq % 4096
                ),
            })));
        }
        let _ = terminal.draw(|f| ui::draw(f, &app));
        work.push(key_at.elapsed().as_secs_f64() * 1e3);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut sorted = work.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let frame_ms = dmbench::tui::runloop_frame().as_secs_f64() * 1e3;
    let w = Spread::of(&work);
    println!(
        "20,000 records/s ({per_frame} per {frame_ms:.0} ms frame, {} records applied in {elapsed:.2} s of work):",
        per_frame * 300
    );
    println!(
        "  key + one frame of records + draw: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        w.median,
        sorted[sorted.len() * 99 / 100],
        w.max
    );
    println!(
        "  input-to-screen worst case = frame period + that work: {:.1} ms",
        frame_ms + w.max
    );
    println!(
        "  events kept after the flood: {} (bounded ring)",
        app.events.len()
    );
    write_json(
        "tui",
        json!({"modes": {"wall": {
            "frame_render_ms": frame.as_secs_f64() * 1e3,
            "key_to_frame_work_ms": w.json(),
            "input_to_screen_worst_ms": frame_ms + w.max,
            "events_kept": app.events.len(),
        }}}),
    );
}
