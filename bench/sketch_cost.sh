#!/usr/bin/env bash
# What a sketch device costs next to robofleet's robot: N of each at 1 Hz
# under `robofleet run`, alternately, REPEAT times; per-device PSS (the
# kernel's smaps_rollup) and device CPU per reading (schedstat over a steady
# window, divided by the readings the record received in that window:
# robot readings rows, the sketch's JSON messages), medians and the ratio
# sketch / robot measured in the same session.
#
#   bench/sketch_cost.sh [-n N] [-r REPEAT] [-H HOLD_S] [-b BUILD] [-o OUT]
#
# Example (the figures in docs/performance.md):
#   bench/sketch_cost.sh -n 1000 -r 2 -H 60
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000 repeat=2 hold=60 build=build out=""
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -H) hold=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    *) echo "usage: bench/sketch_cost.sh [-n N] [-r REPEAT] [-H HOLD_S] [-b BUILD] [-o OUT]" >&2; exit 2 ;;
  esac
done
[ "$hold" -ge 30 ] || { echo "sketch_cost.sh: HOLD_S must be at least 30" >&2; exit 2; }
out=${out:-runs/sketch-cost-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
robofleet=$PWD/$build/sim/robofleet
[ -x "$robofleet" ] || { echo "sketch_cost.sh: build first (cmake --build $build)" >&2; exit 2; }
# Built once, outside the measurement.
case $out in /*) ;; *) out=$PWD/$out ;; esac
export ROBOFLEET_CACHE_DIR=$out/cache
"$robofleet" build bench/sketches/bench_node >/dev/null
results=$out/results.tsv

one() { # one KIND
  local kind=$1 work=$out/$1-$(date -u +%H%M%S) group
  mkdir -p "$work"
  if [ "$kind" = sketch ]; then
    group="{name: bench, count: $n, id: \"dev_{:05}\", sketch: $PWD/bench/sketches/bench_node}"
  else
    group="{name: bench, count: $n, id: \"dev_{:05}\", interval: 1s, keepalive: 60s}"
  fi
  cat > "$work/scenario.yaml" <<YAML
name: cost-$kind
seed: 7
fleet:
  connect_rate: 1000/s
  groups:
    - $group
steps:
  - wait: ${hold}s
YAML
  timeout -k 10 $(( hold + 600 )) "$robofleet" run "$work/scenario.yaml" --runs-dir "$work/runs" --quiet \
    > "$work/robofleet.out" 2>&1 &
  local outer=$! rf_pid="" run_dir=""
  for _ in $(seq 1 600); do
    rf_pid=$(pgrep -P "$outer" -x robofleet || true)
    [ -n "$rf_pid" ] || { [ "$(cat /proc/$outer/comm 2>/dev/null)" = robofleet ] && rf_pid=$outer; }
    run_dir=$(ls -d "$work"/runs/*/ 2>/dev/null | head -n 1 || true)
    [ -n "$rf_pid" ] && [ -n "$run_dir" ] && break
    sleep 0.1
  done
  # Every device started (and the broker): then 10 s to settle.
  for _ in $(seq 1 1200); do
    [ "$(ps -o pid= --ppid "$rf_pid" | wc -l)" -gt "$n" ] && break
    sleep 0.1
  done
  sleep 10
  cpu_of_devices() {
    ps -o pid=,comm=,args= --ppid "$rf_pid" | awk '$2 != "mosquitto" && !/--fork-server/ && $1 {print "/proc/" $1 "/schedstat"}' |
      xargs -r awk '{t += $1} END {printf "%.0f\n", t}' 2>/dev/null
  }
  local c0 c1 t0 t1
  c0=$(cpu_of_devices); t0=$(date +%s%3N)
  sleep $(( hold - 25 ))
  c1=$(cpu_of_devices); t1=$(date +%s%3N)
  ps -o pid=,comm=,args= --ppid "$rf_pid" | awk '$2 != "mosquitto" {print "/proc/" $1 "/smaps_rollup"}' |
    xargs -r awk '/^Pss:/ {print $2}' 2>/dev/null | sort -n > "$work/pss_kb.txt"
  wait "$outer" || true
  local db=${run_dir%/}/record.db readings pss
  if [ "$kind" = sketch ]; then
    # A JSON message without boot and seq is a row per metric; part 0 is the message.
    readings=$(sqlite3 "$db" "SELECT count(*) FROM metric_messages WHERE part = 0 AND recv_ms BETWEEN $t0 AND $t1")
  else
    readings=$(sqlite3 "$db" "SELECT count(*) FROM readings WHERE recv_ms BETWEEN $t0 AND $t1")
  fi
  pss=$(awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}' "$work/pss_kb.txt")
  awk -v k="$kind" -v n="$n" -v c="$(( c1 - c0 ))" -v w="$(( t1 - t0 ))" -v r="$readings" -v p="$pss" 'BEGIN {
    printf "%s\t%d\t%d\t%.4f\t%.1f\t%d\n", k, n, r, c / 1e9 / (w / 1000), (r ? c / 1e3 / r : 0), p }' >> "$results"
  tail -n 1 "$results"
}

for _ in $(seq 1 "$repeat"); do
  one robot
  one sketch
done
# kind N readings_in_window device_cores us_cpu_per_reading pss_median_kb
awk -F'\t' '
function med(k, c,   a, m, i, j, t) { m = 0; for (i = 1; i <= cnt[k]; i++) a[++m] = v[k, i, c]
  for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
{ cnt[$1]++; for (c = 1; c <= NF; c++) v[$1, cnt[$1], c] = $c }
END {
  for (k in cnt) printf "%-6s N=%s runs=%d device_cores=%.3f cpu_per_reading_us=%.1f pss_median_kb=%d\n",
    k, v[k, 1, 2], cnt[k], med(k, 4), med(k, 5), med(k, 6)
  if (("robot" in cnt) && ("sketch" in cnt))
    printf "ratio sketch/robot: CPU per reading %.2fx, PSS %.2fx\n", med("sketch", 5) / med("robot", 5),
      med("sketch", 6) / med("robot", 6)
}' "$results" | tee "$out/summary.txt"
