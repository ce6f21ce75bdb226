#!/usr/bin/env bash
# A sketch over TLS: examples/sketches/SecureSensorToCloud (WiFiClientSecure
# and PubSubClient, its id, CA, certificate and key read from the NVS
# namespace the device provisions from --ca/--cert/--key), built with
# `robofleet build`, against a private mosquitto on 127.0.0.1 that wants a
# client certificate of the fleet's CA (`robofleet ca`) and takes its CN as
# the user name. It checks: readings reach a subscriber holding the
# recorder's certificate, from the user the certificate names; the same
# device holding a certificate from a CA the broker does not trust logs
# OpenSSL's reason at each attempt, retries, never publishes, and stops
# cleanly; both paths under valgrind without a leak or an error. Then, once
# the scenario parser takes sketch groups in a secure fleet, the security
# faults through `robofleet run`: cert_expired (mutual) and wrong_password
# (tls) end the session in force, the broker refuses the next, clear lets it
# back.
# Usage: test_arduino_tls.sh ROBOFLEET SOURCE_DIR [VALGRIND]
set -u
robofleet=$1
src=$2
valgrind=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/robofleet-arduino-tls-XXXXXX)
export ROBOFLEET_CACHE_DIR="$work/cache"
# If this script dies, its devices follow (hw-shim/system.c).
export ROBOFLEET_PARENT_PID=$$
id=secure01
broker_pid= sub_pid=
dev_pids=()
failures=0
passes=0
# shellcheck source=check.sh
. "$here/check.sh"

cleanup() {
  for p in "${dev_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

finish() {
  if [ "$failures" -ne 0 ]; then
    for f in "$work"/*.log; do
      [ -s "$f" ] && { echo "---- $(basename "$f")"; tail -n 25 "$f"; }
    done
  fi
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit $?
}

# Wait (at most $2 seconds) until command $1 succeeds: polling, no fixed sleep.
await() {
  local deadline=$((SECONDS + $2))
  until eval "$1"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
count() { grep -cE -- "$1" "$2" 2>/dev/null || true; } # count REGEX FILE
# stop PID SECONDS: SIGTERM, then its exit status (137 if it had to be killed).
stop() {
  local pid=$1 deadline=$((SECONDS + $2))
  kill -TERM "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid"
}

PATH=$PATH:/usr/sbin
for tool in mosquitto mosquitto_sub; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

# ---- 1. the sketch, built as a user builds it ----------------------------------
bin=$("$robofleet" build "$src/examples/sketches/SecureSensorToCloud" 2>"$work/build.log")
check "robofleet build examples/sketches/SecureSensorToCloud" test -x "$bin" || finish

# ---- 2. the credentials: the broker's certificate names mqtt.example.com,
# the name the sketch connects to and verifies -----------------------------------
pki=$work/pki
"$robofleet" ca --out "$pki" --ids "$id" --fault-material \
  --broker-name mqtt.example.com --broker-name localhost >"$work/ca.log" 2>&1
check "robofleet ca --ids $id --fault-material --broker-name mqtt.example.com" \
  test -s "$pki/devices/$id.crt" -a -s "$pki/faults/foreign.crt" || finish

# ---- 3. a mutual-TLS mosquitto on a free loopback port --------------------------
# shellcheck source=tls_broker.sh
. "$here/tls_broker.sh"
start_mutual_tls_broker "$work" "$pki"
check "mutual-TLS mosquitto listens on 127.0.0.1:$port" test -n "$broker_pid" || finish

recorder=(-h 127.0.0.1 -p "$port" --cafile "$pki/ca.crt"
          --cert "$pki/clients/robofleet-recorder.crt" --key "$pki/clients/robofleet-recorder.key")
# watch NAME SECONDS: the recorder's view of the device's topics, in the
# background, once its subscription stands.
watch() {
  : >"$work/sub-$1.log"
  mosquitto_sub "${recorder[@]}" -d -v -t "sensors/$id/#" -W "$2" >"$work/sub-$1.log" 2>&1 &
  sub_pid=$!
  await "grep -q 'received SUBACK' '$work/sub-$1.log'" 15
}
unwatch() { [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null && wait "$sub_pid" 2>/dev/null; sub_pid=; }

# device NAME CERT KEY [WRAPPER...]: the sketch device with the fleet's CA,
# CERT and KEY, in the background; its log is NAME.log.
device() {
  local name=$1 cert=$2 key=$3
  shift 3
  "$@" "$bin" --id "$id" --broker "127.0.0.1:$port" --state-dir "$work/state-$name" \
    --log-level info --ca "$pki/ca.crt" --cert "$cert" --key "$key" 2>"$work/$name.log" &
  dev_pid=$!
  dev_pids+=("$dev_pid")
}

# ---- 4. its own certificate: readings at the recorder -----------------------------
watch ok 90
device ok "$pki/devices/{id}.crt" "$pki/devices/{id}.key"
await "[ \$(count '^sensors/$id/data \\{' '$work/sub-ok.log') -ge 2 ]" 60
check "two readings reach the recorder's certificate over mutual TLS" \
  test "$(count "^sensors/$id/data \\{" "$work/sub-ok.log")" -ge 2
first=$(grep -m1 "^sensors/$id/data " "$work/sub-ok.log" | cut -d' ' -f2-)
echo "     data: $first"
check "the reading is the sketch's JSON from the DHT22 and the HC-SR04" \
  grep -qE "^\\{\"device_id\":\"$id\",\"sensors\":\\{\"temperature\":[0-9.-]+,\"humidity\":[0-9.]+,\"distance\":[0-9.]+\\}\\}$" <<<"$first"
check "a retained online status" grep -q "^sensors/$id/status online$" "$work/sub-ok.log"
check "the broker knew it by its certificate's CN" grep -q " as $id (.*u'$id')" "$work/mosquitto.log"
check "the sketch read its credentials from NVS and connected over TLS" \
  grep -q "serial: this is $id, TLS with the provisioned CA and a client certificate$" "$work/ok.log"
check "  ... and says so" grep -q "serial: connected to mqtt.example.com over TLS$" "$work/ok.log"
check "no TLS error in its log" test "$(count ' tls: ' "$work/ok.log")" -eq 0
stop "$dev_pid" 30
rc=$?
check "SIGTERM exits 0 (rc $rc)" test "$rc" -eq 0
unwatch

# ---- 5. a certificate from a CA the broker does not trust --------------------------
tls_refusals() { count " warn: tls: mqtt\\.example\\.com:8883: OpenSSL Error\\[0\\]: .*$2" "$work/$1.log"; }
watch foreign 60
seen=$(wc -l <"$work/mosquitto.log")
device foreign "$pki/faults/foreign.crt" "$pki/faults/foreign.key"
await "[ \$(tls_refusals foreign 'alert unknown ca') -ge 2 ]" 40
grep ' tls: ' "$work/foreign.log" | head -n 1 | sed 's/^/     log: /'
check "foreign CA: OpenSSL's reason in the log at each of two attempts" \
  test "$(tls_refusals foreign 'tlsv1 alert unknown ca')" -ge 2
check "foreign CA: lastError() gives the sketch the same reason" \
  grep -qE "serial: TLS error -[0-9]+: error:0A000418:SSL routines::tlsv1 alert unknown ca$" "$work/foreign.log"
check "foreign CA: PubSubClient's state is MQTT_CONNECT_FAILED (-2)" \
  grep -q "serial: connect failed, state -2, next try in 2000 ms$" "$work/foreign.log"
check "foreign CA: the device is still running" kill -0 "$dev_pid"
check "foreign CA: the broker refused the certificate" \
  grep -q "certificate verify failed" <(tail -n +"$((seen + 1))" "$work/mosquitto.log")
stop "$dev_pid" 30
rc=$?
check "foreign CA: SIGTERM still exits 0 (rc $rc)" test "$rc" -eq 0
unwatch
check "foreign CA: it never published" test "$(count "^sensors/$id/(data|status online)" "$work/sub-foreign.log")" -eq 0

# ---- 6. both paths under valgrind: no leak, no invalid access -----------------------
if [ -n "$valgrind" ]; then
  vg=("$valgrind" --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible
      --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99)
  watch vg 150
  device vg-ok "$pki/devices/{id}.crt" "$pki/devices/{id}.key" "${vg[@]}" --log-file="$work/valgrind-ok.log"
  ok_pid=$dev_pid
  device vg-foreign "$pki/faults/foreign.crt" "$pki/faults/foreign.key" \
    "${vg[@]}" --log-file="$work/valgrind-foreign.log"
  foreign_pid=$dev_pid
  await "[ \$(count '^sensors/$id/data \\{' '$work/sub-vg.log') -ge 2 ] && [ \$(tls_refusals vg-foreign 'unknown ca') -ge 2 ]" 120
  check "valgrind: both ran under valgrind" test -e "$work/valgrind-ok.log" -a -e "$work/valgrind-foreign.log"
  check "valgrind: readings over TLS" test "$(count "^sensors/$id/data \\{" "$work/sub-vg.log")" -ge 2
  check "valgrind: the foreign certificate refused twice" test "$(tls_refusals vg-foreign 'unknown ca')" -ge 2
  stop "$ok_pid" 60
  rc=$?
  check "valgrind: the TLS session and SIGTERM: clean (rc $rc)" test "$rc" -eq 0
  stop "$foreign_pid" 60
  rc=$?
  check "valgrind: refused handshakes and SIGTERM: clean (rc $rc)" test "$rc" -eq 0
  unwatch
else
  echo "skip valgrind (not installed, or a sanitizer build)"
fi

# ---- 7. the security faults through robofleet run -----------------------------------
# scenario FILE SECURITY FAULT: one copy of the sketch; the fault ends its
# session, the broker refuses the next, clear lets it back.
scenario() {
  cat >"$1" <<YAML
name: arduino-tls-$3
seed: 5
fleet:
  broker: embedded
  security: $2
  network:
    dns: {mqtt.example.com: broker}
  groups:
    - {name: secure, count: 1, id: $id, sketch: $src/examples/sketches/SecureSensorToCloud}
steps:
  - expect: {name: online, target: $id, status: online, within: 30s}
  - fault: {target: $id, kind: $3}
  - expect: {name: refused, target: $id, status: offline, within: 10s}
  - wait: 3s
  - clear: {target: $id}
  - expect: {name: back, target: $id, status: online, within: 40s}
YAML
}
in_order() { # in_order FILE REGEX...: each matches a line after the previous one's
  local file=$1; shift
  PATTERNS=$(printf '%s\n' "$@") awk '
    BEGIN { n = split(ENVIRON["PATTERNS"], p, "\n"); k = 1 }
    k <= n && $0 ~ p[k] { k++ }
    END { exit !(k > n) }' "$file"
}
scenario "$work/mutual.yaml" mutual cert_expired
scenario "$work/password.yaml" tls wrong_password
if "$robofleet" check "$work/mutual.yaml" >"$work/check.log" 2>&1; then
  "$robofleet" run "$work/mutual.yaml" --pki "$pki" --runs-dir "$work/runs" --quiet >"$work/run-mutual.log" 2>&1
  check "cert_expired: the scenario passes (offline at once, back after clear)" test $? -eq 0
  log=$(ls "$work"/runs/*-arduino-tls-cert_expired/devices/$id.log 2>/dev/null | head -n 1)
  check "cert_expired: session ended, the expired certificate refused, then back" \
    in_order "${log:-/dev/null}" 'serial: connected to mqtt.example.com over TLS' \
    'credentials: now presenting an expired certificate' \
    'tls: mqtt.example.com:8883: OpenSSL Error\[0\]: .*alert certificate expired' \
    'serial: connected to mqtt.example.com over TLS'
  "$robofleet" run "$work/password.yaml" --pki "$pki" --runs-dir "$work/runs" --quiet >"$work/run-password.log" 2>&1
  check "wrong_password: the scenario passes (offline at once, back after clear)" test $? -eq 0
  log=$(ls "$work"/runs/*-arduino-tls-wrong_password/devices/$id.log 2>/dev/null | head -n 1)
  check "wrong_password: session ended, CONNACK 5, then back" \
    in_order "${log:-/dev/null}" "serial: this is $id, TLS with the provisioned CA$" \
    'serial: connected to mqtt.example.com over TLS' 'credentials: now presenting a wrong password' \
    'serial: connect failed, state 5,' 'serial: connected to mqtt.example.com over TLS'
else
  echo "skip robofleet run: the scenario parser refuses sketch groups in a secure fleet ($(head -n 1 "$work/check.log"))"
fi
finish
