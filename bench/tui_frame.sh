#!/usr/bin/env bash
# The dashboard's cost per frame on a live run: `robofleet top RUN_DIR` in
# a detached 120x40 tmux for SECONDS at its default 200 ms refresh; its
# CPU time (/proc/<pid>/schedstat) over the last SECONDS - 5 s divided by
# the frames drawn in that time. This is CPU per frame, not the wall time
# a frame takes on screen.
#   bench/tui_frame.sh ROBOFLEET RUN_DIR [SECONDS]
set -euo pipefail
robofleet=$1 run_dir=$2 seconds=${3:-35}
session=robofleet-bench-$$
tmux new-session -d -s "$session" -x 120 -y 40 "$robofleet top $run_dir"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
sleep 5
a=$(awk '{print $1}' "/proc/$pid/schedstat"); t0=$(date +%s%3N)
sleep $(( seconds - 5 ))
b=$(awk '{print $1}' "/proc/$pid/schedstat"); t1=$(date +%s%3N)
awk -v a="$a" -v b="$b" -v w="$(( t1 - t0 ))" 'BEGIN {
  frames = w / 200
  printf "dashboard: %.1f ms CPU per frame (%d frames at 200 ms), %.1f%% of one core\n",
    (b - a) / 1e6 / frames, frames, 100 * (b - a) / 1e6 / w }'
