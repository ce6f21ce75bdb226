#!/usr/bin/env bash
# The Raspberry Pi build over mutual TLS, in CI: the arm64 robofleet-robot
# under qemu-aarch64, given the CA, its device certificate and key that
# `robofleet ca` made (tls_ca_file, tls_cert_file, tls_key_file), against a
# private mosquitto on 127.0.0.1 that wants a client certificate, takes the
# certificate's CN as the user name and lets a device write only under its
# own topics. It checks: readings reach a subscriber holding the recorder's
# certificate in the contract's JSON; a subscriber without a certificate is
# refused; the robot exits 0 on SIGTERM leaving a retained offline. Then the
# failure path, with the certificates `robofleet ca --fault-material` makes
# for it: the same robot holding a certificate from a CA the broker does
# not trust, then an expired one, logs why, backs off, retries, never
# comes online and still stops cleanly.
# Usage: sbc_tls_qemu.sh SOURCE_DIR ARM64_BUILD_DIR VIRTUAL_BUILD_DIR
# (VIRTUAL_BUILD_DIR: the top-level build, whose sim/robofleet makes the
# certificates; built in a scratch directory when it has none.)
set -u
src=$1
out=$2
virtual=$3
id=pi_tls
work=$(mktemp -d /tmp/robofleet-sbc-tls-XXXXXX)
broker_pid= robot_pid= watch_pid=
failures=0
passes=0
. "$src/tests/integration/check.sh"
. "$src/firmware/boards/linux-sbc/tests/iio_fixture.sh"

cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  [ -n "$robot_pid" ] && kill -KILL "$robot_pid" 2>/dev/null
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

finish() {
  if [ "$failures" -ne 0 ]; then
    for f in robot.log foreign.log expired.log mosquitto.log; do
      [ -s "$work/$f" ] && { echo "---- $f"; tail -n 30 "$work/$f"; }
    done
  fi
  echo "$passes passed, $failures failed"; [ "$failures" -eq 0 ]; exit $?
}

PATH=$PATH:/usr/sbin
for tool in aarch64-linux-gnu-gcc qemu-aarch64 mosquitto mosquitto_sub; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

# ---- 1. the arm64 build (the plain test's, brought up to date) ----------------
cmake -S "$src/firmware/boards/linux-sbc" -B "$out" \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" >"$work/cmake.log" 2>&1 &&
  cmake --build "$out" -j"$(nproc)" >>"$work/cmake.log" 2>&1
check "arm64 build succeeds" test $? -eq 0 || { cat "$work/cmake.log"; finish; }
bin=$out/robofleet-robot

# ---- 2. the certificates, from `robofleet ca` -----------------------------------
robofleet=$virtual/sim/robofleet
if [ ! -x "$robofleet" ]; then
  cmake -S "$src" -B "$work/host" -DROBOFLEET_TESTS=OFF >"$work/host.log" 2>&1 &&
    cmake --build "$work/host" -j"$(nproc)" --target robofleet >>"$work/host.log" 2>&1
  robofleet=$work/host/sim/robofleet
fi
check "robofleet is built" test -x "$robofleet" || { tail -n 20 "$work/host.log"; finish; }
pki=$work/pki
"$robofleet" ca --out "$pki" --ids "$id" --fault-material >"$work/ca.log" 2>&1
check "robofleet ca --out DIR --ids $id --fault-material" test $? -eq 0 || { cat "$work/ca.log"; finish; }
# faults/: a certificate from a CA nobody trusts (what a robot flashed for
# another fleet would hold) and one of ours that has expired.
for f in ca.crt broker.crt broker.key clients/robofleet-recorder.crt clients/robofleet-recorder.key \
         "devices/$id.crt" "devices/$id.key" faults/foreign.crt faults/foreign.key \
         faults/expired.crt faults/expired.key; do
  check "robofleet ca wrote $f" test -s "$pki/$f"
done

# ---- 3. the mutual-TLS broker ------------------------------------------------------
cat >"$work/acl" <<ACL
pattern write sensors/%u/#
pattern read sensors/%u/command
user robofleet-recorder
topic read #
ACL
# shellcheck source=../../../../tests/integration/tls_broker.sh
. "$src/tests/integration/tls_broker.sh"
start_mutual_tls_broker "$work" "$pki" "$work/acl"
check "mutual-TLS mosquitto listens on 127.0.0.1:$port" test -n "$broker_pid" || finish
# The recorder's view: its own certificate, the fleet's CA.
recorder=(-h 127.0.0.1 -p "$port" --cafile "$pki/ca.crt"
          --cert "$pki/clients/robofleet-recorder.crt" --key "$pki/clients/robofleet-recorder.key")
rsub() { mosquitto_sub "${recorder[@]}" "$@"; }

# ---- 4. the robot with its certificate -------------------------------------------
iio_fixture "$work" 21700 38900 987

robot_conf() { # robot_conf CERT KEY > FILE
  cat <<CONF
device_id = $id
broker = 127.0.0.1:$port
tls_ca_file = $pki/ca.crt
tls_cert_file = $1
tls_key_file = $2
publish_interval = 1s
median_window = 1
backoff_base = 500ms
backoff_cap = 2s
log_level = debug
sysfs_root = $sys
net_iface = wlan0
wireless_path = $work/wireless
state_dir = $work/state
CONF
}
robot_conf "$pki/devices/$id.crt" "$pki/devices/$id.key" >"$work/robot.conf"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" -c "$work/robot.conf" 2>"$work/robot.log" &
robot_pid=$!

status=$(rsub -t "sensors/$id/status" -C 1 -W 60)
check "online over mutual TLS" test "$status" = online
check "the robot logs it is online" grep -q "^<6>online as $id" "$work/robot.log"
data=$(rsub -t "sensors/$id/data" -C 2 -W 30)
first=$(head -n 1 <<<"$data")
echo "     data: $first"
check "the recorder's certificate receives two readings" test "$(grep -c '^{' <<<"$data")" -eq 2
check "data has device_id, boot, seq, timestamp" \
  contains "$first" "^{\"device_id\":\"$id\",\"boot\":1,\"seq\":[0-9]*,\"timestamp\":\"20[0-9-]*T[0-9:.]*Z\""
check "data carries the fixture's sensors" \
  contains "$first" '"sensors":{"temperature":21.7,"humidity":38.9,"distance":98.7}}$'

# Nobody reads the fleet without a certificate of its CA.
nocert=$(mosquitto_sub -h 127.0.0.1 -p "$port" --cafile "$pki/ca.crt" -t 'sensors/#' -C 1 -W 5 2>"$work/nocert.err")
rc=$?
check "a subscriber without a certificate is refused (exit $rc, nothing read)" \
  test "$rc" -ne 0 -a -z "$nocert"
check "the broker says why" grep -q "peer did not return a certificate" "$work/mosquitto.log"

kill -TERM "$robot_pid"
wait "$robot_pid"
rc=$?
robot_pid=
check "SIGTERM exits 0" test "$rc" -eq 0
status=$(rsub -t "sensors/$id/status" --retained-only -C 1 -W 10)
check "retained offline after SIGTERM" test "$status" = offline

# ---- 5. certificates the broker refuses ---------------------------------------------
retries() { [ "$(cat "$1" 2>/dev/null | grep -c 'retrying in')" -ge 2 ]; } # retries LOG
# refused NAME CERT KEY BROKER_SAYS: the robot holding CERT and KEY logs why
# at each attempt, backs off between them, never comes online, and stops
# cleanly; the broker's log says BROKER_SAYS.
refused() {
  local what=$1 cert=$2 key=$3 broker_says=$4 rc seen
  robot_conf "$cert" "$key" >"$work/$what.conf"
  seen=$(wc -l <"$work/mosquitto.log")   # the broker's log from here on is this case's
  # Anything the robot manages to publish as its status shows up here.
  # (mosquitto_sub itself in the background, so that its pid is the one killed)
  mosquitto_sub "${recorder[@]}" -t "sensors/$id/status" -v -W 30 >"$work/status-$what.log" 2>&1 &
  watch_pid=$!
  wait_for 50 grep -q offline "$work/status-$what.log"   # the retained one: subscribed
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" -c "$work/$what.conf" 2>"$work/$what.log" &
  robot_pid=$!
  wait_for 300 retries "$work/$what.log"
  check "$what: two attempts, each followed by a backoff" retries "$work/$what.log"
  grep '^<4>TLS\|^<4>mqtt:' "$work/$what.log" | sort -u | sed 's/^/     log: /'
  # The broker's alert (OpenSSL's "alert unknown ca") reaches the robot
  # only when it arrives before the connection's reset; the HAL's own
  # line always does.
  check "$what: the log names the TLS failure and what to check, each time" \
    test "$(grep -c "^<4>TLS session failed before a CONNACK (.*): a certificate refused by either side?" "$work/$what.log")" -ge 2
  check "$what: the robot is still running" kill -0 "$robot_pid"
  check "$what: the robot never came online" bash -c "! grep -q 'online as' '$work/$what.log'"
  kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; watch_pid=
  check "$what: the broker never saw it online" bash -c "! grep -q ' online$' '$work/status-$what.log'"
  check "$what: the broker refused it ($broker_says)" \
    grep -q "$broker_says" <(tail -n +"$((seen + 1))" "$work/mosquitto.log")
  kill -TERM "$robot_pid"
  wait "$robot_pid"
  rc=$?
  robot_pid=
  check "$what: SIGTERM still exits 0 (rc $rc)" test "$rc" -eq 0
}
refused foreign "$pki/faults/foreign.crt" "$pki/faults/foreign.key" "certificate verify failed"
refused expired "$pki/faults/expired.crt" "$pki/faults/expired.key" "certificate verify failed"
finish
