import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "train_throughput.py"


def _bench():
    spec = importlib.util.spec_from_file_location("train_throughput", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_throughput_bench_reports_every_column():
    bench = _bench()
    report = bench.measure(shape="tiny", steps=1, examples=12, max_length=1024, packed_accumulation=1, unpacked_batch_size=4)
    packed, unpacked, bare = report["packed"], report["unpacked"], report["bare"]
    assert packed["packing"] and not unpacked["packing"]
    assert packed["packing_efficiency"] == 1.0 and 0 < packed["bin_fill"] <= 1  # padding-free rows, bins partly filled
    assert 0 < unpacked["packing_efficiency"] < 1  # padded batches of unequal lengths
    assert packed["real_tokens"] == unpacked["real_tokens"]  # same examples, same tokens
    assert packed["tokens_per_s"] > 0 and unpacked["tokens_per_s"] > 0 and bare["tokens_per_s"] > 0
    assert bare["timed_tokens"] > 0 and bare["accumulation"] == packed["accumulation"] == 1
    # MFU against a peak measured here (no data-sheet figure for a CPU), and the ratio to the bare PEFT loop
    assert report["peak_source"].startswith("matmul measured") and report["peak_tflops"] > 0 and report["flops_per_token"] > 0
    for m in (packed, unpacked, bare):
        assert 0 < m["mfu"] < 1
    assert packed["vs_bare"] == round(packed["tokens_per_s"] / bare["tokens_per_s"], 2)
    assert packed["attention"] == bare["attention"] == "sdpa" and not packed["checkpointing"]
    table = bench.format_report(report)
    lines = table.splitlines()
    header = lines[2].split()
    assert [c for c in bench.COLUMNS if " " not in c] == [c for c in header if c in bench.COLUMNS]
    for name, line in zip(("packed", "unpacked", "bare"), lines[3:6], strict=True):
        cells = line.split()
        assert cells[0] == name and len(cells) == len(bench.COLUMNS), line  # every column printed
    assert "packed / unpacked" in table and "bare PEFT loop" in table


def test_peak_table_and_override():
    bench = _bench()
    assert bench.peak_flops("NVIDIA H200")[0] == 989.4e12
    assert bench.peak_flops("NVIDIA H100 PCIe")[0] == 756.5e12  # before the SXM entry
    assert bench.peak_flops("NVIDIA L40S")[0] == 362.1e12 and bench.peak_flops("NVIDIA L4")[0] == 121e12
    assert bench.peak_flops("NVIDIA H200", 500)[0] == 500e12


def test_gpu_check_dry_run_checks_every_step():
    env = {**os.environ, "STATEWISE_GPU_PYTHON": sys.executable}
    out = subprocess.run(["bash", "bench/gpu_check.sh", "run", "--dry-run"], cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    assert out.returncode == 0, out.stderr
    assert "defaults-1.7b:" in out.stdout and "fast-4b:" in out.stdout and "7 steps checked" in out.stdout and "eval-1.7b: python -m trainer eval" in out.stdout
    bad = subprocess.run(["bash", "bench/gpu_check.sh", "run", "--dry-run"], cwd=ROOT, capture_output=True, text=True, check=False,
                         env={**env, "STATEWISE_GPU_STEPS": "no-such-step"})  # fmt: skip
    assert bad.returncode == 2 and "no step named no-such-step" in bad.stderr
