#!/usr/bin/env bash
# A fleet split into shards is the same experiment: scenarios/shard-400.yaml
# run once whole and once as 4 shards (separate processes, one external
# mosquitto), then `robofleet merge`. The merged run has the same devices,
# the same fault events per device (within a second of the timeline), lost
# 0 in both, the same expectation verdicts; its JUnit passes xmllint and its
# record PRAGMA integrity_check. Then one shard killed mid-run: the merged
# verdict fails and names it.
# Usage: test_shard.sh ROBOFLEET SOURCE_DIR
set -u
robofleet=$1
src=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/robofleet-shard-XXXXXX)
broker_pid=
pids=()
failures=0
passes=0
# shellcheck source=check.sh
. "$here/check.sh"

cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

for tool in mosquitto sqlite3 xmllint; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null ||
    { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done
PATH=$PATH:/usr/sbin

await() { # await COMMAND SECONDS
  local deadline=$((SECONDS + $2))
  until eval "$1"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

start_mosquitto "$work" "$(printf 'max_connections -1\nmax_queued_messages 100000')"
check "one external mosquitto on 127.0.0.1:$port" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 1 || exit 0"

scenario=$src/scenarios/shard-400.yaml
# ---- the whole fleet -----------------------------------------------------------
"$robofleet" run "$scenario" --broker "127.0.0.1:$port" --runs-dir "$work/whole" --quiet \
  >"$work/whole.out" 2>&1
check "the whole fleet passes" test $? -eq 0
whole=$(ls -d "$work"/whole/*/ | head -1)

# ---- four shards, one run id ---------------------------------------------------
for i in 0 1 2 3; do
  "$robofleet" run "$scenario" --shard "$i/4" --broker "127.0.0.1:$port" --run-id t4 \
    --runs-dir "$work/shards" --quiet >"$work/shard$i.out" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
pids=()
check "every shard passes" test "$status" -eq 0
"$robofleet" merge "$work"/shards/*/ -o "$work/merged" --junit "$work/merged.xml" >"$work/merge.out" 2>&1
check "robofleet merge passes" test $? -eq 0
db=$work/merged/record.db
q() { sqlite3 "$1" "$2"; }

check "the merged record is sound" test "$(q "$db" 'PRAGMA integrity_check')" = ok
check "the merged JUnit is well-formed" xmllint --noout "$work/merged.xml"
q "$db" 'SELECT device_id FROM devices ORDER BY device_id' >"$work/dev.merged"
q "$whole/record.db" 'SELECT device_id FROM devices ORDER BY device_id' >"$work/dev.whole"
check "the same devices in both records" cmp -s "$work/dev.merged" "$work/dev.whole"
check "... 400 of them" test "$(wc -l <"$work/dev.merged")" = 400
check "... and 400 in the merged run's device list" \
  test "$(q "$db" 'SELECT count(*) FROM run_devices')" = 400
# Fault events per device, each at its offset from the run's first injection,
# in whole seconds: the same list either way (a second of slack for rounding).
events() {
  q "$1" "SELECT device_id, kind, action, ms - (SELECT min(ms) FROM faults WHERE action = 'inject')
          FROM faults WHERE device_id IS NOT NULL ORDER BY device_id, kind, action, ms"
}
events "$whole/record.db" >"$work/ev.whole"
events "$db" >"$work/ev.merged"
check "the same fault events per device" \
  test "$(cut -d'|' -f1-3 "$work/ev.whole" | md5sum)" = "$(cut -d'|' -f1-3 "$work/ev.merged" | md5sum)"
check "... at the same times (within a second)" awk -F'|' '
  NR == FNR { t[FNR] = $4; next }
  { d = $4 - t[FNR]; if (d < 0) d = -d; if (d > 1000) { print "off by " d " ms: " $0; bad = 1 } }
  END { exit bad }' "$work/ev.whole" "$work/ev.merged"
check "there were fault events to compare" test "$(wc -l <"$work/ev.whole")" -gt 50
lost() { grep -o '"lost": [0-9]*' "$1" | head -1 | grep -o '[0-9]*$'; }
check "lost 0, whole" test "$(lost "$whole/summary.json")" = 0
check "lost 0, merged" test "$(lost "$work/merged/summary.json")" = 0
verdicts() { q "$1" "SELECT line, name, passed FROM run_expectations ORDER BY line, name"; }
verdicts "$whole/record.db" >"$work/verdicts.whole"
verdicts "$db" >"$work/verdicts.merged"
check "the same expectation verdicts" cmp -s "$work/verdicts.whole" "$work/verdicts.merged"
check "... all $(grep -c '' "$work/verdicts.whole") of the scenario's" \
  test "$(grep -c "" "$work/verdicts.whole")" -eq 7
check "... all of them held" test "$(q "$db" 'SELECT count(*) FROM run_expectations WHERE NOT passed')" = 0

# ---- a shard killed mid-run ------------------------------------------------------
for i in 0 1 2 3; do
  "$robofleet" run "$scenario" --shard "$i/4" --broker "127.0.0.1:$port" --run-id k4 \
    --runs-dir "$work/killed" --quiet >"$work/k$i.out" 2>&1 &
  pids+=($!)
done
await 'grep -q "finished\": false" "$work"/killed/*shard2*/shard.json 2>/dev/null &&
       grep -q "started_ms\": [1-9]" "$work"/killed/*shard2*/shard.json' 120
kill -KILL "${pids[2]}"
for p in "${pids[@]}"; do wait "$p"; done
pids=()
"$robofleet" merge "$work"/killed/*/ -o "$work/merged-k" >"$work/merge-k.out" 2>&1
check "a merge with a killed shard fails" test $? -eq 1
check "... naming shard 2" grep -q "shard 2 of 4" "$work/merge-k.out"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
