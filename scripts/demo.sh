#!/usr/bin/env bash
# The README's first command: builds leadscore and replays the example market story
# through the scoring engine, printing each routing event as people read it. It goes
# on ten weeks past the last event, so decay demotions show too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
./build/src/leadscore validate --model examples/model.yaml
# 2026-12-14T09:00Z: ten weeks after the story starts.
exec ./build/src/leadscore replay --model examples/model.yaml --input examples/events.jsonl \
  --until 1797238800000 --format text
