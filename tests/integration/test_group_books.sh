#!/usr/bin/env bash
# A mixed fleet (the classic Arduino sketch, robofleet's robot, a device:
# group of bench/baseline_publisher, a plain libmosquitto client, and a
# sketch publishing JSON without boot and seq)
# through a WiFi drop: the run passes, and each group's books in
# summary.json add up, and agree with record.db: attempted = sent + not
# sent, recorded is what the record holds for the group's devices, lost in
# the network is sent - recorded; the robots lose nothing.
# Usage: test_group_books.sh ROBOFLEET SOURCE_DIR BASELINE_PUBLISHER
set -u
robofleet=$1
src=$2
baseline=$3
work=$(mktemp -d /tmp/robofleet-books-XXXXXX)
trap 'rm -rf "$work"' EXIT
export ROBOFLEET_CACHE_DIR="$work/cache"
failures=0
passes=0

. "$(dirname "$0")/check.sh"

cat > "$work/books.yaml" <<YAML
name: group-books
seed: 5
fleet:
  groups:
    - {name: classic, count: 4, id: "classic_{:02}", sketch: $src/examples/sketches/classic}
    - {name: robots, count: 4, id: "robot_{:02}", interval: 2s}
    - {name: base, count: 2, id: "base_{:02}", interval: 2s, device: $baseline}
    - {name: json, count: 2, id: "json_{:02}", sketch: $src/bench/sketches/bench_node}
    - name: roomy
      count: 2
      id: "roomy_{:02}"
      sketch: $src/tests/integration/sketches/roomy
      rooms: [kitchen, garage]
      topics: {readings: "sensors/{room}/{metric}"}
steps:
  - expect: {name: every device online, target: all, status: online, within: 60s}
  - wait: 8s
  - fault: {target: "classic_0[12]", kind: wifi_drop, for: 14s}
  - fault: {target: robot_01, kind: wifi_drop, for: 14s}
  - wait: 12s
  - expect: {name: the dropped sketches did not send, target: "classic_0[12]", counter: {name: publish_errors, min: 1}}
  - expect: {name: back online, target: all, status: online, within: 60s}
  - wait: 8s
  - expect: {name: every device publishes, target: all, messages: {min: 1, window: 6s}}
  - expect: {name: the robots lose nothing, target: "group:robots", lost: 0}
YAML

"$robofleet" run "$work/books.yaml" --runs-dir "$work/runs" --quiet --junit "$work/junit.xml"
check "the mixed scenario passes" test $? -eq 0
run_dir=$(ls -d "$work"/runs/*-group-books | head -n 1)
summary="$run_dir/summary.json"

# group NAME FIELD: a number from the group's line of summary.json.
group() {
  grep "\"name\": \"$1\"" "$summary" | sed -n "s/.*\"$2\": \\([0-9]*\\).*/\\1/p"
}
sql() { sqlite3 "$run_dir/record.db" "$1"; }

for g in classic robots base json roomy; do
  a=$(group "$g" attempted); s=$(group "$g" sent); n=$(group "$g" not_sent)
  r=$(group "$g" recorded); l=$(group "$g" lost_in_network)
  echo "group $g: attempted $a sent $s not_sent $n recorded $r lost $l"
  check "$g: every number is there" test -n "$a" -a -n "$s" -a -n "$n" -a -n "$r" -a -n "$l"
done

a=$(group classic attempted); s=$(group classic sent); n=$(group classic not_sent)
r=$(group classic recorded); l=$(group classic lost_in_network)
in_record=$(sql "SELECT (SELECT count(*) FROM metric_messages WHERE device_id LIKE 'classic\\_%' ESCAPE '\\') + (SELECT count(*) FROM readings WHERE device_id LIKE 'classic\\_%' ESCAPE '\\')")
check "classic: attempted ($a) = sent ($s) + not sent ($n)" test "$a" -eq $((s + n))
check "classic: recorded ($r) = record.db's data messages of classic_* ($in_record)" test "$r" -eq "$in_record"
check "classic: lost in the network ($l) = sent - recorded" test "$l" -eq $(( s > r ? s - r : 0 ))
check "classic: the dropped sketches did not send some readings" test "$n" -ge 1
check "classic: it sent something" test "$s" -ge 8

r=$(group robots recorded); l=$(group robots lost_in_network); a=$(group robots attempted)
in_record=$(sql "SELECT count(*) FROM readings WHERE device_id LIKE 'robot\\_%' ESCAPE '\\'")
check "robots: recorded ($r) = record.db's readings of robot_* ($in_record)" test "$r" -eq "$in_record"
check "robots: lost 0" test "$l" -eq 0
check "robots: taken ($a) = recorded + buffered + dropped" test "$a" -eq $(( r + $(group robots not_sent) ))

r=$(group base recorded)
in_record=$(sql "SELECT count(*) FROM readings WHERE device_id LIKE 'base\\_%' ESCAPE '\\'")
check "base (device: baseline_publisher): recorded ($r) = its readings in record.db ($in_record)" \
  test "$r" -eq "$in_record"
check "base: it published" test "$r" -ge 4

# A JSON message without boot and seq is three rows; the books count it once.
s=$(group json sent); r=$(group json recorded); l=$(group json lost_in_network)
in_record=$(sql "SELECT count(*) FROM metric_messages WHERE part = 0 AND device_id LIKE 'json\\_%' ESCAPE '\\'")
rows=$(sql "SELECT count(*) FROM metric_messages WHERE device_id LIKE 'json\\_%' ESCAPE '\\'")
check "json: recorded ($r) = its JSON messages in record.db ($in_record, $rows rows)" test "$r" -eq "$in_record"
check "json: three rows per message" test "$rows" -eq $(( 3 * in_record ))
check "json: lost in the network ($l) = sent ($s) - recorded" test "$l" -eq $(( s > r ? s - r : 0 ))
check "json: it sent something" test "$s" -ge 10

# The tutorial's room layout: a room's topic is its one device's.
r=$(group roomy recorded)
kitchen=$(sql "SELECT count(*) FROM metric_messages WHERE device_id = 'roomy_01'")
garage=$(sql "SELECT count(*) FROM metric_messages WHERE device_id = 'roomy_02'")
unattributed=$(sql "SELECT count(*) FROM raw_messages WHERE topic LIKE 'sensors/kitchen/%' OR topic LIKE 'sensors/garage/%'")
check "roomy: sensors/kitchen/... is roomy_01's ($kitchen), sensors/garage/... roomy_02's ($garage)" \
  test "$kitchen" -ge 3 -a "$garage" -ge 3
check "roomy: nothing of the rooms left raw ($unattributed)" test "$unattributed" -eq 0
check "roomy: recorded ($r) = both devices' messages" test "$r" -eq $(( kitchen + garage ))
check "roomy: the sketch read its provisioned room" grep -q 'serial: room kitchen$' "$run_dir/devices/roomy_01.log"

if [ "$failures" -ne 0 ]; then cat "$run_dir/report.txt"; cat "$summary"; fi
echo "$passes passed, $failures failed"
test "$failures" -eq 0
