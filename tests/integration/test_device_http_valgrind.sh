#!/usr/bin/env bash
# robofleet-device on the HTTP transport under valgrind, against the ingest
# endpoint (ingest_serve): readings POSTed and stored, a spell of 503s and
# one of connection resets (the error paths of the client and its parser),
# a stop and a start through the answers and the command poll, then
# SIGTERM. Any leak or invalid access fails valgrind's exit status; every
# reading taken before the stop is recorded once, in order.
# Usage: test_device_http_valgrind.sh ROBOFLEET_DEVICE INGEST_SERVE
set -u
device=$1
serve=$2
work=$(mktemp -d /tmp/robofleet-http-vg-XXXXXX)
srv_pid= dev_pid=
cleanup() {
  [ -n "$dev_pid" ] && kill -KILL "$dev_pid" 2>/dev/null
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
passes=0
. "$(dirname "$0")/check.sh"
. "$(dirname "$0")/ingest_serve.sh"

db=$work/record.db
ingest_serve_start "$serve" "$db" "$work"
check "ingest_serve listens" test -n "$port"
readings() { ctl flush >/dev/null; sqlite3 "$db" "SELECT count(*) FROM readings WHERE device_id = 'vg_http'" 2>/dev/null || echo 0; }
at_least() { [ "$(readings)" -ge "$1" ]; }

valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
  "$device" --id vg_http --transport http --ingest "http://127.0.0.1:$port/api/sensors/data" \
  --interval 500ms --state-dir "$work/state" --backoff-base 200ms --backoff-cap 500ms \
  --log-level info >"$work/device.out" 2>"$work/device.err" &
dev_pid=$!

# Under valgrind the first reading takes a few seconds.
wait_for 300 at_least 3
check "readings are stored over HTTP" at_least 3
check "503 for a while" ctl fault status 503
n=$(readings)
sleep 2 # the fault's length: two seconds of readings wait in the outbox
check "resets for a while" ctl fault reset
sleep 1
check "served again" ctl fault none
wait_for 300 at_least $((n + 6))
check "the readings of the faulted spell arrive" at_least $((n + 6))
check "stop queued" ctl command vg_http stop
wait_for 100 grep -q "command stop" "$work/device.err"
n=$(readings)
check "start queued" ctl command vg_http start
# While stopped it posts nothing: start comes through the command poll (5 s).
wait_for 300 at_least $((n + 2))
check "started again through the poll" at_least $((n + 2))
kill -TERM "$dev_pid"
wait "$dev_pid"
rc=$?
dev_pid=
check "exits 0 under valgrind, no leak or invalid access (rc $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 40 "$work/device.err"
ctl flush >/dev/null
check "boot 1 seq has no gap and no repeat" test "$(sqlite3 "$db" \
  "SELECT count(*) = max(seq) - min(seq) + 1 AND count(DISTINCT seq) = count(*) FROM readings WHERE device_id = 'vg_http'")" = 1

[ "$failures" -ne 0 ] && { echo "---- ingest_serve"; tail -n 20 "$work/serve.err"; }
echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
