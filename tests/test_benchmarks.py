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


def test_book_build_benchmark_compares_a_report_with_the_reference(tmp_path, capsys):
    import json

    spec = importlib.util.spec_from_file_location("book_build", ROOT / "benchmarks" / "book_build.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    reference = json.loads((ROOT / "benchmarks" / "book_build_report.json").read_text())
    first = reference["pages"][0]
    faster = {**reference, "pages": [{**first, "runtime_s": first["runtime_s"] / 2}]}
    (tmp_path / "report.json").write_text(json.dumps(faster))
    assert bench.main(["--report", str(tmp_path / "report.json")]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(first["name"]))
    assert line.split()[-1] == "0.50"
