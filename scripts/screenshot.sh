#!/usr/bin/env bash
# Makes docs/screenshot.svg from a real session: the TUI on the sandbox VM
# runs the basic_target lab step by step, then a few extra writes feed the
# Events pane, and the screen is captured with its colours.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DMBENCH_BIN:-target/release/dmbench}
sock=dmbench-shot-$$
trap 'tmux -L $sock kill-server 2>/dev/null || true' EXIT
tmux -L "$sock" new-session -d -s shot -x 160 -y 48 "$bin --vm assets/labs/01-basic-target.toml"
until tmux -L "$sock" capture-pane -p -t shot | grep -q 'ready on the vm executor'; do sleep 0.5; done
# Steps 1-7: build, load, disk, create, write, read, status.
for _ in 1 2 3 4 5 6 7; do tmux -L "$sock" send-keys -t shot n; sleep 2; done
# A stamped 64 KiB write at seek 100 (bs 4096, count 16) from the probe form.
tmux -L "$sock" send-keys -t shot w; sleep 0.4
tmux -L "$sock" send-keys -t shot Enter; sleep 0.2
tmux -L "$sock" send-keys -t shot -l 4096; tmux -L "$sock" send-keys -t shot Enter; sleep 0.2
tmux -L "$sock" send-keys -t shot -l 16; tmux -L "$sock" send-keys -t shot Enter; sleep 0.2
tmux -L "$sock" send-keys -t shot -l 100; tmux -L "$sock" send-keys -t shot Enter Enter Enter; sleep 2
tmux -L "$sock" send-keys -t shot 4; sleep 0.5
tmux -L "$sock" capture-pane -e -p -t shot | python3 scripts/ansi2svg.py > docs/screenshot.svg
tmux -L "$sock" send-keys -t shot q
sleep 5
echo "wrote docs/screenshot.svg"
