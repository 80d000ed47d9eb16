#!/usr/bin/env bash
# Builds (Release) and runs every benchmark; prints the README's Markdown table with the
# machine it ran on. `--quick` is the reduced run CI does as a smoke check (under 2
# minutes, no thresholds: machines are noisy); without it, the full run (10 M leads).
#   bash scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -r)"
echo
build/bench/pipeline_bench --leadscore build/src/leadscore "$@"
echo
if [[ "${1:-}" == "--quick" ]]; then
  # A model change's re-evaluation: a smoke run on 20 k entities (seconds); the full run's
  # 1 M entities take about 5 minutes.
  build/bench/reevaluate_bench --entities 20000
else
  build/bench/reevaluate_bench
fi
if [[ "${1:-}" != "--quick" ]]; then
  echo
  build/bench/engine_bench --benchmark_filter=BM_ModelLoad 2>/dev/null | grep BM_ModelLoad
fi
