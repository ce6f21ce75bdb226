#!/usr/bin/env bash
# The demo: install what is missing, build, start a private mosquitto on a
# free loopback port and a handful of virtual robots, and show their messages.
#
# Usage: scripts/demo.sh [--robots N] [--seconds S]
#   Runs until Ctrl-C on a terminal, for 20 s otherwise (or --seconds S).
set -euo pipefail
cd "$(dirname "$0")/.."

robots=5
seconds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --robots) robots=${2:?--robots needs a number}; shift 2 ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$robots" in ''|*[!0-9]*) echo "demo: --robots wants a whole number" >&2; exit 2 ;; esac
[ "$robots" -ge 1 ] && [ "$robots" -le 200 ] || { echo "demo: --robots must be 1..200" >&2; exit 2; }
if [ -z "$seconds" ]; then
  if [ -t 0 ] && [ -t 1 ]; then seconds=0; else seconds=20; fi
fi
case "$seconds" in ''|*[!0-9]*) echo "demo: --seconds wants a whole number" >&2; exit 2 ;; esac

scripts/deps.sh
BUILD_DIR=build scripts/build.sh >/dev/null
device=build/hw-shim/robofleet-device
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)

run_dir="runs/$(date -u +%Y%m%dT%H%M%SZ)-demo"
mkdir -p "$run_dir/state"
chmod 755 "$run_dir"   # mosquitto drops to its own user when started as root

pids=()
broker_pid=""
sub_pid=""
cleanup() {
  trap - EXIT INT TERM
  # SIGTERM: each robot publishes `offline` and disconnects cleanly.
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null || true
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "demo: stopped; logs in $run_dir"
}
trap cleanup EXIT INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=""
for candidate in $(seq 18830 18930); do
  port_in_use "$candidate" && continue
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' \
    "$candidate" > "$run_dir/mosquitto.conf"
  "$mosquitto_bin" -c "$run_dir/mosquitto.conf" 2> "$run_dir/mosquitto.log" &
  broker_pid=$!
  for _ in $(seq 100); do
    port_in_use "$candidate" && { port=$candidate; break; }
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$port" ] && break
  kill "$broker_pid" 2>/dev/null || true
  broker_pid=""
done
[ -n "$port" ] || { echo "demo: could not start mosquitto on a free port (see $run_dir/mosquitto.log)" >&2; exit 1; }
echo "demo: mosquitto on 127.0.0.1:$port, $robots robots, run directory $run_dir"
echo "demo: watch from elsewhere with: mosquitto_sub -h 127.0.0.1 -p $port -v -t 'sensors/#'"

mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'sensors/#' &
sub_pid=$!

for i in $(seq 1 "$robots"); do
  id=$(printf 'robot_%03d' "$i")
  temp=$(awk -v i="$i" 'BEGIN { printf "%.1f", 20 + (i * 1.7) % 8 }')
  hum=$(awk -v i="$i" 'BEGIN { printf "%.1f", 35 + (i * 7.3) % 30 }')
  dist=$(awk -v i="$i" 'BEGIN { printf "%.1f", 30 + (i * 37) % 300 }')
  "$device" --id "$id" --broker "127.0.0.1:$port" --interval 2s --temperature "$temp" \
    --humidity "$hum" --distance "$dist" --noise 0.2 --seed "$i" \
    --state-dir "$run_dir/state" 2> "$run_dir/$id.log" &
  pids+=($!)
done

if [ "$seconds" -eq 0 ]; then
  echo "demo: Ctrl-C to stop"
  wait "$sub_pid"
else
  sleep "$seconds"
fi
