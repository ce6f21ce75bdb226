#!/usr/bin/env bash
# A group's own firmware: a `device:` group runs its program (here a script
# that records its arguments and then execs the real robofleet-device) and
# only that group does; every device, whatever its program, gets the
# scenario's network: options; the run passes. A missing device: program and
# a sketch that does not build end the run before anything starts.
# Usage: test_device_groups.sh ROBOFLEET ROBOFLEET_DEVICE
set -u
robofleet=$1
device=$2
work=$(mktemp -d /tmp/robofleet-groups-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
passes=0

. "$(dirname "$0")/check.sh"

leftovers() {
  local n=0
  for d in /proc/[0-9]*; do
    grep -qa -- "$work/runs" "$d/cmdline" 2>/dev/null && n=$((n + 1))
  done
  echo "$n"
}

# wrapper FILE DIR: a program that writes its arguments, one a line, to
# DIR/<id>.args and then becomes the real robofleet-device.
wrapper() {
  cat > "$1" <<SH
#!/bin/sh
id=unknown
prev=
for a in "\$@"; do
  [ "\$prev" = --id ] && id=\$a
  prev=\$a
done
mkdir -p "$2"
printf '%s\n' "\$@" > "$2/\$id.args"
exec "$device" "\$@"
SH
  chmod +x "$1"
}

mkdir -p "$work/scenario/fw"
wrapper "$work/scenario/fw/wrap.sh" "$work/calls"
wrapper "$work/builtin.sh" "$work/calls-builtin"

cat > "$work/scenario/groups.yaml" <<'YAML'
name: device-groups
fleet:
  network:
    wifi: {ssid: lab-wifi, password: correct horse}
    dns:
      broker.hivemq.com: broker
      gone.example.com: nxdomain
      api.example.com: "127.0.0.1:8080"
    dns_default: nxdomain
  groups:
    - {name: wrapped, count: 2, interval: 500ms, device: fw/wrap.sh, rooms: [kitchen, hall]}
    - {name: builtin, count: 2, interval: 500ms}
steps:
  - expect: {name: all online, status: online, within: 15s}
  - expect: {name: wrapped devices publish, target: "group:wrapped", messages: {min: 3}, within: 10s}
  - expect: {name: nothing lost, lost: 0, duplicated: 0}
YAML

# 1. The file checks, from any directory: fw/wrap.sh is next to the scenario.
(cd / && "$robofleet" check "$work/scenario/groups.yaml" >/dev/null)
check "check accepts a device: group" test $? -eq 0

# 2. The run, started elsewhere, with the built-in robot's program wrapped too.
(cd / && "$robofleet" run "$work/scenario/groups.yaml" --runs-dir "$work/runs" \
  --device "$work/builtin.sh" --junit "$work/groups.xml" --quiet)
check "the run passes" test $? -eq 0
check "JUnit has no failure" grep -q 'failures="0"' "$work/groups.xml"
check "no process left after the run" test "$(leftovers)" -eq 0

check "wrapped_001 ran the group's program" test -f "$work/calls/wrapped_001.args"
check "wrapped_002 ran the group's program" test -f "$work/calls/wrapped_002.args"
check "no builtin device ran it" test -z "$(ls "$work/calls" | grep -v '^wrapped_')"
check "builtin_001 ran robofleet-device" test -f "$work/calls-builtin/builtin_001.args"
check "builtin_002 ran robofleet-device" test -f "$work/calls-builtin/builtin_002.args"
check "no wrapped device ran robofleet-device" test -z "$(ls "$work/calls-builtin" | grep -v '^builtin_')"

# Each option and its value are neighbours on the command line.
has() { # has FILE OPTION VALUE
  grep -qxF -- "$2" "$1" && grep -A1 -xF -- "$2" "$1" | grep -qxF -- "$3"
}
for f in "$work/calls/wrapped_001.args" "$work/calls-builtin/builtin_002.args"; do
  n=$(basename "$f" .args)
  check "$n: --wifi-ssid" has "$f" --wifi-ssid lab-wifi
  check "$n: --wifi-password" has "$f" --wifi-password "correct horse"
  check "$n: --dns broker" grep -qxF broker.hivemq.com=broker "$f"
  check "$n: --dns nxdomain" grep -qxF gone.example.com=nxdomain "$f"
  check "$n: --dns address" grep -qxF api.example.com=127.0.0.1:8080 "$f"
  check "$n: three --dns" test "$(grep -cxF -- --dns "$f")" -eq 3
  check "$n: --dns-default" has "$f" --dns-default nxdomain
  check "$n: its id" has "$f" --id "$n"
  check "$n: the world" grep -qxF -- --world "$f"
done

# The group's layout (the default: the contract) and each device's room go
# to a device: group's devices only.
check "wrapped_001: --room" has "$work/calls/wrapped_001.args" --room kitchen
check "wrapped_002: --room" has "$work/calls/wrapped_002.args" --room hall
check "wrapped_001: plain readings template" \
  has "$work/calls/wrapped_001.args" --reading-topic "sensors/{id}/{metric}"
check "wrapped_001: two --reading-topic" \
  test "$(grep -cxF -- --reading-topic "$work/calls/wrapped_001.args")" -eq 2
check "wrapped_001: json readings template" grep -qxF "sensors/{id}/data" "$work/calls/wrapped_001.args"
check "builtin_002: no --room" test "$(grep -cxF -- --room "$work/calls-builtin/builtin_002.args")" -eq 0
check "builtin_002: no --reading-topic" \
  test "$(grep -cxF -- --reading-topic "$work/calls-builtin/builtin_002.args")" -eq 0

# 3. A device: program that is not there: refused with its position, nothing started.
before=$(ls "$work/runs" | wc -l)
sed 's|device: fw/wrap.sh|device: fw/missing.sh|' "$work/scenario/groups.yaml" > "$work/scenario/missing.yaml"
out=$("$robofleet" run "$work/scenario/missing.yaml" --runs-dir "$work/runs" 2>&1)
check "missing device: exits 2" test $? -eq 2
check "missing device: names file:line:col" grep -q "missing.yaml:11:[0-9]*: device: 'fw/missing.sh' does not exist" <<<"$out"
check "missing device: nothing started" test "$(ls "$work/runs" | wc -l)" -eq "$before"

# 4. A sketch that does not build ends the run before anything starts.
mkdir -p "$work/scenario/broken"
printf 'void setup() {\n  this is not C++;\n}\nvoid loop() {}\n' > "$work/scenario/broken/broken.ino"
cat > "$work/scenario/sketch.yaml" <<'YAML'
name: broken-sketch
fleet:
  groups:
    - {name: builtin, count: 1}
    - {name: sk, count: 1, sketch: broken}
steps:
  - wait: 1s
YAML
out=$("$robofleet" run "$work/scenario/sketch.yaml" --runs-dir "$work/runs" 2>&1)
rc=$?
echo "$out" | tail -n 3
check "broken sketch: non-zero exit" test "$rc" -ne 0
check "broken sketch: names the group and the sketch" \
  grep -q "sketch.yaml:5:[0-9]*: group 'sk': sketch $work/scenario/broken did not build" <<<"$out"
check "broken sketch: nothing started" test "$(ls "$work/runs" | wc -l)" -eq "$before"
check "broken sketch: no process left" test "$(leftovers)" -eq 0

echo "$passes passed, $failures failed"
test "$failures" -eq 0
