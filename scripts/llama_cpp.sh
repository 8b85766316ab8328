#!/usr/bin/env bash
# llama.cpp for the tests and the GGUF export: one pinned llama-cpp-python release, built once.
#   bash scripts/llama_cpp.sh       # prints the source folder (convert_hf_to_gguf.py, gguf-py)
#
# From the pinned source distribution (requirements/llama-cpp.txt) only, nothing else downloaded:
#   - its wheel, built once (about 4 minutes on 2 cores) and cached outside the repo;
#   - its vendored llama.cpp converters (convert_hf_to_gguf.py, convert_lora_to_gguf.py, conversion/) and gguf-py,
#     unpacked next to it (scripts/llama_server.sh builds llama-server from the same sources);
#   - .venv/llama: the wheel with its [server] extra (python -m llama_cpp.server).
# Everything is cached in $STATEWISE_CACHE (default ~/.cache/statewise); a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
CACHE="${STATEWISE_CACHE:-$HOME/.cache/statewise}"
pin=$(grep -E '^llama-cpp-python==' requirements/llama-cpp.txt | head -1)
version=${pin#*==}
dir="$CACHE/llama-cpp-python-$version"
PY=${STATEWISE_PYTHON:-python3}
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory\|is either a non-existing path" || true; }; }

if [ ! -f "$dir/.complete" ]; then
  echo "statewise: building llama-cpp-python $version once into $dir (a few minutes) ..." >&2
  start=$SECONDS
  rm -rf "$dir" && mkdir -p "$dir/sdist" "$dir/wheels" "$dir/src"
  quiet "$PY" -m pip download -q --no-deps --no-binary :all: "$pin" -d "$dir/sdist"
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) quiet "$PY" -m pip wheel -q --no-deps "$dir"/sdist/llama_cpp_python-*.tar.gz -w "$dir/wheels"
  touch "$dir/.complete"
  echo "statewise: llama-cpp-python $version built in $((SECONDS - start)) s" >&2
fi
if [ ! -f "$dir/src/.complete" ] || [ ! -f "$dir/src/convert_lora_to_gguf.py" ]; then
  # The converters of the same llama.cpp release as the servers: from the same source distribution.
  # (An older cache without convert_lora_to_gguf.py gains it in place: nothing in use is removed.)
  [ -f "$dir/src/.complete" ] || { rm -rf "$dir/src" && mkdir -p "$dir/src"; }
  tar -xzf "$dir"/sdist/llama_cpp_python-*.tar.gz -C "$dir/src" --strip-components=3 --wildcards \
    '*/vendor/llama.cpp/LICENSE' '*/vendor/llama.cpp/convert_hf_to_gguf.py' '*/vendor/llama.cpp/convert_lora_to_gguf.py' \
    '*/vendor/llama.cpp/conversion/*' '*/vendor/llama.cpp/gguf-py/*'
  echo "$version" > "$dir/src/LLAMA_CPP_PYTHON_VERSION"  # trainer/gguf.py records it in the manifest
  touch "$dir/src/.complete"
fi

want="$version-$(sha256sum requirements/llama-cpp.txt | cut -c1-12)"
if [ ! -x .venv/llama/bin/python ] || [ "$(cat .venv/llama/.statewise-stamp 2>/dev/null)" != "$want" ]; then
  [ -x .venv/llama/bin/python ] || "$PY" -m venv .venv/llama
  wheel=$(ls "$dir"/wheels/llama_cpp_python-*.whl)
  quiet .venv/llama/bin/pip install -q "${wheel}[server]"
  echo "$want" > .venv/llama/.statewise-stamp
fi
echo "$dir/src"
