#!/usr/bin/env bash
# robofleet-esp-at's HTTP client AT commands against ingest_serve, spoken
# to directly on the emulator's serial socket: the answers a module gives
# (body chunks, OK / SEND OK), the error codes of AT+SYSLOG=1 for a 404, a
# 503 and no connection, a bare ERROR without them, a command riding on an
# answer, and the reading recorded.
# Usage: test_esp_at_emu_http.sh ROBOFLEET_ESP_AT INGEST_SERVE
set -u
emu=$1
serve=$2
work=$(mktemp -d /tmp/robofleet-esp-at-http-XXXXXX)
emu_pid= srv_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
passes=0
. "$(dirname "$0")/check.sh"
. "$(dirname "$0")/ingest_serve.sh"

db=$work/record.db
ingest_serve_start "$serve" "$db" "$work"
check "ingest_serve listens" test -n "$port"
base="http://127.0.0.1:$port"

"$emu" --port-file "$work/esp.port" -v 2>"$work/emu.log" &
emu_pid=$!
wait_for 50 test -s "$work/esp.port"
check "robofleet-esp-at listens" test -s "$work/esp.port"
exec {esp}<>"/dev/tcp/127.0.0.1/$(cat "$work/esp.port")"

# at COMMAND: send it, collect the answer up to its final line (OK, ERROR,
# SEND OK, SEND FAIL) or the '>' prompt into $answer, one line per line.
at() {
  local line
  answer=
  printf '%s\r\n' "$1" >&"$esp"
  for _ in $(seq 40); do
    IFS= read -r -t 10 -d $'\n' line <&"$esp" || { [ "$line" = ">" ] && answer+=">"; return; }
    line=${line%$'\r'}
    [ -n "$line" ] && answer+="$line"$'\n'
    case $line in OK|ERROR|"SEND OK"|"SEND FAIL") return ;; esac
  done
}
# data BYTES: the data after a '>' prompt, then the answer as at() collects it.
data() {
  local line
  answer=
  printf '%s' "$1" >&"$esp"
  for _ in $(seq 40); do
    IFS= read -r -t 10 line <&"$esp" || return
    line=${line%$'\r'}
    [ -n "$line" ] && answer+="$line"$'\n'
    case $line in OK|ERROR|"SEND OK"|"SEND FAIL") return ;; esac
  done
}
# The prompt comes without a line end: read it by its character.
prompt() {
  local got=
  IFS= read -r -t 10 -d '>' got <&"$esp"
  [ "${got//[$'\r\n']/}" = OK ]
}

IFS= read -r -t 10 _ <&"$esp"; IFS= read -r -t 10 ready <&"$esp"
check "the module greets with ready" test "${ready%$'\r'}" = ready
at "ATE0"
at "AT+HTTPCLIENT=2,0,\"$base/api/sensors/r1/command\",,,1"
check "HTTP before joining a network is an ERROR" test "$answer" = $'ERROR\n'
at "AT+CWJAP=\"lab\",\"pw\""
at "AT+SYSLOG=1"
check "AT+SYSLOG=1 is taken" test "$answer" = $'OK\n'
at "AT+SYSLOG?"
check "AT+SYSLOG? says 1" test "$answer" = $'+SYSLOG:1\nOK\n'

reading='{"device_id":"r1","boot":1,"seq":1,"sensors":{"temperature":21.5}}'
printf 'AT+HTTPCPOST="%s/api/sensors/data",%d,1,"Content-Type: application/json"\r\n' \
  "$base" "${#reading}" >&"$esp"
check "AT+HTTPCPOST prompts with '>' after OK" prompt
data "$reading"
check "the POST is answered with the body, then SEND OK (${answer//$'\n'/|})" \
  test "$answer" = $'+HTTPCPOST:19,{"status":"stored"}\nSEND OK\n'
check "the reading is recorded" \
  test "$(sqlite3 "$db" "SELECT boot || ':' || seq FROM readings WHERE device_id = 'r1'")" = 1:1

check "a stop is queued" ctl command r1 stop
reading='{"device_id":"r1","boot":1,"seq":2,"sensors":{}}'
printf 'AT+HTTPCPOST="%s/api/sensors/data",%d,1,"Content-Type: application/json"\r\n' \
  "$base" "${#reading}" >&"$esp"
prompt
data "$reading"
check "the command rides on the next answer (${answer//$'\n'/|})" \
  grep -q '^+HTTPCPOST:[0-9]*,{"status":"stored","command":"stop","command_id":1}$' <<<"$answer"

at "AT+HTTPCLIENT=2,0,\"$base/api/sensors/r1/command\",,,1"
check "GET of the command URL (${answer//$'\n'/|})" test "$answer" = $'+HTTPCLIENT:16,{"command":null}\nOK\n'
at "AT+HTTPCGET=\"$base/api/sensors/r1/command\""
check "AT+HTTPCGET too (${answer//$'\n'/|})" test "$answer" = $'+HTTPCGET:16,{"command":null}\nOK\n'

at "AT+HTTPCLIENT=2,0,\"$base/api/other\",,,1"
check "a 404 is ERR CODE 0x7194 then ERROR" grep -qz $'ERR CODE:0x010a7194\nERROR\n$' <<<"$answer"

check "the endpoint answers 503" ctl fault status 503
printf 'AT+HTTPCPOST="%s/api/sensors/data",%d,1,"Content-Type: application/json"\r\n' \
  "$base" "${#reading}" >&"$esp"
prompt
data "$reading"
check "a 503 is ERR CODE 0x71f7 then SEND FAIL" grep -qz $'ERR CODE:0x010a71f7\nSEND FAIL\n$' <<<"$answer"
ctl fault none

# Port 1 (tcpmux): nobody listens there.
at "AT+HTTPCLIENT=2,0,\"http://127.0.0.1:1/x\",,,1"
check "no connection is ERR CODE 0x7000 then ERROR (${answer//$'\n'/|})" test "$answer" = $'ERR CODE:0x010a7000\nERROR\n'

at "AT+SYSLOG=0"
at "AT+HTTPCLIENT=2,0,\"$base/api/other\",,,1"
check "without AT+SYSLOG a 404 is a bare ERROR (after its body)" grep -qz $'}\nERROR\n$' <<<"$answer"
check "... and no ERR CODE" test "$(grep -c 'ERR CODE' <<<"$answer")" = 0

at "AT+HTTPCPOST=\"$base/api/sensors/data\",10,2,\"A: b\""
check "a header count that does not match is an ERROR" test "$answer" = $'ERROR\n'
echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
