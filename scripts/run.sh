#!/usr/bin/env bash
# The README's main job: set up the trainer environment, then run the whole pipeline
# (build dataset -> train -> evaluate -> export model) on the bundled demo home.
# Extra arguments go to `python -m trainer run` (e.g. --base-model Qwen/Qwen3-1.7B).
set -euo pipefail
cd "$(dirname "$0")/.."
STATEWISE_SKIP_HA=1 bash scripts/setup.sh
exec .venv/trainer/bin/python -m trainer run --export-dir examples/demo_home --output-dir runs/demo_home "$@"
