#!/usr/bin/env bash
# Install the Debian 12 packages robofleet needs, only those that are missing.
# Usage: scripts/deps.sh          everything: build, tests, CI (uses sudo when not root)
#        scripts/deps.sh --demo   only what building robofleet and running a
#                                 scenario need (scripts/demo.sh): no cross
#                                 compilers, QEMU, valgrind or test servers
set -euo pipefail

MODE=full
case "${1:-}" in
  --demo) MODE=demo ;;
  "") ;;
  *) echo "usage: scripts/deps.sh [--demo]" >&2; exit 2 ;;
esac

# Build robofleet and run a scenario: compilers, the broker, the libraries
# (libcurl for the live InfluxDB feed, --influx; OpenSSL's libcrypto for the
# credentials of the security modes and `robofleet ca`; libmicrohttpd for the
# ingest endpoint HTTP devices post to, and curl to post to it by hand),
# and the chart libraries report.html inlines (docs/report.md).
PACKAGES=(
  build-essential cmake pkg-config
  libmosquitto-dev mosquitto mosquitto-clients
  libcmocka-dev libsqlite3-dev libncurses-dev libyaml-dev libcurl4-openssl-dev libssl-dev
  libmicrohttpd-dev curl
  libjs-dygraphs libjs-d3
)

if [ "$MODE" = demo ]; then
  ROBOFLEET_NO_CROSS=1
else
PACKAGES+=(
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  valgrind clang libclang-rt-14-dev libxml2-utils sqlite3
  tmux
)

# The report's browser test opens report.html in headless Chromium.
PACKAGES+=(chromium)

# The live InfluxDB feed's test runs a real influxd (1.6) and queries it
# with curl.
PACKAGES+=(influxdb curl)

# bench/burst.sh times the hourly rollup query with hyperfine.
PACKAGES+=(hyperfine)

# The Kubernetes manifests' offline check (tests/integration/
# test_k8s_manifests.sh) runs deploy/validate's pinned npm packages on
# Node.js. Only where npm is missing: a Node.js from elsewhere (NodeSource)
# brings its own npm and conflicts with Debian's npm package.
if ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi

# The STM32F4 board's end-to-end check boots its image in QEMU's
# netduinoplus2 machine (an STM32F405).
PACKAGES+=(qemu-system-arm)

# Cross builds for the Linux SBC board (Raspberry Pi OS 64- and 32-bit):
# Debian multiarch compilers and target libraries, qemu-user to run the
# arm64 binary in CI, dtc for the HC-SR04 overlay. libmosquitto-dev (MQTT)
# and libcurl4-openssl-dev (the board's HTTP transport) are Multi-Arch: same,
# so their :arm64 and :armhf copies install beside the host's. Set
# ROBOFLEET_NO_CROSS=1 to skip them.
CROSS_ARCHES=(arm64 armhf)
CROSS_PACKAGES=(
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross libmosquitto-dev:arm64 libcurl4-openssl-dev:arm64
  gcc-arm-linux-gnueabihf libc6-dev-armhf-cross libmosquitto-dev:armhf libcurl4-openssl-dev:armhf
  qemu-user device-tree-compiler file
)
fi # full

if [ "${ROBOFLEET_NO_CROSS:-0}" != 1 ]; then
  PACKAGES+=("${CROSS_PACKAGES[@]}")
  for a in "${CROSS_ARCHES[@]}"; do
    if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
      if [ "$(id -u)" -eq 0 ]; then dpkg --add-architecture "$a"
      else sudo dpkg --add-architecture "$a"; fi
      echo "deps: added foreign architecture $a"
    fi
  done
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A mirror mid-sync can fail one foreign index while the rest are fine: go
# on with the lists apt has, and let the install say what is really missing.
$sudo apt-get update -q || echo "deps: apt-get update reported errors; installing from the lists it has" >&2
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  [ "${ROBOFLEET_NO_CROSS:-0}" != 1 ] || exit 1
  # Multi-Arch: same libraries need one version on every architecture. When
  # a mirror's security archive lags for one architecture (libssl3 newer for
  # amd64 than for arm64), install the newest version all of them have.
  pins=()
  for lib in libssl3 libcjson1 libcurl4; do
    common=$(for a in "$(dpkg --print-architecture)" "${CROSS_ARCHES[@]}"; do
               apt-cache madison "$lib:$a" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -u
             done | sort | uniq -c | awk -v n=$((${#CROSS_ARCHES[@]} + 1)) '$1 == n {print $2}' |
             sort -V | tail -n 1)
    [ -n "$common" ] || continue
    for a in "$(dpkg --print-architecture)" "${CROSS_ARCHES[@]}"; do
      pins+=("$lib:$a=$common")
      # The dev package depends on its library's exact version.
      [ "$lib" = libcurl4 ] && pins+=("libcurl4-openssl-dev:$a=$common")
    done
    if [ "$lib" = libssl3 ] && dpkg-query -W -f='${Status}' libssl-dev 2>/dev/null | grep -q "install ok installed"; then
      pins+=("libssl-dev=$common")
    fi
  done
  echo "deps: retrying with matching library versions: ${pins[*]}"
  $sudo apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}" "${pins[@]}"
fi
