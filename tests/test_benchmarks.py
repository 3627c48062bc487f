"""The batched-vs-sequential benchmark runs and its two paths agree."""

import importlib.util

from conftest import ROOT


def test_batched_and_sequential_training_agree():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "batched_vs_sequential.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--epochs", "3", "--seeds", "2", "--json"])
    assert result["configurations"] == 8  # (DA + 3 λ) × 2 seeds
    assert result["max_abs_difference_noninvariant_norm"] < 1e-5
    assert result["batched_seconds"] > 0 and result["sequential_seconds"] > 0
