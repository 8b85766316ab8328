#!/usr/bin/env bash
# The README's test command: set up both environments, lint, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
T=.venv/trainer/bin
echo "== ruff"
"$T/ruff" check .
echo "== trainer/dataset/protocol tests (Python $("$T/python" -c 'import platform; print(platform.python_version())'))"
"$T/python" -m pytest tests --ignore=tests/ha -p no:cacheprovider "$@"
for leg in ${STATEWISE_HA_LEGS:-oldest newest}; do
  version=$(bash scripts/ha_leg.sh python "$leg" -c 'import platform; from homeassistant.const import __version__ as v; print(f"Home Assistant {v}, Python {platform.python_version()}")')
  echo "== Home Assistant tests, $leg leg ($version)"
  bash scripts/ha_leg.sh python "$leg" -m pytest tests/ha -p no:cacheprovider "$@"
done
echo "== each extra alone in a fresh venv runs its command"
bash scripts/check_extras.sh
