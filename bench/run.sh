#!/usr/bin/env bash
# The scale benchmark: fleets of each size at 1 Hz, the real firmware and
# the baseline publisher alternately, REPEAT times, then medians and
# ratios (bench/summarize.sh). Also the recorder's burst ingest and the
# hourly-rollup query. Figures land in OUT (default runs/bench-<utc>, ignored by git).
#
#   bench/run.sh [-n "100 1000"] [-r REPEAT] [-H HOLD_S] [-c RATE] [-o OUT] [-b BUILD]
#                [--no-burst] [--only robofleet|baseline]
#
# Example (the figures in docs/performance.md):
#   bench/run.sh -n "100 1000" -r 3 -H 60 -c 1000
#   bench/run.sh -n 10000 -r 1 -H 300 -c 1000 --no-burst
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="100 1000" repeat=3 hold=60 rate=1000 out="" build=build-bench burst=1 only=""
while [ $# -gt 0 ]; do
  case $1 in
    -n) sizes=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -H) hold=$2; shift 2 ;;
    -c) rate=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    --no-burst) burst=0; shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [-n SIZES] [-r REPEAT] [-H HOLD_S] [-c RATE] [-o OUT] [-b BUILD] [--no-burst] [--only KIND]" >&2; exit 2 ;;
  esac
done
out=${out:-runs/bench-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
[ -d "$build" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target robofleet robofleet-device bench >/dev/null

{
  echo "date_utc $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "kernel $(uname -r)"
  echo "nproc $(nproc)"
  echo "cpu $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "mem_total_kb $(awk '/MemTotal/ {print $2}' /proc/meminfo)"
  echo "mosquitto $(mosquitto -h 2>&1 | awk '/version/ {print $3; exit}')"
  echo "sqlite $(sqlite3 --version | cut -d' ' -f1)"
  echo "pid_max $(cat /proc/sys/kernel/pid_max)"
  echo "ports $(cat /proc/sys/net/ipv4/ip_local_port_range | tr '\t' '-')"
  echo "nofile $(ulimit -Sn)/$(ulimit -Hn) nproc $(ulimit -u)"
  echo "git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/machine.txt"
cat "$out/machine.txt"

results=$out/results.tsv
for n in $sizes; do
  for i in $(seq 1 "$repeat"); do
    for kind in baseline robofleet; do
      [ -z "$only" ] || [ "$only" = "$kind" ] || continue
      bench/fleet.sh "$kind" "$n" "$hold" "$rate" "$out" "$results" "$build"
    done
  done
done
bench/summarize.sh "$results" | tee "$out/summary.txt"

if [ "$burst" = 1 ]; then
  bench/burst.sh "$out" "$build" | tee -a "$out/summary.txt"
fi
