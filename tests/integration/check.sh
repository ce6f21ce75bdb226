# Sourced by the shell integration tests: one place for how a check is
# counted and said. The caller sets failures=0 passes=0 first.

check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); echo "ok   $name"
  else failures=$((failures + 1)); echo "FAIL $name"; fi
}
contains() { grep -q -- "$2" <<<"$1"; } # contains TEXT PATTERN

# Bounded polling for something that happens, instead of a fixed sleep.
wait_for() { # wait_for TENTHS COMMAND...
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

# Nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_mosquitto WORK [CONF_LINES]: a mosquitto of the test's own on a free
# loopback port, its conf WORK/mosquitto.conf (listener and anonymous access,
# then CONF_LINES), its log WORK/mosquitto.log; sets port and broker_pid.
# Ports are drawn below the kernel's ephemeral range, where an outgoing
# connection could hold a port without listening on it, and a broker that
# could not bind is replaced on another port: at most 5 tries.
start_mosquitto() {
  local work=$1 extra=${2:-} low attempt
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 12000 ] || low=32768
  for attempt in 1 2 3 4 5; do
    port=$((10000 + (RANDOM * 7 + attempt) % (low - 10000)))
    port_free "$port" || continue
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n%s\n' "$port" "$extra" >"$work/mosquitto.conf"
    mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    broker_pid=$!
    wait_for 100 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 1 || exit 0" && return 0
    kill "$broker_pid" 2>/dev/null
    wait "$broker_pid" 2>/dev/null
    broker_pid=
  done
  return 1
}
