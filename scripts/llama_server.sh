#!/usr/bin/env bash
# llama.cpp's own server (llama-server), from the same pinned release as llama-cpp-python, built once.
#   bash scripts/llama_server.sh       # prints the path of the llama-server binary
#
# The sources are the llama.cpp that the pinned llama-cpp-python source distribution vendors
# (requirements/llama-cpp.txt; scripts/llama_cpp.sh downloads it into the cache), so the server,
# the Python server and the GGUF converters are one llama.cpp release. Only the llama-server target
# is built (cmake, static, CPU, optimised for this machine like the wheel; no web UI, no HTTPS, no
# downloads), and only the binary is kept: $STATEWISE_CACHE/llama-cpp-python-<version>/server/.
# .venv/llama/bin/llama-server links to it (the tests start it from there, also inside a chroot).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${STATEWISE_CACHE:-$HOME/.cache/statewise}"
version=$(grep -E '^llama-cpp-python==' requirements/llama-cpp.txt | head -1)
version=${version#*==}
dir="$CACHE/llama-cpp-python-$version"
out="$dir/server"

if [ ! -f "$out/.complete" ]; then
  [ -f "$dir/.complete" ] || bash scripts/llama_cpp.sh >/dev/null  # the source distribution
  echo "statewise: building llama-server of llama-cpp-python $version's llama.cpp once into $out (several minutes) ..." >&2
  start=$SECONDS
  work=$(mktemp -d "${TMPDIR:-/tmp}/statewise-llama-server.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  tar -xzf "$dir"/sdist/llama_cpp_python-*.tar.gz -C "$work" --strip-components=3 --wildcards '*/vendor/llama.cpp/*'
  cmake -S "$work" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON >"$work/cmake.log" 2>&1 \
    || { tail -30 "$work/cmake.log" >&2; exit 1; }
  cmake --build "$work/build" --target llama-server -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
  rm -rf "$out" && mkdir -p "$out"
  cp "$work/build/bin/llama-server" "$out/llama-server"
  echo "$version" > "$out/LLAMA_CPP_PYTHON_VERSION"
  touch "$out/.complete"
  echo "statewise: llama-server built in $((SECONDS - start)) s" >&2
fi
if [ -d .venv/llama/bin ]; then
  ln -sfn "$out/llama-server" .venv/llama/bin/llama-server
fi
echo "$out/llama-server"
