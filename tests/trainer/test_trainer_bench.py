import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "train_throughput.py"


def test_throughput_bench_reports_both_modes():
    spec = importlib.util.spec_from_file_location("train_throughput", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.measure(shape="tiny", steps=1, examples=12, max_length=1024, packed_accumulation=1, unpacked_batch_size=4)
    packed, unpacked = report["packed"], report["unpacked"]
    assert packed["packing"] and not unpacked["packing"]
    assert packed["packing_efficiency"] == 1.0 and 0 < packed["bin_fill"] <= 1  # padding-free rows, bins partly filled
    assert 0 < unpacked["packing_efficiency"] < 1  # padded batches of unequal lengths
    assert packed["real_tokens"] == unpacked["real_tokens"]  # same examples, same tokens
    assert packed["tokens_per_s"] > 0 and unpacked["tokens_per_s"] > 0
    assert "packed / unpacked" in bench.format_report(report)
