#!/usr/bin/env bash
# robofleet-device's fork server in a run: the robots it starts are
# robofleet's own children and show their own command lines; a server
# killed mid-run leaves the run spawning robots instead (a power cycle
# after it brings every robot back, nothing lost); ROBOFLEET_FORK_SERVER=0
# starts no server at all. Devices run at nice 19, the run and its broker
# (and the server) 10 levels above the caller when it is root;
# ROBOFLEET_NICE=0 leaves them all alone. In a sanitizer build robofleet-device refuses to
# be a server: then every robot must be spawned and the run pass all the same.
# Usage: test_fork_server.sh ROBOFLEET ROBOFLEET_DEVICE
set -u
robofleet=$1
device=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/robofleet-fork-XXXXXX)
failures=0
passes=0
rf=
# shellcheck source=check.sh
. "$here/check.sh"

cleanup() {
  [ -n "$rf" ] && kill -TERM "$rf" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

scenario() { # scenario FILE DURATION_S STEPS...
  local file=$1 duration=$2; shift 2
  printf '%s\n' "name: fork-server" "seed: 3" "duration: ${duration}s" "fleet:" \
    "  broker: embedded" "  groups:" \
    "    - {name: all, count: 10, id: \"fork_{:02}\", interval: 1s}" "steps:" "$@" > "$file"
}
children() { ps -o pid=,args= --ppid "$rf" 2>/dev/null; }
server_pid() { children | awk '/--fork-server/ {print $1; exit}'; }
device_pid() { children | awk -v id="--id $1 " 'index($0, id) {print $1; exit}'; }
have_server() { [ -n "$(server_pid)" ]; }
have_device() { [ -n "$(device_pid "$1")" ]; }
nice_of() { ps -o ni= -p "$1" 2>/dev/null | tr -d ' '; }
broker_pid() { ps -o pid=,comm= --ppid "$rf" 2>/dev/null | awk '$2 == "mosquitto" {print $1; exit}'; }
mine=$(nice)
# A copy made by the server carries the server's whole argument area.
from_server() { [ "$(wc -c < "/proc/$1/cmdline")" -gt 2048 ]; }

# A server reading /dev/null ends at once: 0, or 3 when it refuses.
"$device" --fork-server 0 < /dev/null 2>/dev/null
serves=$?
if [ "$serves" -eq 3 ]; then
  echo "robofleet-device refuses --fork-server (a sanitizer build): robots are spawned"
  scenario "$work/spawned.yaml" 20 \
    "  - expect: {name: online, status: online, within: 20s}" \
    "  - wait: 2s" \
    "  - expect: {name: nothing lost, lost: 0}"
  "$robofleet" run "$work/spawned.yaml" --runs-dir "$work/runs" --quiet > "$work/spawned.out" 2>&1 &
  rf=$!
  check "a robot appears" wait_for 200 have_device fork_03
  dev=$(device_pid fork_03)
  check "it was executed, not copied" eval '! from_server "${dev:-1}"'
  check "it runs at nice 19" test "$(nice_of "${dev:-1}")" = 19
  check "no server stays" eval '! have_server'
  wait "$rf"
  rc=$?
  rf=
  check "the run passes (exit $rc)" test "$rc" -eq 0
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
fi
check "robofleet-device --fork-server ends on an empty socket (exit $serves)" test "$serves" -eq 0

scenario "$work/cut.yaml" 70 \
  "  - expect: {name: online, status: online, within: 20s}" \
  "  - wait: 10s" \
  "  - power: {target: all, action: cycle, off: 2s}" \
  "  - expect: {name: back after the cycle, status: online, within: 20s}" \
  "  - wait: 3s" \
  "  - expect: {name: nothing lost, lost: 0, fleet_lost: 0}"
"$robofleet" run "$work/cut.yaml" --runs-dir "$work/runs" --quiet > "$work/cut.out" 2>&1 &
rf=$!
check "the run starts a fork server" wait_for 200 have_server
check "a robot appears" wait_for 200 have_device fork_03
dev=$(device_pid fork_03)
check "the robot is robofleet's child, started by the server" \
  test -n "$dev" -a "$(ps -o ppid= -p "${dev:-1}" | tr -d ' ')" = "$rf"
check "it was copied from the server" from_server "${dev:-1}"
check "ps shows its own command line" contains "$(ps -o args= -p "${dev:-1}")" "--id fork_03 --broker"
check "the robot runs at nice 19" test "$(nice_of "${dev:-1}")" = 19
if [ "$(id -u)" = 0 ]; then
  check "as root the run raises itself 10 levels (nice $(nice_of "$rf"), caller $mine)" \
    test "$(nice_of "$rf")" = $(( mine - 10 < -20 ? -20 : mine - 10 ))
else
  check "not root: the run keeps the caller's priority" test "$(nice_of "$rf")" = "$mine"
fi
check "the broker runs at the run's priority" test "$(nice_of "$(broker_pid)")" = "$(nice_of "$rf")"
check "so does the fork server" test "$(nice_of "$(server_pid)")" = "$(nice_of "$rf")"
kill -KILL "$(server_pid)" 2>/dev/null
check "the killed server is gone" wait_for 100 eval '! have_server'
# The power cycle restarts every robot: spawned now.
check "robots come back after the cycle" wait_for 400 eval '[ -n "$(device_pid fork_03)" ] && [ "$(device_pid fork_03)" != "$dev" ]'
dev2=$(device_pid fork_03)
check "a robot started after the server died is executed" eval '! from_server "${dev2:-1}"'
wait "$rf"
rc=$?
rf=
check "the run passes: back online, nothing lost (exit $rc)" test "$rc" -eq 0
check "its three expectations held" grep -q '"expectations": {"passed": 3, "failed": 0' \
  "$work"/runs/*/summary.json

scenario "$work/plain.yaml" 20 \
  "  - expect: {name: online, status: online, within: 20s}" \
  "  - wait: 2s"
ROBOFLEET_FORK_SERVER=0 ROBOFLEET_NICE=0 "$robofleet" run "$work/plain.yaml" --runs-dir "$work/runs" \
  --quiet > "$work/plain.out" 2>&1 &
rf=$!
check "ROBOFLEET_FORK_SERVER=0: robots start" wait_for 200 have_device fork_09
check "ROBOFLEET_FORK_SERVER=0: no server" eval '! have_server'
check "ROBOFLEET_NICE=0: the robot keeps the caller's priority" \
  test "$(nice_of "$(device_pid fork_09)")" = "$mine"
check "ROBOFLEET_NICE=0: so does the run" test "$(nice_of "$rf")" = "$mine"
wait "$rf"
rc=$?
rf=
check "ROBOFLEET_FORK_SERVER=0: the run passes (exit $rc)" test "$rc" -eq 0

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
