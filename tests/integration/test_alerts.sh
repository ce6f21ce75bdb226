#!/usr/bin/env bash
# Alert rules end to end. Against an external mosquitto: a group warmed past
# the threshold raises its alert within its hold, a cool group's does not;
# the retained alerts/<id>/<name> messages are there for `mosquitto_sub -t
# 'alerts/#'` after the run, the alerts table and the summaries (console,
# summary.json, Markdown) hold them. An expect that the cool group's alert
# is raised fails the run with exit 1 and says why. With security: password
# the broker's ACL lets the run publish its alerts (the recorder's identity
# reads them while the run is on).
# Usage: test_alerts.sh ROBOFLEET
set -u
robofleet=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/robofleet-alerts-XXXXXX)
broker_pid=
run_pid=
failures=0
passes=0
# shellcheck source=check.sh
. "$here/check.sh"

cleanup() {
  [ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

PATH=$PATH:/usr/sbin
for tool in mosquitto mosquitto_sub sqlite3; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

await() { # await COMMAND SECONDS
  local deadline=$((SECONDS + $2))
  until eval "$1"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

scenario() { # scenario FILE SECURITY STEP_LINES
  cat >"$1" <<YAML
name: alerts
seed: 5
duration: 2m
fleet:
  security: $2
  groups:
    - {name: hot, count: 2, id: "hot_{}", interval: 1s, environment: {temperature: 24}}
    - {name: cool, count: 1, id: "cool_{}", interval: 1s, environment: {temperature: 21}}
alerts:
  - {name: too_hot, metric: temperature, above: 30, for: 2s, clear_below: 29}
steps:
  - expect: {name: online, status: online, within: 20s}
  - set: {target: "group:hot", temperature: 35}
$3
YAML
}

# ---- an external broker, so the retained alerts outlive the run ---------------
start_mosquitto "$work"
check "an external mosquitto on 127.0.0.1:$port" bash -c "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"

scenario "$work/hot.yaml" none "  - expect:
      name: the hot group's alert is raised
      target: \"group:hot\"
      alert: {name: too_hot, state: raised}
      within: 15s
  - expect: {name: the cool group's is not, target: \"group:cool\", alert: {name: too_hot, state: none}}"
"$robofleet" run "$work/hot.yaml" --broker "127.0.0.1:$port" --runs-dir "$work/runs" \
  --summary-md "$work/summary.md" --quiet >"$work/hot.out" 2>&1
check "the run passes" test $? -eq 0
run_dir=$(ls -d "$work"/runs/*/ | head -1)
mosquitto_sub -h 127.0.0.1 -p "$port" -t 'alerts/#' -v -W 5 -C 2 >"$work/sub" 2>&1
check "mosquitto_sub -t 'alerts/#' gets both retained alerts after the run" \
  test "$(grep -c '"state":"raised"' "$work/sub")" -eq 2
check "... on alerts/<id>/<name>" grep -q '^alerts/hot_1/too_hot {' "$work/sub"
check "... with the rule, threshold and latency" \
  grep -q '"rule":"too_hot","device_id":"hot_2","metric":"temperature","value":35.*"threshold":30,.*"latency_ms":' "$work/sub"
check "... and none for the cool group" bash -c "! grep -q cool_1 '$work/sub'"
rows=$(sqlite3 "$run_dir/record.db" "SELECT count(*) FROM alerts WHERE rule = 'too_hot' AND
  state = 'raised' AND device_id LIKE 'hot_%' AND value = 35 AND threshold = 30 AND
  latency_ms >= 2000 AND latency_ms = ms - crossed_ms")
check "the alerts table holds both raises, held for 2 s ($rows)" test "$rows" = 2
# Raised by the reading that completes the hold: the device's first reading
# at least its for (2 s) after the crossing by device time. Judged by device
# time, not by the run's clock: alerts.ms is that reading's arrival, which
# includes its delivery.
late=$(sqlite3 "$run_dir/record.db" "SELECT count(*) FROM alerts a WHERE rule = 'too_hot' AND
  state = 'raised' AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.device_id = a.device_id
  AND r.recv_ms = a.ms AND r.ts_ms - a.crossed_ms BETWEEN 2000 AND 3999 AND NOT EXISTS
  (SELECT 1 FROM readings e WHERE e.device_id = a.device_id AND e.ts_ms < r.ts_ms
   AND e.ts_ms - a.crossed_ms >= 2000))")
check "each raised by the first reading held for 2 s (device time): $late not" test "$late" = 0
check "report.txt counts them" grep -q "^alert too_hot: raised 2, cleared 0" "$run_dir/report.txt"
check "summary.json too" grep -q '"alerts": \[{"name": "too_hot", "raised": 2, "cleared": 0' \
  "$run_dir/summary.json"
# (the cell escapes Markdown: too\_hot)
check "the Markdown summary too" grep -qF '| too\_hot | 2 | 0 | ' "$work/summary.md"

# ---- a wrong expect fails the run ---------------------------------------------
scenario "$work/wrong.yaml" none "  - expect:
      name: the cool group's alert is raised
      target: \"group:cool\"
      alert: {name: too_hot, state: raised}
      within: 5s"
"$robofleet" run "$work/wrong.yaml" --broker "127.0.0.1:$port" --runs-dir "$work/wrong" \
  --quiet >"$work/wrong.out" 2>&1
check "an expect on an alert that is not raised fails the run (exit 1)" test $? -eq 1
check "... saying why" grep -q "FAIL the cool group's alert is raised: .*cool_1: alert too_hot is none, want raised" \
  "$(ls -d "$work"/wrong/*/ | head -1)/report.txt"

# ---- security: password: the ACL lets the run publish alerts ------------------
scenario "$work/secure.yaml" password "  - expect: {name: raised, target: \"group:hot\", alert: {name: too_hot, state: raised}, within: 15s}
  - wait: 10s"
"$robofleet" run "$work/secure.yaml" --runs-dir "$work/secure" >"$work/secure.out" 2>&1 &
run_pid=$!
await 'grep -q "devices started" "$work/secure.out"' 60
sec_dir=$(ls -d "$work"/secure/*/ 2>/dev/null | head -1)
sport=$(awk '/^listener/ {print $2}' "$sec_dir/mosquitto.conf" 2>/dev/null)
pw=$(cat "$sec_dir/pki/clients/robofleet-recorder.password" 2>/dev/null)
mosquitto_sub -h 127.0.0.1 -p "${sport:-1}" -u robofleet-recorder -P "$pw" -t 'alerts/#' -v \
  -W 40 -C 1 >"$work/secure.sub" 2>&1
check "with security: password the alert reaches the broker" \
  grep -q '^alerts/hot_[12]/too_hot {"state":"raised"' "$work/secure.sub"
wait "$run_pid"
status=$?
run_pid=
check "the secure run passes (exit $status)" test "$status" -eq 0

if [ "$failures" -ne 0 ]; then
  for f in hot.out sub wrong.out secure.out secure.sub; do echo "--- $f"; cat "$work/$f"; done
  echo "--- report.txt"; cat "$run_dir/report.txt"
fi
echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
