#!/usr/bin/env bash
# The STM32F4 image end to end, in CI: check the flashable image's size
# budget and that it was compiled from the virtual robot's firmware
# sources, then boot an image of the same sources (configured for the
# test: id, 1 s interval) in qemu-system-arm -M netduinoplus2 (STM32F405)
# with USART1 on robofleet-esp-at, bridged to a private mosquitto on
# 127.0.0.1, and watch the wire contract: retained online, data messages
# that name the sensor errors (QEMU has no GPIO model, so no numbers),
# stop/start, the will's offline when the module's broker connection
# drops, and a clean reconnect.
# Usage: stm32f4_qemu.sh SOURCE_DIR STM32_BUILD_DIR HOST_BUILD_DIR
set -u
src=$1
out=$2
host=$3
id=stm32_qemu
work=$(mktemp -d /tmp/robofleet-stm32-XXXXXX)
broker_pid= emu_pid= qemu_pid= watch_pid=
failures=0
passes=0
. "$src/tests/integration/check.sh"

cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  [ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  [ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

lacks() { ! grep -q -- "$2" <<<"$1"; }
finish() {
  if [ "$failures" -ne 0 ]; then
    echo "---- console"; tail -n 40 "$work/console.log" 2>/dev/null
    echo "---- esp-at"; tail -n 30 "$work/emu.log" 2>/dev/null
  fi
  echo "$passes passed, $failures failed"; [ "$failures" -eq 0 ]; exit $?
}

PATH=$PATH:/usr/sbin
for tool in qemu-system-arm arm-none-eabi-size mosquitto mosquitto_sub mosquitto_pub; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

# ---- 1. the flashable image ----------------------------------------------------
elf=$out/robot-stm32f4.elf
check "robot-stm32f4.elf, .bin, .hex, .map exist" \
  test -s "$elf" -a -s "$out/robot-stm32f4.bin" -a -s "$out/robot-stm32f4.hex" -a -s "$out/robot-stm32f4.map"
read -r text data bss _ < <(arm-none-eabi-size -B "$elf" | tail -n 1)
echo "     size: flash $((text + data)) B, RAM $((data + bss)) B (text $text, data $data, bss $bss)"
check "flash within 96 KiB" test $((text + data)) -le 98304
check "RAM within 24 KiB" test $((data + bss)) -le 24576
check "the image is an ARM ELF with the vector table at 0x08000000" \
  grep -q "^ *\.isr_vector *0x0*8000000" "$out/robot-stm32f4.map"

# ---- 2. the same firmware sources as the virtual robot ----------------------------
virtual=$host
if [ ! -f "$virtual/robofleet-firmware-sources.txt" ]; then
  virtual=$work/virtual
  cmake -S "$src" -B "$virtual" -DROBOFLEET_TESTS=OFF >"$work/virtual.log" 2>&1
fi
check "firmware source list is the virtual robot's" \
  diff -u "$virtual/robofleet-firmware-sources.txt" "$out/robofleet-firmware-sources.txt"
compiled=$(cd "$out/firmware/CMakeFiles" && find . -name '*.c.obj' | sed 's|^\./[^/]*\.dir/|firmware/|; s|\.obj$||' | sort)
check "the image compiled firmware/ from that list and the pin drivers' hal_sensor" \
  diff -u <(sort "$out/robofleet-firmware-sources.txt" - <<<"firmware/drivers/sensor_pins.c") <(printf '%s\n' "$compiled")

# ---- 3. the emulator, the test image, the broker ----------------------------------
emu=$host/tools/esp-at/robofleet-esp-at
if [ ! -x "$emu" ]; then
  cmake -S "$src" -B "$work/host" -DROBOFLEET_TESTS=OFF >"$work/host.log" 2>&1 &&
    cmake --build "$work/host" --target robofleet-esp-at >>"$work/host.log" 2>&1
  emu=$work/host/tools/esp-at/robofleet-esp-at
fi
check "robofleet-esp-at is built" test -x "$emu" || finish
# The same sources, configured for the test; built beside the image.
cmake -S "$src/firmware/boards/stm32f4" -B "$out/qemu-image" \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/arm-none-eabi.cmake" -DSTM32_DEVICE_ID=$id \
  -DSTM32_PUBLISH_INTERVAL_MS=1000 -DSTM32_LOG_LEVEL=3 >"$work/image.log" 2>&1 &&
  cmake --build "$out/qemu-image" -j"$(nproc)" >>"$work/image.log" 2>&1
check "test image builds (id $id, 1 s interval)" test $? -eq 0 || { cat "$work/image.log"; finish; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for attempt in 1 2 3 4 5; do
  port=$((20000 + (RANDOM * 7 + attempt) % 40000))
  port_free "$port" || continue
  printf 'listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
  broker_pid=$!
  wait_for 50 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 1 || exit 0" &&
    kill -0 "$broker_pid" 2>/dev/null && break
  kill "$broker_pid" 2>/dev/null; broker_pid=
done
check "mosquitto listens on 127.0.0.1:$port" test -n "$broker_pid" || finish
sub() { mosquitto_sub -h 127.0.0.1 -p "$port" "$@"; }
pub() { mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 "$@"; }

"$emu" --listen 127.0.0.1:0 --broker "127.0.0.1:$port" --port-file "$work/esp.port" -v \
  2>"$work/emu.log" &
emu_pid=$!
wait_for 50 test -s "$work/esp.port"
check "robofleet-esp-at listens" test -s "$work/esp.port" || finish
esp_port=$(cat "$work/esp.port")

qemu-system-arm -M netduinoplus2 -kernel "$out/qemu-image/robot-stm32f4.elf" \
  -display none -monitor none -serial "tcp:127.0.0.1:$esp_port" \
  -serial "file:$work/console.log" 2>"$work/qemu.log" &
qemu_pid=$!

# ---- 4. online, data with errors ---------------------------------------------------
status=$(sub -t "sensors/$id/status" -C 1 -W 60)
check "online" test "$status" = online
status=$(sub -t "sensors/$id/status" --retained-only -C 1 -W 5)
check "online is retained" test "$status" = online
data=$(sub -t "sensors/$id/data" -C 3 -W 30)
echo "     data: $(head -n 1 <<<"$data")"
check "three data messages" test "$(grep -c '^{' <<<"$data")" -eq 3
check "data has device_id, boot, seq" contains "$data" "^{\"device_id\":\"$id\",\"boot\":1,\"seq\":[0-9]*,"
check "every message names the sensor errors" test "$(grep -c '"errors":{"temperature":"[a-z]*","humidity":"[a-z]*","distance":"[a-z]*"}' <<<"$data")" -eq 3
check "no sensor numbers (QEMU has no GPIO model)" contains "$data" '"sensors":{}'
check "no timestamp without a wall clock" lacks "$data" '"timestamp"'
check "console shows the boot under the emulator" grep -q "clock 168 MHz (emulator)" "$work/console.log"

# ---- 5. stop / start -----------------------------------------------------------------
pub -t "sensors/$id/command" -m stop
wait_for 100 grep -q "command stop: sensing halted" "$work/console.log"
check "stop is obeyed" grep -q "command stop: sensing halted" "$work/console.log"
quiet=$(sub -t "sensors/$id/data" -W 4 2>/dev/null | wc -l)
check "stop halts the data (saw $quiet in 4 s)" test "$quiet" -le 1
pub -t "sensors/$id/command" -m '{"action":"start"}'
resumed=$(sub -t "sensors/$id/data" -C 1 -W 15)
check "start resumes the data" contains "$resumed" "\"device_id\":\"$id\""

# ---- 6. the module's broker connection drops: will, then a clean reconnect ----------
sub -t "sensors/$id/status" -C 3 -W 60 >"$work/status.log" 2>&1 &
watch_pid=$!
wait_for 50 grep -q online "$work/status.log"   # the retained one: subscribed
seq_before=$(sub -t "sensors/$id/data" -C 1 -W 10 | sed -n 's/.*"seq":\([0-9]*\).*/\1/p')
kill -USR1 "$emu_pid"
wait "$watch_pid"
watch_pid=
check "offline by the will after the drop, then online again" \
  test "$(tr '\n' ' ' <"$work/status.log")" = "online offline online "
check "the robot saw the session end" grep -q "broker connection lost" "$work/console.log"
after=$(sub -t "sensors/$id/data" -C 1 -W 15)
seq_after=$(sed -n 's/.*"seq":\([0-9]*\).*/\1/p' <<<"$after")
check "data after the reconnect, same boot, later seq ($seq_before -> $seq_after)" \
  test -n "$seq_after" -a -n "$seq_before" -a "${seq_after:-0}" -gt "${seq_before:-0}"
check "same boot: a reconnect, not a reboot" contains "$after" '"boot":1,'
status=$(sub -t "sensors/$id/status" --retained-only -C 1 -W 5)
check "retained status is online again" test "$status" = online
finish
