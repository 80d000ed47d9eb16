#!/usr/bin/env bash
# Builds the libFuzzer target with clang (ASan + UBSan) and runs it for
# FUZZ_SECONDS (default 60; CI runs it bounded, run longer by hand). A crash leaves
# crash-* in build-fuzz/ and fails the script; turn it into a test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DLEADSCORE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target decode_engine_fuzz --parallel "$(nproc)"
mkdir -p build-fuzz/corpus
cp -n tests/fuzz/corpus/* build-fuzz/corpus/ 2>/dev/null || true
cd build-fuzz
./tests/fuzz/decode_engine_fuzz -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -print_final_stats=1 \
  corpus 2>&1 | tail -n 12
