#!/usr/bin/env bash
# The recorder's CPU per message against mosquitto_sub's on the same
# messages: bench/recorder_burst fires MESSAGES QoS 1 readings from 1,000
# ids (paced at RATE a second, 0: as fast as one publisher can) through
# the embedded broker's configuration, received once by the recorder and
# once by `mosquitto_sub -q 1 -t 'sensors/+/data'` (output to /dev/null),
# alternately, ROUNDS times. The recorder's CPU is its process's (the
# publisher is a child); mosquitto_sub's is its own rusage. With -B, a
# second build's recorder (an older commit, say) runs in every round too,
# between the two: before and after in one session.
#   bench/recorder_cost.sh [-b BUILD] [-B OTHER_BUILD] [-r RATE] [-n MESSAGES] [-k ROUNDS] OUT
set -euo pipefail
build=build other='' rate=10000 messages=100000 rounds=3
while getopts b:B:r:n:k: opt; do
  case $opt in
    b) build=$OPTARG ;;
    B) other=$OPTARG ;;
    r) rate=$OPTARG ;;
    n) messages=$OPTARG ;;
    k) rounds=$OPTARG ;;
    *) echo "usage: $0 [-b BUILD] [-B OTHER_BUILD] [-r RATE] [-n MESSAGES] [-k ROUNDS] OUT" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
out=${1:?usage: $0 [-b BUILD] [-B OTHER_BUILD] [-r RATE] [-n MESSAGES] [-k ROUNDS] OUT}
cd "$(dirname "$0")/.."
mkdir -p "$out"
log=$out/cost-$rate.txt
: > "$log"
one() { # KIND BINARY [ARGS]: one run, its line tagged with KIND
  local kind=$1 bin=$2
  local dir=$out/run-$rate-$kind-$i
  shift 2
  rm -rf "$dir"
  echo "kind=$kind $(timeout -k 10 900 "$bin" "$dir" "$messages" 1000 --rate "$rate" "$@")" | tee -a "$log"
  rm -rf "$dir"
}
for i in $(seq 1 "$rounds"); do
  one recorder "$build/bench/recorder_burst"
  [ -n "$other" ] && one other "$other/bench/recorder_burst"
  one mosquitto_sub "$build/bench/recorder_burst" --mosquitto-sub
done
med() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
field() { grep "^kind=$1 " "$log" | sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p"; }
rec=$(field recorder us_per_msg | med) sub=$(field mosquitto_sub us_per_msg | med)
echo "rate $rate/s (0: unpaced), $messages messages, medians of $rounds:" \
  "recorder $rec us per message (writer $(field recorder writer_us_per_msg | med)," \
  "network $(field recorder net_us_per_msg | med)), $(field recorder recorder_per_cpu_s | med) per CPU-second;" \
  "mosquitto_sub $sub us; ratio $(awk -v a="$rec" -v b="$sub" 'BEGIN {printf "%.2f", a / b}')x;" \
  "lost $(field recorder lost | med), duplicated $(field recorder duplicated | med)" | tee -a "$log"
if [ -n "$other" ]; then
  oth=$(field other us_per_msg | med)
  echo "  $other: recorder $oth us per message (writer $(field other writer_us_per_msg | med)," \
    "network $(field other net_us_per_msg | med)), $(field other recorder_per_cpu_s | med) per CPU-second;" \
    "ratio to mosquitto_sub $(awk -v a="$oth" -v b="$sub" 'BEGIN {printf "%.2f", a / b}')x" | tee -a "$log"
fi
