#!/usr/bin/env bash
# The reference tutorial's ESP32 sketch, extracted at test time exactly as
# the tutorial writes it, runs as a one-device `sketch:` group: on the run's
# broker, sensors/robot01/status says online and temperature and humidity
# arrive as plain numbers every 10 s; stop and start published on its
# command topic appear in its Serial log. Skipped (77) without the tutorial.
# Usage: test_arduino_tutorial.sh ROBOFLEET TUTORIAL_TEXT [SOURCE_DIR]
set -u
robofleet=$1
tutorial=${ROBOFLEET_TUTORIAL:-$2}
# A clone made from a local checkout finds the tutorial beside its origin.
if [ ! -r "$tutorial" ] && [ -n "${3:-}" ]; then
  origin=$(git -C "$3" config --get remote.origin.url 2>/dev/null || true)
  case "$origin" in
    /*) [ -r "$origin/../shared/reference/${2##*/}" ] && tutorial="$origin/../shared/reference/${2##*/}" ;;
  esac
fi
if [ ! -r "$tutorial" ]; then
  echo "skip: the reference tutorial is not at $tutorial (set ROBOFLEET_TUTORIAL)"
  exit 77
fi
work=$(mktemp -d /tmp/robofleet-tutorial-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export ROBOFLEET_CACHE_DIR="$work/cache"
failures=0
passes=0

. "$(dirname "$0")/check.sh"

# await FILE REGEX SECONDS: block until a line of FILE matches (or time out).
await() {
  timeout "$3" grep -m1 -qE "$2" <(tail -n +1 -F "$1" 2>/dev/null)
}

# The first C++ block after the "Arduino Implementation with WiFi" heading.
awk '/^### Arduino Implementation with WiFi/ { want = 1 }
     want && /^```cpp/ { inside = 1; next }
     inside && /^```/ { exit }
     inside { print }' "$tutorial" > "$work/esp32_tutorial.ino"
check "the tutorial's sketch was found" grep -q 'PubSubClient client(espClient);' "$work/esp32_tutorial.ino"

cat > "$work/tutorial.yaml" <<YAML
name: tutorial-sketch
fleet:
  groups:
    - {name: tutorial, count: 1, id: robot01, sketch: $work/esp32_tutorial.ino}
steps:
  - expect: {name: online, target: robot01, status: online, within: 60s}
  - wait: 5s
  # A power cycle: the sketch boots again and says online to a subscriber
  # that is certainly listening by now.
  - power: {target: robot01, action: cycle, off: 1s}
  - expect: {name: online again, target: robot01, status: online, within: 60s}
  - wait: 28s
YAML

"$robofleet" run "$work/tutorial.yaml" --runs-dir "$work/runs" > "$work/run.out" 2>&1 &
run_pid=$!
pids+=("$run_pid")
await "$work/run.out" 'mosquitto on [^ ]+:[0-9]+' 120
hostport=$(grep -oE 'mosquitto on [^ ]+:[0-9]+' "$work/run.out" | head -n 1 | sed 's/mosquitto on //')
host=${hostport%:*}
port=${hostport##*:}
check "the run says where its broker is" test -n "$port"

# A retained sentinel: the subscriber's first line proves it is subscribed.
mosquitto_pub -h "$host" -p "$port" -r -t sensors/_test/ready -m 1
mosquitto_sub -h "$host" -p "$port" -v -t 'sensors/#' -F '%U %t %p' > "$work/sub.log" &
pids+=("$!")
await "$work/sub.log" ' sensors/_test/ready 1$' 30

check "sensors/robot01/status online" await "$work/sub.log" ' sensors/robot01/status online$' 90
mosquitto_pub -h "$host" -p "$port" -t sensors/robot01/command -m stop
mosquitto_pub -h "$host" -p "$port" -t sensors/robot01/command -m start
# The scenario's last 28 s hold the readings at 10 s and 20 s after boot.
wait "$run_pid"
rc=$?
check "the run passes" test "$rc" -eq 0

temps=$(grep ' sensors/robot01/temperature ' "$work/sub.log" | awk '{ print $1 " " $3 }')
check "temperature is a plain number" test -n "$(echo "$temps" | awk '$2 ~ /^ *[0-9]+\.[0-9][0-9]$/' | head -n 1)"
check "humidity is a plain number" grep -qE ' sensors/robot01/humidity *[0-9]+\.[0-9][0-9]$' "$work/sub.log"
# Every 10 s: consecutive readings of one boot are 10 s apart (the sketch's
# loop polls millis(), so a little more, never less).
gaps=$(echo "$temps" | awk 'NR > 1 { d = $1 - prev; if (d < 15) print d } { prev = $1 }')
check "readings 10 s apart" test -n "$gaps"
check "no gap shorter than 10 s or longer than 11 s" \
  test -z "$(echo "$gaps" | awk '$1 < 9.95 || $1 > 11')"

run_dir=$(ls -d "$work"/runs/*-tutorial-sketch | head -n 1)
log="$run_dir/devices/robot01.log"
check "stop reached the sketch" grep -q 'serial: Message received \[sensors/robot01/command\]: stop$' "$log"
check "Command: STOP in its Serial log" grep -q 'serial: Command: STOP$' "$log"
check "Command: START in its Serial log" grep -q 'serial: Command: START$' "$log"
check "at least two temperature readings after the boot" test "$(echo "$temps" | wc -l)" -ge 2
echo "$passes passed, $failures failed"
test "$failures" -eq 0
