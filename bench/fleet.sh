#!/usr/bin/env bash
# One measured fleet run: N robots at 1 Hz under `robofleet run`, either the
# real firmware (robofleet-device) or the baseline publisher started the
# same way (--device baseline_publisher). Appends one line to RESULTS (TSV,
# header in bench/README.md) and keeps the run directory under OUT.
#
#   bench/fleet.sh KIND N HOLD_S RATE OUT RESULTS [BUILD]
#     KIND     robofleet | baseline
#     N        devices
#     HOLD_S   seconds of steady state after the fleet is started
#     RATE     connect_rate, processes started per second
#
# Everything is bounded: the run has a duration cap and a `timeout`, the
# watcher a time limit. Public tools only: /usr/bin/time -v, /proc, sqlite3.
set -euo pipefail
kind=$1 n=$2 hold=$3 rate=$4 out=$5 results=$6
build=${7:-build-bench}
cd "$(dirname "$0")/.."
robofleet=$build/sim/robofleet
case $kind in
  robofleet) device=$build/hw-shim/robofleet-device ;;
  baseline) device=$build/bench/baseline_publisher ;;
  *) echo "fleet.sh: KIND is robofleet or baseline" >&2; exit 2 ;;
esac
[ -x "$robofleet" ] && [ -x "$device" ] && [ -x "$build/bench/db_watch" ] ||
  { echo "fleet.sh: build first: cmake --build $build --target robofleet bench" >&2; exit 2; }

# The firmware as robofleet starts it by itself (its own robofleet-device,
# through the fork server); the baseline as a --device program.
device_opt=()
[ "$kind" = baseline ] && device_opt=(--device "$device")

tag=$kind-$n-$(date -u +%H%M%S)
work=$out/$tag
mkdir -p "$work"
ramp_s=$(( (n + rate - 1) / rate ))
# The timeline starts once every process is started: hold, then the
# loss check. Online time, CPU and memory are measured from outside.
cat > "$work/scenario.yaml" <<EOF
name: bench-$kind-$n
seed: 7
duration: $(( hold + 120 ))s
fleet:
  broker: embedded
  connect_rate: $rate/s
  groups:
    - {name: bench, count: $n, id: "robot_{:05}", interval: 1s, keepalive: 60s,
       environment: {temperature: 22.5, humidity: 40, distance: 120}}
steps:
  - wait: ${hold}s
  - expect: {name: nothing lost, lost: 0, duplicated: 0}
EOF

mem_before=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
t_cmd=$(date +%s%3N)
timeout -k 10 $(( ramp_s + hold + 600 )) /usr/bin/time -v -o "$work/time.txt" \
  "$robofleet" run "$work/scenario.yaml" --runs-dir "$work/runs" "${device_opt[@]}" --quiet \
  > "$work/robofleet.out" 2>&1 &
outer=$!

# The run directory and robofleet's pid.
run_dir=""
for _ in $(seq 1 300); do
  run_dir=$(ls -d "$work"/runs/*/ 2>/dev/null | head -n 1 || true)
  [ -n "$run_dir" ] && break
  sleep 0.1
done
[ -n "$run_dir" ] || { echo "fleet.sh: no run directory" >&2; wait $outer || true; exit 1; }
run_dir=${run_dir%/}
time_pid=$(pgrep -P "$outer" -x time || echo "$outer")
rf_pid=$(pgrep -P "$time_pid" -x robofleet)
"$build/bench/db_watch" "$run_dir/record.db" $(( ramp_s + hold + 300 )) 50 > "$work/commits.txt" &
watch=$!

# CPU time in ns (schedstat's run time, exact, where /proc/<pid>/stat
# counts whole clock ticks): per device, the broker, robofleet's main
# thread (orchestrator) and its other threads (recorder network + writer,
# command client). Devices and mosquitto are single-threaded.
snapshot() { # snapshot FILE
  local f=$1 kids
  kids=$(ps -o pid=,comm=,args= --ppid "$rf_pid" || true)
  {
    echo "$kids" | awk '$2 != "mosquitto" && $1 {print "/proc/" $1 "/schedstat"}' |
      xargs -r awk '{t += $1; n++} END {printf "devices %.0f %d\n", t, n}' 2>/dev/null
    echo "$kids" | awk '$2 == "mosquitto" {print "/proc/" $1 "/schedstat"}' |
      xargs -r awk '{printf "broker %.0f 1\n", $1}' 2>/dev/null
    awk '{printf "orchestrator %.0f 1\n", $1}' "/proc/$rf_pid/task/$rf_pid/schedstat"
    for t in /proc/$rf_pid/task/*; do [ "${t##*/}" = "$rf_pid" ] || echo "$t/schedstat"; done |
      xargs -r awk '{t += $1} END {printf "recorder %.0f 1\n", t}'
    awk '/^cpu / {printf "machine_busy %d 1\nmachine_all %d 1\n", $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat
  } > "$f"
}

# Steady state: from 10 s after the last start to 10 s before the hold ends.
settle_s=10
window_s=$(( hold - 2 * settle_s ))
[ "$window_s" -ge 10 ] || { echo "fleet.sh: HOLD_S must be at least 30" >&2; kill $outer; exit 2; }
# The timeline (and the hold) starts when the last process is started:
# wait for all N (and the broker) to be robofleet's children.
# robofleet-device's fork server (docs/performance.md) is a child too, not
# a device: its CPU counts with the devices' (it starts them), its memory
# is not one device's.
for _ in $(seq 1 $(( ramp_s * 10 + 120 ))); do
  [ "$(ps -o args= --ppid "$rf_pid" | grep -c -v -e '--fork-server')" -gt "$n" ] && break
  sleep 0.5
done
sleep "$settle_s"
snapshot "$work/cpu0.txt"
t_w0=$(date +%s%3N)
sleep "$window_s"
snapshot "$work/cpu1.txt"
t_w1=$(date +%s%3N)
# Memory of every device process, from the kernel's own accounting.
ps -o pid=,comm=,args= --ppid "$rf_pid" |
  awk '$2 != "mosquitto" && !/--fork-server/ {print "/proc/" $1 "/smaps_rollup"}' |
  xargs -r awk '/^Pss:/ {print $2}' 2>/dev/null | sort -n > "$work/pss_kb.txt"
broker_pss=$(ps -o pid=,comm=,args= --ppid "$rf_pid" | awk '$2 == "mosquitto" {print "/proc/" $1 "/smaps_rollup"}' |
  xargs -r awk '/^Pss:/ {print $2}')
rf_pss=$(awk '/^Pss:/ {print $2}' "/proc/$rf_pid/smaps_rollup")
mem_avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)

rc=0
wait $outer || rc=$?
# A run the time limit ended leaves robofleet behind (timeout signals only
# /usr/bin/time), still stopping its fleet: end it and everything it
# started, so the next run measures a quiet machine.
if kill -0 "$rf_pid" 2>/dev/null; then
  kill -KILL "$rf_pid" 2>/dev/null || true
  pkill -KILL -f -- "$run_dir/" 2>/dev/null || true
  for _ in $(seq 1 600); do
    pgrep -f -- "$run_dir/" >/dev/null || break
    sleep 0.1
  done
fi
kill "$watch" 2>/dev/null || true
wait "$watch" 2>/dev/null || true

db=$run_dir/record.db
q() { sqlite3 -batch -noheader "$db" "$1"; }
online_n=$(q "SELECT count(*) FROM (SELECT device_id FROM status WHERE status = 'online' AND retained = 0 GROUP BY device_id)")
t_online=$(q "SELECT max(f) FROM (SELECT min(recv_ms) AS f FROM status WHERE status = 'online' AND retained = 0 GROUP BY device_id)")
start_ms=$(( t_online - t_cmd ))
# Latency in the steady window, device timestamp to recorder receive.
lat() { # lat QUANTILE
  q "SELECT recv_ms - ts_ms FROM readings WHERE recv_ms BETWEEN $t_w0 AND $t_w1 AND ts_ms IS NOT NULL
     ORDER BY 1 LIMIT 1 OFFSET (SELECT CAST((count(*) - 1) * $1 AS INTEGER) FROM readings
     WHERE recv_ms BETWEEN $t_w0 AND $t_w1 AND ts_ms IS NOT NULL)"
}
win_n=$(q "SELECT count(*) FROM readings WHERE recv_ms BETWEEN $t_w0 AND $t_w1")
rate_rec=$(awk -v n="$win_n" -v a="$t_w0" -v b="$t_w1" 'BEGIN {printf "%.0f", n * 1000 / (b - a)}')
p50=$(lat 0.5) p99=$(lat 0.99) pmax=$(lat 1.0)
all_p99=$(q "SELECT recv_ms - ts_ms FROM readings WHERE ts_ms IS NOT NULL ORDER BY 1 LIMIT 1 OFFSET
             (SELECT CAST((count(*) - 1) * 0.99 AS INTEGER) FROM readings WHERE ts_ms IS NOT NULL)")
lost=$(q "SELECT coalesce(sum(lost), 0) FROM accounting")
dup=$(q "SELECT coalesce(sum(duplicates), 0) FROM accounting")
recorded=$(q "SELECT count(*) FROM readings")
# Receive stall: the longest gap between consecutive readings' receive
# times, from the first reading to the last.
recv_gap=$(q "SELECT max(recv_ms - p) FROM (SELECT recv_ms, lag(recv_ms) OVER (ORDER BY recv_ms) AS p FROM readings)")
# Commit stall: the longest a received reading waited before it was
# committed, i.e. its receive time to the first moment db_watch (50 ms
# sampling) saw its row; at least the 250 ms batch period. Over the whole
# run up to the end of the hold, and for the ramp alone (readings received
# up to 5 s after the last device was online).
hold_end=$(( t_w1 + settle_s * 1000 ))
q "SELECT id, recv_ms FROM readings WHERE recv_ms <= $hold_end ORDER BY id" | tr '|' ' ' > "$work/ids.txt"
commit_wait() { # commit_wait UNTIL_MS
  awk -v e="$1" 'NR == FNR {t[++n] = $1; m[n] = $2; next}
    $2 <= e {while (j < n && m[j] < $1) j++; if (m[j] >= $1 && t[j] - $2 > w) w = t[j] - $2}
    END {print w + 0}' "$work/commits.txt" "$work/ids.txt"
}
commit_gap=$(commit_wait "$hold_end")
ramp_gap=$(commit_wait "$(( t_online + 5000 ))")

# CPU over the steady window, in cores (1.0 = one CPU fully busy).
cpu() { # cpu NAME -> cores
  awk -v k="$1" -v w="$(( t_w1 - t_w0 ))" '
    FNR == 1 {f++} $1 == k {v[f] = $2}
    END {printf "%.4f", (v[2] - v[1]) / 1e9 / (w / 1000)}' "$work/cpu0.txt" "$work/cpu1.txt"
}
dev_cores=$(cpu devices) broker_cores=$(cpu broker) orch_cores=$(cpu orchestrator) rec_cores=$(cpu recorder)
machine=$(awk '$1 ~ /^machine_/ {v[FILENAME, $1] = $2} END {
  b = v[ARGV[2], "machine_busy"] - v[ARGV[1], "machine_busy"]
  a = v[ARGV[2], "machine_all"] - v[ARGV[1], "machine_all"]
  printf "%.1f", 100 * b / a}' "$work/cpu0.txt" "$work/cpu1.txt")
dev_ms_per_s=$(awk -v c="$dev_cores" -v n="$n" 'BEGIN {printf "%.4f", c * 1000 / n}')
# What each device costs the machine: the drop of MemAvailable (all of
# the run: devices, broker, recorder, page cache of the record) per device.
mem_kib_per_dev=$(( (mem_before - mem_avail) / n ))
pss_n=$(wc -l < "$work/pss_kb.txt")
pss_med=$(awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}' "$work/pss_kb.txt")
pss_max=$(tail -n 1 "$work/pss_kb.txt")
elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$work/time.txt")
total_cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.1f", u + s}' "$work/time.txt")

printf '%s\n' "$kind	$n	$rate	$hold	$rc	$online_n	$start_ms	$pss_n	$pss_med	$pss_max	$dev_cores	$dev_ms_per_s	$broker_cores	$rec_cores	$orch_cores	$machine	$total_cpu	$elapsed	$rate_rec	$p50	$p99	$pmax	$all_p99	$recorded	$lost	$dup	$recv_gap	$commit_gap	$ramp_gap	${broker_pss:-0}	${rf_pss:-0}	$mem_avail	$mem_kib_per_dev	$run_dir" >> "$results"
echo "$kind n=$n rc=$rc online=$online_n start=${start_ms}ms pss_med=${pss_med}kB pss_max=${pss_max}kB devices=${dev_cores} cores (${dev_ms_per_s} ms/s each) broker=$broker_cores recorder=$rec_cores orchestrator=$orch_cores machine=${machine}% recorded/s=$rate_rec p50/p99/max=$p50/$p99/$pmax lost=$lost dup=$dup recv_gap=${recv_gap}ms commit_wait=${commit_gap}ms ramp_commit_wait=${ramp_gap}ms mem_per_device=${mem_kib_per_dev}KiB"
