#!/usr/bin/env bash
# An Arduino sketch as a scenario group (sketch:), through the faults the
# scenario injects: wifi_drop takes WiFi.status() off WL_CONNECTED and the
# PubSubClient session with it, then both come back; dht_no_response makes
# readTemperature() NaN; pulseIn() on the HC-SR04 model measures the
# scenario's distance, and 0 under sonar_no_echo with a 30 ms timeout; a
# Preferences counter survives power: cycle; the scenario's DNS refuses a
# name it maps to nxdomain and leads the tutorial's broker name to the run's
# broker; the right SSID with a wrong password ends in WL_CONNECT_FAILED.
# Usage: test_arduino_faults.sh ROBOFLEET SOURCE_DIR
set -u
robofleet=$1
src=$2
work=$(mktemp -d /tmp/robofleet-arduino-faults-XXXXXX)
trap 'rm -rf "$work"' EXIT
export ROBOFLEET_CACHE_DIR="$work/cache"
failures=0
passes=0

. "$(dirname "$0")/check.sh"

# in_order FILE PATTERN...: each extended regex matches a line after the
# line the previous one matched.
in_order() {
  local file=$1; shift
  PATTERNS=$(printf '%s\n' "$@") awk '
    BEGIN { n = split(ENVIRON["PATTERNS"], p, "\n"); k = 1 }
    k <= n && $0 ~ p[k] { k++ }
    END { exit !(k > n) }' "$file"
}

cat > "$work/faults.yaml" <<YAML
name: arduino-faults
seed: 7
fleet:
  network:
    wifi: {ssid: greenhouse, password: hunter22}
    dns: {nowhere.example: nxdomain}
  groups:
    - name: probe
      count: 1
      id: probe
      sketch: $src/tests/integration/sketches/probe
      environment: {temperature: 21.5, humidity: 40, distance: 100}
    - name: wrongpw
      count: 1
      id: wrongpw
      sketch: $src/tests/integration/sketches/wrong_wifi
steps:
  - expect: {name: the sketch is online, target: probe, status: online, within: 30s}
  - wait: 5s
  - fault: {target: probe, kind: wifi_drop, for: 6s}
  - wait: 8s
  - expect: {name: back online after the drop, target: probe, status: online, within: 30s}
  - fault: {target: probe, kind: dht_no_response, for: 6s}
  - wait: 8s
  - fault: {target: probe, kind: sonar_no_echo, for: 6s}
  - wait: 8s
  - power: {target: probe, action: cycle, off: 2s}
  - expect: {name: online after the power cycle, target: probe, status: online, within: 30s}
  - wait: 3s
YAML

"$robofleet" run "$work/faults.yaml" --runs-dir "$work/runs" --quiet --junit "$work/junit.xml"
rc=$?
check "the scenario passes" test "$rc" -eq 0
run_dir=$(ls -d "$work"/runs/*-arduino-faults 2>/dev/null | head -n 1)
log="$run_dir/devices/probe.log"
check "the probe's Serial log is in the run directory" test -s "$log"

check "wifi_drop: WL_CONNECTED (3), then off it, the session lost, both back" \
  in_order "$log" 'serial: wifi status 3$' 'serial: mqtt connected 1$' \
  'serial: wifi status [0-24-6]$' 'serial: mqtt connected 0$' \
  'serial: wifi status 3$' 'serial: mqtt connected 1$'
check "the drop reads WL_CONNECTION_LOST (5)" grep -q 'serial: wifi status 5$' "$log"
check "readings before the fault: 21.5 C" grep -q 'serial: sample temp 21.5 ' "$log"
check "dht_no_response: readTemperature() is NaN, then numbers again" \
  in_order "$log" 'sample temp 21.5 ' 'sample temp nan ' 'sample temp 21.5 '
check "pulseIn: 100 cm within the sensor's resolution" \
  grep -qE 'serial: sample temp [0-9.na]+ echo_us (58[0-9][0-9]) cm (99\.[5-9]|100\.[0-4])$' "$log"
check "sonar_no_echo: pulseIn() times out with 0, then measures again" \
  in_order "$log" 'echo_us 58[0-9][0-9] ' 'echo_us 0 cm 0\.0$' 'echo_us 58[0-9][0-9] '
check "Preferences survive power: cycle" in_order "$log" 'serial: boot count 1$' 'serial: boot count 2$'
check "the scenario's DNS: nxdomain fails, the broker's name resolves" \
  grep -q 'serial: resolve nowhere.example 0$' "$log"
check "the tutorial's broker name leads to the run's broker" \
  grep -q 'serial: resolve broker.hivemq.com 1$' "$log"
check "a wrong WiFi password ends in WL_CONNECT_FAILED (4)" \
  in_order "$run_dir/devices/wrongpw.log" 'serial: wifi status 6$' 'serial: wifi status 4$'
check "the sketch's plain-number topic is recorded" \
  test "$("$robofleet" query "$run_dir" --sql "SELECT count(*) FROM metric_messages WHERE device_id = 'probe' AND metric = 'temperature'" | tail -n 1)" -ge 1

if [ "$failures" -ne 0 ]; then
  echo "--- probe.log"; cat "$log" 2>/dev/null | tail -n 80
fi
echo "$passes passed, $failures failed"
test "$failures" -eq 0
