#!/usr/bin/env bash
# robofleet run refuses a fleet the machine cannot hold, before anything
# starts: 100,000 devices need more ephemeral ports to one broker than any
# port range has (and usually more than pid_max or memory allow). Exit 2,
# a message that names the limit and the command that raises it, no run
# directory, no process.
# Usage: test_fleet_limits.sh ROBOFLEET
set -u
robofleet=$1
work=$(mktemp -d /tmp/robofleet-limits-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/huge.yaml" <<'YAML'
name: huge
fleet:
  groups:
    - {name: g, count: 100000, interval: 1s}
steps:
  - wait: 1s
YAML
"$robofleet" run "$work/huge.yaml" --runs-dir "$work/runs" > "$work/out" 2> "$work/err"
rc=$?
cat "$work/err"
fail=0
[ "$rc" -eq 2 ] || { echo "FAIL exit status $rc, want 2"; fail=1; }
grep -Eq 'kernel\.pid_max|kernel\.threads-max|ip_local_port_range|RLIMIT_NPROC|MemAvailable' "$work/err" ||
  { echo "FAIL the message names no limit"; fail=1; }
grep -Eq 'sudo sysctl|ulimit|fewer devices' "$work/err" || { echo "FAIL no command to raise it"; fail=1; }
[ ! -e "$work/runs" ] || { echo "FAIL a run directory was created"; fail=1; }
[ "$fail" -eq 0 ] && echo "ok   refused before anything started"
exit "$fail"
