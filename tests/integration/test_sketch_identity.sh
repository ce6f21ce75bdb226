#!/usr/bin/env bash
# Identity for sketches. The classic example reads the id a factory
# provisions in NVS (namespace robofleet, key id): 100 copies are 100
# devices, each online under its own id. The reference tutorial's sketch
# hard-codes its MQTT client id: 5 copies take the session from each other
# over and over, as they would on a real broker, and the record shows it
# (device_accounts.reconnects; the broker's log). The tutorial part is
# skipped when the tutorial is not there.
# Usage: test_sketch_identity.sh ROBOFLEET SOURCE_DIR TUTORIAL_TEXT
set -u
robofleet=$1
src=$2
tutorial=${ROBOFLEET_TUTORIAL:-$3}
work=$(mktemp -d /tmp/robofleet-identity-XXXXXX)
trap 'rm -rf "$work"' EXIT
export ROBOFLEET_CACHE_DIR="$work/cache"
failures=0
passes=0

. "$(dirname "$0")/check.sh"

cat > "$work/classic.yaml" <<YAML
name: classic-100
seed: 9
fleet:
  connect_rate: 50/s
  groups:
    - {name: classic, count: 100, id: "node_{:03}", sketch: $src/examples/sketches/classic}
steps:
  - expect: {name: a hundred copies online, target: all, status: online, within: 120s}
  - wait: 7s
  - expect: {name: each publishes under its own id, target: all, messages: {min: 1}, within: 20s}
YAML
"$robofleet" run "$work/classic.yaml" --runs-dir "$work/runs" --quiet
check "100 classic sketches: the run passes" test $? -eq 0
run_dir=$(ls -d "$work"/runs/*-classic-100 | head -n 1)
ids=$(sqlite3 "$run_dir/record.db" "SELECT count(DISTINCT device_id) FROM status WHERE status = 'online' AND device_id LIKE 'node\\_%' ESCAPE '\\'")
check "100 distinct ids said online on the broker ($ids)" test "$ids" -eq 100
data_ids=$(sqlite3 "$run_dir/record.db" "SELECT count(DISTINCT device_id) FROM metric_messages")
check "100 distinct ids published readings ($data_ids)" test "$data_ids" -eq 100

# The tutorial's sketch: one hard-coded client id for five devices.
if [ -r "$tutorial" ] || { origin=$(git -C "$src" config --get remote.origin.url 2>/dev/null) &&
     [ -r "$origin/../shared/reference/${3##*/}" ] && tutorial="$origin/../shared/reference/${3##*/}"; }; then
  awk '/^### Arduino Implementation with WiFi/ { want = 1 }
       want && /^```cpp/ { inside = 1; next }
       inside && /^```/ { exit }
       inside { print }' "$tutorial" > "$work/esp32_tutorial.ino"
  cat > "$work/takeover.yaml" <<YAML
name: takeover
fleet:
  groups:
    - {name: tutorial, count: 5, id: "copy_{:02}", sketch: $work/esp32_tutorial.ino}
steps:
  - wait: 20s
YAML
  "$robofleet" run "$work/takeover.yaml" --runs-dir "$work/runs" --quiet
  run_dir=$(ls -d "$work"/runs/*-takeover | head -n 1)
  churn=$(sqlite3 "$run_dir/record.db" "SELECT sum(reconnects) FROM device_accounts WHERE firmware = 'sketch'")
  check "the copies took the session from each other ($churn reconnects in device_accounts)" \
    test "${churn:-0}" -ge 5
  taken=$(grep -c 'ESP32_Robot_01 already connected, closing old connection' "$run_dir/mosquitto.log")
  check "the broker closed the older session each time ($taken in its log)" test "$taken" -ge 5
  online=$(sqlite3 "$run_dir/record.db" "SELECT count(*) FROM status WHERE device_id = 'robot01' AND status = 'online'")
  check "the record holds the status churn of the shared id ($online online messages)" test "$online" -ge 5
else
  echo "skip: the reference tutorial is not at $tutorial; the client-id takeover part was not run"
fi
echo "$passes passed, $failures failed"
test "$failures" -eq 0
