//! Figures, not pass/fail: `cargo bench --bench vm` (or
//! `scripts/dev.sh bench`). Everything is measured in the same run on the
//! same VM, with ratios against `dd` and dm-linear measured alongside.
//! Under TCG single runs are noisy, so each figure is a median of several.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use dmbench::exec::Executor;
use dmbench::exec::discard_events;
use dmbench::exec::protocol::{Pattern, ProbeOp, ProbeResult, Request, Response, TableLine};
use dmbench::session::{ModuleBuild, ProbeRequest, ProbeTarget, Session, SessionOptions};
use dmbench::vm::{VmConfig, VmExecutor};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn config() -> VmConfig {
    let kernel = dmbench::kernel::locate().expect("a lab kernel (scripts/dev.sh setup)");
    VmConfig::new(kernel, PathBuf::from(env!("CARGO_BIN_EXE_dmbench")))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn boot_and_round_trip() {
    println!("\n## Boot and round trip (accelerator chosen as dmbench does)");
    let mut handshake = Vec::new();
    let mut total = Vec::new();
    let mut accel = String::new();
    let mut image = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let mut vm = VmExecutor::boot(config(), discard_events()).expect("boot");
        total.push(started.elapsed().as_secs_f64());
        handshake.push(vm.timings.spawn_to_handshake.as_secs_f64());
        accel = vm.timings.accel.to_string();
        image = vm.timings.image_bytes;
        vm.shutdown().expect("poweroff");
    }
    println!("accelerator: {accel}, guest image {} KiB", image / 1024);
    println!(
        "cold boot to agent handshake: median {:.3} s (QEMU spawn -> handshake), {:.3} s including image lookup",
        median(handshake),
        median(total)
    );
    let mut vm = VmExecutor::boot(config(), discard_events()).expect("boot");
    let mut rtt = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        vm.call(Request::SystemInfo).expect("rtt");
        rtt.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut sorted = rtt.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    println!(
        "request round trip (500 x SystemInfo): median {:.3} ms, p99 {:.3} ms",
        median(rtt),
        sorted[sorted.len() * 99 / 100]
    );
    vm.shutdown().expect("poweroff");
}

fn seed_lab_wall() {
    println!("\n## Headless seed lab end to end, including boot and teardown");
    let mut walls = Vec::new();
    for _ in 0..5 {
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
    println!(
        "dmbench --headless assets/labs/00-seed-linear.toml --vm: median {:.2} s wall (5 runs)",
        median(walls)
    );
}

fn session(extra: Option<&Path>) -> Session {
    let mut config = config();
    config.memory_mib = 1536;
    // SAFETY: changed before this boot spawns any thread that reads the
    // environment; the bench runs its sections one after another. Cleared
    // when not asked for, so later sections boot the plain guest image.
    unsafe {
        match extra {
            Some(dd) => std::env::set_var("DMBENCH_IMAGE_EXTRA", dd),
            None => std::env::remove_var("DMBENCH_IMAGE_EXTRA"),
        }
    }
    let mut s = Session::open(
        |sink| Ok(Box::new(VmExecutor::boot(config, sink)?)),
        discard_events(),
        SessionOptions {
            work_dir: "/run/dmbench".into(),
            ledger_dir: None,
        },
    )
    .expect("session");
    // Rates are compared with dd's: no tracepoints on during the probes.
    s.set_journeys(false);
    s
}

fn probe(
    s: &mut Session,
    target: ProbeTarget,
    op: ProbeOp,
    bs: u32,
    count: u64,
    random: bool,
    pattern: Pattern,
) -> ProbeResult {
    let r = s
        .probe(&ProbeRequest {
            target,
            op,
            bs,
            count,
            offset_blocks: 0,
            // Reads are timed like dd's: without verifying.
            pattern: (op == ProbeOp::Write).then_some(pattern),
            direct: true,
            random_order: random,
            stamp_shift: 0,
        })
        .expect("probe")
        .result;
    assert!(r.io_error.is_none() && r.mismatch.is_none(), "{r:?}");
    r
}

/// GNU dd in the guest, timed by the agent around the process.
fn dd(s: &mut Session, args: &[&str]) -> f64 {
    let argv: Vec<String> = std::iter::once("/bin/dd".to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    // The session has no RunCommand verb: benchmarks alone use it, through
    // the executor's request.
    let response = s.run_command(argv).expect("dd runs");
    match response {
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
    println!("\n## Probe throughput vs GNU dd (same VM, same loop device, O_DIRECT, median of 5)");
    let mut s = session(Some(Path::new("/bin/dd")));
    let disk = s.add_disk("bench", 256 << 20, false, false).expect("disk");
    let dev = disk.device.display().to_string();
    println!("| op | bs | bytes | dd MiB/s | probe (zero) MiB/s | ratio | probe (stamp) MiB/s |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (bs, count) in [(4096u32, 16384u64), (1 << 20, 256)] {
        let bytes = bs as u64 * count;
        for op in [ProbeOp::Write, ProbeOp::Read] {
            let mut dd_rates = Vec::new();
            let mut zero_rates = Vec::new();
            let mut stamp_rates = Vec::new();
            for _ in 0..5 {
                let bs_arg = format!("bs={bs}");
                let count_arg = format!("count={count}");
                let secs = match op {
                    ProbeOp::Write => dd(
                        &mut s,
                        &[
                            "if=/dev/zero",
                            &format!("of={dev}"),
                            &bs_arg,
                            &count_arg,
                            "oflag=direct",
                        ],
                    ),
                    ProbeOp::Read => dd(
                        &mut s,
                        &[
                            &format!("if={dev}"),
                            "of=/dev/null",
                            &bs_arg,
                            &count_arg,
                            "iflag=direct",
                        ],
                    ),
                };
                dd_rates.push(bytes as f64 / (1 << 20) as f64 / secs);
                let target = ProbeTarget::Disk("bench".into());
                zero_rates.push(
                    probe(&mut s, target.clone(), op, bs, count, false, Pattern::Zero).mib_per_s,
                );
                if op == ProbeOp::Write {
                    stamp_rates.push(
                        probe(&mut s, target, op, bs, count, false, Pattern::Stamp).mib_per_s,
                    );
                }
            }
            let (d, z) = (median(dd_rates), median(zero_rates));
            let st = if stamp_rates.is_empty() {
                "-".to_string()
            } else {
                format!("{:.1}", median(stamp_rates))
            };
            println!(
                "| {} | {} | {} MiB | {d:.1} | {z:.1} | {:.2}x | {st} |",
                if op == ProbeOp::Write {
                    "write"
                } else {
                    "read"
                },
                if bs >= 1 << 20 {
                    "1 MiB".to_string()
                } else {
                    "4 KiB".to_string()
                },
                bytes >> 20,
                z / d
            );
        }
    }
    let _ = s.close();
}

fn targets_compared() {
    println!(
        "\n## basic_target (logging off) vs dm-linear vs the raw loop device \
         (one VM, O_DIRECT, devices interleaved, median of 9)"
    );
    let kdir = dmbench::kernel::find_cached().expect("kernel").tree();
    let mut s = session(None);
    let disk = s.add_disk("bench", 128 << 20, false, false).expect("disk");
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
    let workloads = [
        ("1 MiB seq write", ProbeOp::Write, 1u32 << 20, 128u64, false),
        ("1 MiB seq read", ProbeOp::Read, 1 << 20, 128, false),
        ("4 KiB rand write", ProbeOp::Write, 4096, 8192, true),
        ("4 KiB rand read", ProbeOp::Read, 4096, 8192, true),
    ];
    let devices = [
        ("basic_target", ProbeTarget::Device("bt".into())),
        ("dm-linear", ProbeTarget::Device("lin".into())),
        ("raw loop", ProbeTarget::Disk("bench".into())),
    ];
    // rates[impl][device][workload] = samples
    let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
    for (impl_name, dir) in [("Rust", "kmod/rust"), ("C", "kmod/c")] {
        let built =
            dmbench::kbuild::build(&repo().join(dir), &kdir, &mut |_| {}).expect("module builds");
        let source = repo().join(dir);
        s.register_module(&built.name, ModuleBuild::of(&built, &source));
        s.load_module("basic_target", "").expect("load");
        s.create_device(
            "bt",
            &line("basic_target", format!("{} 0", disk.device.display())),
        )
        .expect("bt");
        s.message("bt", Some(0), "log off").expect("log off");
        let mut samples = vec![vec![Vec::new(); workloads.len()]; devices.len()];
        for _ in 0..9 {
            for (w, (_, op, bs, count, random)) in workloads.iter().enumerate() {
                for (d, (_, target)) in devices.iter().enumerate() {
                    let rate = probe(
                        &mut s,
                        target.clone(),
                        *op,
                        *bs,
                        *count,
                        *random,
                        Pattern::Zero,
                    )
                    .mib_per_s;
                    samples[d][w].push(rate);
                }
            }
        }
        for (d, (name, _)) in devices.iter().enumerate() {
            let label = if d == 0 {
                format!("basic_target ({impl_name})")
            } else {
                format!("{name} (beside {impl_name})")
            };
            rows.push((label, samples[d].iter().cloned().map(median).collect()));
        }
        s.remove_device("bt").expect("remove bt");
        s.unload_module("basic_target").expect("unload");
    }
    let _ = s.close();
    println!(
        "| device | {} |",
        workloads
            .iter()
            .map(|w| w.0)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("| --- | --- | --- | --- | --- |");
    for (name, r) in &rows {
        let cells: Vec<String> = r.iter().map(|x| format!("{x:.1}")).collect();
        println!("| {name} | {} | (MiB/s)", cells.join(" | "));
    }
    let ratio = |a: &Vec<f64>, b: &Vec<f64>| -> String {
        a.iter()
            .zip(b)
            .map(|(x, y)| format!("{:.3}", x / y))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!(
        "basic_target(Rust) / dm-linear: {}",
        ratio(&rows[0].1, &rows[1].1)
    );
    println!(
        "basic_target(C) / dm-linear:    {}",
        ratio(&rows[3].1, &rows[4].1)
    );
    println!(
        "basic_target Rust / C:          {}",
        ratio(&rows[0].1, &rows[3].1)
    );
}

fn kernel_build() {
    println!("\n## Lab kernel cold build (recorded by `dmbench kernel build`)");
    match dmbench::kernel::find_cached() {
        Some(k) => println!(
            "{} with fragment {} and rustc {}: {:.0} s ({:.1} min) on {} cores",
            k.version,
            k.fragment_hash,
            k.rustc_version,
            k.build_seconds,
            k.build_seconds / 60.0,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        None => println!("no cached kernel"),
    }
}

fn main() {
    // `cargo bench` passes --bench; words after `--` pick sections
    // (boot, lab, dd, targets, kernel, tui).
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
    println!(
        "20,000 records/s ({per_frame} per {frame_ms:.0} ms frame, {} records applied in {elapsed:.2} s of work):",
        per_frame * 300
    );
    println!(
        "  key + one frame of records + draw: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        median(work),
        sorted[sorted.len() * 99 / 100],
        sorted[sorted.len() - 1]
    );
    println!(
        "  input-to-screen worst case = frame period + that work: {:.1} ms",
        frame_ms + sorted[sorted.len() - 1]
    );
    println!(
        "  events kept after the flood: {} (bounded ring)",
        app_kept(&app)
    );
}

fn app_kept(app: &dmbench::tui::App) -> usize {
    app.events.len()
}
