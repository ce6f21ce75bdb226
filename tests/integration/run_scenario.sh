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
in_summary=$(grep '"readings": {' "$run_dir/summary.json" | sed -n 's/.*"recorded": \([0-9]*\).*/\1/p')
check "summary.json recorded ($in_summary) = readings in record.db ($in_record)" \
  test "${in_summary:-x}" = "$in_record"
check "summary.json says the record is complete" grep -q '"complete": true' "$run_dir/summary.json"
# Every group's books add up, and agree with record.db device by device.
bad_groups=$(grep '"firmware": ' "$run_dir/summary.json" | awk '{
  a = s = n = -1
  if (match($0, /"attempted": [0-9]+/)) a = substr($0, RSTART + 13, RLENGTH - 13)
  if (match($0, /"sent": [0-9]+/)) s = substr($0, RSTART + 8, RLENGTH - 8)
  if (match($0, /"not_sent": [0-9]+/)) n = substr($0, RSTART + 12, RLENGTH - 12)
  if (a + 0 != s + n) bad++ } END { print bad + 0 }')
check "every group: attempted = sent + not sent" test "$bad_groups" -eq 0
groups_recorded=$(grep '"firmware": ' "$run_dir/summary.json" |
  sed -n 's/.*"recorded": \([0-9]*\).*/\1/p' | awk '{ t += $1 } END { print t + 0 }')
accounts_recorded=$(sqlite3 "$run_dir/record.db" 'SELECT coalesce(sum(recorded), 0) FROM device_accounts')
check "the groups' recorded ($groups_recorded) = device_accounts ($accounts_recorded)" \
  test "$groups_recorded" -eq "$accounts_recorded"
off=$(sqlite3 "$run_dir/record.db" "SELECT count(*) FROM device_accounts a WHERE recorded !=
  (SELECT count(*) FROM readings r WHERE r.device_id = a.device_id) + CASE a.firmware WHEN 'robot' THEN 0
  ELSE (SELECT count(*) FROM metric_messages m WHERE m.device_id = a.device_id AND m.part = 0) END")
check "each device's recorded is what record.db holds for it ($off differ)" test "$off" -eq 0
# Its report.html runs in a browser with the run's numbers (where Chromium is).
check "report.html written" test -s "$run_dir/report.html"
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chromium" ]; then
  timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
    --dump-dom "file://$run_dir/report.html" >"$work/dom.html" 2>"$work/chromium.log"
  body=$(grep -o '<body[^>]*>' "$work/dom.html")
  check "report.html: every script ran, no error" grep -q 'data-rendered="yes".*data-errors="0"\|data-errors="0".*data-rendered="yes"' <<<"$body"
  check "report.html: no console error" bash -c "! grep -E 'CONSOLE.*(Uncaught|Error)' '$work/chromium.log'"
  charts=$(sed -n 's/.*data-charts="\([0-9]*\)".*/\1/p' <<<"$body")
  check "report.html: charts drawn (${charts:-0})" test "${charts:-0}" -ge 6
  page=$(grep -o '<span data-key="recorded"><b>[0-9]*</b>' "$work/dom.html" | grep -o '[0-9]\+')
  check "report.html: recorded ($page) = summary.json ($in_summary)" test "${page:-x}" = "$in_summary"
fi
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
