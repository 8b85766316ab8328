#!/usr/bin/env bash
# The README's test command: set up both environments, lint, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
T=.venv/trainer/bin
H=.venv/ha/bin
echo "== ruff"
"$T/ruff" check .
echo "== trainer/dataset/protocol tests (Python $("$T/python" -c 'import platform; print(platform.python_version())'))"
"$T/python" -m pytest tests --ignore=tests/ha -p no:cacheprovider "$@"
echo "== Home Assistant tests (Python $("$H/python" -c 'import platform; print(platform.python_version())'))"
if [ -d tests/ha ]; then
  "$H/python" -m pytest tests/ha -p no:cacheprovider "$@"
fi
echo "== each extra alone in a fresh venv runs its command"
bash scripts/check_extras.sh
