#!/usr/bin/env bash
# Create both Python environments from nothing; a second run only checks them.
#   .venv/trainer : trainer + dataset builder (Python >= 3.11, default python3)
#   .venv/ha      : Home Assistant, oldest supported leg (2026.2.3, Python >= 3.13.2, built once if missing)
#   .venv/ha-newest: Home Assistant, newest leg (2026.10.4, Python >= 3.14.2: installed, else a cached sid root filesystem)
#   .venv/llama   : llama-cpp-python[server] from its pinned source distribution (scripts/llama_cpp.sh; the wheel is cached),
#                   and bin/llama-server, llama.cpp's own server built from the same sources (scripts/llama_server.sh; cached)
# (scripts/ha_leg.sh sets up the two Home Assistant legs; STATEWISE_HA_LEGS="oldest" limits them)
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

# pip here warns about every empty local index folder; keep real errors only.
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

stamp() { sha256sum "$@" pyproject.toml | sha256sum | cut -c1-16; }

make_venv() {  # make_venv DIR PYTHON REQUIREMENTS [editable]
  local dir=$1 py=$2 req=$3 want
  want=$(stamp "$req")
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.statewise-stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "statewise: setting up $dir with $("$py" --version) ..." >&2
  # Incremental: an existing environment is updated in place, never deleted under a running job.
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  quiet "$dir/bin/pip" install -q -r "$req"
  if [ "${4:-}" = editable ]; then quiet "$dir/bin/pip" install -q --no-deps -e .; fi
  echo "$want" > "$dir/.statewise-stamp"
}

PY=${STATEWISE_PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "statewise: need Python >= 3.11 (set STATEWISE_PYTHON)" >&2; exit 2; }
make_venv .venv/trainer "$PY" requirements/trainer.txt editable
# The oldest supported sentence templates, for the tests that build with both releases.
OLDEST="${STATEWISE_CACHE:-$HOME/.cache/statewise}/intents-$(sha256sum requirements/intents-oldest.txt | cut -c1-12)"
if [ ! -f "$OLDEST/.complete" ]; then
  quiet .venv/trainer/bin/pip install -q --no-deps --target "$OLDEST" -r requirements/intents-oldest.txt
  touch "$OLDEST/.complete"
fi
ln -sfn "$OLDEST" .venv/intents-oldest
# llama.cpp (llama-cpp-python's server and the GGUF converters of the same release; llama-server from the same
# sources, linked as .venv/llama/bin/llama-server): each built once, cached.
bash scripts/llama_cpp.sh >/dev/null
bash scripts/llama_server.sh >/dev/null
if [ "${STATEWISE_SKIP_HA:-0}" != 1 ]; then
  for leg in ${STATEWISE_HA_LEGS:-oldest newest}; do
    bash scripts/ha_leg.sh setup "$leg"
  done
fi
