#!/usr/bin/env bash
# A fleet beyond the machine, and its recovery: N devices at 1 Hz under
# `robofleet run` for HOLD_S seconds, then half of them lose power (group b)
# for another HOLD_S. Run for the real firmware and for the baseline
# publisher (--device), alternately, so both see the same machine.
# From the record: readings recorded per second and latency (device time
# to receive) in the second half of each phase, readings lost, and how
# long the recorder needed after the fleet stopped (summary.json's
# record.drain_ms). Appends one TSV line per run to OUT/overload.tsv and
# prints it.
#
#   bench/overload.sh [-n N] [-H HOLD_S] [-c RATE] [-r REPEAT] [-k KINDS] [-o OUT] [-b BUILD]
#     KINDS  robofleet,baseline (default), or one of them
#
# Example: bench/overload.sh -n 4000 -H 120 -r 1
set -euo pipefail
cd "$(dirname "$0")/.."
n=4000 hold=120 rate=1000 repeat=1 kinds=robofleet,baseline out="" build=build
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -H) hold=$2; shift 2 ;;
    -c) rate=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -k) kinds=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    *) echo "usage: bench/overload.sh [-n N] [-H HOLD_S] [-c RATE] [-r REPEAT] [-k KINDS] [-o OUT] [-b BUILD]" >&2; exit 2 ;;
  esac
done
[ "$hold" -ge 30 ] || { echo "overload.sh: HOLD_S must be at least 30" >&2; exit 2; }
[ "$n" -ge 2 ] || { echo "overload.sh: N must be at least 2" >&2; exit 2; }
robofleet=$build/sim/robofleet
baseline=$build/bench/baseline_publisher
[ -x "$robofleet" ] && [ -x "$baseline" ] ||
  { echo "overload.sh: build first: cmake --build $build --target robofleet robofleet-device baseline_publisher" >&2; exit 2; }
out=${out:-runs/overload-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
results=$out/overload.tsv
[ -s "$results" ] || printf 'kind\tn\trc\trecorded_per_s_full\tp50_full_ms\tp99_full_ms\trecorded_per_s_half\tp50_half_ms\tp99_half_ms\ttaken\trecorded\tlost\tbuffered_at_end\tdrain_ms\tbroker_dropped\telapsed_s\trun_dir\n' > "$results"
half=$(( n / 2 ))

one() { # one KIND
  local kind=$1 work device_opt=() run_dir db rc=0 t0 t1
  work=$out/$kind-$n-$(date -u +%H%M%S)
  mkdir -p "$work"
  [ "$kind" = baseline ] && device_opt=(--device "$baseline")
  cat > "$work/scenario.yaml" <<EOF
name: overload-$kind-$n
seed: 11
duration: $(( 2 * hold + 900 ))s
fleet:
  broker: embedded
  connect_rate: $rate/s
  groups:
    - {name: a, count: $(( n - half )), id: "a_{:05}", interval: 1s, keepalive: 60s}
    - {name: b, count: $half, id: "b_{:05}", interval: 1s, keepalive: 60s}
steps:
  - wait: ${hold}s
  - power: {target: "group:b", action: cut}
  - wait: ${hold}s
EOF
  t0=$(date +%s)
  # Bounded: the scenario's duration, the drain's 15 minutes, then a kill.
  timeout -k 10 $(( 2 * hold + 2400 )) "$robofleet" run "$work/scenario.yaml" \
    --runs-dir "$work/runs" "${device_opt[@]}" --quiet > "$work/robofleet.out" 2>&1 || rc=$?
  t1=$(date +%s)
  run_dir=$(ls -d "$work"/runs/*/ | head -n 1)
  run_dir=${run_dir%/}
  db=$run_dir/record.db
  q() { sqlite3 -batch -noheader "$db" "$1"; }
  # Phases by the record's own clock: the power cut is in the faults table.
  local cut first
  cut=$(q "SELECT min(ms) FROM faults WHERE kind = 'power' AND action = 'cut'")
  first=$(q "SELECT min(recv_ms) FROM readings")
  # The second half of each phase: past the ramp, and past the cut.
  local w0=$(( cut - hold * 500 )) w1=$cut w2=$(( cut + hold * 500 )) w3=$(( cut + hold * 1000 ))
  [ "$w0" -gt "$first" ] || w0=$first
  rate_in() { q "SELECT printf('%.0f', count(*) * 1000.0 / ($2 - $1)) FROM readings WHERE recv_ms >= $1 AND recv_ms < $2"; }
  lat_in() { # lat_in FROM TO QUANTILE
    q "SELECT coalesce(max(0, recv_ms - ts_ms), '') FROM readings WHERE recv_ms >= $1 AND recv_ms < $2
       AND ts_ms IS NOT NULL ORDER BY recv_ms - ts_ms LIMIT 1 OFFSET (SELECT CAST((count(*) - 1) * $3 AS INTEGER)
       FROM readings WHERE recv_ms >= $1 AND recv_ms < $2 AND ts_ms IS NOT NULL)"
  }
  local s=$run_dir/summary.json
  local taken recorded lost buffered drain dropped
  taken=$(sed -n 's/.*"taken": \([0-9]*\).*/\1/p' "$s" | head -n 1)
  recorded=$(q "SELECT count(*) FROM readings")
  lost=$(sed -n 's/.*"readings": {.*"lost": \([0-9]*\).*/\1/p' "$s" | head -n 1)
  buffered=$(sed -n 's/.*"buffered_at_end": \([0-9]*\).*/\1/p' "$s" | head -n 1)
  drain=$(sed -n 's/.*"drain_ms": \([0-9]*\).*/\1/p' "$s" | head -n 1)
  dropped=$(sed -n 's/.*"broker_dropped": \([a-z]*\).*/\1/p' "$s" | head -n 1)
  printf '%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n' "$kind" "$n" "$rc" \
    "$(rate_in $w0 $w1)" "$(lat_in $w0 $w1 0.5)" "$(lat_in $w0 $w1 0.99)" \
    "$(rate_in $w2 $w3)" "$(lat_in $w2 $w3 0.5)" "$(lat_in $w2 $w3 0.99)" \
    "${taken:-}" "$recorded" "${lost:-}" "${buffered:-}" "${drain:-}" "${dropped:-}" \
    $(( t1 - t0 )) "$run_dir" | tee -a "$results"
}

for _ in $(seq 1 "$repeat"); do
  for kind in ${kinds//,/ }; do
    case $kind in
      robofleet | baseline) one "$kind" ;;
      *) echo "overload.sh: KINDS: robofleet, baseline" >&2; exit 2 ;;
    esac
  done
done
