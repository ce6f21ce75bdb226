#!/usr/bin/env bash
# report.html in a browser: the smoke scenario's report opened in headless
# Chromium, which must run every chart with no error and show the run's
# numbers (those of summary.json and record.db); a screenshot is kept in
# OUT_DIR. Also: --summary-md's table, `robofleet report` on a directory
# that is not a run, and the GitHub Actions example of docs/report.md
# parsed as YAML. Exit 77 (skipped) when Chromium is not installed.
# Usage: test_report_browser.sh ROBOFLEET SOURCE_DIR OUT_DIR
set -u
robofleet=$1
src=$2
out=$3
work=$(mktemp -d /tmp/robofleet-report-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
passes=0

. "$(dirname "$0")/check.sh"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (Debian package chromium; scripts/deps.sh installs it)"
  exit 77
fi
mkdir -p "$out"

# 1. A run writes report.html, and --summary-md a Markdown table.
"$robofleet" run "$src/scenarios/smoke.yaml" --runs-dir "$work/runs" --quiet \
  --summary-md "$work/summary.md" >"$work/run.log" 2>&1
check "smoke passes" test $? -eq 0
run=$(ls -d "$work"/runs/*-smoke | head -n 1)
check "report.html written" test -s "$run/report.html"
check "no network in the page" bash -c "! grep -Eq '(src|href)=\"(https?:)?//' '$run/report.html'"
check "summary.md has the expectations table" grep -q '^| result | expectation | why | where |$' "$work/summary.md"
check "summary.md has a row per expectation" test "$(grep -c '^| pass |' "$work/summary.md")" -eq 9

# 2. Chromium runs the page: the DOM after its scripts, and a screenshot.
# A profile of its own, no GPU, no sandbox (containers); the page is a file,
# so nothing waits on a network; timeout bounds a browser that hangs.
browse() {
  timeout 90 "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$work/profile" --hide-scrollbars --enable-logging=stderr --v=0 "$@"
}
browse --dump-dom "file://$run/report.html" >"$work/dom.html" 2>"$work/chromium.log"
body=$(grep -o '<body[^>]*>' "$work/dom.html")
echo "page: $body"
check "the page's scripts ran to the end" grep -q 'data-rendered="yes"' <<<"$body"
check "no error in the page" grep -q 'data-errors="0"' <<<"$body"
check "no console error" bash -c "! grep -E 'CONSOLE.*(Uncaught|Error)' '$work/chromium.log'"
charts=$(sed -n 's/.*data-charts="\([0-9]*\)".*/\1/p' <<<"$body")
check "charts drawn ($charts)" test "${charts:-0}" -ge 6
check "dygraphs drew canvases" test "$(grep -o '<canvas' "$work/dom.html" | wc -l)" -ge 6
check "d3 drew the latency bars" test "$(grep -o '<rect' "$work/dom.html" | wc -l)" -ge 16

# The page's numbers are the run's: summary.json and the record.
recorded_json=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["readings"]["recorded"])' "$run/summary.json")
recorded_db=$(sqlite3 "$run/record.db" 'SELECT count(*) FROM readings')
recorded_page=$(grep -o '<span data-key="recorded"><b>[0-9]*</b>' "$work/dom.html" | grep -o '[0-9]\+')
echo "recorded: summary.json $recorded_json, record.db $recorded_db, page $recorded_page"
check "page recorded = summary.json" test "$recorded_page" = "$recorded_json"
check "page recorded = record.db" test "$recorded_page" = "$recorded_db"
check "expectation rows" test "$(grep -c '<td class="ok">PASS</td>' "$work/dom.html")" -eq 9

browse --window-size=1280,3400 --screenshot="$out/report-smoke.png" "file://$run/report.html" \
  >/dev/null 2>>"$work/chromium.log"
check "screenshot kept in $out" test -s "$out/report-smoke.png"
check "screenshot is a PNG" bash -c "head -c 8 '$out/report-smoke.png' | grep -q PNG"

# 3. robofleet report rebuilds the page; bad directories are refused clearly.
rm -f "$run/report.html"
"$robofleet" report "$run" >/dev/null
check "robofleet report rebuilds it" test -s "$run/report.html"
"$robofleet" report "$work" >/dev/null 2>"$work/err"
check "not a run directory: exit 1" test $? -eq 1
check "not a run directory: says why" grep -q "not a run directory" "$work/err"
"$robofleet" report "$work/none" >/dev/null 2>"$work/err"
check "a missing directory: says so" grep -q "not a directory" "$work/err"

# 4. The GitHub Actions example in docs/report.md is valid YAML with a job.
awk '/^```yaml github-actions/{on=1; next} /^```/{on=0} on' "$src/docs/report.md" >"$work/ci.yaml"
check "docs/report.md has the example" test -s "$work/ci.yaml"
check "the example parses as a workflow" python3 -c '
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
steps = [s for j in w["jobs"].values() for s in j["steps"]]
assert any("robofleet run" in s.get("run", "") for s in steps)
assert sum(1 for s in steps if "upload-artifact" in s.get("uses", "")) >= 1
' "$work/ci.yaml"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
