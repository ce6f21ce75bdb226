#!/usr/bin/env bash
# The verdict never passes over lost data: `robofleet run` with its record
# on a 3 MB file system (refused up front; with --allow-low-disk it fails,
# naming disk full and what was not stored), and with record.db held by
# another process's BEGIN EXCLUSIVE for 15 s (nothing lost, the wait
# logged with its length).
# Usage: test_record_faults.sh ROBOFLEET
# Needs root for the tmpfs mount; exits 77 (skipped) without it.
set -u
robofleet=$1
work=$(mktemp -d /tmp/robofleet-recfault-XXXXXX)
small="$work/small"
cleanup() {
  mountpoint -q "$small" 2>/dev/null && umount -l "$small"
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
passes=0

. "$(dirname "$0")/check.sh"

mkdir -p "$small"
if ! mount -t tmpfs -o size=3m tmpfs "$small" 2>/dev/null; then
  echo "skipped: cannot mount a tmpfs here (needs root)"
  exit 77
fi

# 1. Fifty robots at 200 ms for 40 s on 3 MB.
cat > "$work/full.yaml" <<'YAML'
name: disk-full
seed: 3
fleet:
  groups:
    - {name: b, count: 50, id: "b{:02}", interval: 200ms}
steps:
  - expect: {name: online, target: all, status: online, within: 20s}
  - wait: 40s
  - expect: {name: nothing lost, target: all, fleet_lost: 0}
YAML
"$robofleet" run "$work/full.yaml" --runs-dir "$small/runs" --quiet 2> "$work/refused.err"
rc=$?
check "a run that cannot fit is refused (exit 2, got $rc)" test "$rc" -eq 2
check "the refusal names the directory and the space needed" \
  grep -q "$small/runs has .* MB free; this run needs about .* MB" "$work/refused.err"
check "nothing was started" test ! -e "$small/runs"

start=$(date +%s)
"$robofleet" run "$work/full.yaml" --runs-dir "$small/runs" --allow-low-disk \
  --junit "$work/full.xml" > "$work/full.out" 2> "$work/full.err"
rc=$?
echo "disk-full run took $(( $(date +%s) - start )) s, exit $rc"
run_dir=$(ls -d "$small"/runs/*/ 2>/dev/null | head -n 1)
check "the disk-full run fails (exit 1, got $rc)" test "$rc" -eq 1
check "its verdict names disk full" grep -q "FAIL record complete: .*disk is full" "$work/full.out"
check "its JUnit has the failing case" grep -q 'name="record complete"' "$work/full.xml"
check "summary.json says the record is incomplete" \
  grep -q '"complete": false, "unstored_messages": [1-9]' "$run_dir/summary.json"
check "fleet_lost: 0 fails" grep -q "FAIL nothing lost" "$work/full.out"
check "report.txt says it too" grep -q "FAIL record complete: .*disk is full" "$run_dir/report.txt"
check "no reserved verdict file is left" test ! -e "$run_dir/.summary.json.part"
if [ "$failures" -ne 0 ]; then
  echo "--- stdout"; cat "$work/full.out"; echo "--- stderr"; tail -n 20 "$work/full.err"
  echo "--- summary"; cat "$run_dir/summary.json"
fi
umount -l "$small"

# 2. Twenty robots; another process holds record.db exclusively for 15 s.
cat > "$work/lock.yaml" <<'YAML'
name: locked
seed: 4
fleet:
  groups:
    - {name: l, count: 20, id: "l{:02}", interval: 500ms}
steps:
  - expect: {name: online, target: all, status: online, within: 20s}
  - wait: 45s
  - expect: {name: nothing lost, target: all, lost: 0, fleet_lost: 0, within: 20s}
YAML
"$robofleet" run "$work/lock.yaml" --runs-dir "$work/runs" --quiet > "$work/lock.out" 2> "$work/lock.err" &
run_pid=$!
# Wait (bounded: 60 s, a loaded machine starts slowly) for the record to
# hold readings, then lock it.
db=""
for _ in $(seq 1 600); do
  db=$(ls "$work"/runs/*/record.db 2>/dev/null | head -n 1)
  if [ -n "$db" ] && [ "$(sqlite3 "$db" 'SELECT count(*) FROM readings' 2>/dev/null || echo 0)" -ge 100 ]; then
    break
  fi
  sleep 0.1
done
locked_at=$(sqlite3 "$db" 'SELECT count(*) FROM readings' 2>/dev/null || echo 0)
check "the run recorded readings before the lock ($locked_at)" test "$locked_at" -ge 100
# .timeout: the recorder may hold the write lock for a moment right then.
sqlite3 -bail "$db" <<'SQL'
.timeout 10000
BEGIN EXCLUSIVE;
.shell sleep 15
COMMIT;
SQL
wait "$run_pid"
rc=$?
run_dir=$(dirname "$db")
check "the locked run passes (exit 0, got $rc)" test "$rc" -eq 0
check "readings went on after the lock ($locked_at then)" \
  test "$(sqlite3 "$db" 'SELECT count(*) FROM readings')" -gt $((locked_at + 400))
check "summary: lost 0" grep -q '"lost": 0,' "$run_dir/summary.json"
gaps=$(sqlite3 "$db" "SELECT count(*) FROM boots WHERE readings != max_seq - min(min_seq, 1) + 1")
check "every seq of every boot is in the record" test "$gaps" -eq 0
check "the log says the record was locked" grep -q "record.db locked by another process" "$work/lock.err"
check "and for how long (about 15 s)" grep -Eq "lock released after 1[0-9]{4} ms" "$work/lock.err"
check "summary.json counts the lock waits" grep -Eq '"lock_waits": [1-9]' "$run_dir/summary.json"
if [ "$failures" -ne 0 ]; then
  echo "--- stderr"; tail -n 20 "$work/lock.err"; echo "--- summary"; cat "$run_dir/summary.json"
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
