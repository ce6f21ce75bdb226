#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   1. install what is missing, build, run every ctest (unit, integration
#      against a real mosquitto, valgrind, header boundary);
#   2. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the firmware compiled for Cortex-M4 with -Werror;
#   4. the Linux SBC board cross-built for arm64 and run under qemu-aarch64
#      against a real mosquitto with a fixture IIO tree, and over HTTP
#      (libcurl) to the ingest endpoint; armhf built too;
#   5. the parsers fuzzed briefly with libFuzzer.
#   6. the STM32F4 image: size budget, then booted in qemu-system-arm
#      against the ESP-AT emulator and a real mosquitto.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
scripts/deps.sh

step "build (RelWithDebInfo) and full test suite"
BUILD_DIR=build scripts/build.sh
(cd build && ctest --output-on-failure -j"$jobs")

step "unit and integration tests under ASan + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DROBOFLEET_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs" -L 'unit|integration')

step "firmware for Cortex-M4 (arm-none-eabi, -Werror)"
cmake -S firmware -B build-m4 -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm-none-eabi.cmake" >/dev/null
cmake --build build-m4 -j"$jobs"
arm-none-eabi-size -t build-m4/librobofleet_firmware.a | tail -n 1

step "Linux SBC board: arm64 under qemu, armhf build (label sbc)"
cmake -S firmware/boards/linux-sbc -B build-sbc -DROBOFLEET_VIRTUAL_BUILD="$PWD/build" >/dev/null
cmake --build build-sbc -j"$jobs"
(cd build-sbc && ctest --output-on-failure -L sbc)
cmake -S firmware/boards/linux-sbc -B build-armhf -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm-linux-gnueabihf.cmake" >/dev/null
cmake --build build-armhf -j"$jobs"
file -b build-armhf/robofleet-robot | grep -q "ELF 32-bit LSB .*ARM, EABI5"

step "fuzzing the parsers (libFuzzer, 20 s each)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DROBOFLEET_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_command fuzz_payload fuzz_scenario fuzz_recorder_json fuzz_mqtt_packet fuzz_sketch_prep fuzz_topic_layout fuzz_influx_url fuzz_pki fuzz_shard_json fuzz_http_answer fuzz_http_response fuzz_ingest_request fuzz_ingest_http fuzz_sbc_config fuzz_esp_at fuzz_fork_request
(cd build-fuzz && ctest --output-on-failure -L fuzz)

step "STM32F4 board: image, size budget, QEMU end to end (label stm32)"
cmake -S firmware/boards/stm32f4 -B build-stm32 -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm-none-eabi.cmake" \
  -DROBOFLEET_HOST_BUILD="$PWD/build" >/dev/null
cmake --build build-stm32 -j"$jobs"
(cd build-stm32 && ctest --output-on-failure -L stm32)

step "all checks passed"
