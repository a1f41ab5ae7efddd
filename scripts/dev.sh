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
#                         machine; `scripts/dev.sh bench dd tui` picks sections)
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

export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
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

install_bindgen() {
  # The kernel's Rust support needs bindgen-cli >= 0.71.1.
  local v
  v=$(bindgen --version 2>/dev/null | awk '{print $2}') || true
  if [ -z "$v" ] || [ "$(printf '%s\n0.71.1\n' "$v" | sort -V | head -1)" != "0.71.1" ]; then
    log "installing bindgen-cli"
    cargo install --locked bindgen-cli
  fi
}

setup() {
  install_packages
  install_bindgen
  log "building dmbench"
  cargo build --release --locked
  log "lab kernel (cached under ~/.cache/dmbench/kernel)"
  target/release/dmbench kernel build >/dev/null
}

case "${1:-}" in
  setup)
    setup
    ;;
  run)
    setup
    exec target/release/dmbench --vm assets/labs/00-seed-linear.toml
    ;;
  test)
    setup
    log "cargo fmt --check"
    cargo fmt --all -- --check
    log "cargo clippy"
    cargo clippy --release --locked --all-targets -- -D warnings
    log "cargo test (the VM end-to-end tests boot the lab kernel)"
    # Without this a missing kernel would skip the VM tests; here it fails them.
    export DMBENCH_REQUIRE_VM=1
    cargo test --release --locked -- --test-threads=2
    ;;
  bench)
    setup
    shift
    cargo bench --locked --bench vm -- "$@"
    ;;
  *)
    echo "usage: scripts/dev.sh run|test|setup|bench" >&2
    exit 2
    ;;
esac
