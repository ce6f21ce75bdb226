#!/usr/bin/env bash
# Install the Debian 12 packages robofleet needs, only those that are missing.
# Usage: scripts/deps.sh        (uses sudo when not root)
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libmosquitto-dev mosquitto mosquitto-clients
  libcmocka-dev libsqlite3-dev libncurses-dev libyaml-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  valgrind clang libclang-rt-14-dev libxml2-utils sqlite3
)

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
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
