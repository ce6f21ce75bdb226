# Sourced by the linux-sbc qemu tests: the sysfs and /proc files the board
# reads, as the kernel's dht11 and srf04 IIO drivers and a WiFi interface
# present them.
#   iio_fixture WORK MILLIDEGC MILLIPERCENT DISTANCE_RAW
# makes $WORK/sys (sets sys, dht and sonar to its device folders),
# $WORK/wireless (wlan0 associated, -52 dBm) and $WORK/state.
iio_fixture() {
  local work=$1
  sys=$work/sys
  dht=$sys/bus/iio/devices/iio:device0
  sonar=$sys/bus/iio/devices/iio:device1
  mkdir -p "$dht" "$sonar" "$sys/class/net/wlan0" "$work/state"
  echo "dht11@4" >"$dht/name"
  echo "$2" >"$dht/in_temp_input"
  echo "$3" >"$dht/in_humidityrelative_input"
  echo srf04 >"$sonar/name"
  echo "$4" >"$sonar/in_distance_raw"
  echo 0.001000 >"$sonar/in_distance_scale"
  echo up >"$sys/class/net/wlan0/operstate"
  printf 'Inter-| sta-|   Quality        |\n face | tus | link level noise |\n wlan0: 0000   60.  -52.  -256 0 0 0 0 0 0\n' >"$work/wireless"
}
