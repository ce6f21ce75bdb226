#!/usr/bin/env bash
# fleet: security: end to end against the run's own mosquitto. A mutual-TLS
# run with credentials from `robofleet ca --pki`: a client without a
# certificate is refused, the recorder's certificate sees the data, robot
# A's certificate publishing a well-formed reading on robot B's topic gets
# nothing into the record (while B's own certificate does: the check can
# fail). Then bad credentials and bad combinations: exit 2 before anything
# starts, naming the file or the line.
# Usage: test_security.sh ROBOFLEET [VALGRIND]
# (VALGRIND: the device's TLS path under it; not given in a sanitizer build)
set -u
robofleet=$1
valgrind=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/robofleet-security-XXXXXX)
run_pid=
failures=0
passes=0
# shellcheck source=check.sh
. "$here/check.sh"

cleanup() {
  [ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

for tool in mosquitto_sub mosquitto_pub; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

# Wait (at most $2 seconds) until command $1 succeeds.
await() {
  local deadline=$((SECONDS + $2))
  until eval "$1"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

scenario() { # scenario FILE SECURITY [EXTRA STEP LINES]
  cat >"$1" <<YAML
name: sec
seed: 3
duration: 2m
fleet:
  broker: embedded
  security: $2
  groups:
    - {name: lab, count: 3, id: "robot_{:03}", interval: 1s}
steps:
  - expect: {name: online, target: all, status: online, within: 20s}
${3:-}
  - expect: {name: no reading lost, target: all, lost: 0, fleet_lost: 0}
YAML
}

# ---- robofleet ca ------------------------------------------------------------
pki=$work/pki
# robot_004 has credentials but is no member of the fleet: the valgrind device below.
"$robofleet" ca --out "$pki" --count 4 --fault-material >"$work/ca.out" 2>&1
check "robofleet ca writes a credentials directory" test -s "$pki/devices/robot_003.crt"
check "keys are readable by their owner only" \
  test "$(stat -c %a "$pki/devices/robot_001.key") $(stat -c %a "$pki/ca.key")" = "600 600"
"$robofleet" ca --out "$work/bad" --ids 'robot 1' >"$work/ca_bad.out" 2>&1
check "robofleet ca refuses a bad id with exit 2" test $? -eq 2
check "... and says which" grep -q "robot 1" "$work/ca_bad.out"

# ---- a mutual run with the credentials robofleet ca made ---------------------
scenario "$work/mutual.yaml" mutual "  - wait: 35s"
"$robofleet" run "$work/mutual.yaml" --pki "$pki" --runs-dir "$work/runs" \
  >"$work/run.out" 2>&1 &
run_pid=$!
await 'grep -q "devices started" "$work/run.out"' 60
run_dir=$(ls -d "$work"/runs/*/ 2>/dev/null | head -1)
port=$(awk '/^listener/ {print $2}' "$run_dir/mosquitto.conf" 2>/dev/null)
check "the run came up with its broker" test -n "$port"
tls=(--cafile "$pki/ca.crt")
recorder=(--cert "$pki/clients/robofleet-recorder.crt" --key "$pki/clients/robofleet-recorder.key")
await 'mosquitto_sub -h 127.0.0.1 -p "$port" "${tls[@]}" "${recorder[@]}" -t "sensors/+/data" -C 1 -W 5 >"$work/seen" 2>/dev/null' 20
check "mosquitto_sub with the recorder's certificate sees the data" grep -q '"device_id":"robot_00' "$work/seen"
mosquitto_sub -h 127.0.0.1 -p "$port" -t 'sensors/#' -C 1 -W 5 >"$work/plain" 2>&1
check "mosquitto_sub over plain TCP is refused" test $? -ne 0
check "... with nothing received" bash -c "! grep -q device_id '$work/plain'"
mosquitto_sub -h 127.0.0.1 -p "$port" "${tls[@]}" -t 'sensors/#' -C 1 -W 5 >"$work/nocert" 2>&1
check "mosquitto_sub over TLS without a certificate is refused" test $? -ne 0
check "... with nothing received" bash -c "! grep -q device_id '$work/nocert'"

reading() { # reading ID BOOT
  printf '{"device_id":"%s","boot":%s,"seq":1,"timestamp":"2026-12-07T10:00:00.000Z","sensors":{"temperature":21.5,"humidity":40.0,"distance":100.0}}' "$1" "$2"
}
as() { echo --cert "$pki/devices/$1.crt" --key "$pki/devices/$1.key"; }
# shellcheck disable=SC2046
mosquitto_pub -h 127.0.0.1 -p "$port" "${tls[@]}" $(as robot_001) -q 1 \
  -t sensors/robot_002/data -m "$(reading robot_002 3999999001)"
check "the broker takes robot_001's publish as robot_002 (MQTT 3.1.1 cannot say no)" test $? -eq 0
# shellcheck disable=SC2046
mosquitto_pub -h 127.0.0.1 -p "$port" "${tls[@]}" $(as robot_002) -q 1 \
  -t sensors/robot_002/data -m "$(reading robot_002 3999999002)"
check "robot_002's own certificate publishes on its own topic" test $? -eq 0
# The device's TLS path under valgrind: online with its certificate, then
# SIGTERM; a leak or an invalid access is exit status 99.
device=$(dirname "$robofleet")/../hw-shim/robofleet-device
if [ -n "$valgrind" ] && [ -x "$device" ]; then
  "$valgrind" --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    "$device" --id robot_004 --broker "127.0.0.1:$port" --interval 500ms \
    --ca "$pki/ca.crt" --cert "$pki/devices/{id}.crt" --key "$pki/devices/{id}.key" \
    --state-dir "$work/vg-state" >"$work/vg.out" 2>&1 &
  vg_pid=$!
  await 'grep -q "online as robot_004" "$work/vg.out" 2>/dev/null' 30
  check "a device under valgrind comes online over mutual TLS" grep -q "online as robot_004" "$work/vg.out"
  kill -TERM "$vg_pid"
  wait "$vg_pid"
  check "... and ends clean (no leak, no invalid access; exit $?)" test $? -eq 0
fi
wait "$run_pid"
status=$?
run_pid=
check "the mutual run passes (exit $status)" test "$status" -eq 0
count() { "$robofleet" query "$run_dir" --sql "SELECT count(*) FROM readings WHERE boot = $1" | tail -1; }
check "robot_002's own reading is in the record (the check can fail)" test "$(count 3999999002)" = 1
check "robot_001's reading as robot_002 is not" test "$(count 3999999001)" = 0
check "devices used their certificates" grep -q "online as robot_001" "$run_dir/devices/robot_001.log"

# ---- bad credentials: exit 2 before anything starts, naming the file ---------
cp -r "$pki" "$work/trunc"
head -c 200 "$pki/devices/robot_002.crt" >"$work/trunc/devices/robot_002.crt"
"$robofleet" run "$work/mutual.yaml" --pki "$work/trunc" --runs-dir "$work/runs2" >"$work/trunc.out" 2>&1
check "a truncated certificate: exit 2" test $? -eq 2
check "... naming the file" grep -q "devices/robot_002.crt" "$work/trunc.out"
check "... before any device started" bash -c "! grep -q 'devices started' '$work/trunc.out'"
cp -r "$pki" "$work/mismatch"
cp "$pki/devices/robot_003.key" "$work/mismatch/devices/robot_001.key"
"$robofleet" run "$work/mutual.yaml" --pki "$work/mismatch" --runs-dir "$work/runs3" >"$work/mismatch.out" 2>&1
check "a key that does not match its certificate: exit 2" test $? -eq 2
check "... naming the key" grep -q "devices/robot_001.key" "$work/mismatch.out"
"$robofleet" run "$work/mutual.yaml" --broker 127.0.0.1:1 --runs-dir "$work/runs4" >"$work/ext.out" 2>&1
check "security against an outside broker without --pki: exit 2" test $? -eq 2
check "... saying --pki is needed" grep -q -- "--pki" "$work/ext.out"
scenario "$work/tls_cert.yaml" tls "  - fault: {target: robot_001, kind: cert_expired}"
"$robofleet" check "$work/tls_cert.yaml" >"$work/tls_cert.out" 2>&1
check "a certificate fault in a password fleet: exit 2" test $? -eq 2
check "... at its line" grep -q "tls_cert.yaml:[0-9]*:[0-9]*: fault cert_expired needs security: mutual" "$work/tls_cert.out"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
