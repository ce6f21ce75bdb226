#!/usr/bin/env bash
# The Raspberry Pi build over HTTP, in CI: the arm64 robofleet-robot under
# qemu-aarch64 with transport = http, POSTing through libcurl to the ingest
# endpoint (tests/integration/ingest_serve, the endpoint `robofleet run`
# serves, alone) on a free loopback port, with a fixture IIO tree. It checks
# that the readings are recorded in the endpoint's database with the
# fixture's values, boot 1 and seq 1, 2, 3... in order and none lost; that
# `stop` and `start` queued at the endpoint reach the robot (while it posts
# readings, and through its command poll while it is stopped); that
# SIGTERM ends it with 0; and that a second boot is recorded as boot 2 from
# seq 1.
# Usage: sbc_http_qemu.sh SOURCE_DIR ARM64_BUILD_DIR VIRTUAL_BUILD_DIR
# (VIRTUAL_BUILD_DIR: the top-level build, whose ingest_serve is used; built
# in a scratch directory when it has none.)
set -u
src=$1
out=$2
virtual=$3
id=pi_http
work=$(mktemp -d /tmp/robofleet-sbc-http-XXXXXX)
robot_pid= serve_pid=
failures=0
passes=0
. "$src/tests/integration/check.sh"
. "$src/firmware/boards/linux-sbc/tests/iio_fixture.sh"

cleanup() {
  [ -n "$robot_pid" ] && kill -KILL "$robot_pid" 2>/dev/null
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  exec 3>&- 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

finish() {
  if [ "$failures" -ne 0 ]; then
    for f in robot.log robot2.log serve.log control.out; do
      [ -s "$work/$f" ] && { echo "---- $f"; tail -n 30 "$work/$f"; }
    done
  fi
  echo "$passes passed, $failures failed"; [ "$failures" -eq 0 ]; exit $?
}

for tool in aarch64-linux-gnu-gcc qemu-aarch64 sqlite3; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

# ---- 1. the arm64 build (the plain test's, brought up to date) ----------------
cmake -S "$src/firmware/boards/linux-sbc" -B "$out" \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" >"$work/cmake.log" 2>&1 &&
  cmake --build "$out" -j"$(nproc)" >>"$work/cmake.log" 2>&1
check "arm64 build succeeds" test $? -eq 0 || { cat "$work/cmake.log"; finish; }
bin=$out/robofleet-robot
check "robofleet-robot needs libcurl" \
  grep -q 'NEEDED.*libcurl' <(aarch64-linux-gnu-readelf -d "$bin" 2>/dev/null || readelf -d "$bin")

# ---- 2. the ingest endpoint -------------------------------------------------------
serve=$virtual/tests/integration/ingest_serve
if [ ! -x "$serve" ]; then
  cmake -S "$src" -B "$work/host" >"$work/host.log" 2>&1 &&
    cmake --build "$work/host" -j"$(nproc)" --target ingest_serve >>"$work/host.log" 2>&1
  serve=$work/host/tests/integration/ingest_serve
fi
check "ingest_serve is built" test -x "$serve" || { tail -n 20 "$work/host.log"; finish; }

db=$work/record.db
mkfifo "$work/control"
"$serve" --db "$db" --port-file "$work/port" <"$work/control" >"$work/control.out" 2>"$work/serve.log" &
serve_pid=$!
# Its control lines ("command ID stop") go in through the fifo, kept open here.
exec 3>"$work/control"
wait_for 100 test -s "$work/port"
check "ingest_serve listens" test -s "$work/port" || finish
port=$(cat "$work/port")
answered() { test "$(wc -l <"$work/control.out")" -gt "$1"; }
ask() { # ask LINE -> its answer on stdout
  local before
  before=$(wc -l <"$work/control.out")
  echo "$1" >&3
  wait_for 50 answered "$before" && tail -n 1 "$work/control.out"
}
control() { test "$(ask "$1")" = ok; }
requests() { ask stats | sed -n 's/^requests=\([0-9]*\) .*/\1/p'; }
requests_at_least() { [ "$(requests)" -ge "$1" ]; }

# ---- 3. fixture tree, robot under qemu ------------------------------------------
iio_fixture "$work" 23400 45600 1234

cat >"$work/robot.conf" <<CONF
device_id = $id
transport = http
ingest = http://127.0.0.1:$port/api/sensors/data
http_timeout = 3s
command_poll = 1s
publish_interval = 1s
median_window = 1
log_level = debug
sysfs_root = $sys
net_iface = wlan0
wireless_path = $work/wireless
state_dir = $work/state
CONF
start_robot() { # start_robot LOG
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" -c "$work/robot.conf" 2>"$work/$1" &
  robot_pid=$!
}
stop_robot() { # -> the robot's exit status
  kill -TERM "$robot_pid"
  wait "$robot_pid"
  local rc=$?
  robot_pid=
  return "$rc"
}
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$@"; }
count() { sql "SELECT count(*) FROM readings WHERE device_id = '$id' AND boot = ${1:-1}"; }
count_at_least() { [ "$(count "${2:-1}")" -ge "$1" ]; }
logged() { grep -q -- "$2" "$work/$1"; }

start_robot robot.log
wait_for 600 count_at_least 3
check "readings recorded by the endpoint" count_at_least 3
check "the robot says it is online over HTTP" logged robot.log "^<6>online as $id over HTTP, 127.0.0.1:$port/api/sensors/data"
first=$(sql "SELECT raw FROM readings WHERE device_id = '$id' ORDER BY id LIMIT 1")
echo "     first: $first"
check "the body is the contract's JSON" \
  contains "$first" "^{\"device_id\":\"$id\",\"boot\":1,\"seq\":1,\"timestamp\":\"20[0-9-]*T[0-9:.]*Z\""
check "with the fixture's values" \
  test "$(sql "SELECT temperature, humidity, distance FROM readings WHERE device_id = '$id' ORDER BY id LIMIT 1")" = "23.4|45.6|123.4"

# ---- 4. stop and start through the endpoint ------------------------------------
check "stop queued at the endpoint" control "command $id stop"
wait_for 100 logged robot.log '^<6>command stop: sensing halted'
check "stop reaches the robot while it posts" logged robot.log '^<6>command stop: sensing halted'
halted=$(count)
# At most one reading may already be on its way; after it, silence while
# the robot keeps asking for commands (command_poll = 1s): three requests
# more at the endpoint, none of them a reading.
polled_from=$(requests)
wait_for 100 requests_at_least $((polled_from + 4))
check "the stopped robot keeps polling for commands" requests_at_least $((polled_from + 4))
quiet=$(($(count) - halted))
check "stop halts the readings (saw $quiet over 4 requests)" test "$quiet" -le 1
check "start queued at the endpoint" control "command $id start"
wait_for 100 logged robot.log '^<6>command start: sensing resumed'
check "start reaches the stopped robot through its command poll" \
  logged robot.log '^<6>command start: sensing resumed'
resumed_from=$(count)
wait_for 100 count_at_least $((resumed_from + 2))
check "start resumes the readings" count_at_least $((resumed_from + 2))

# ---- 5. SIGTERM, then a second boot ---------------------------------------------
stop_robot
check "SIGTERM exits 0" test $? -eq 0
n1=$(count)
check "boot 1: seq 1..$n1 recorded once each, in order" test \
  "$(sql "SELECT group_concat(seq, ',') FROM (SELECT seq FROM readings WHERE device_id = '$id' AND boot = 1 ORDER BY id)")" = \
  "$(seq -s, 1 "$n1")"
check "boot 1: no duplicates or conflicts, none missing" test \
  "$(sql "SELECT readings, duplicates, conflicts, min_seq, max_seq FROM boots WHERE device_id = '$id' AND boot = 1")" = \
  "$n1|0|0|1|$n1"

start_robot robot2.log
wait_for 600 count_at_least 2 2
check "boot 2 recorded" count_at_least 2 2
stop_robot
check "boot 2 exits 0 on SIGTERM" test $? -eq 0
n2=$(count 2)
check "boot 2: seq starts again at 1, in order" test \
  "$(sql "SELECT group_concat(seq, ',') FROM (SELECT seq FROM readings WHERE device_id = '$id' AND boot = 2 ORDER BY id)")" = \
  "$(seq -s, 1 "$n2")"
check "no body was refused" test "$(sql "SELECT count(*) FROM raw_messages")" = 0

kill -TERM "$serve_pid"
wait "$serve_pid"
check "ingest_serve exits 0" test $? -eq 0
serve_pid=
finish
