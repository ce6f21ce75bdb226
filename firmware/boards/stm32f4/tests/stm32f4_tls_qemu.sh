#!/usr/bin/env bash
# The STM32F4 image over mutual TLS, in CI: an image built with
# STM32_MQTT_SCHEME=5 (the ESP-AT module verifies the broker with its CA and
# presents its client certificate) boots in qemu-system-arm with USART1 on
# robofleet-esp-at, whose certificate partitions hold what `robofleet ca`
# made for the device, bridged to a private mosquitto on 127.0.0.1 that
# wants a client certificate, takes its CN as the user name and lets a
# device write only under its own topics. It checks: the firmware asks for
# scheme 5; retained online and readings in the contract's JSON reach a
# subscriber holding the recorder's certificate; the will's offline when
# the board goes. Then the failures: a module flashed with a certificate
# from a CA the broker does not trust, and one holding no client
# certificate at all: each time the console says why, the robot backs off
# and tries again, and it never comes online.
# Usage: stm32f4_tls_qemu.sh SOURCE_DIR STM32_BUILD_DIR HOST_BUILD_DIR
# (HOST_BUILD_DIR: the top-level build, with tools/esp-at/robofleet-esp-at
# and sim/robofleet; what it lacks is built in a scratch directory.)
set -u
src=$1
out=$2
host=$3
id=stm32_qemu
work=$(mktemp -d /tmp/robofleet-stm32-tls-XXXXXX)
broker_pid= emu_pid= qemu_pid= watch_pid=
failures=0
passes=0
. "$src/tests/integration/check.sh"

stop_board() { # the QEMU board and its module, if running
  [ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  [ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  qemu_pid= emu_pid=
}
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  stop_board
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

finish() {
  if [ "$failures" -ne 0 ]; then
    for f in "$work"/console-*.log "$work"/emu-*.log "$work/mosquitto.log"; do
      [ -s "$f" ] && { echo "---- $(basename "$f")"; tail -n 25 "$f"; }
    done
  fi
  echo "$passes passed, $failures failed"; [ "$failures" -eq 0 ]; exit $?
}

PATH=$PATH:/usr/sbin
for tool in qemu-system-arm mosquitto mosquitto_sub; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

# ---- 1. the emulator, robofleet, the scheme-5 image --------------------------------
emu=$host/tools/esp-at/robofleet-esp-at
robofleet=$host/sim/robofleet
for t in robofleet-esp-at robofleet; do
  [ "$t" = robofleet-esp-at ] && [ -x "$emu" ] && continue
  [ "$t" = robofleet ] && [ -x "$robofleet" ] && continue
  [ -f "$work/host/CMakeCache.txt" ] ||
    cmake -S "$src" -B "$work/host" -DROBOFLEET_TESTS=OFF >>"$work/host.log" 2>&1
  cmake --build "$work/host" -j"$(nproc)" --target "$t" >>"$work/host.log" 2>&1
done
[ -x "$emu" ] || emu=$work/host/tools/esp-at/robofleet-esp-at
[ -x "$robofleet" ] || robofleet=$work/host/sim/robofleet
check "robofleet-esp-at is built" test -x "$emu"
check "robofleet is built" test -x "$robofleet" || { tail -n 20 "$work/host.log"; finish; }
# The broker's name as the board knows it, on the TLS port; the module's
# "network" (--broker) takes it to the test's broker.
image=$out/qemu-image-tls
cmake -S "$src/firmware/boards/stm32f4" -B "$image" \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/arm-none-eabi.cmake" -DSTM32_DEVICE_ID=$id \
  -DSTM32_PUBLISH_INTERVAL_MS=1000 -DSTM32_LOG_LEVEL=3 -DSTM32_MQTT_SCHEME=5 \
  -DSTM32_BROKER=localhost:8883 >"$work/image.log" 2>&1 &&
  cmake --build "$image" -j"$(nproc)" >>"$work/image.log" 2>&1
check "test image builds (scheme 5, broker localhost:8883)" test $? -eq 0 || { cat "$work/image.log"; finish; }

# ---- 2. the certificates, from `robofleet ca` -----------------------------------------
pki=$work/pki
"$robofleet" ca --out "$pki" --ids "$id" --fault-material >"$work/ca.log" 2>&1
check "robofleet ca --out DIR --ids $id --fault-material" test $? -eq 0 || { cat "$work/ca.log"; finish; }
# faults/foreign.*: a certificate from a CA nobody trusts, as a module
# flashed for another fleet would hold.
for f in ca.crt broker.crt broker.key clients/robofleet-recorder.crt "devices/$id.crt" "devices/$id.key" \
         faults/foreign.crt faults/foreign.key; do
  check "robofleet ca wrote $f" test -s "$pki/$f"
done

# ---- 3. the mutual-TLS broker ------------------------------------------------------------
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

# boot NAME MODULE_OPTIONS...: a module "flashed" with MODULE_OPTIONS, and
# the board wired to it; console-NAME.log and emu-NAME.log.
boot() {
  local name=$1; shift
  rm -f "$work/esp.port"
  "$emu" --listen 127.0.0.1:0 --broker "127.0.0.1:$port" --port-file "$work/esp.port" -v "$@" \
    2>"$work/emu-$name.log" &
  emu_pid=$!
  wait_for 50 test -s "$work/esp.port" || return 1
  qemu-system-arm -M netduinoplus2 -kernel "$image/robot-stm32f4.elf" \
    -display none -monitor none -serial "tcp:127.0.0.1:$(cat "$work/esp.port")" \
    -serial "file:$work/console-$name.log" 2>"$work/qemu-$name.log" &
  qemu_pid=$!
}

# ---- 4. scheme 5 with the device's own certificate ----------------------------------------
boot ok --ca "$pki/ca.crt" --cert "$pki/devices/$id.crt" --key "$pki/devices/$id.key"
check "the module and the board start" test -n "$qemu_pid"
status=$(rsub -t "sensors/$id/status" -C 1 -W 60)
check "online over mutual TLS" test "$status" = online
check "the firmware asked for scheme 5" grep -q "AT+MQTTUSERCFG=0,5,\"$id\"," "$work/emu-ok.log"
check "the module connected by the board's name and TLS port" \
  grep -q "connected to localhost:8883 as $id (scheme 5)" "$work/emu-ok.log"
check "the broker took the certificate's CN as the user" \
  grep -q "as $id (.*u'$id')" "$work/mosquitto.log"
status=$(rsub -t "sensors/$id/status" --retained-only -C 1 -W 5)
check "online is retained" test "$status" = online
data=$(rsub -t "sensors/$id/data" -C 3 -W 30)
echo "     data: $(head -n 1 <<<"$data")"
check "the recorder's certificate receives three readings" test "$(grep -c '^{' <<<"$data")" -eq 3
check "data has device_id, boot, seq" contains "$data" "^{\"device_id\":\"$id\",\"boot\":1,\"seq\":[0-9]*,"
check "data has sensors and names their errors (QEMU has no GPIO model)" \
  test "$(grep -c '"sensors":{},"errors":{"temperature":"[a-z]*","humidity":"[a-z]*","distance":"[a-z]*"}' <<<"$data")" -eq 3
stop_board
# The module lost power without a DISCONNECT: the broker publishes the will.
retained_is() { [ "$(rsub -t "sensors/$id/status" --retained-only -C 1 -W 2)" = "$1" ]; }
wait_for 100 retained_is offline
check "the will's retained offline when the board goes" retained_is offline

# ---- 5. a module flashed with another fleet's certificate ----------------------------------
# watch_status NAME: whatever status the robot publishes from now on.
watch_status() {
  # (mosquitto_sub itself in the background, so that its pid is the one killed)
  mosquitto_sub "${recorder[@]}" -t "sensors/$id/status" -W 60 >"$work/status-$1.log" 2>&1 &
  watch_pid=$!
  wait_for 50 grep -q offline "$work/status-$1.log"   # the retained one: subscribed
}
retries() { [ "$(cat "$work/console-$1.log" 2>/dev/null | grep -c "retrying in")" -ge 2 ]; }
refused() { # refused NAME REASON: two attempts, REASON and a backoff each time, never online
  local name=$1 reason=$2
  wait_for 600 retries "$name"
  check "$name: two attempts, each followed by a backoff" retries "$name"
  grep -m 1 -- "$reason" "$work/console-$name.log" | sed 's/^/     console: /'
  check "$name: the console says why, each time" \
    test "$(grep -c -- "$reason" "$work/console-$name.log")" -ge 2
  check "$name: the robot never came online" bash -c "! grep -q 'online as' '$work/console-$name.log'"
  check "$name: the board is still running" kill -0 "$qemu_pid"
  stop_board
  kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; watch_pid=
  check "$name: the broker never saw it online" bash -c "! grep -qx online '$work/status-$name.log'"
}
watch_status foreign
boot foreign --ca "$pki/ca.crt" --cert "$pki/faults/foreign.crt" --key "$pki/faults/foreign.key"
refused foreign "ESP-AT could not connect to localhost:8883 over TLS (scheme 5)"
check "foreign: the broker refused the certificate" grep -q "certificate verify failed" "$work/mosquitto.log"

# ---- 6. a module that holds no client certificate ---------------------------------------
watch_status nocert
boot nocert --ca "$pki/ca.crt"
refused nocert "ESP-AT refused MQTT scheme 5"
check "nocert: the module refused the scheme, not the broker" \
  grep -q "no mqtt_cert/mqtt_key in this module" "$work/emu-nocert.log"
finish
