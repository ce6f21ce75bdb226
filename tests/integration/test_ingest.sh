#!/usr/bin/env bash
# The ingest endpoint against the real curl: the tutorial's exact JSON is
# recorded, a malformed body gets 400 and a raw row, a 1 MB body gets 413
# at once, slowloris connections and garbage stall no one, and each server
# fault (503, slow, refuse, reset) is seen by curl and cleared.
# Usage: test_ingest.sh INGEST_SERVE
set -u
serve=$1
work=$(mktemp -d /tmp/robofleet-ingest-XXXXXX)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
passes=0

. "$(dirname "$0")/check.sh"
. "$(dirname "$0")/ingest_serve.sh"

db="$work/record.db"
ingest_serve_start "$serve" "$db" "$work" --idle-timeout 2
check "ingest_serve writes its port" test -n "$port"
url="http://127.0.0.1:$port/api/sensors/data"
q() { sqlite3 "$db" "$1"; }
# post BODY [curl options...]: prints "<http code> <seconds>", the answer body in $work/answer
post() {
  local body=$1; shift
  curl -s -o "$work/answer" -w '%{http_code} %{time_total}' -X POST \
    -H 'Content-Type: application/json' -d "$body" "$@" "$url"
}
reading() { echo "{\"device_id\":\"$1\",\"boot\":1,\"seq\":$2,\"sensors\":{\"temperature\":21.5}}"; }

# 1. The tutorial's request, word for word.
tutorial='{"device_id": "esp32_001", "timestamp": "2025-12-07T10:30:45Z", "sensors": {"temperature": 22.5, "humidity": 65.2, "distance": 150.3}}'
out=$(curl -s -w ' %{http_code}' -X POST "$url" -H "Content-Type: application/json" -d "$tutorial")
check "the tutorial's POST is answered 200 stored ($out)" test "$out" = '{"status":"stored"} 200'
check "its values are in the record" test "$(q "SELECT group_concat(metric || '=' || value, ' ')
  FROM (SELECT metric, value FROM metric_messages WHERE device_id = 'esp32_001' ORDER BY part)")" \
  = "temperature=22.5 humidity=65.2 distance=150.3"
check "the device is in the devices table" test "$(q "SELECT count(*) FROM devices WHERE device_id = 'esp32_001'")" = 1

# 2. robofleet's own readings: exactly once, a repeat is a duplicate.
r=$(post "$(reading r1 1)"); check "a keyed reading is stored ($r)" test "${r%% *}" = 200
r=$(post "$(reading r1 1)"); check "the same reading again is answered 200 ($r)" test "${r%% *}" = 200
check "it is stored once, the repeat counted as a duplicate" \
  test "$(q "SELECT readings || ' ' || duplicates FROM boots WHERE device_id = 'r1'")" = "1 1"

# 3. A malformed body: 400 naming the problem, kept raw.
r=$(post '{"device_id": "r2", "boot": 1,')
check "a malformed body gets 400 ($r)" test "${r%% *}" = 400
check "the answer names the problem" grep -q '"error":"expected a member name"' "$work/answer"
check "the body is kept raw with the reason" \
  test "$(q "SELECT reason FROM raw_messages WHERE payload = CAST('{\"device_id\": \"r2\", \"boot\": 1,' AS BLOB)")" \
  = "expected a member name"
r=$(post '{"boot": 1, "seq": 1, "sensors": {"temperature": 1}}')
check "a body without device_id gets 400 ($r)" test "${r%% *}" = 400
check "... kept raw under the request line" \
  test "$(q "SELECT count(*) FROM raw_messages WHERE topic = 'POST /api/sensors/data' AND reason = 'device_id missing'")" = 1

# 4. Wrong method, path, content type.
check "GET on the data path is 405" test "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 405
check "another path is 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/other")" = 404
check "a form body is 415" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'a=b' "$url")" = 415

# 5. 1 MB is refused from its Content-Length: read and dropped, never kept.
head -c 1048576 /dev/zero | tr '\0' 'x' > "$work/big"
r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST -H 'Content-Type: application/json' \
  --data-binary @"$work/big" "$url")
check "a 1 MB body gets 413 ($r)" test "${r%% *}" = 413
check "... in under a second" awk -v t="${r#* }" 'BEGIN { exit !(t < 1) }'

# 6. Commands ride on the answers and on GET .../command.
check "a command is queued" ctl command r1 stop
post "$(reading r1 2)" > /dev/null
check "the next answer carries it" grep -q '"command":"stop","command_id":1' "$work/answer"
check "the command URL then has none" \
  test "$(curl -s "http://127.0.0.1:$port/api/sensors/r1/command")" = '{"command":null}'
ctl command r1 start
check "the command URL hands out a queued one" \
  test "$(curl -s "http://127.0.0.1:$port/api/sensors/r1/command")" = '{"command":"start","command_id":2}'

# 7. Twenty slowloris connections and a burst of garbage stall no one.
fds=()
for _ in $(seq 20); do
  exec {fd}<>"/dev/tcp/127.0.0.1/$port"
  printf 'POST /api/sensors/data HTTP/1.1\r\nHost: x\r\nContent-Le' >&"$fd"
  fds+=("$fd")
done
exec {junk}<>"/dev/tcp/127.0.0.1/$port"
head -c 8192 /dev/urandom >&"$junk" 2>/dev/null
r=$(post "$(reading r1 3)" -m 3)
check "a POST beside 20 slowloris connections is answered at once ($r)" \
  awk -v c="${r%% *}" -v t="${r#* }" 'BEGIN { exit !(c == 200 && t < 1) }'
# The idle timeout (2 s here) closes them: a read sees the end within it.
closed=0
for fd in "${fds[@]}"; do
  timeout 6 cat <&"$fd" > /dev/null 2>&1 && closed=$((closed + 1))
  exec {fd}>&-
done
exec {junk}>&-
check "the idle timeout closed all 20 ($closed)" test "$closed" = 20

# A client that trickles its header a byte every 0.5 s is never silent for
# the idle timeout: the request deadline (2 s from its accept) cuts it.
exec {slow}<>"/dev/tcp/127.0.0.1/$port"
( for _ in $(seq 20); do printf 'X' 2>/dev/null >&"$slow" || exit 0; sleep 0.5; done ) &
trickle_pid=$!
start=$(date +%s%N)
timeout 8 cat <&"$slow" > /dev/null 2>&1; rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
exec {slow}>&-
kill "$trickle_pid" 2>/dev/null; wait "$trickle_pid" 2>/dev/null
check "a trickling client is cut by the request deadline (rc $rc, after $took ms)" \
  test "$rc" = 0 -a "$took" -lt 4000

# 8. Faults, each observed by curl, then cleared.
before=$(q "SELECT count(*) FROM readings")
check "fault status 503 set" ctl fault status 503
r=$(post "$(reading r1 4)"); check "503 while the status fault lasts ($r)" test "${r%% *}" = 503
check "... and nothing stored" test "$(q "SELECT count(*) FROM readings")" = "$before"

check "fault slow 1500 set" ctl fault slow 1500
post "$(reading r1 5)" > "$work/slow.out" &
slow_pid=$!
sleep 0.3
r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port/api/sensors/r1/command")
check "another request is not held up by a slow answer ($r)" \
  awk -v c="${r%% *}" -v t="${r#* }" 'BEGIN { exit !(c == 200 && t < 0.5) }'
wait "$slow_pid"
r=$(cat "$work/slow.out")
check "the slow answer is 200 after 1.5 s ($r)" \
  awk -v c="${r%% *}" -v t="${r#* }" 'BEGIN { exit !(c == 200 && t >= 1.4) }'

check "fault refuse set" ctl fault refuse
curl -s -o /dev/null "$url" -X POST -d x; rc=$?
check "the connection is refused (curl exit 7, got $rc)" test "$rc" = 7

check "fault reset set" ctl fault reset
post "$(reading r1 6)" > /dev/null; rc=$?
check "the connection is reset (curl exit 56, got $rc)" test "$rc" = 56

check "faults cleared" ctl fault none
r=$(post "$(reading r1 7)"); check "after clearing, a reading is stored again ($r)" test "${r%% *}" = 200
check "readings 5 and 7 stored, 4 and 6 not" \
  test "$(q "SELECT group_concat(seq) FROM (SELECT seq FROM readings WHERE device_id = 'r1' AND seq >= 4 ORDER BY seq)")" = "5,7"

# 9. SIGTERM: flushed, exit 0.
kill -TERM "$srv_pid"
wait "$srv_pid"; rc=$?
srv_pid=
check "ingest_serve exits 0 on SIGTERM (got $rc)" test "$rc" = 0
check "no crash or sanitizer report in its log" bash -c "! grep -qiE 'sanitizer|runtime error|segv' '$work/serve.err'"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
