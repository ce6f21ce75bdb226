#!/usr/bin/env bash
# Medians per (kind, N) of bench/fleet.sh's results, and the firmware's
# per-device PSS and CPU as ratios to the baseline measured in the same run.
#   bench/summarize.sh RESULTS.tsv
set -euo pipefail
awk -F'\t' '
function median(key, col,   a, k, m, i, j, t) {
  m = 0
  for (i = 1; i <= cnt[key]; i++) a[++m] = val[key, i, col]
  for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
  if (m == 0) return "-"
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
{ key = $1 SUBSEP $2; cnt[key]++; for (c = 1; c <= NF; c++) val[key, cnt[key], c] = $c; sizes[$2] = 1; kinds[key] = 1 }
END {
  printf "%-9s %6s %4s %8s %8s %8s %7s %7s %7s %7s %7s %7s %6s %7s %5s %5s %5s %5s %4s %8s %8s\n",
    "kind", "N", "runs", "start_ms", "pss_med", "pss_max", "dev_cpu", "ms/s/d", "broker", "record", "orch", "mach%",
    "rec/s", "p50", "p99", "max", "lost", "dup", "rc", "recv_gap", "commit_gap"
  for (n in sizes) for (k = 0; k < 2; k++) {
    kind = k ? "robofleet" : "baseline"; key = kind SUBSEP n
    if (!(key in kinds)) continue
    printf "%-9s %6s %4d %8s %8s %8s %7s %7s %7s %7s %7s %7s %6s %7s %5s %5s %5s %5s %4s %8s %8s\n",
      kind, n, cnt[key], median(key, 7), median(key, 9), median(key, 10), median(key, 11), median(key, 12),
      median(key, 13), median(key, 14), median(key, 15), median(key, 16), median(key, 19), median(key, 20),
      median(key, 21), median(key, 22), median(key, 25), median(key, 26), median(key, 5), median(key, 27), median(key, 28)
  }
  for (n in sizes) {
    r = "robofleet" SUBSEP n; b = "baseline" SUBSEP n
    if (!(r in kinds) || !(b in kinds)) continue
    printf "ratio N=%s: per-device PSS median %.2fx, max %.2fx; per-device CPU %.2fx (robofleet-device / baseline_publisher)\n",
      n, median(r, 9) / median(b, 9), median(r, 10) / median(b, 10), median(r, 12) / median(b, 12)
  }
}' "$1"
