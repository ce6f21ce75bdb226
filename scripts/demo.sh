#!/usr/bin/env bash
# The main job: install what is missing, build, and run the demo scenario —
# about a hundred virtual robots against a private mosquitto for a few
# minutes, with weather, commands and a broker restart — then print the
# verdict. Extra arguments go to `robofleet run` (e.g. --junit report.xml).
#
# Usage: scripts/demo.sh [robofleet run options]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --demo   # the test command (scripts/test.sh) installs everything
BUILD_DIR=build scripts/build.sh >/dev/null

exec build/sim/robofleet run scenarios/demo.yaml "$@"
