#!/usr/bin/env bash
# One shipped scenario end to end: `robofleet run` must pass it (exit 0,
# no failing JUnit case), record its faults, and leave no process behind.
# On failure the run's verdict and summary are printed.
# Usage: run_scenario.sh ROBOFLEET SCENARIO_FILE [MIN_FAULT_ROWS]
set -u
robofleet=$1
scenario=$2
min_faults=${3:-1}
work=$(mktemp -d /tmp/robofleet-scenario-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else failures=$((failures + 1)); echo "FAIL $name"; fi
}

start=$(date +%s)
"$robofleet" run "$scenario" --junit "$work/junit.xml" --runs-dir "$work/runs" --quiet
rc=$?
echo "run took $(( $(date +%s) - start )) s"
run_dir=$(ls -d "$work"/runs/*/ | head -n 1)
check "robofleet run exits 0" test "$rc" -eq 0
check "JUnit has no failure" grep -q 'failures="0"' "$work/junit.xml"
faults=$(sqlite3 "$run_dir/record.db" 'SELECT count(*) FROM faults' 2>/dev/null || echo 0)
check "the faults table holds the timeline ($faults rows >= $min_faults)" test "$faults" -ge "$min_faults"
stored_twice=$(sqlite3 "$run_dir/record.db" \
  'SELECT count(*) FROM (SELECT 1 FROM readings GROUP BY device_id, boot, seq HAVING count(*) > 1)')
check "no reading is stored twice" test "$stored_twice" -eq 0
# The summary is taken after the recorder's last commit: it is the record.
in_record=$(sqlite3 "$run_dir/record.db" 'SELECT count(*) FROM readings' 2>/dev/null || echo -1)
in_summary=$(sed -n 's/.*"recorded": \([0-9]*\).*/\1/p' "$run_dir/summary.json")
check "summary.json recorded ($in_summary) = readings in record.db ($in_record)" \
  test "${in_summary:-x}" = "$in_record"
check "summary.json says the record is complete" grep -q '"complete": true' "$run_dir/summary.json"
left=0
for d in /proc/[0-9]*; do
  grep -qa -- "$work/runs" "$d/cmdline" 2>/dev/null && left=$((left + 1))
done
check "no process left behind" test "$left" -eq 0

if [ "$failures" -ne 0 ]; then
  echo "--- report.txt"; cat "$run_dir/report.txt" 2>/dev/null
  echo "--- summary.json"; cat "$run_dir/summary.json" 2>/dev/null
  exit 1
fi
cat "$run_dir/report.txt"
