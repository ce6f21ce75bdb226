# Sourced by the tests that need a mutual-TLS mosquitto of their own (the
# boards' TLS checks, the TLS sketch): one way to start it.
#
#   start_mutual_tls_broker WORK PKI [ACL]
#
# starts mosquitto on a free 127.0.0.1 port with PKI's CA and broker
# certificate (a directory `robofleet ca` wrote), client certificates
# required and their CN as the user name, no anonymous clients, and the ACL
# file ACL if given. Sets port and broker_pid (empty when it failed after
# five ports); the config and log are WORK/mosquitto.conf and .log. Every
# wait is bounded.

tls_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_mutual_tls_broker() {
  local work=$1 pki=$2 acl=${3:-} attempt tries
  broker_pid=
  for attempt in 1 2 3 4 5; do
    port=$((20000 + (RANDOM * 7 + attempt) % 40000))
    tls_port_free "$port" || continue
    # user root: as root mosquitto would otherwise drop to its own user,
    # which cannot read the private credentials directory (ignored for
    # anyone else). tls_version: the oldest accepted, as robofleet's own
    # broker has it.
    {
      echo "user root"
      echo "persistence false"
      echo "per_listener_settings false"
      echo "allow_anonymous false"
      [ -n "$acl" ] && echo "acl_file $acl"
      echo "listener $port 127.0.0.1"
      echo "cafile $pki/ca.crt"
      echo "certfile $pki/broker.crt"
      echo "keyfile $pki/broker.key"
      echo "tls_version tlsv1.2"
      echo "require_certificate true"
      echo "use_identity_as_username true"
    } >"$work/mosquitto.conf"
    mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
    broker_pid=$!
    for tries in $(seq 1 50); do
      kill -0 "$broker_pid" 2>/dev/null || break
      tls_port_free "$port" || return 0
      sleep 0.1
    done
    kill "$broker_pid" 2>/dev/null
    broker_pid=
  done
  return 1
}
