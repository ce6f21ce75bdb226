#!/usr/bin/env bash
# robofleet run end to end: the smoke scenario passes, a false expectation
# fails with a failing JUnit case, a malformed file is refused with its
# position, and SIGINT mid-run leaves no process behind.
# Usage: test_robofleet_run.sh ROBOFLEET SOURCE_DIR
set -u
robofleet=$1
src=$2
work=$(mktemp -d /tmp/robofleet-run-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
passes=0

. "$(dirname "$0")/check.sh"

# Processes of a run: anything whose command line names its run directory.
leftovers() {
  local n=0
  for d in /proc/[0-9]*; do
    grep -qa -- "$work/runs" "$d/cmdline" 2>/dev/null && n=$((n + 1))
  done
  echo "$n"
}

# 1. The shipped smoke scenario passes and its JUnit report is valid.
"$robofleet" run "$src/scenarios/smoke.yaml" --junit "$work/smoke.xml" --runs-dir "$work/runs" --quiet
check "smoke exits 0" test $? -eq 0
check "smoke JUnit has no failure" grep -q 'failures="0"' "$work/smoke.xml"
if command -v xmllint >/dev/null; then
  check "smoke JUnit is well-formed XML" xmllint --noout "$work/smoke.xml"
fi
run_dir=$(ls -d "$work"/runs/*-smoke | head -n 1)
for f in record.db world mosquitto.conf mosquitto.log summary.json devices/robot_001.log; do
  check "run directory has $f" test -e "$run_dir/$f"
done
check "summary counts no loss" grep -q '"lost": 0' "$run_dir/summary.json"
in_record=$(sqlite3 "$run_dir/record.db" 'SELECT count(*) FROM readings')
check "summary recorded = the record's count ($in_record)" grep -q "\"recorded\": $in_record," "$run_dir/summary.json"
check "no process left after the run" test "$(leftovers)" -eq 0
check "run directory has report.txt" grep -q "expectations 9 passed, 0 failed" "$run_dir/report.txt"

# The record answers the tutorial's two questions, by command and by SQL.
rows=$("$robofleet" query "$run_dir" --device robot_001 --last 24h | tail -n +2 | wc -l)
check "query --device lists robot_001's readings" test "$rows" -ge 5
hourly=$("$robofleet" query "$run_dir" --hourly | tail -n +2 | cut -f1 | sort -u | wc -l)
check "query --hourly has every robot" test "$hourly" -eq 20
check "query --sql runs SQL" test "$("$robofleet" query "$run_dir" --sql "SELECT count(DISTINCT device_id) FROM readings" | tail -n 1)" = 20
"$robofleet" query "$run_dir" --sql "DELETE FROM readings" >/dev/null 2>&1
check "query --sql is read-only" test "$("$robofleet" query "$run_dir" --sql "SELECT count(*) > 0 FROM readings" | tail -n 1)" = 1
"$robofleet" query "$run_dir" --sql "SELECT nonsense" >/dev/null 2>&1
check "bad SQL exits 2" test $? -eq 2
check "export influx is line protocol" grep -qE '^temperature,device=robot_001 value=22\.5,boot=1i,seq=1i [0-9]{19}$' \
  <("$robofleet" export "$run_dir" --format influx)
check "export csv has a header and every reading" test "$("$robofleet" export "$run_dir" --format csv | wc -l)" -eq \
  "$(( $("$robofleet" query "$run_dir" --sql "SELECT count(*) FROM readings" | tail -n 1) + 1 ))"
if command -v sqlite3 >/dev/null; then
  last24=$(sqlite3 "$run_dir/record.db" "SELECT count(*) FROM readings WHERE device_id = 'robot_001' AND recv_ms >= (CAST(strftime('%s', 'now') AS INTEGER) - 86400) * 1000;")
  check "sqlite3: last 24 h of robot_001" test "$last24" -ge 5
  means=$(sqlite3 "$run_dir/record.db" "SELECT count(DISTINCT device_id) FROM (SELECT device_id, round(t_sum / t_n, 2) FROM hourly);")
  check "sqlite3: hourly mean per device" test "$means" -eq 20
fi

# 2. A false expectation: exit 1 and a failing test case.
cat > "$work/false.yaml" <<'YAML'
name: false-expectation
fleet:
  groups:
    - {name: g, count: 2, interval: 500ms}
steps:
  - expect: {target: all, status: online, within: 10s}
  - expect: {name: impossible, target: g_001, messages: {min: 1000}, within: 1s}
YAML
"$robofleet" run "$work/false.yaml" --junit "$work/false.xml" --runs-dir "$work/runs" --quiet
check "false expectation exits 1" test $? -eq 1
check "JUnit names the failing case" grep -q '<testcase name="impossible"' "$work/false.xml"
check "JUnit counts one failure" grep -q 'failures="1"' "$work/false.xml"

# 2b. A run that cannot finish (its duration cap cuts the timeline) fails in JUnit too.
cat > "$work/fault.yaml" <<'YAML'
name: unfinished
duration: 5s
fleet:
  groups:
    - {name: g, count: 1, interval: 500ms}
steps:
  - expect: {target: all, status: online, within: 4s}
  - wait: 30s
YAML
"$robofleet" run "$work/fault.yaml" --junit "$work/fault.xml" --runs-dir "$work/runs" --quiet 2>/dev/null
check "unfinished run exits 1" test $? -eq 1
check "unfinished run fails in JUnit" grep -q '<testcase name="run completed without crashes"' "$work/fault.xml"

# 3. A malformed file: exit 2 and file:line:col, before anything starts.
printf 'fleet:\n  groups:\n    - {name: g, count: 2, interval: 5x}\nsteps:\n  - wait: 1s\n' > "$work/bad.yaml"
before=$(ls "$work/runs" | wc -l)
out=$("$robofleet" run "$work/bad.yaml" --runs-dir "$work/runs" 2>&1)
check "malformed file exits 2" test $? -eq 2
check "error names file:line:col" grep -q "bad.yaml:3:[0-9]*: " <<<"$out"
check "nothing started for a bad file" test "$(ls "$work/runs" | wc -l)" -eq "$before"
"$robofleet" run "$src/scenarios/smoke.yaml" --broker "host:99999" --runs-dir "$work/runs" >/dev/null 2>&1
check "bad --broker exits 2" test $? -eq 2
check "nothing started for a bad --broker" test "$(ls "$work/runs" | wc -l)" -eq "$before"
"$robofleet" check "$work/bad.yaml" >/dev/null 2>&1
check "check refuses it too" test $? -eq 2
"$robofleet" check "$src/scenarios/smoke.yaml" >/dev/null
check "check accepts the smoke scenario" test $? -eq 0

# 4. SIGINT mid-run: exit 130, every device and the broker gone.
cat > "$work/long.yaml" <<'YAML'
name: long
fleet:
  groups:
    - {name: g, count: 5, interval: 500ms}
steps:
  - expect: {target: all, status: online, within: 10s}
  - wait: 10m
YAML
"$robofleet" run "$work/long.yaml" --runs-dir "$work/runs" > "$work/long.out" 2>&1 &
pid=$!
# Wait (bounded) until the run reaches its long wait step.
for _ in $(seq 300); do
  grep -q "long.yaml:7: wait" "$work/long.out" && break
  sleep 0.1
done
check "long run reached its wait step" grep -q "long.yaml:7: wait" "$work/long.out"
kill -INT "$pid"
wait "$pid"
check "SIGINT exits 130" test $? -eq 130
check "no process left after SIGINT" test "$(leftovers)" -eq 0

# 5. Even a SIGKILLed robofleet leaves nothing: devices and broker follow it.
"$robofleet" run "$work/long.yaml" --runs-dir "$work/runs" > "$work/long2.out" 2>&1 &
pid=$!
for _ in $(seq 300); do
  grep -q "long.yaml:7: wait" "$work/long2.out" && break
  sleep 0.1
done
check "second long run reached its wait step" grep -q "long.yaml:7: wait" "$work/long2.out"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
# They shut down on their own (SIGTERM from the kernel); allow them 15 s.
for _ in $(seq 150); do
  [ "$(leftovers)" -eq 0 ] && break
  sleep 0.1
done
check "no process left after SIGKILL of robofleet" test "$(leftovers)" -eq 0

echo "$passes passed, $failures failed"
test "$failures" -eq 0
