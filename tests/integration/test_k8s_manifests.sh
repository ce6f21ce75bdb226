#!/usr/bin/env bash
# The Kubernetes deployment in deploy/, checked without a cluster:
#   - every manifest of deploy/k8s against the Kubernetes 1.33 OpenAPI
#     schemas, the API server's own rules and robofleet's (one shard count,
#     no retried shard, one broker, labels), with deploy/validate's pinned
#     npm packages installed from their lockfile into the build tree;
#   - broken manifests refused, each with a message that names the file,
#     the document, the object and the field;
#   - the files the ConfigMaps carry, by their own tools: the scenario by
#     `robofleet check`, mosquitto.conf by a real mosquitto that must start
#     with it and pass a message;
#   - deploy/entrypoint.sh (bash -n, shellcheck where installed) and what it
#     does, against a stand-in robofleet: the shard's options from
#     JOB_COMPLETION_INDEX and SHARDS, publishing, exit statuses, a stopped
#     pod, refusals, and the merge over the published shards.
# Usage: test_k8s_manifests.sh SOURCE_DIR WORK_DIR ROBOFLEET
set -u
src=$1
vdir=$2/k8s-validate
robofleet=$3
tmp=$(mktemp -d /tmp/robofleet-k8s-XXXXXX)
broker_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  [ -z "$broker_pid" ] || kill "$broker_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# ------------------------------------------------------------ the validator
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  bad "node and npm are needed to validate the manifests (scripts/deps.sh installs them)"
  finish
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || { bad "Node.js 18 or later is needed, found $(node --version)"; finish; }

mkdir -p "$vdir"
cp "$src/deploy/validate/package.json" "$src/deploy/validate/package-lock.json" \
   "$src/deploy/validate/validate.mjs" "$vdir/"
stamp=$(sha256sum < "$vdir/package-lock.json")
if [ ! -d "$vdir/node_modules" ] || [ "$(cat "$vdir/.lock-stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$vdir/node_modules" "$vdir/.lock-stamp"
  # Exactly the lockfile's versions, no install scripts. No network means
  # no validation: that is a failure, not a skip.
  if (cd "$vdir" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund) > "$tmp/npm.log" 2>&1; then
    echo "$stamp" > "$vdir/.lock-stamp"
    ok "validator installed from deploy/validate/package-lock.json"
  else
    cat "$tmp/npm.log"
    bad "npm ci could not install the validator's packages from deploy/validate/package-lock.json (is the npm registry reachable?)"
    finish
  fi
fi
validate() { node "$vdir/validate.mjs" "$@"; }

if validate --robofleet "$src/deploy/k8s" > "$tmp/out" 2>&1; then
  ok "deploy/k8s is valid: $(tail -n 1 "$tmp/out")"
else
  cat "$tmp/out"
  bad "deploy/k8s does not validate"
fi

# ------------------------------------------------------ broken manifests
# refused FILE PATTERN [validate options]: exit 1 and a line with PATTERN.
refused() {
  local file=$1 pattern=$2 rc
  shift 2
  validate "$@" "$file" > "$tmp/out" 2>&1
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qF -- "$pattern" "$tmp/out"; then
    ok "refused: $(grep -F -- "$pattern" "$tmp/out" | head -n 1)"
  else
    cat "$tmp/out"
    bad "$file: want exit 1 and '$pattern', got exit $rc"
  fi
}
job=$src/deploy/k8s/shards-job.yaml
where="document 1 (Job robofleet/robofleet-shards)"
mkdir -p "$tmp/broken"

sed 's/completionMode: Indexed/completionMode: Indexd/' "$job" > "$tmp/broken/mode.yaml"
refused "$tmp/broken/mode.yaml" \
  "mode.yaml:$(grep -n 'completionMode: Indexed' "$job" | cut -d: -f1): $where: spec.completionMode: must be one of \"Indexed\", \"NonIndexed\", not \"Indexd\""

grep -v '^ *image: robofleet' "$job" > "$tmp/broken/noimage.yaml"
refused "$tmp/broken/noimage.yaml" "$where: spec.template.spec.containers[0].image: required field is missing"

sed 's/^  parallelism:/  parallelizm:/' "$job" > "$tmp/broken/typo.yaml"
refused "$tmp/broken/typo.yaml" "$where: spec.parallelizm: unknown field"

sed 's/cpu: 500m/cpu: half/' "$job" > "$tmp/broken/quantity.yaml"
refused "$tmp/broken/quantity.yaml" "spec.template.spec.containers[0].resources.requests.cpu: must be a quantity"

# YAML 1.1, as Kubernetes reads it: an unquoted "on" is a boolean.
sed 's|value: /results|value: on|' "$job" > "$tmp/broken/bool.yaml"
refused "$tmp/broken/bool.yaml" "value: must be string, not true"

sed 's/^  completions: 4/  completions: 4\n  completions: 5/' "$job" > "$tmp/broken/dup.yaml"
refused "$tmp/broken/dup.yaml" "YAML: Map keys must be unique"

sed 's/^kind: Job/kind: Jobb/' "$job" > "$tmp/broken/kind.yaml"
refused "$tmp/broken/kind.yaml" "no schema for apiVersion batch/v1 kind Jobb"

sed 's/restartPolicy: Never/restartPolicy: Always/' "$job" > "$tmp/broken/restart.yaml"
refused "$tmp/broken/restart.yaml" "a Job's pods must restart Never or OnFailure"

# As a set: what the objects name must be among them, and robofleet's rules.
set_broken() { # NAME SED-EXPRESSION FILE
  rm -rf "$tmp/set-$1"
  cp -r "$src/deploy/k8s" "$tmp/set-$1"
  sed -i "$2" "$tmp/set-$1/$3"
}
set_broken shards 's/^  completions: 4/  completions: 5/; s/^  parallelism: 4/  parallelism: 5/' shards-job.yaml
refused "$tmp/set-shards" "spec.completions: 5 differs from SHARDS 4" --robofleet
set_broken retry 's/^  backoffLimit: 0/  backoffLimit: 3/' shards-job.yaml
refused "$tmp/set-retry" "spec.backoffLimit: must be 0" --robofleet
set_broken cm 's/name: robofleet-scenario$/name: robofleet-scenarios/' shards-job.yaml
refused "$tmp/set-cm" "no ConfigMap robofleet/robofleet-scenarios in the set" --set
set_broken svc '/^kind: Service/,$ s/component: broker$/component: brocker/' broker.yaml
refused "$tmp/set-svc" "spec.selector: selects no pod template in the set" --set
set_broken kust 's/- shards-job.yaml/- shard-job.yaml/' kustomization.yaml
refused "$tmp/set-kust" "resources[5]: shard-job.yaml does not exist" --set

# ----------------------------------------- what the ConfigMaps carry
validate --extract "$tmp/cm" "$src/deploy/k8s" > /dev/null 2>&1
scenario=$tmp/cm/robofleet-scenario/scenario.yaml
if [ -f "$scenario" ] && "$robofleet" check "$scenario" > "$tmp/out" 2>&1; then
  ok "the scenario ConfigMap: $(cat "$tmp/out")"
else
  cat "$tmp/out" 2>/dev/null
  bad "the scenario in deploy/k8s/scenario.yaml does not pass robofleet check"
fi

conf=$tmp/cm/robofleet-broker-config/mosquitto.conf
port=
if grep -qx 'listener 1883' "$conf" 2>/dev/null; then
  # The same configuration on a free loopback port.
  for _ in 1 2 3 4 5 6 7 8; do
    p=$((20000 + RANDOM % 40000))
    sed "s/^listener 1883\$/listener $p 127.0.0.1/" "$conf" > "$tmp/mosquitto.conf"
    mosquitto -c "$tmp/mosquitto.conf" > "$tmp/mosquitto.log" 2>&1 &
    broker_pid=$!
    for _ in $(seq 50); do
      kill -0 "$broker_pid" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
      sleep 0.1
    done
    [ -z "$port" ] || break
    kill "$broker_pid" 2>/dev/null
    wait "$broker_pid" 2>/dev/null
    broker_pid=
  done
fi
if [ -n "$port" ] &&
   mosquitto_pub -h 127.0.0.1 -p "$port" -t robofleet/k8s-test -m hello -r -q 1 &&
   [ "$(mosquitto_sub -h 127.0.0.1 -p "$port" -t robofleet/k8s-test -C 1 -W 5)" = hello ]; then
  ok "mosquitto $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $3}') runs with the broker ConfigMap's mosquitto.conf and passes a message"
else
  cat "$tmp/mosquitto.log" 2>/dev/null
  bad "mosquitto does not run with the broker ConfigMap's mosquitto.conf"
fi

# ------------------------------------------------------- the entry point
entry=$src/deploy/entrypoint.sh
if bash -n "$entry"; then ok "entrypoint.sh parses (bash -n)"; else bad "entrypoint.sh: bash -n"; fi
if command -v shellcheck >/dev/null; then
  if shellcheck "$entry" > "$tmp/out" 2>&1; then ok "entrypoint.sh passes shellcheck"
  else cat "$tmp/out"; bad "entrypoint.sh: shellcheck"; fi
fi

# A stand-in robofleet: records its arguments and makes what the real one
# makes (a run directory under --runs-dir, the JUnit file, merge's -o).
mkdir -p "$tmp/bin"
cat > "$tmp/bin/robofleet" <<'STUB'
#!/bin/bash
printf '%s\n' "$@" > "$STUB_LOG.$1"
arg() { local want=$1; shift; while [ $# -gt 1 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
case $1 in
  run)
    dir=$(arg --runs-dir "$@")/20261207T120000Z-fleet-4000
    mkdir -p "$dir"
    echo "shard $(arg --shard "$@")" > "$dir/report.txt"
    echo '<testsuites/>' > "$(arg --junit "$@")"
    if [ -n "${STUB_SLEEP:-}" ]; then
      trap 'echo stopped >> "$dir/report.txt"; exit 130' TERM
      touch "$STUB_LOG.started"
      for _ in $(seq "$STUB_SLEEP"); do sleep 0.1; done
    fi
    exit "${STUB_EXIT:-0}" ;;
  merge)
    out=$(arg -o "$@")
    mkdir -p "$out"
    echo "merged verdict" > "$out/report.txt"
    echo '<testsuites/>' > "$(arg --junit "$@")"
    exit "${STUB_EXIT:-0}" ;;
esac
STUB
chmod +x "$tmp/bin/robofleet"
echo "name: x" > "$tmp/scenario.yaml"

# entry_run [VAR=VALUE...] -- ARGS: the entry point in a pod's environment.
entry_run() {
  local vars=()
  while [ "$1" != -- ]; do vars+=("$1"); shift; done
  shift
  env PATH="$tmp/bin:$PATH" STUB_LOG="$tmp/stub" RUN_ID=run-1 SHARDS=4 JOB_COMPLETION_INDEX=2 \
    ROBOFLEET_BROKER="127.0.0.1:${port:-1}" ROBOFLEET_SCENARIO="$tmp/scenario.yaml" \
    ROBOFLEET_RESULTS="$tmp/results" ROBOFLEET_WORK="$tmp/work" ROBOFLEET_BROKER_WAIT=3 \
    "${vars[@]}" bash "$entry" "$@" > "$tmp/entry.out" 2>&1
}
# expect_exit WANT WHAT: the last entry_run's status.
expect_exit() {
  if [ "$rc" -eq "$1" ]; then ok "$2 (exit $rc)"; else cat "$tmp/entry.out"; bad "$2: exit $rc, want $1"; fi
}

entry_run -- shard --allow-low-disk; rc=$?
expect_exit 0 "a shard runs and is published"
want="run $tmp/scenario.yaml --shard 2/4 --broker 127.0.0.1:${port:-1} --run-id run-1 --runs-dir $tmp/work/runs-run-1-2 --junit $tmp/work/junit-run-1-2.xml --allow-low-disk"
got=$(tr '\n' ' ' < "$tmp/stub.run" 2>/dev/null | sed 's/ $//')
if [ "$got" = "$want" ]; then ok "JOB_COMPLETION_INDEX=2 SHARDS=4 become: robofleet $got"
else bad "robofleet was given '$got', want '$want'"; fi
if [ "$(cat "$tmp/results/run-1/shard-2/report.txt" 2>/dev/null)" = "shard 2/4" ] &&
   [ -f "$tmp/results/run-1/shard-2/junit.xml" ] && [ ! -e "$tmp/results/run-1/shard-2.partial" ]; then
  ok "published as results/run-1/shard-2 with its junit.xml"
else
  find "$tmp/results" 2>/dev/null
  bad "shard 2 was not published as results/run-1/shard-2"
fi

entry_run -- shard; rc=$?
expect_exit 2 "the same RUN_ID and index again is refused"
grep -q 'already exists.*new RUN_ID' "$tmp/entry.out" || bad "the refusal does not ask for a new RUN_ID"

entry_run JOB_COMPLETION_INDEX=1 STUB_EXIT=1 -- shard; rc=$?
expect_exit 0 "a shard whose expectations failed still succeeds, for the merge to judge"
[ -d "$tmp/results/run-1/shard-1" ] || bad "the failed shard's directory was not published"

entry_run JOB_COMPLETION_INDEX=3 STUB_EXIT=2 -- shard; rc=$?
expect_exit 2 "robofleet's status 2 fails the pod"

entry_run JOB_COMPLETION_INDEX=4 -- shard; rc=$?
expect_exit 2 "an index not below SHARDS is refused"
grep -q 'not below SHARDS 4' "$tmp/entry.out" || bad "the refusal does not name SHARDS"

entry_run SHARDS= -- shard; rc=$?
expect_exit 2 "a missing SHARDS is refused"
entry_run RUN_ID=a/b -- shard; rc=$?
expect_exit 2 "a RUN_ID with a slash is refused"

# A loopback port nothing listens on.
closed=
for _ in 1 2 3 4 5 6 7 8; do
  p=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { closed=$p; break; }
done
entry_run RUN_ID=run-2 ROBOFLEET_BROKER="127.0.0.1:$closed" -- shard; rc=$?
expect_exit 1 "a broker that accepts no connection ends the shard after ROBOFLEET_BROKER_WAIT"
grep -q "127.0.0.1:$closed accepted no connection within 3s" "$tmp/entry.out" || bad "the message does not name the broker"

# A pod stopped in the middle: robofleet is told, and what it leaves is published.
rm -f "$tmp/stub.started"
env PATH="$tmp/bin:$PATH" STUB_LOG="$tmp/stub" RUN_ID=run-3 SHARDS=4 JOB_COMPLETION_INDEX=0 STUB_SLEEP=300 \
  ROBOFLEET_BROKER="127.0.0.1:${port:-1}" ROBOFLEET_SCENARIO="$tmp/scenario.yaml" \
  ROBOFLEET_RESULTS="$tmp/results" ROBOFLEET_WORK="$tmp/work" ROBOFLEET_BROKER_WAIT=3 \
  bash "$entry" shard > "$tmp/entry.out" 2>&1 &
entry_pid=$!
for _ in $(seq 100); do [ -e "$tmp/stub.started" ] && break; sleep 0.1; done
kill -TERM "$entry_pid" 2>/dev/null
wait "$entry_pid"; rc=$?
expect_exit 130 "SIGTERM reaches robofleet and its status is passed on"
if grep -q stopped "$tmp/results/run-3/shard-0/report.txt" 2>/dev/null; then ok "the stopped shard's directory is published"
else bad "the stopped shard's directory was not published"; fi

# The merge over shards 0..3 of run-1, of which 0 is missing: the others
# are merged, the missing one named, the result published and printed.
entry_run STUB_EXIT=1 -- merge; rc=$?
expect_exit 1 "the merge's status is the entry point's"
want="merge $tmp/results/run-1/shard-1 $tmp/results/run-1/shard-2 $tmp/results/run-1/shard-3 -o $tmp/work/merged-run-1 --junit $tmp/work/junit-run-1-merged.xml"
got=$(tr '\n' ' ' < "$tmp/stub.merge" 2>/dev/null | sed 's/ $//')
if [ "$got" = "$want" ]; then ok "robofleet $got"; else bad "robofleet merge was given '$got', want '$want'"; fi
if grep -q 'shard 0/4 published no run directory' "$tmp/entry.out"; then ok "the missing shard 0 is named"
else cat "$tmp/entry.out"; bad "the missing shard is not named"; fi
if [ -f "$tmp/results/run-1/merged/junit.xml" ] && grep -q 'merged verdict' "$tmp/entry.out"; then
  ok "the merged directory is published and its report printed"
else
  bad "the merged directory was not published or its report not printed"
fi
entry_run RUN_ID=run-9 -- merge; rc=$?
expect_exit 1 "a merge with no published shard fails"

finish
