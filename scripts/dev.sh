#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for dmbench and run it or its tests.
#
#   scripts/dev.sh run    install what is missing, then the TUI on the sandbox VM
#                         with the seed lab loaded
#   scripts/dev.sh test   install what is missing, then fmt, clippy and every
#                         test (the VM end-to-end tests included)
#   scripts/dev.sh setup  only install and build (the lab kernel is cached in
#                         ~/.cache/dmbench, so only the first run builds it)
#   scripts/dev.sh bench  the figures of docs/performance.md (run on a quiet
#                         machine; `scripts/dev.sh bench fio targets` picks
#                         sections; each writes target/bench/<section>.json;
#                         `scripts/dev.sh bench grade` grades a class of 30)
#
# One build serves the binary, the tests and the benchmarks: one cargo
# profile (release), one feature set; in `test` clippy's lints run inside
# that build (below), so nothing is compiled twice. The lab kernel builds
# once dmbench and its tests are built (it is cached, so only the first run
# builds it); the VM tests wait for it.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # sandbox VM
  qemu-system-x86
  # devicemapper-sys / loopdev-3 bindings
  libdevmapper-dev pkg-config libclang-19-dev libclang-dev
  # lab kernel and module builds (Debian's rustc-web and its rust-src are one
  # matched pair from the release's own archive)
  make gcc libc6-dev flex bison bc perl libelf-dev libssl-dev xz-utils
  rustc-web rust-web-src
  bubblewrap libxml2-utils  # the module build box; JUnit reports checked against their schema
  # end-to-end TUI test
  tmux
)
# Only the benchmarks' guest image carries fio.
BENCH_PACKAGES=(fio)

export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
KERNEL_LOG="$TARGET_DIR/lab-kernel-build.log"
KERNEL_PID=""

# In `test`, clippy lints the build itself: clippy-driver compiles
# dmbench's own crates (library, binary, tests, benchmarks, examples) with
# its lints on, and cargo builds the dependencies as usual. A separate
# `cargo clippy` would check all ~240 dependencies a second time (65
# CPU-seconds, 33 s here). Only `test` does this: clippy-driver turns off
# rustc's MIR optimisations, so the binary `run`, `setup` and `bench` build
# (the shipped one, whose figures docs/performance.md gives) goes through
# plain rustc. Switching between `test` and the others therefore rebuilds
# dmbench's own crates, not the dependencies.
lint_inside_the_build() {
  local driver
  if ! driver=$(command -v clippy-driver); then
    echo "clippy is not installed: rustup component add clippy" >&2
    exit 1
  fi
  export RUSTC_WORKSPACE_WRAPPER="$driver"
  unset CLIPPY_ARGS
}

# Each step with the seconds since the start, so a slow setup shows where.
log() { printf '\033[1m==> [%4d s] %s\033[0m\n' "$SECONDS" "$*" >&2; }

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# The kernel's Rust support needs bindgen-cli >= 0.71.1; only the lab kernel
# build uses it, so it compiles in the background beside dmbench. Built at
# opt-level 0 it compiles in 34 CPU-seconds instead of 135; its three runs
# in the kernel build then take 28 s in all, once.
BINDGEN_PID=""
start_bindgen_install() {
  local v
  v=$(bindgen --version 2>/dev/null | awk '{print $2}') || true
  if [ -z "$v" ] || [ "$(printf '%s\n0.71.1\n' "$v" | sort -V | head -1)" != "0.71.1" ]; then
    log "installing bindgen-cli (in the background)"
    # Not through clippy (in `test`): only dmbench's own crates are linted.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 setsid env -u RUSTC_WORKSPACE_WRAPPER \
      cargo install --locked --quiet bindgen-cli &
    BINDGEN_PID=$!
  fi
}

wait_bindgen_install() {
  [ -n "$BINDGEN_PID" ] || return 0
  if ! wait "$BINDGEN_PID"; then
    BINDGEN_PID=""
    log "cargo install bindgen-cli failed"
    exit 1
  fi
  BINDGEN_PID=""
}

# Starts `dmbench kernel build` in the background (a no-op when the kernel
# for this fragment is cached). It runs a copy of the binary, so cargo may
# relink target/release/dmbench meanwhile.
start_kernel_build() {
  mkdir -p "$TARGET_DIR"
  cp "$TARGET_DIR/release/dmbench" "$TARGET_DIR/dmbench-kernel-build"
  log "lab kernel: building (cached under ~/.cache/dmbench/kernel; log in $KERNEL_LOG)"
  setsid "$TARGET_DIR/dmbench-kernel-build" kernel build >"$KERNEL_LOG" 2>&1 &
  KERNEL_PID=$!
}

wait_kernel_build() {
  [ -n "$KERNEL_PID" ] || return 0
  log "waiting for the lab kernel"
  if ! wait "$KERNEL_PID"; then
    KERNEL_PID=""
    tail -n 30 "$KERNEL_LOG" >&2
    log "the lab kernel build failed (full log: $KERNEL_LOG)"
    exit 1
  fi
  KERNEL_PID=""
  log "lab kernel ready: $(tail -n 1 "$KERNEL_LOG")"
}

# A failed step must not leave background builds running behind us: each
# runs in its own process group (setsid), which is stopped as a whole.
stop_background() {
  local pid
  for pid in "$KERNEL_PID" "$BINDGEN_PID"; do
    if [ -n "$pid" ]; then
      kill -- "-$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap stop_background EXIT

# Runs a cargo build and fails if it reported a warning in dmbench's own
# crates (rustc's or clippy's lints: `-D warnings` in effect). It reads
# cargo's own summary line rather than passing `-D warnings` through
# CLIPPY_ARGS, whose format is private to cargo-clippy and clippy-driver.
# With its output piped, cargo shows no progress bar.
check_no_warnings() {
  local log="$TARGET_DIR/build-output.log" color=()
  mkdir -p "$TARGET_DIR"
  [ -t 2 ] && color=(--color=always)
  "$@" "${color[@]}" 2>&1 | tee "$log" >&2
  # cargo's summary line for any of the package's targets, e.g.
  # warning: `dmbench` (lib test) generated 2 warnings
  if sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -q '^warning: `dmbench` .*generated [0-9]* warning'; then
    log "the build has warnings (above); they count as errors here"
    exit 1
  fi
}

# `setup` builds the release binary; `setup tests` builds every target
# (tests, benchmarks, examples) in the same cargo run, linted: the dmbench
# crate alone keeps one core busy for most of a cold build, and the tests
# (same profile, same artifacts) fill the other. The caller then starts the
# lab kernel build.
#
# Every cold step keeps both cores busy on its own, so steps run one after
# another: two at once only share the cores, and each slows the other (the
# kernel beside the test build went from 287 s to 422 s). Building (and
# linting) before the kernel also fails fast, before five minutes of
# kernel build.
setup() {
  install_packages "${APT_PACKAGES[@]}"
  start_bindgen_install
  if [ "${1:-}" = tests ]; then
    log "building dmbench and its tests, clippy's lints on"
    check_no_warnings cargo test --release --locked --no-run --all-targets
  else
    log "building dmbench"
    cargo build --release --locked
  fi
  wait_bindgen_install
}

case "${1:-}" in
  setup)
    setup
    start_kernel_build
    wait_kernel_build
    ;;
  run)
    setup
    start_kernel_build
    wait_kernel_build
    exec target/release/dmbench --vm assets/labs/00-seed-linear.toml
    ;;
  test)
    log "cargo fmt --check"
    cargo fmt --all -- --check
    lint_inside_the_build
    setup tests
    start_kernel_build
    wait_kernel_build
    log "cargo test (the VM end-to-end tests boot the lab kernel)"
    # Without this a missing kernel would skip the VM tests; here it fails them.
    export DMBENCH_REQUIRE_VM=1
    # One integration test binary (tests/it). Four tests at a time keep
    # both cores busy: a test waits for its VM's guest, for make or for a
    # sleeping step often enough that two leave a core idle (157 s against
    # 121 s here, cold).
    cargo test --release --locked -- --test-threads=4
    log "all tests passed"
    ;;
  bench)
    install_packages "${BENCH_PACKAGES[@]}"
    setup
    start_kernel_build
    wait_kernel_build
    shift
    if [ "${1:-}" = grade ]; then
      if [ "$#" -gt 1 ]; then
        echo "scripts/dev.sh bench grade takes no more arguments (set GRADE_BENCH_SUBMISSIONS, GRADE_BENCH_JOBS)" >&2
        exit 2
      fi
      # A class graded at --jobs 1 and 2 (GRADE_BENCH_SUBMISSIONS, GRADE_BENCH_JOBS).
      cargo bench --locked --bench grade
    else
      cargo bench --locked --bench vm -- "$@"
    fi
    ;;
  *)
    echo "usage: scripts/dev.sh run|test|setup|bench" >&2
    exit 2
    ;;
esac
