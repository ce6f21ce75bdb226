#!/usr/bin/env bash
# The live InfluxDB feed against a real influxd (Debian package influxdb,
# 1.6) on a free loopback port: a 5-robot run with --influx writes the
# record's readings, per device and metric, and the tutorial's hourly
# mean query answers the record's mean; a second run whose influxd is
# killed midway still passes and counts the points it could not write.
# docs/grafana/robofleet.json is valid JSON and its panels' queries run on
# the points the feed wrote. Exit 77 (skipped) when influxd is not
# installed or does not start.
# Usage: test_influx_live.sh ROBOFLEET SOURCE_DIR
set -u
robofleet=$1
src=$2
dashboard=$src/docs/grafana/robofleet.json
work=$(mktemp -d /tmp/robofleet-influx-XXXXXX)
influx_pid=
stop_influx() {
  if [ -n "$influx_pid" ]; then
    kill "$influx_pid" 2>/dev/null
    wait "$influx_pid" 2>/dev/null
    influx_pid=
  fi
}
trap 'stop_influx; rm -rf "$work"' EXIT
failures=0
passes=0

. "$(dirname "$0")/check.sh"

# The dashboard first: its JSON needs no server.
python3 - "$dashboard" >"$work/panel_queries" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = {v["name"] for v in d["templating"]["list"]}
assert "datasource" in names and "device" in names, names
for p in d["panels"]:
    for t in p["targets"]:
        print(t["query"])
PY
check "docs/grafana/robofleet.json is valid JSON with its variables" test $? -eq 0
check "a panel per metric" test "$(wc -l <"$work/panel_queries")" -eq 3

influxd=$(command -v influxd || true)
[ -x /usr/bin/influxd ] && influxd=/usr/bin/influxd
if [ -z "$influxd" ]; then
  echo "SKIP: influxd is not installed (Debian package influxdb; scripts/deps.sh installs it)"
  exit 77
fi
for tool in curl sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_influx DIR: influxd with its data in DIR on a free loopback port;
# sets port. Everything but the HTTP API off; nothing leaves the machine.
start_influx() {
  local dir=$1
  port=$(free_port)
  local rpc
  rpc=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$port"
  log-enabled = false
[continuous_queries]
  enabled = false
[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false
CONF
  "$influxd" run -config "$dir/influxdb.conf" >"$dir/influxd.log" 2>&1 &
  influx_pid=$!
  # Up within 30 s or not at all: poll /ping with a bound.
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/ping" 2>/dev/null; then
      return 0
    fi
    kill -0 "$influx_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "SKIP: influxd did not start on 127.0.0.1:$port:"
  tail -n 20 "$dir/influxd.log"
  exit 77
}

influxql() { # influxql PORT QUERY: JSON answer, times in ms
  curl -fsS -G "http://127.0.0.1:$1/query" --data-urlencode "db=robofleet" \
    --data-urlencode "epoch=ms" --data-urlencode "q=$2"
}

cat >"$work/live.yaml" <<'YAML'
name: influx-live
description: Five robots for the live InfluxDB feed.
seed: 7
duration: 40s
fleet:
  broker: embedded
  groups:
    - name: lab
      count: 5
      id: "robot_{:03}"
      interval: 1s
      environment: {temperature: 22.5, humidity: 40, distance: 120}
steps:
  - expect: {name: all robots online, target: all, status: online, within: 15s}
  - set: {target: all, temperature: 25}
  - wait: 20s
  - expect: {name: readings flow, target: all, messages: {min: 10}}
YAML

# 1. The feed writes what the record holds.
start_influx "$work/influx1"
influxql "$port" "CREATE DATABASE robofleet" >/dev/null
"$robofleet" run "$work/live.yaml" --runs-dir "$work/runs1" --quiet \
  --influx "http://127.0.0.1:$port" >"$work/run1.log" 2>&1
check "run with --influx passes" test $? -eq 0
run=$(ls -d "$work"/runs1/*-influx-live | head -n 1)
db=$run/record.db
python3 - "$run/summary.json" <<'PY' >"$work/summary1.txt"
import json, sys
s = json.load(open(sys.argv[1]))["influx"]
print(s["written"], s["dropped"], s["failed_batches"])
PY
read -r written dropped failed <"$work/summary1.txt"
echo "summary: written $written, dropped $dropped, failed batches $failed"
check "nothing dropped" test "$dropped" -eq 0
check "report.txt names the feed" grep -q "^InfluxDB http://127.0.0.1:$port: points written $written, not written 0" "$run/report.txt"

sqlite3 -separator ' ' "$db" "SELECT device_id, 'temperature', count(temperature) FROM readings GROUP BY device_id
  UNION ALL SELECT device_id, 'humidity', count(humidity) FROM readings GROUP BY device_id
  UNION ALL SELECT device_id, 'distance', count(distance) FROM readings GROUP BY device_id" | sort >"$work/record_counts"
influxql "$port" 'SELECT count(value) FROM temperature, humidity, distance GROUP BY device' |
python3 -c '
import json, sys
for res in json.load(sys.stdin)["results"]:
    for s in res.get("series", []):
        print(s["tags"]["device"], s["name"], s["values"][0][1])' | sort >"$work/influx_counts"
echo "record: $(wc -l <"$work/record_counts") device/metric pairs, $(awk '{n += $3} END {print n}' "$work/record_counts") points"
check "five devices, three metrics" test "$(wc -l <"$work/record_counts")" -eq 15
check "points per device and metric equal the record's" diff "$work/record_counts" "$work/influx_counts"
check "summary's written equals the record's points" test "$written" -eq "$(awk '{n += $3} END {print n}' "$work/record_counts")"

# The tutorial's query: the hourly mean of robot_001, as the record has it
# (by the hour of the device's time, as the feed writes it).
influxql "$port" "SELECT MEAN(value) FROM temperature WHERE device='robot_001' AND time > now() - 1h GROUP BY time(1h)" |
python3 -c '
import json, sys
for s in json.load(sys.stdin)["results"][0].get("series", []):
    for t, v in s["values"]:
        if v is not None:
            print(t, "%.6f" % v)' >"$work/influx_hourly"
sqlite3 -separator ' ' "$db" "SELECT (coalesce(ts_ms, recv_ms) / 3600000) * 3600000 AS h, printf('%.6f', avg(temperature))
  FROM readings WHERE device_id = 'robot_001' AND temperature IS NOT NULL GROUP BY h ORDER BY h" >"$work/record_hourly"
echo "hourly mean: influx $(tr '\n' ' ' <"$work/influx_hourly")| record $(tr '\n' ' ' <"$work/record_hourly")"
check "the tutorial's hourly mean has a value" test -s "$work/influx_hourly"
check "it is the record's hourly mean" diff "$work/record_hourly" "$work/influx_hourly"
# The dashboard's queries as Grafana sends them, for the last hour and all devices.
while read -r q; do
  q=${q//\$timeFilter/time > now() - 1h}
  q=${q//\$__interval/10s}
  q=${q//\$device/.*}
  series=$(influxql "$port" "$q" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"][0].get("series", [])))')
  check "panel query gives a series per device ($series): ${q:0:60}" test "$series" -eq 5
done <"$work/panel_queries"
stop_influx

# 2. influxd killed midway: the run still passes and counts what it could not write.
start_influx "$work/influx2"
influxql "$port" "CREATE DATABASE robofleet" >/dev/null
"$robofleet" run "$work/live.yaml" --runs-dir "$work/runs2" --quiet \
  --influx "http://127.0.0.1:$port" >"$work/run2.log" 2>&1 &
run_pid=$!
arrived=0
for _ in $(seq 1 300); do
  arrived=$(influxql "$port" 'SELECT count(value) FROM temperature' 2>/dev/null |
    python3 -c 'import json,sys
try: print(json.load(sys.stdin)["results"][0]["series"][0]["values"][0][1])
except Exception: print(0)')
  [ "${arrived:-0}" -gt 0 ] && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
check "points arrived before influxd was stopped ($arrived)" test "${arrived:-0}" -gt 0
stop_influx
wait "$run_pid"
check "the run passes without InfluxDB" test $? -eq 0
run=$(ls -d "$work"/runs2/*-influx-live | head -n 1)
python3 - "$run/summary.json" <<'PY' >"$work/summary2.txt"
import json, sys
s = json.load(open(sys.argv[1]))["influx"]
print(s["written"], s["dropped"], s["failed_batches"])
PY
read -r written dropped failed <"$work/summary2.txt"
echo "summary: written $written, not written $dropped, failed batches $failed"
check "points written before the stop" test "$written" -gt 0
check "points not written are counted" test "$dropped" -gt 0
check "failed batches are counted" test "$failed" -gt 0
recorded=$(sqlite3 "$run/record.db" "SELECT count(temperature) + count(humidity) + count(distance) FROM readings")
check "written + not written = the record's points ($recorded)" test $((written + dropped)) -eq "$recorded"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
