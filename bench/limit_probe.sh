#!/usr/bin/env bash
# The machine's own limit, with nothing of robofleet in the path: N bare
# publishers (bench/baseline_publisher, QoS 1 at 1 Hz) -> a plain mosquitto
# -> `mosquitto_sub -q 1 -t 'sensors/+/data'`. Over a steady window it
# measures the messages per second the subscriber received and what each
# part cost (schedstat, exact ns): the broker and the subscriber in us per
# message, the publishers in cores, the machine's busy share (/proc/stat).
# Every figure robofleet's benchmarks give can be read as a ratio to this
# one, measured in the same session. Appends one TSV line per run to
# OUT/limit.tsv (header below) and prints it.
#
#   bench/limit_probe.sh [-n N] [-H HOLD_S] [-c RATE] [-r REPEAT] [-o OUT] [-b BUILD]
#
# Example: bench/limit_probe.sh -n 10000 -H 60 -c 1000 -r 1
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000 hold=60 rate=1000 repeat=1 out="" build=build
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -H) hold=$2; shift 2 ;;
    -c) rate=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    *) echo "usage: bench/limit_probe.sh [-n N] [-H HOLD_S] [-c RATE] [-r REPEAT] [-o OUT] [-b BUILD]" >&2; exit 2 ;;
  esac
done
[ "$hold" -ge 30 ] || { echo "limit_probe.sh: HOLD_S must be at least 30" >&2; exit 2; }
publisher=$build/bench/baseline_publisher
[ -x "$publisher" ] || { echo "limit_probe.sh: build first: cmake --build $build --target baseline_publisher" >&2; exit 2; }
broker=$(command -v mosquitto || echo /usr/sbin/mosquitto)
out=${out:-runs/limit-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
results=$out/limit.tsv
[ -s "$results" ] || printf 'n\tmsgs_per_s\tbroker_cores\tbroker_us_per_msg\tsub_cores\tsub_us_per_msg\tpublishers_cores\tmachine_busy_pct\n' > "$results"
# Ten thousand connections need as many descriptors in the broker.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { # a loopback port nothing listens on
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
busy() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }

one() {
  local work port t0 t1 b0 b1 s0 s1 p0 p1 m0 m1 msgs
  work=$out/n$n-$(date -u +%H%M%S)
  mkdir -p "$work"
  port=$(free_port)
  # Its log on stderr: as root mosquitto drops to its own user, which
  # could not open a log file in OUT.
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nlog_dest stderr\n' \
    "$port" > "$work/mosquitto.conf"
  "$broker" -c "$work/mosquitto.conf" 2> "$work/mosquitto.log" & local bpid=$!
  pids+=("$bpid")
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t 'sensors/+/data' -F '%U' > "$work/sub.txt" & local spid=$!
  pids+=("$spid")
  # N publishers, RATE a second, as robofleet paces its fleet.
  local ppids=() started=0
  while [ "$started" -lt "$n" ]; do
    for _ in $(seq 1 "$rate"); do
      [ "$started" -lt "$n" ] || break
      started=$((started + 1))
      ROBOFLEET_PARENT_PID=$$ "$publisher" --id "$(printf 'robot_%05d' "$started")" \
        --broker "127.0.0.1:$port" --interval 1s --keepalive 60s >/dev/null 2>&1 &
      ppids+=("$!")
    done
    sleep 1
  done
  pids+=("${ppids[@]}")
  sleep 10
  pub_ns() { printf '/proc/%s/schedstat\n' "${ppids[@]}" | xargs awk '{t += $1} END {printf "%.0f\n", t}' 2>/dev/null |
    awk '{t += $1} END {printf "%.0f\n", t}'; }
  t0=$(date +%s.%N); b0=$(cpu_ns "$bpid"); s0=$(cpu_ns "$spid"); p0=$(pub_ns); m0=$(busy)
  sleep $(( hold - 20 ))
  t1=$(date +%s.%N); b1=$(cpu_ns "$bpid"); s1=$(cpu_ns "$spid"); p1=$(pub_ns); m1=$(busy)
  msgs=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 < b {c++} END {print c + 0}' "$work/sub.txt")
  awk -v n="$n" -v m="$msgs" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
      -v b="$(( b1 - b0 ))" -v s="$(( s1 - s0 ))" -v p="$(( p1 - p0 ))" -v m0="$m0" -v m1="$m1" 'BEGIN {
    split(m0, x, " "); split(m1, y, " ")
    printf "%d\t%.0f\t%.3f\t%.1f\t%.3f\t%.1f\t%.3f\t%.0f\n", n, m / w, b / 1e9 / w, (m ? b / 1e3 / m : 0),
      s / 1e9 / w, (m ? s / 1e3 / m : 0), p / 1e9 / w, 100 * (y[1] - x[1]) / (y[2] - x[2]) }' >> "$results"
  tail -n 1 "$results"
  for p in "${ppids[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$spid" "$bpid" 2>/dev/null || true
  wait 2>/dev/null || true
  pids=()
}

for _ in $(seq 1 "$repeat"); do one; done
column -t -s "$(printf '\t')" "$results"
