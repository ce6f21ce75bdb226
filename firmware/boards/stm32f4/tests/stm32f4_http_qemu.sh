#!/usr/bin/env bash
# The STM32F4 image over HTTP, end to end: the same sources built with
# STM32_TRANSPORT=http (id, 1 s interval, the ingest URL of this test),
# booted in qemu-system-arm -M netduinoplus2 with USART1 on
# robofleet-esp-at, whose HTTP client AT commands reach ingest_serve (the
# ingest endpoint alone) on 127.0.0.1. Checks: readings recorded with
# boot 1 and seq in order without a gap, through AT+HTTPCPOST; a stop
# queued at the endpoint rides on an answer and halts the readings; a
# start reaches the stopped device through its command poll (AT+HTTPCLIENT
# GET) and the readings resume; a 503 spell at the endpoint loses nothing.
# Usage: stm32f4_http_qemu.sh SOURCE_DIR STM32_BUILD_DIR HOST_BUILD_DIR
set -u
src=$1
out=$2
host=$3
id=stm32_http
work=$(mktemp -d /tmp/robofleet-stm32-http-XXXXXX)
emu_pid= qemu_pid= srv_pid=
failures=0
passes=0
. "$src/tests/integration/check.sh"

cleanup() {
  [ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  [ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  [ -n "$srv_pid" ] && kill -TERM "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "---- console"; tail -n 40 "$work/console.log" 2>/dev/null
    echo "---- esp-at"; tail -n 30 "$work/emu.log" 2>/dev/null
    echo "---- ingest_serve"; tail -n 20 "$work/serve.err" 2>/dev/null
  fi
  echo "$passes passed, $failures failed"; [ "$failures" -eq 0 ]; exit $?
}

for tool in qemu-system-arm sqlite3; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done

# ---- 1. the emulator and the endpoint, from the host build -------------------
emu=$host/tools/esp-at/robofleet-esp-at
serve=$host/tests/integration/ingest_serve
for t in robofleet-esp-at ingest_serve; do
  bin=$emu; [ "$t" = ingest_serve ] && bin=$serve
  [ -x "$bin" ] || cmake --build "$host" --target "$t" >"$work/host.log" 2>&1
done
check "robofleet-esp-at is built" test -x "$emu" || finish
check "ingest_serve is built (the host build's tests)" test -x "$serve" || finish

db=$work/record.db
coproc SRV { exec "$serve" --db "$db" --port-file "$work/ingest.port" 2>"$work/serve.err"; }
srv_pid=$SRV_PID
wait_for 100 test -s "$work/ingest.port"
check "ingest_serve listens" test -s "$work/ingest.port" || finish
ingest_port=$(cat "$work/ingest.port")
# A control line to ingest_serve, answered "ok" once in force.
ctl() {
  local ack=
  echo "$*" >&"${SRV[1]}"
  read -r -t 10 ack <&"${SRV[0]}"
  [ "$ack" = ok ]
}
q() { sqlite3 "$db" "$1" 2>/dev/null; }
count() { q "SELECT count(*) FROM readings WHERE device_id = '$id'"; }
more_than() { [ "$(count)" -gt "$1" ] 2>/dev/null; }

# ---- 2. the image for this endpoint ---------------------------------------------
url="http://127.0.0.1:$ingest_port/api/sensors/data"
cmake -S "$src/firmware/boards/stm32f4" -B "$out/qemu-http-image" \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/arm-none-eabi.cmake" -DSTM32_DEVICE_ID=$id \
  -DSTM32_PUBLISH_INTERVAL_MS=1000 -DSTM32_LOG_LEVEL=3 -DSTM32_TRANSPORT=http \
  -DSTM32_INGEST="$url" >"$work/image.log" 2>&1 &&
  cmake --build "$out/qemu-http-image" -j"$(nproc)" >>"$work/image.log" 2>&1
check "test image builds (transport http, ingest $url)" test $? -eq 0 || { cat "$work/image.log"; finish; }
grep "robot-stm32f4 size:" "$work/image.log" | sed 's/^/     /'

"$emu" --listen 127.0.0.1:0 --port-file "$work/esp.port" -v 2>"$work/emu.log" &
emu_pid=$!
wait_for 50 test -s "$work/esp.port"
check "robofleet-esp-at listens" test -s "$work/esp.port" || finish

qemu-system-arm -M netduinoplus2 -kernel "$out/qemu-http-image/robot-stm32f4.elf" \
  -display none -monitor none -serial "tcp:127.0.0.1:$(cat "$work/esp.port")" \
  -serial "file:$work/console.log" 2>"$work/qemu.log" &
qemu_pid=$!

# ---- 3. readings over HTTP, in order -------------------------------------------------
wait_for 600 more_than 2
check "three readings recorded through the endpoint ($(count))" more_than 2
check "the console says transport http" grep -q "online as $id over HTTP" "$work/console.log"
check "posted with AT+HTTPCPOST and a JSON content type" \
  grep -q "AT+HTTPCPOST=\"$url\",[0-9]*,1,\"Content-Type: application/json\"" "$work/emu.log"
check "all of boot 1" test "$(q "SELECT count(DISTINCT boot) || ':' || min(boot) FROM readings WHERE device_id = '$id'")" = "1:1"
in_order() {
  local seqs
  seqs=$(q "SELECT seq FROM readings WHERE device_id = '$id' ORDER BY id")
  [ -n "$seqs" ] && [ "$seqs" = "$(sort -n <<<"$seqs")" ] &&
    [ "$(q "SELECT max(seq) - min(seq) + 1 - count(DISTINCT seq) FROM readings WHERE device_id = '$id'")" = 0 ]
}
check "seq recorded in order, without a gap" in_order
check "recorded once each (no duplicates)" \
  test "$(q "SELECT duplicates FROM boots WHERE device_id = '$id' AND boot = 1")" = 0

# ---- 4. stop through the endpoint, start through the command poll ----------------------
check "a stop is queued at the endpoint" ctl command $id stop
wait_for 100 grep -q "command stop: sensing halted" "$work/console.log"
check "stop rides on an answer and is obeyed" grep -q "command stop: sensing halted" "$work/console.log"
# Readings taken before the stop may still be on their way (the outbox
# drains): wait until none has come for 1.5 intervals, at most 10 times.
settled() { local before; before=$(count); sleep 1.5; [ "$(count)" = "$before" ]; }
wait_for 10 settled
halted=$(count)
sleep 4 # a span of silence is what is being checked: four intervals
quiet=$(( $(count) - halted ))
check "stop halts the readings ($quiet in 4 s once the outbox drained)" test "$quiet" -eq 0
check "a start is queued" ctl command $id start
wait_for 200 grep -q "command start: sensing resumed" "$work/console.log"
check "start reaches the stopped device through GET .../command" \
  grep -q "AT+HTTPCLIENT=2,0,\"http://127.0.0.1:$ingest_port/api/sensors/$id/command\",,,1" "$work/emu.log"
resumed=$(count)
wait_for 150 more_than $((resumed + 1))
check "start resumes the readings" more_than $((resumed + 1))

# ---- 5. a 503 spell loses nothing ----------------------------------------------------------
check "the endpoint answers 503" ctl fault status 503
refusals() { [ "$(grep -c "POST $url: 503" "$work/emu.log")" -ge "$1" ]; }
wait_for 300 refusals 3 # readings pile up in the outbox meanwhile
check "three POSTs answered 503, retried" refusals 3
before=$(count)
check "the fault is cleared" ctl fault none
wait_for 200 more_than $((before + 3))
check "the readings kept during the 503s arrive ($before -> $(count))" more_than $((before + 3))
check "still in order, without a gap" in_order
finish
