#!/usr/bin/env bash
# The README's first command: builds leadscore and runs `leadscore demo`: an embedded
# Kafka-protocol broker, the streaming service and a generated market of 2000 accounts
# over six simulated weeks, printing each routing event as it is read back from the
# routing-events topic, then a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
exec ./build/src/leadscore demo --model examples/model.yaml "$@"
