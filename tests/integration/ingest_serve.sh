# Sourced by the tests that talk to the ingest endpoint alone: ingest_serve
# as a coprocess, its port, and its control lines.
#   ingest_serve_start SERVE DB WORK [OPTION...]
# starts SERVE --db DB --port-file WORK/ingest.port OPTION... (stderr in
# WORK/serve.err), waits up to 10 s for its port and sets srv_pid and port
# (empty if it never listened). The caller's cleanup kills $srv_pid.
ingest_serve_start() {
  local serve=$1 db=$2 work=$3
  shift 3
  coproc SRV { exec "$serve" --db "$db" --port-file "$work/ingest.port" "$@" 2>"$work/serve.err"; }
  srv_pid=$SRV_PID
  wait_for 100 test -s "$work/ingest.port"
  port=$(cat "$work/ingest.port" 2>/dev/null)
}

# A control line to ingest_serve ("fault status 503", "command ID stop",
# "flush", ...), true once it answered "ok".
ctl() {
  local ack=
  echo "$*" >&"${SRV[1]}"
  read -r -t 10 ack <&"${SRV[0]}"
  [ "$ack" = ok ]
}
