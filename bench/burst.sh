#!/usr/bin/env bash
# The recorder's burst ingest rate (bench/recorder_burst: 200,000 QoS 1
# readings from 1,000 ids through the embedded broker's configuration,
# three times), and the 24-hour "hourly mean per device" query over the
# rollup for 1,000 devices (24,000 hourly rows added to that record with
# sqlite3, timed with hyperfine when installed, else sqlite3's .timer).
#   bench/burst.sh OUT [BUILD] [MESSAGES]
set -euo pipefail
out=$1 build=${2:-build-bench} messages=${3:-200000}
cd "$(dirname "$0")/.."
mkdir -p "$out"
for i in 1 2 3; do
  rm -rf "$out/burst-$i"
  timeout -k 10 900 "$build/bench/recorder_burst" "$out/burst-$i" "$messages" 1000 | tee -a "$out/burst.txt"
done
med() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" "$out/burst.txt"; }
echo "burst: $(wc -l < "$out/burst.txt") runs of $messages; ingest median $(field ingest_per_s | med) msgs/s" \
  "(first publish to last commit); recorder alone $(field recorder_per_cpu_s | med) msgs per CPU-second;" \
  "lost $(field lost | med), duplicated $(field duplicated | med) (medians)"

db=$out/hourly.db
cp "$out/burst-1/record.db" "$db"
sqlite3 "$db" "DELETE FROM hourly;
WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 999),
               h(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM h WHERE j < 23)
INSERT OR REPLACE INTO hourly
SELECT printf('hourly_%04d', i), (strftime('%s', 'now') / 3600 - 23 + j) * 3600000, 3600,
       3600, 3600 * 22.5, 20, 25, 3600, 3600 * 40.0, 35, 45, 3600, 3600 * 120.0, 100, 140
FROM d, h;"
query="SELECT device_id, strftime('%Y-%m-%dT%H:00Z', hour_ms / 1000, 'unixepoch') AS hour, n AS readings,
  round(t_sum / t_n, 2) AS temperature, round(h_sum / h_n, 2) AS humidity, round(d_sum / d_n, 2) AS distance
FROM hourly WHERE hour_ms >= (SELECT max(hour_ms) FROM hourly) - 23 * 3600000 ORDER BY device_id, hour_ms;"
echo "$query" > "$out/hourly.sql"
rows=$(sqlite3 "$db" ".read $out/hourly.sql" | wc -l)
echo "hourly query: $rows rows (devices x hours)"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs 20 --export-json "$out/hourly.json" "sqlite3 $db '.read $out/hourly.sql'"
else
  for _ in 1 2 3; do sqlite3 "$db" ".timer on" ".read $out/hourly.sql" | tail -n 1; done
fi
