#!/usr/bin/env bash
# What one way of running a fleet costs next to another: N robots at 1 Hz
# under `robofleet run` in two variants, alternately (A, B, A, B, ...),
# REPEAT times each, in one session. The variants (-k A,B):
#
#   plain   fleet: {security: none}, MQTT (the baseline of both pairs)
#   mutual  fleet: {security: mutual}: TLS with a certificate per device
#   mqtt    the same as plain, under the name of the transport pair
#   http    the group on transport: http, posting to the run's ingest endpoint
#
# Per run:
#
#   - start: from the shell's clock just before `robofleet run` to the
#     receive time of the last device's first own (not retained) `online`
#     in record.db's status table, or for http (no status topic) of its
#     first reading (broker, recorder and, for mutual, the credentials
#     included);
#   - credentials: the time `robofleet run` spends making pki/ before the
#     broker starts, from the kernel's own file times: the birth time of
#     <run>/pki to the newest modification time under pki/ and of the
#     ACL; and the time from the command to the broker's mosquitto.conf
#     being written (everything before the broker starts, both modes);
#   - the CPU spent until every device is online (schedstat, devices,
#     mosquitto, robofleet), when the last device process was started, and
#     how many connections the kernel turned away meanwhile because a
#     listen queue was full (TcpExt ListenOverflows, machine-wide);
#   - CPU per reading over a steady window (from 10 s after every device is
#     online, HOLD_S - 25 s long): schedstat run time of the
#     devices, of mosquitto and of the robofleet process (all its threads:
#     orchestrator, recorder, command client), each divided by the
#     readings the record received in that window;
#   - PSS of every device process (smaps_rollup, at the end of the window):
#     the median; and mosquitto's.
#
# With -p, each run also records a 5 s CPU profile (perf record -g) of
# mosquitto and of 100 devices, after the steady window, and writes
# `perf report --stdio` of each next to the run.
#
#   bench/variant_cost.sh [-k A,B] [-n N] [-r REPEAT] [-H HOLD_S] [-c RATE] [-b BUILD] [-o OUT] [-p]
#
# Examples (the figures in docs/performance.md):
#   bench/variant_cost.sh -k plain,mutual -n 1000 -r 3 -H 60 -b build-bench -p
#   bench/variant_cost.sh -k mqtt,http -n 1000 -r 3 -H 60 -b build-bench
#
# Every loop is bounded in count and time; the run itself has a `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000 repeat=2 hold=60 rate=1000 build=build out="" profile=0 kinds=plain,mutual
usage="usage: bench/variant_cost.sh [-k A,B] [-n N] [-r REPEAT] [-H HOLD_S] [-c RATE] [-b BUILD] [-o OUT] [-p]"
while [ $# -gt 0 ]; do
  case $1 in
    -k) kinds=$2; shift 2 ;;
    -n) n=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -H) hold=$2; shift 2 ;;
    -c) rate=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -p) profile=1; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ "$hold" -ge 30 ] || { echo "variant_cost.sh: HOLD_S must be at least 30" >&2; exit 2; }
IFS=, read -r kind_a kind_b <<< "$kinds"
for k in "$kind_a" "$kind_b"; do
  case $k in plain|mutual|mqtt|http) ;; *) echo "variant_cost.sh: -k: unknown variant '$k' (plain, mutual, mqtt, http)" >&2; exit 2 ;; esac
done
[ "$kind_a" != "$kind_b" ] || { echo "variant_cost.sh: -k needs two different variants" >&2; exit 2; }
out=${out:-runs/variant-cost-$kind_a-$kind_b-$(date -u +%Y%m%dT%H%M%SZ)}
case $out in /*) ;; *) out=$PWD/$out ;; esac
mkdir -p "$out"
robofleet=$PWD/$build/sim/robofleet
device=$PWD/$build/hw-shim/robofleet-device
[ -x "$robofleet" ] && [ -x "$device" ] ||
  { echo "variant_cost.sh: build first (cmake --build $build --target robofleet robofleet-device)" >&2; exit 2; }
if [ "$profile" = 1 ] && ! command -v perf >/dev/null; then
  echo "variant_cost.sh: -p needs perf" >&2; exit 2
fi
results=$out/results.tsv
{ echo "# $(date -u +%FT%TZ) $(uname -nr) $(nproc) cores, N=$n hold=${hold}s connect_rate=$rate/s"
  echo "# uptime before: $(uptime)"; } >> "$out/machine.txt"

ns_of() { # ns_of PID...: summed schedstat run time (ns) of every thread of the PIDs
  local p files=()
  shopt -s nullglob
  for p in "$@"; do files+=(/proc/"$p"/task/*/schedstat); done
  shopt -u nullglob
  [ ${#files[@]} -gt 0 ] || { echo 0; return; }
  cat "${files[@]}" 2>/dev/null | awk '{t += $1} END {printf "%.0f\n", t}'
}
# The kernel's count of connections a full listen queue turned away
# (machine-wide; mosquitto listens with a backlog of 100).
listen_overflows() { awk '$1 == "TcpExt:" {if (!h) {for (i = 2; i <= NF; i++) k[i] = $i; h = 1}
  else for (i = 2; i <= NF; i++) if (k[i] == "ListenOverflows") print $i}' /proc/net/netstat; }
busy_all() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
ms_of() { stat -c '%.3Y' "$1" | tr -d . ; }          # mtime in ms
birth_ms() { stat -c '%.3W' "$1" | tr -d . ; }       # birth time in ms (0 if unknown)

one() { # one plain|mutual|mqtt|http
  local kind=$1 work security transport online_sql
  work=$out/$kind-$(date -u +%H%M%S)
  security=none; [ "$kind" = mutual ] && security=mutual
  transport=mqtt; [ "$kind" = http ] && transport=http
  # A device is online at its first own online, or over HTTP its first reading.
  online_sql="SELECT device_id, min(recv_ms) AS f FROM status WHERE status = 'online' AND retained = 0 GROUP BY device_id"
  [ "$kind" = http ] && online_sql="SELECT device_id, min(recv_ms) AS f FROM readings GROUP BY device_id"
  mkdir -p "$work"
  cat > "$work/scenario.yaml" <<YAML
name: variant-cost-$kind
seed: 7
duration: $(( hold + 420 ))s
fleet:
  broker: embedded
  security: $security
  connect_rate: $rate/s
  groups:
    - {name: bench, count: $n, id: "dev_{:05}", interval: 1s, keepalive: 60s, transport: $transport,
       environment: {temperature: 22.5, humidity: 40, distance: 120}}
steps:
  - expect: {name: all online, target: all, status: online, within: 300s}
  - wait: ${hold}s
YAML
  local load1 t_cmd lo0
  load1=$(cut -d' ' -f1 /proc/loadavg)
  lo0=$(listen_overflows)
  t_cmd=$(date +%s%3N)
  timeout -k 10 $(( hold + 900 )) "$robofleet" run "$work/scenario.yaml" --runs-dir "$work/runs" \
    --device "$device" --quiet > "$work/robofleet.out" 2>&1 &
  local outer_pid=$! rf_pid=$! run_dir="" i
  # `timeout` runs robofleet as its child.
  for i in $(seq 1 600); do
    local c; c=$(pgrep -P "$rf_pid" -x robofleet || true)
    [ -n "$c" ] && { rf_pid=$c; break; }
    sleep 0.05
  done
  for i in $(seq 1 600); do
    run_dir=$(ls -d "$work"/runs/*/ 2>/dev/null | head -n 1 || true)
    [ -n "$run_dir" ] && break
    sleep 0.1
  done
  [ -n "$run_dir" ] || { echo "variant_cost.sh: no run directory in $work" >&2; wait || true; return 1; }
  run_dir=${run_dir%/}
  # Every device started (and the broker): at most 120 s.
  local spawn_ms=-1
  for i in $(seq 1 1200); do
    [ "$(ps -o args= --ppid "$rf_pid" | grep -c -v -e "--fork-server")" -gt "$n" ] && { spawn_ms=$(( $(date +%s%3N) - t_cmd )); break; }
    kill -0 "$rf_pid" 2>/dev/null || break
    sleep 0.1
  done
  local kids dev_pids broker_pid
  kids=$(ps -o pid=,comm=,args= --ppid "$rf_pid" || true)
  dev_pids=$(echo "$kids" | awk '$2 != "mosquitto" && !/--fork-server/ && $1 {print $1}')
  broker_pid=$(echo "$kids" | awk '$2 == "mosquitto" {print $1; exit}')
  # Every device online in the record (the scenario's first step waits
  # for the same): at most 300 s, polled every 0.25 s. The CPU spent so far
  # (start-up, handshakes, and the readings until then) is the start's.
  local n_on=0 ds bs rs
  for i in $(seq 1 1200); do
    n_on=$(sqlite3 -readonly -cmd ".timeout 2000" "$run_dir/record.db" \
      "SELECT count(*) FROM ($online_sql)" 2>/dev/null || echo 0)
    [ "${n_on:-0}" -ge "$n" ] && break
    kill -0 "$rf_pid" 2>/dev/null || break
    sleep 0.25
  done
  ds=$(ns_of $dev_pids); bs=$(ns_of $broker_pid); rs=$(ns_of "$rf_pid")
  local overflows=$(( $(listen_overflows) - lo0 ))
  sleep 10
  local d0 b0 r0 m0 t0 d1 b1 r1 m1 t1
  m0=$(busy_all)
  d0=$(ns_of $dev_pids); b0=$(ns_of $broker_pid); r0=$(ns_of "$rf_pid"); t0=$(date +%s%3N)
  sleep $(( hold - 25 ))
  d1=$(ns_of $dev_pids); b1=$(ns_of $broker_pid); r1=$(ns_of "$rf_pid"); t1=$(date +%s%3N)
  m1=$(busy_all)
  echo "$dev_pids" | awk '$1 {print "/proc/" $1 "/smaps_rollup"}' |
    xargs -r awk '/^Pss:/ {print $2}' 2>/dev/null | sort -n > "$work/pss_kb.txt"
  local broker_pss
  broker_pss=$(awk '/^Pss:/ {print $2}' "/proc/$broker_pid/smaps_rollup" 2>/dev/null || echo 0)
  if [ "$profile" = 1 ]; then
    # After the window, both at once: 5 s of mosquitto and of 100 devices
    # (one device at 1 Hz gives a handful of samples).
    local some_devs; some_devs=$(echo "$dev_pids" | awk '$1 && NR <= 100 {printf "%s%s", s, $1; s = ","}')
    timeout 20 perf record -q -g -o "$work/perf-broker.data" -p "$broker_pid" -- sleep 5 >/dev/null 2>&1 &
    local perf1=$!
    timeout 20 perf record -q -g -o "$work/perf-device.data" -p "$some_devs" -- sleep 5 >/dev/null 2>&1 &
    local perf2=$!
    wait "$perf1" "$perf2" || true
  fi
  local rc=0
  wait "$outer_pid" 2>/dev/null || rc=$?
  # A run the time limit ended may leave its children: end them, by pid.
  if kill -0 "$rf_pid" 2>/dev/null; then kill -KILL "$rf_pid" 2>/dev/null || true; fi
  for i in $dev_pids $broker_pid; do kill -0 "$i" 2>/dev/null && kill -KILL "$i" 2>/dev/null || true; done
  if [ "$profile" = 1 ]; then
    local f
    for f in broker device; do
      [ -s "$work/perf-$f.data" ] && timeout 120 perf report -i "$work/perf-$f.data" --stdio --no-children \
        --percent-limit 1 2>/dev/null | head -n 400 > "$work/perf-$f.txt" || true
    done
  fi

  local db=$run_dir/record.db
  q() { sqlite3 -batch -noheader "$db" "$1"; }
  local online t_online start readings lat50 lat99 lost dup cred_ms conf_ms pss
  online=$(q "SELECT count(*) FROM ($online_sql)")
  t_online=$(q "SELECT max(f) FROM ($online_sql)")
  start=$(( ${t_online:-0} - t_cmd ))
  readings=$(q "SELECT count(*) FROM readings WHERE recv_ms BETWEEN $t0 AND $t1")
  lat50=$(q "SELECT recv_ms - ts_ms FROM readings WHERE recv_ms BETWEEN $t0 AND $t1 AND ts_ms IS NOT NULL
             ORDER BY 1 LIMIT 1 OFFSET (SELECT CAST((count(*) - 1) * 0.5 AS INTEGER) FROM readings
             WHERE recv_ms BETWEEN $t0 AND $t1 AND ts_ms IS NOT NULL)")
  lat99=$(q "SELECT recv_ms - ts_ms FROM readings WHERE recv_ms BETWEEN $t0 AND $t1 AND ts_ms IS NOT NULL
             ORDER BY 1 LIMIT 1 OFFSET (SELECT CAST((count(*) - 1) * 0.99 AS INTEGER) FROM readings
             WHERE recv_ms BETWEEN $t0 AND $t1 AND ts_ms IS NOT NULL)")
  lost=$(q "SELECT coalesce(sum(lost), 0) FROM accounting")
  dup=$(q "SELECT coalesce(sum(duplicates), 0) FROM accounting")
  # Credentials: pki/'s birth to the newest file time under it (and the ACL).
  cred_ms=0
  if [ -d "$run_dir/pki" ]; then
    local newest
    newest=$(find "$run_dir/pki" "$run_dir/acl" -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1 |
             awk '{printf "%.0f", $1 * 1000}')
    cred_ms=$(( newest - $(birth_ms "$run_dir/pki") ))
  fi
  conf_ms=$(( $(ms_of "$run_dir/mosquitto.conf") - t_cmd ))
  pss=$(awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}' "$work/pss_kb.txt")
  # 1 kind 2 N 3 rc 4 online 5 start_ms 6 cred_ms 7 cmd_to_broker_conf_ms 8 readings
  # 9 window_ms 10 device_cores 11 device_us 12 broker_cores 13 broker_us
  # 14 robofleet_cores 15 robofleet_us 16 sum_us 17 pss_median_kb 18 broker_pss_kb
  # 19 lat_p50 20 lat_p99 21 lost 22 dup 23 load1 24 machine_busy_pct
  # 25 spawn_ms 26-28 CPU (s) until all online: devices, broker, robofleet
  # 29 listen queue overflows until all online 30 run_dir
  awk -v k="$kind" -v n="$n" -v rc="$rc" -v on="$online" -v st="$start" -v cr="$cred_ms" -v cf="$conf_ms" \
      -v r="$readings" -v w="$(( t1 - t0 ))" -v d="$(( d1 - d0 ))" -v b="$(( b1 - b0 ))" -v f="$(( r1 - r0 ))" \
      -v p="$pss" -v bp="$broker_pss" -v l5="$lat50" -v l9="$lat99" -v lo="$lost" -v du="$dup" \
      -v ld="$load1" -v m0="$m0" -v m1="$m1" -v dir="$run_dir" -v sp="$spawn_ms" \
      -v ds="$ds" -v bs="$bs" -v rs="$rs" -v ov="$overflows" 'BEGIN {
    split(m0, a, " "); split(m1, z, " ")
    busy = (z[2] > a[2]) ? 100 * (z[1] - a[1]) / (z[2] - a[2]) : 0
    s = w / 1000
    printf "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.4f\t%.1f\t%.4f\t%.1f\t%.4f\t%.1f\t%.1f\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%.0f\t%d\t%.2f\t%.2f\t%.2f\t%d\t%s\n",
      k, n, rc, on, st, cr, cf, r, w, d / 1e9 / s, (r ? d / 1e3 / r : 0), b / 1e9 / s, (r ? b / 1e3 / r : 0),
      f / 1e9 / s, (r ? f / 1e3 / r : 0), (r ? (d + b + f) / 1e3 / r : 0), p, bp, l5, l9, lo, du, ld, busy,
      sp, ds / 1e9, bs / 1e9, rs / 1e9, ov, dir }' >> "$results"
  tail -n 1 "$results"
}

for _ in $(seq 1 "$repeat"); do
  one "$kind_a"
  one "$kind_b"
done
echo "# uptime after: $(uptime)" >> "$out/machine.txt"

awk -F'\t' -v A="$kind_a" -v B="$kind_b" '
function med(k, c,   a, m, i, j, t) { m = 0; for (i = 1; i <= cnt[k]; i++) a[++m] = v[k, i, c]
  for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
function r(c) { return med(A, c) ? med(B, c) / med(A, c) : 0 }
{ cnt[$1]++; for (c = 1; c <= NF; c++) v[$1, cnt[$1], c] = $c }
END {
  for (k in cnt) printf "%-6s N=%s runs=%d online=%d start_ms=%d credentials_ms=%d cmd_to_broker_conf_ms=%d" \
    " device_us=%.1f broker_us=%.1f robofleet_us=%.1f sum_us=%.1f device_cores=%.3f broker_cores=%.3f" \
    " robofleet_cores=%.3f pss_median_kb=%d broker_pss_kb=%d lat_p50=%d lat_p99=%d lost=%d dup=%d" \
    " spawn_ms=%d start_cpu_s: devices=%.2f broker=%.2f robofleet=%.2f listen_overflows=%d\n",
    k, v[k, 1, 2], cnt[k], med(k, 4), med(k, 5), med(k, 6), med(k, 7), med(k, 11), med(k, 13), med(k, 15),
    med(k, 16), med(k, 10), med(k, 12), med(k, 14), med(k, 17), med(k, 18), med(k, 19), med(k, 20),
    med(k, 21), med(k, 22), med(k, 25), med(k, 26), med(k, 27), med(k, 28), med(k, 29)
  if ((A in cnt) && (B in cnt))
    printf "ratio " B "/" A ": start %.2fx, CPU per reading: devices %.2fx, broker %.2fx, robofleet %.2fx," \
      " sum %.2fx; device PSS %.2fx, broker PSS %.2fx; CPU until all online: devices %.2fx, broker %.2fx\n",
      r(5), r(11), r(13), r(15), r(16), r(17), r(18), r(26), r(27)
}' "$results" | tee "$out/summary.txt"
