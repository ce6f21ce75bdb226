#!/usr/bin/env bash
# The Raspberry Pi build end to end, in CI: cross-build robofleet-robot for
# arm64, check it is an aarch64 ELF compiled from the same firmware sources
# as the virtual robot, then run it under qemu-aarch64 against a private
# mosquitto on 127.0.0.1 with a fixture IIO tree, and watch the wire
# contract: retained online, the fixture's values, a change followed, an
# EIO read named in "errors" with no number, stop/start, offline on SIGTERM.
# Usage: sbc_arm64_qemu.sh SOURCE_DIR ARM64_BUILD_DIR VIRTUAL_BUILD_DIR
set -u
src=$1
out=$2
virtual=$3
id=pi_qemu
work=$(mktemp -d /tmp/robofleet-sbc-XXXXXX)
broker_pid=
robot_pid=
failures=0
passes=0
. "$src/tests/integration/check.sh"
. "$src/firmware/boards/linux-sbc/tests/iio_fixture.sh"

cleanup() {
  [ -n "$robot_pid" ] && kill -KILL "$robot_pid" 2>/dev/null
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

lacks() { ! grep -q -- "$2" <<<"$1"; }
finish() { echo "$passes passed, $failures failed"; [ "$failures" -eq 0 ]; exit $?; }

for tool in aarch64-linux-gnu-gcc qemu-aarch64 mosquitto mosquitto_sub mosquitto_pub file; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null ||
    { echo "FAIL $tool not installed (scripts/deps.sh installs it)"; exit 1; }
done
PATH=$PATH:/usr/sbin

# ---- 1. the arm64 build --------------------------------------------------
cmake -S "$src/firmware/boards/linux-sbc" -B "$out" \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" >"$work/cmake.log" 2>&1 &&
  cmake --build "$out" -j"$(nproc)" >>"$work/cmake.log" 2>&1
check "arm64 build succeeds" test $? -eq 0 || { cat "$work/cmake.log"; finish; }
bin=$out/robofleet-robot
desc=$(file -b "$bin")
echo "     file: $desc"
check "file says ELF 64-bit aarch64" contains "$desc" "ELF 64-bit LSB .*ARM aarch64"
size=$(stat -c %s "$bin")
echo "     size: $size bytes ($(aarch64-linux-gnu-size "$bin" | tail -n 1 | awk '{print "text " $1 ", data " $2 ", bss " $3}'))"

# ---- 2. the same firmware sources as the virtual robot --------------------
if [ ! -f "$virtual/robofleet-firmware-sources.txt" ]; then
  # No top-level build yet: configuring one is enough to know its list.
  virtual=$work/virtual
  cmake -S "$src" -B "$virtual" -DROBOFLEET_TESTS=OFF >"$work/virtual.log" 2>&1
fi
check "firmware source list is the virtual robot's" \
  diff -u "$virtual/robofleet-firmware-sources.txt" "$out/robofleet-firmware-sources.txt"
# What the arm64 build really compiled from firmware/ outside its board
# folder: its object files (the compile database also lists targets it
# never builds, such as the pin drivers' hal_sensor).
compiled=$(cd "$out/firmware/CMakeFiles" && find . -name '*.c.o' | sed 's|^\./[^/]*\.dir/|firmware/|; s|\.o$||' | sort)
check "arm64 compiled exactly that list from firmware/" \
  diff -u "$out/robofleet-firmware-sources.txt" <(printf '%s\n' "$compiled")
check "robofleet-robot links the firmware library" \
  grep -q "firmware/librobofleet_firmware.a" "$out/CMakeFiles/robofleet-robot.dir/link.txt"
# The virtual robot's link line, wherever its build keeps that target.
device_link=$(find "$virtual" -path '*/CMakeFiles/robofleet-device.dir/link.txt' 2>/dev/null | head -n 1)
if [ -n "$device_link" ]; then
  check "robofleet-device links the same library" \
    grep -q "firmware/librobofleet_firmware.a" "$device_link"
fi

# ---- 3. fixture tree, broker, robot under qemu ------------------------------
iio_fixture "$work" 23400 45600 1234

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for attempt in 1 2 3 4 5; do
  port=$((20000 + (RANDOM * 7 + attempt) % 40000))
  port_free "$port" || continue
  printf 'listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
  broker_pid=$!
  for _ in $(seq 100); do
    port_free "$port" || break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$broker_pid" 2>/dev/null && ! port_free "$port" && break
  broker_pid=
done
check "mosquitto listens on 127.0.0.1:$port" test -n "$broker_pid" || finish
sub() { mosquitto_sub -h 127.0.0.1 -p "$port" "$@"; }
pub() { mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 "$@"; }

cat >"$work/robot.conf" <<CONF
device_id = $id
broker = 127.0.0.1:$port
publish_interval = 1s
median_window = 1
log_level = debug
sysfs_root = $sys
net_iface = wlan0
wireless_path = $work/wireless
state_dir = $work/state
CONF
qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" -c "$work/robot.conf" 2>"$work/robot.log" &
robot_pid=$!

status=$(sub -t "sensors/$id/status" -C 1 -W 60)
check "online" test "$status" = online
# A new subscriber gets it from the broker's store: it is retained.
status=$(sub -t "sensors/$id/status" --retained-only -C 1 -W 5)
check "online is retained" test "$status" = online

# A data message whose values match: "sensors":{...} with these numbers.
wait_data() { # wait_data PATTERN [MAX_MESSAGES] -> the first matching message
  sub -t "sensors/$id/data" -C "${2:-15}" -W 30 | grep -m 1 -- "$1"
}
first=$(wait_data '"sensors":')
echo "     data: $first"
check "data has device_id, boot, seq, timestamp" \
  contains "$first" "^{\"device_id\":\"$id\",\"boot\":1,\"seq\":[0-9]*,\"timestamp\":\"20[0-9-]*T[0-9:.]*Z\""
check "data carries the fixture's values" \
  contains "$first" '"sensors":{"temperature":23.4,"humidity":45.6,"distance":123.4}}$'

# ---- 4. the fixture changes: the data follows ------------------------------
echo 25100 >"$dht/in_temp_input"
echo 50200 >"$dht/in_humidityrelative_input"
echo 2000 >"$sonar/in_distance_raw"
changed=$(wait_data '"temperature":25.1,"humidity":50.2,"distance":200.0')
echo "     data: $changed"
check "data follows the changed fixture" test -n "$changed"

# ---- 5. a read that fails with EIO: named in errors, no number -------------
# /proc/self/mem read at offset 0 fails with EIO in the kernel, as a dht11
# checksum failure does. The link replaces the file in one rename(): a read
# between an rm and an ln would find no file and say "absent" instead.
ln -s /proc/self/mem "$dht/in_temp_input.new"
mv -T "$dht/in_temp_input.new" "$dht/in_temp_input"
failed=$(wait_data '"errors":')
echo "     data: $failed"
check "errors names temperature and humidity as io" \
  contains "$failed" '"errors":{"temperature":"io","humidity":"io"}'
check "no temperature or humidity number with the error" \
  lacks "$failed" '"sensors":{[^}]*"\(temperature\|humidity\)"'
check "the distance is still published" contains "$failed" '"sensors":{"distance":200.0}'
check "the log names the kernel error" grep -q '^<4>DHT22: reading in_temp_input: Input/output error' "$work/robot.log"
rm "$dht/in_temp_input"
echo 22000 >"$dht/in_temp_input"
recovered=$(wait_data '"temperature":22.0,')
check "recovers when the read works again" test -n "$recovered"

# ---- 6. stop / start ----------------------------------------------------------
pub -t "sensors/$id/command" -m stop
# At most one reading may already be on its way; after it, silence.
quiet=$(sub -t "sensors/$id/data" -W 4 2>/dev/null | wc -l)
check "stop halts the data (saw $quiet in 4 s)" test "$quiet" -le 1
check "stop is logged" grep -q '^<6>command stop: sensing halted' "$work/robot.log"
pub -t "sensors/$id/command" -m '{"action":"start"}'
resumed=$(sub -t "sensors/$id/data" -C 1 -W 10)
check "start resumes the data" contains "$resumed" '"temperature":22.0'

# ---- 7. SIGTERM: offline, exit 0 ---------------------------------------------
kill -TERM "$robot_pid"
wait "$robot_pid"
rc=$?
robot_pid=
check "SIGTERM exits 0" test "$rc" -eq 0
status=$(sub -t "sensors/$id/status" --retained-only -C 1 -W 10)
check "retained offline after SIGTERM" test "$status" = offline
check "log lines carry journald priorities" grep -q '^<6>boot 1 of pi_qemu' "$work/robot.log"
check "boot counter stored under state_dir" test -s "$work/state/$id.flash"

# ---- 8. the package: binary, config, unit, overlay ---------------------------
(cd "$out" && cpack -G "DEB;TGZ" >"$work/cpack.log" 2>&1)
check "cpack builds a .deb and a tarball" test $? -eq 0
deb=$(ls "$out"/robofleet-robot_*_arm64.deb 2>/dev/null | head -n 1)
if [ -n "$deb" ]; then
  listing=$(dpkg-deb -c "$deb")
  for f in usr/bin/robofleet-robot etc/robofleet/robot.conf lib/systemd/system/robofleet-robot.service \
           usr/share/robofleet/overlays/robofleet-hcsr04-overlay.dts; do
    check ".deb holds $f" contains "$listing" "\./$f\$"
  done
  check ".deb is for arm64" test "$(dpkg-deb -f "$deb" Architecture)" = arm64
  check ".deb keeps robot.conf as a conffile" \
    contains "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" "^/etc/robofleet/robot.conf$"
  echo "     package: $(basename "$deb"), $(stat -c %s "$deb") bytes"
fi
check "tarball holds the binary" contains "$(tar tzf "$out"/robofleet-robot_*_arm64.tar.gz)" "^usr/bin/robofleet-robot$"

if [ "$failures" -ne 0 ]; then
  echo "---- robot log"; tail -n 40 "$work/robot.log"
fi
finish
