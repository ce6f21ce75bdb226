#!/usr/bin/env bash
# robofleet top end to end, in a detached tmux at 120x40: five robots are
# listed with their values; '/' finds one, 'w' drops its WiFi and it goes
# offline on screen and in the world file, 'w' again brings it back; 'q'
# leaves no dashboard behind. Then `robofleet run --tui`, where 'q' ends the
# run and leaves no process behind. Every wait polls with a deadline.
# Usage: test_tui_tmux.sh ROBOFLEET WORLD_PEEK
set -u
robofleet=$1
peek=$2
work=$(mktemp -d /tmp/robofleet-tui-XXXXXX)
sock="robofleet-tui-$$"
tm() { tmux -L "$sock" "$@"; }
run_pid=
cleanup() {
  tm kill-server 2>/dev/null
  [ -n "$run_pid" ] && kill -INT "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
passes=0

. "$(dirname "$0")/check.sh"

# wait_for SECONDS COMMAND...: poll every 200 ms until it holds or time is up.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

screen() { tm capture-pane -p -t tui 2>/dev/null; }
# screen_has REGEX: a line of the pane matches.
screen_has() { screen | grep -Eq -- "$1"; }

# Processes of this test's runs: anything whose command line names $work.
leftovers() {
  local n=0
  for d in /proc/[0-9]*; do
    grep -qa -- "$work/runs" "$d/cmdline" 2>/dev/null && n=$((n + 1))
  done
  echo "$n"
}
no_leftovers() { [ "$(leftovers)" -eq 0 ]; }
session_gone() { ! tm has-session -t tui 2>/dev/null; }

cat > "$work/five.yaml" <<'YAML'
name: five
description: Five robots and a long wait, for the dashboard test.
seed: 5
duration: 10m
fleet:
  broker: embedded
  connect_rate: 50/s
  groups:
    - name: lab
      count: 5
      id: "bot_{:02}"
      interval: 1s
      environment: {temperature: 21.5, humidity: 40, distance: 120}
steps:
  - expect: {name: online, target: all, status: online, within: 30s}
  - wait: 9m
YAML

# 1. `robofleet top` attached to a run in another process.
"$robofleet" run "$work/five.yaml" --runs-dir "$work/runs" --quiet &
run_pid=$!
check "run directory appears" wait_for 20 sh -c "ls -d '$work'/runs/*-five >/dev/null 2>&1"
run_dir=$(ls -d "$work"/runs/*-five | head -n 1)
check "world file appears" wait_for 20 test -e "$run_dir/world"
tm new-session -d -s tui -x 120 -y 40 "LANG=C.UTF-8 '$robofleet' top '$run_dir'"
check "all five online in the header" wait_for 40 screen_has "online 5 "
check "devices listed with their values" wait_for 20 sh -c "
  for i in 1 2 3 4 5; do
    tmux -L '$sock' capture-pane -p -t tui | grep -Eq \"bot_0\$i +online +ok +up +21\\.5 +40\\.0 +120\\.0\" || exit 1
  done"
tm send-keys -t tui / b o t _ 0 3 Enter
check "filter shows one device" wait_for 10 screen_has "1/5 shown \[bot_03\]"
tm send-keys -t tui w
check "dropped device offline on screen" wait_for 30 screen_has "bot_03 +offline +down"
check "dropped device's link down in the world" wait_for 5 sh -c "'$peek' '$run_dir/world' bot_03 | grep -q link_mode=1"
check "injection recorded as dashboard" wait_for 5 sh -c \
  "sqlite3 -readonly '$run_dir/record.db' \"SELECT count(*) FROM faults WHERE device_id='bot_03' AND kind='wifi_drop' AND action='inject' AND source='dashboard'\" | grep -qx 1"
check "event log shows the fault" wait_for 5 screen_has "bot_03 wifi_drop inject \(dashboard\)"
tm send-keys -t tui w
check "device back online after w again" wait_for 40 screen_has "bot_03 +online +ok +up"
check "link restored in the world" sh -c "'$peek' '$run_dir/world' bot_03 | grep -q link_mode=0"
tm send-keys -t tui q
check "q closes the dashboard" wait_for 10 session_gone
# The bracket keeps pgrep from matching the sh -c that runs it.
check "no robofleet top left" wait_for 5 sh -c "! pgrep -f \"[r]obofleet top $run_dir\" >/dev/null"
kill -INT "$run_pid"
wait "$run_pid"
run_pid=
check "run stopped, nothing left" wait_for 15 no_leftovers

# 2. `robofleet run --tui`: q ends the run and everything it started.
tm new-session -d -s tui -x 120 -y 40 \
  "LANG=C.UTF-8 '$robofleet' run '$work/five.yaml' --runs-dir '$work/runs' --tui; echo \$? > '$work/tui.rc'"
check "--tui shows the fleet online" wait_for 40 screen_has "online 5 "
check "--tui lists the devices" wait_for 10 screen_has "bot_05 +online"
tm send-keys -t tui q
check "--tui run exits on q" wait_for 30 test -s "$work/tui.rc"
check "--tui exit status is 130 (interrupted)" grep -qx 130 "$work/tui.rc"
check "--tui leaves no process behind" wait_for 15 no_leftovers

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
