#!/bin/bash
# The robofleet container's entry point.
#
#   entrypoint.sh shard [robofleet run options...]
#       Play one shard of the scenario. The shard's index comes from
#       JOB_COMPLETION_INDEX (set by Kubernetes in the pods of an Indexed
#       Job), the number of shards from SHARDS; it becomes
#       `robofleet run SCENARIO --shard INDEX/SHARDS`. The run plays on local
#       scratch space ($ROBOFLEET_WORK) and, when it is over, its run
#       directory is published to $ROBOFLEET_RESULTS/$RUN_ID/shard-INDEX on
#       the shared volume.
#   entrypoint.sh merge [robofleet merge options...]
#       Merge the published shard directories of $RUN_ID into
#       $ROBOFLEET_RESULTS/$RUN_ID/merged; the exit status is the merge's,
#       that is the whole fleet's verdict.
#   entrypoint.sh COMMAND [ARGS...]
#       Run anything else (robofleet check ..., a shell).
#
# Environment:
#   RUN_ID               names the run: the shards' meeting point on the broker
#                        (robofleet/shards/<run-id>/) and the results folder.
#                        1 to 64 of A-Z a-z 0-9 . _ -, a new one for every run
#   SHARDS               number of shards (the Job's completions)
#   JOB_COMPLETION_INDEX this shard, 0 to SHARDS-1 (shard only)
#   ROBOFLEET_BROKER     HOST:PORT of the broker every shard uses (shard only)
#   ROBOFLEET_SCENARIO   the scenario file (default /etc/robofleet/scenario.yaml)
#   ROBOFLEET_RESULTS    the shared volume (default /results)
#   ROBOFLEET_WORK       local scratch space (default /work)
#   ROBOFLEET_START_AT   optional common start, UTC ISO 8601 (--start-at)
#   ROBOFLEET_BROKER_WAIT seconds to wait for the broker to accept TCP
#                        connections before giving up (default 300)
#
# Exit status of `shard`: 0 when the shard ran and its directory was
# published, whatever its expectations said (robofleet's status 1): the
# verdict is the merge's, and a shard that failed the Job would make
# Kubernetes stop the shards still running. Any other status of robofleet
# (2: bad scenario or options, or the node cannot hold the shard; 130:
# stopped) is passed on, and so fails the Job. 2 for a configuration error
# here, 1 when the broker cannot be reached or publishing fails.
set -uo pipefail

say() { printf 'robofleet-entrypoint: %s\n' "$*" >&2; }
die() { local status=$1; shift; say "$*"; exit "$status"; }

need_uint() { # NAME VALUE
  [[ $2 =~ ^[0-9]{1,6}$ ]] || die 2 "$1 must be a whole number, got '${2}'"
}

check_run_id() {
  [ -n "${RUN_ID:-}" ] || die 2 "RUN_ID is not set: name the run (one name per run, shared by every shard and the merge)"
  # It becomes a topic level and a directory name: no '/', '+', '#' or spaces.
  if ! [[ $RUN_ID =~ ^[A-Za-z0-9._-]{1,64}$ ]] || [ "$RUN_ID" = . ] || [ "$RUN_ID" = .. ]; then
    die 2 "RUN_ID '$RUN_ID' must be 1 to 64 of A-Z a-z 0-9 . _ -"
  fi
}

check_shards() {
  [ -n "${SHARDS:-}" ] || die 2 "SHARDS is not set: the number of shards, equal to the Job's completions"
  need_uint SHARDS "$SHARDS"
  SHARDS=$((10#$SHARDS))
  [ "$SHARDS" -ge 1 ] || die 2 "SHARDS must be at least 1"
}

# Copy a finished run directory to the shared volume under a temporary name
# and rename it into place, so that the merge never reads half a copy. Modes
# are kept (keys stay private), ownership is not: a network file system may
# map users its own way.
publish() { # SRC DEST [JUNIT]
  local src=$1 dest=$2 junit=${3:-}
  rm -rf "$dest.partial"
  if ! cp -R --preserve=mode,timestamps "$src" "$dest.partial"; then
    rm -rf "$dest.partial"
    return 1
  fi
  if [ -n "$junit" ] && [ -f "$junit" ] && [ ! -e "$dest.partial/junit.xml" ]; then
    cp "$junit" "$dest.partial/junit.xml" || return 1
  fi
  rm -rf "$dest" && mv "$dest.partial" "$dest"
}

# robofleet runs as a child, not exec'd, so that its run directory can be
# published after it ends; SIGTERM (the pod being stopped) is passed on, and
# robofleet then stops its fleet and writes the verdict so far.
run_child() { # ARGS...
  local child status=0
  "$@" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null' TERM INT
  wait "$child" || status=$?
  # A trapped signal ends the wait early while robofleet is still stopping.
  for _ in 1 2 3; do
    kill -0 "$child" 2>/dev/null || break
    status=0
    wait "$child" || status=$?
  done
  trap - TERM INT
  return "$status"
}

wait_for_broker() { # HOST:PORT SECONDS
  local addr=$1 limit=$2 host port deadline
  case $addr in
    \[*\]:*) host=${addr%]:*}; host=${host#[}; port=${addr##*]:} ;;
    \[*\]) host=${addr#[}; host=${host%]}; port=1883 ;;
    *:*) host=${addr%:*}; port=${addr##*:} ;;
    *) host=$addr; port=1883 ;;
  esac
  if [ -z "$host" ] || ! [[ $port =~ ^[0-9]{1,5}$ ]]; then
    die 2 "ROBOFLEET_BROKER '$addr' is not HOST:PORT"
  fi
  deadline=$((SECONDS + limit))
  # A TCP connect only: it works the same for plain, TLS and password
  # listeners and publishes nothing on the user's broker. timeout bounds a
  # connect whose packets are dropped.
  # shellcheck disable=SC2016 # $0 and $1 are the inner shell's arguments
  until timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 2
  done
}

cmd_shard() {
  local index scenario results work broker runs dest status=0 run_dir n
  check_run_id
  check_shards
  index=${JOB_COMPLETION_INDEX:-}
  [ -n "$index" ] || die 2 "JOB_COMPLETION_INDEX is not set: run shards as an Indexed Job, or set it to the shard's index (0 to SHARDS-1)"
  need_uint JOB_COMPLETION_INDEX "$index"
  index=$((10#$index))
  [ "$index" -lt "$SHARDS" ] || die 2 "JOB_COMPLETION_INDEX $index is not below SHARDS $SHARDS: the Job's completions and SHARDS differ"
  broker=${ROBOFLEET_BROKER:-}
  [ -n "$broker" ] || die 2 "ROBOFLEET_BROKER is not set: HOST:PORT of the broker all shards share"
  scenario=${ROBOFLEET_SCENARIO:-/etc/robofleet/scenario.yaml}
  [ -r "$scenario" ] || die 2 "cannot read the scenario $scenario (ROBOFLEET_SCENARIO)"
  results=${ROBOFLEET_RESULTS:-/results}
  work=${ROBOFLEET_WORK:-/work}
  dest=$results/$RUN_ID/shard-$index
  [ ! -e "$dest" ] || die 2 "$dest already exists: run $RUN_ID has been played; give this run a new RUN_ID"
  if ! mkdir -p "$results/$RUN_ID" || [ ! -w "$results/$RUN_ID" ]; then
    die 2 "cannot write to $results/$RUN_ID (ROBOFLEET_RESULTS): is the shared volume mounted and writable by uid $(id -u)?"
  fi
  runs=$work/runs-$RUN_ID-$index
  rm -rf "$runs"
  mkdir -p "$runs" || die 2 "cannot create $runs (ROBOFLEET_WORK)"

  n=${ROBOFLEET_BROKER_WAIT:-300}
  need_uint ROBOFLEET_BROKER_WAIT "$n"
  say "shard $index/$SHARDS of run $RUN_ID: waiting up to ${n}s for the broker $broker"
  wait_for_broker "$broker" "$((10#$n))" || die 1 "the broker $broker accepted no connection within ${n}s"

  local args=(run "$scenario" --shard "$index/$SHARDS" --broker "$broker" --run-id "$RUN_ID"
              --runs-dir "$runs" --junit "$work/junit-$RUN_ID-$index.xml")
  [ -z "${ROBOFLEET_START_AT:-}" ] || args+=(--start-at "$ROBOFLEET_START_AT")
  args+=("$@")
  say "robofleet ${args[*]}"
  run_child robofleet "${args[@]}" || status=$?

  # robofleet makes exactly one run directory under the fresh --runs-dir;
  # none when it refused to start (status 2).
  run_dir=
  n=0
  for d in "$runs"/*/; do
    [ -d "$d" ] || continue
    run_dir=${d%/}
    n=$((n + 1))
  done
  if [ "$n" -eq 0 ]; then
    [ "$status" -ne 0 ] || status=1
    die "$status" "robofleet exited $status and left no run directory in $runs: nothing to publish for shard $index"
  fi
  [ "$n" -eq 1 ] || die 1 "found $n run directories in $runs, expected one"
  publish "$run_dir" "$dest" "$work/junit-$RUN_ID-$index.xml" ||
    die 1 "could not publish $run_dir to $dest"
  say "shard $index/$SHARDS: robofleet exited $status; run directory published to $dest"
  case $status in
    0) exit 0 ;;
    1) say "shard $index/$SHARDS did not pass on its own (see $dest/report.txt); the merge gives the fleet's verdict"
       exit 0 ;;
    *) exit "$status" ;;
  esac
}

cmd_merge() {
  local results work dir out status=0 i
  local dirs=() missing=()
  check_run_id
  check_shards
  results=${ROBOFLEET_RESULTS:-/results}
  work=${ROBOFLEET_WORK:-/work}
  dir=$results/$RUN_ID
  for ((i = 0; i < SHARDS; i++)); do
    if [ -d "$dir/shard-$i" ]; then dirs+=("$dir/shard-$i"); else missing+=("$i"); fi
  done
  for i in "${missing[@]}"; do
    say "shard $i/$SHARDS published no run directory ($dir/shard-$i): its pod never ran to the end; see kubectl logs for index $i"
  done
  [ "${#dirs[@]}" -gt 0 ] || die 1 "no shard of run $RUN_ID published a run directory under $dir"
  # The merged record is written on local scratch space (SQLite on a
  # network file system is slow and its locking is not to be relied on),
  # then published like a shard's.
  out=$work/merged-$RUN_ID
  rm -rf "$out" "$work/junit-$RUN_ID-merged.xml"
  say "robofleet merge ${dirs[*]} -o $out $*"
  run_child robofleet merge "${dirs[@]}" -o "$out" --junit "$work/junit-$RUN_ID-merged.xml" "$@" || status=$?
  if [ -d "$out" ]; then
    publish "$out" "$dir/merged" "$work/junit-$RUN_ID-merged.xml" || die 1 "could not publish $out to $dir/merged"
    [ ! -f "$dir/merged/report.txt" ] || cat "$dir/merged/report.txt"
    say "merged run directory published to $dir/merged"
  fi
  say "robofleet merge exited $status"
  exit "$status"
}

case ${1:-} in
  shard) shift; cmd_shard "$@" ;;
  merge) shift; cmd_merge "$@" ;;
  "" | -h | --help)
    sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0 ;;
  *) exec "$@" ;;
esac
