#!/usr/bin/env bash
# The soak: N robots at 1 Hz under `robofleet run` for MINUTES, with
# periodic faults (every 5 minutes: a WiFi flap on a tenth of the fleet, a
# WiFi drop on a twentieth, DHT22 checksum errors, a power cycle of 2 %),
# then the loss check. Every 30 s it samples, from /proc:
#
#   - the robot processes: the median and the sum of VmRSS, and their open
#     file descriptors (summed);
#   - mosquitto and the robofleet process: VmRSS and open descriptors;
#
# into OUT/samples.tsv. At the end it compares the median of the samples
# taken in minutes 5 to 7 (after the start-up and the first faults) with
# the median of the last 2 minutes: a growth above 5 % in any RSS, or of a
# descriptor count by more than 5 and 2 % (connections come and go with
# the faults; a leak grows without end), is reported as GROWTH.
#
#   bench/soak.sh [-n N] [-m MINUTES] [-b BUILD] [-o OUT]
#
# Example (the figures in docs/performance.md):
#   bench/soak.sh -n 1000 -m 60 -b build -o /tmp/soak-1000
#
# Bounded: the run has a duration cap and a `timeout`; the sampler stops
# with the run or after MINUTES + 10.
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000 minutes=60 build=build out=""
usage="usage: bench/soak.sh [-n N] [-m MINUTES] [-b BUILD] [-o OUT]"
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -m) minutes=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ "$minutes" -ge 10 ] || { echo "soak.sh: MINUTES must be at least 10 (the baseline is minutes 5 to 7)" >&2; exit 2; }
out=${out:-runs/soak-$(date -u +%Y%m%dT%H%M%SZ)}
case $out in /*) ;; *) out=$PWD/$out ;; esac
mkdir -p "$out"
robofleet=$PWD/$build/sim/robofleet
device=$PWD/$build/hw-shim/robofleet-device
[ -x "$robofleet" ] && [ -x "$device" ] ||
  { echo "soak.sh: build first (cmake --build $build --target robofleet robofleet-device)" >&2; exit 2; }

# The fault cycle, every 5 minutes. No broker restart: the broker's memory
# is one of the things watched, and a restart would reset it.
cat > "$out/scenario.yaml" <<YAML
name: soak-$n
seed: 19
duration: $(( minutes + 3 ))m
fleet:
  connect_rate: 200/s
  groups:
    - {name: soak, count: $n, id: "soak_{:05}", interval: 1s, keepalive: 15s,
       environment: {temperature: 22, humidity: 45, distance: 120, noise: 0.2}}
steps:
  - expect: {name: all online, status: online, within: 120s}
  - repeat:
      times: $(( minutes / 5 ))
      steps:
        - fault: {target: "share:10%", kind: wifi_flap, period: 20s, duty: 0.3, for: 60s}
        - fault: {target: "share:5%", kind: wifi_drop, for: 30s}
        - fault: {target: "share:5%", kind: dht_checksum, probability: 0.3, for: 90s}
        - power: {target: "share:2%", action: cycle, off: 5s}
        - wait: 300s
  - wait: 30s
  - expect: {name: nothing lost, lost: 0, fleet_lost: 0}
YAML
"$robofleet" check "$out/scenario.yaml" >/dev/null

t0=$(date +%s)
timeout -k 10 $(( minutes * 60 + 600 )) "$robofleet" run "$out/scenario.yaml" --runs-dir "$out/runs" \
  --device "$device" --quiet > "$out/robofleet.out" 2>&1 &
outer=$!
rf_pid=""
for _ in $(seq 1 600); do
  rf_pid=$(pgrep -P "$outer" -x robofleet || true)
  [ -n "$rf_pid" ] && break
  sleep 0.05
done
[ -n "$rf_pid" ] || { echo "soak.sh: robofleet did not start" >&2; wait "$outer" || true; exit 1; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
samples=$out/samples.tsv
echo -e "t_s\tdevices\tdev_rss_median_kb\tdev_rss_sum_kb\tdev_fds\tbroker_rss_kb\tbroker_fds\trobofleet_rss_kb\trobofleet_fds" > "$samples"
end=$(( t0 + minutes * 60 + 600 ))
while kill -0 "$rf_pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
  kids=$(ps -o pid=,comm=,args= --ppid "$rf_pid" 2>/dev/null || true)
  dev_pids=$(echo "$kids" | awk '$2 != "mosquitto" && !/--fork-server/ && $1 {print $1}')
  broker_pid=$(echo "$kids" | awk '$2 == "mosquitto" {print $1; exit}')
  dev_rss=$(for p in $dev_pids; do rss_kb "$p"; done | sort -n)
  ndev=$(echo "$dev_rss" | grep -c . || true)
  dev_med=$(echo "$dev_rss" | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}')
  dev_sum=$(echo "$dev_rss" | awk '{t += $1} END {print t + 0}')
  dev_fds=$(for p in $dev_pids; do fds "$p"; done | awk '{t += $1} END {print t + 0}')
  printf '%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n' $(( $(date +%s) - t0 )) "$ndev" "$dev_med" "$dev_sum" \
    "$dev_fds" "$(rss_kb "${broker_pid:-0}")" "$(fds "${broker_pid:-0}")" "$(rss_kb "$rf_pid")" \
    "$(fds "$rf_pid")" >> "$samples"
  sleep 30
done
rc=0
wait "$outer" || rc=$?
run_dir=$(ls -d "$out"/runs/*/ | head -n 1)

# Minutes 5 to 7 against the last 2 minutes of sampling, median of each.
awk -F'\t' -v rc="$rc" -v n="$n" -v m="$minutes" '
function med(c, lo, hi,   a, k, i, j, t) { k = 0
  for (i = 2; i <= NR_; i++) if (T[i] >= lo && T[i] < hi) a[++k] = V[i, c]
  for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return k ? a[int((k + 1) / 2)] : 0 }
NR == 1 { for (c = 1; c <= NF; c++) H[c] = $c; next }
{ NR_ = NR; T[NR] = $1; for (c = 1; c <= NF; c++) V[NR, c] = $c; last = $1 }
END {
  printf "soak: %d robots, %d minutes, robofleet exit %d, %d samples\n", n, m, rc, NR_ - 1
  growth = 0
  for (c = 3; c <= 9; c++) {
    if (H[c] == "dev_rss_sum_kb" || H[c] == "dev_fds") continue  # power cycles move these
    b = med(c, 300, 420); e = med(c, last - 120, last + 1)
    pct = b ? 100 * (e - b) / b : 0
    bad = (H[c] ~ /fds/) ? (e - b > 5 && pct > 2) : (pct > 5)
    printf "  %-18s minutes 5-7: %8d   last 2 min: %8d   %+6.1f %%%s\n", H[c], b, e, pct, bad ? "   GROWTH" : ""
    growth += bad
  }
  printf "%s\n", growth ? "GROWTH found" : "flat: no RSS grew more than 5 %, no descriptor count more than 5 and 2 %"
}' "$samples" | tee "$out/summary.txt"
grep -E "^(readings taken|devices|expectations|PASS|FAIL)" "$run_dir/report.txt" 2>/dev/null | tee -a "$out/summary.txt" || true
