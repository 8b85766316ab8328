#!/usr/bin/env bash
# Each extra runs what it installs: install the project with one extra into a fresh venv (no repository on
# the path) and run that extra's command. A wheel is built once; torch is the local CPU build (as setup.sh).
#   statewise[dataset] -> python -m dataset_export build
#   statewise[train]   -> python -m trainer (help, then a tiny run end to end)
#   statewise[serve]   -> transformers serve --help
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${STATEWISE_PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

# Build from a copy of the working tree (setuptools writes build/ into the folder it builds).
mkdir -p "$work/src"
git ls-files -co --exclude-standard -z | tar -c --null -T - -f - | tar -x -C "$work/src" -f -
"$PY" -m venv "$work/build" && quiet "$work/build/bin/pip" install -q build
quiet "$work/build/bin/python" -m build -q --wheel --outdir "$work/dist" "$work/src" >/dev/null
wheel=$(ls "$work"/dist/statewise-*.whl)

fresh() {  # fresh NAME EXTRA [pre-installed packages...]: a venv with only statewise[EXTRA]
  local dir="$work/$1" extra=$2
  shift 2
  "$PY" -m venv "$dir"
  if [ "$#" -gt 0 ]; then quiet "$dir/bin/pip" install -q "$@"; fi
  quiet "$dir/bin/pip" install -q "statewise[$extra] @ file://$wheel"
}

echo "== extra [dataset]: python -m dataset_export build" >&2
fresh dataset dataset
(cd "$work" && "$work/dataset/bin/python" -m dataset_export build "$ROOT/examples/demo_home" --out "$work/ds" --size 200 --quiet)
"$work/dataset/bin/python" -c 'import importlib.util, sys; sys.exit(1 if importlib.util.find_spec("torch") or importlib.util.find_spec("trl") else 0)' \
  || { echo "statewise[dataset] pulled in torch or trl" >&2; exit 1; }
test -s "$work/ds/train.jsonl"

echo "== extra [train]: python -m trainer" >&2
fresh train train torch==2.13.0
(cd "$work" && "$work/train/bin/python" -m trainer train --help >/dev/null)
(cd "$work" && "$work/train/bin/python" -m trainer run --export_dir "$ROOT/examples/demo_home" --output_dir "$work/run" --dataset_size 60 \
  --base_model tiny --max_steps 1 --gradient_accumulation_steps 1 --max_new_tokens 16 --disable_tqdm >/dev/null 2>&1) \
  || { echo "statewise[train]: python -m trainer run failed" >&2; exit 1; }
test -s "$work/run/export/statewise_manifest.json"

echo "== extra [serve]: transformers serve --help" >&2
fresh serve serve torch==2.13.0
"$work/serve/bin/transformers" serve --help >/dev/null
echo "statewise: every extra runs its command" >&2
