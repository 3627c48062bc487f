"""Allowed parameter values (``[allowed: …]``): the grammar, the check, the notebooks' declarations, and the
command line refusing a bad value quickly with the allowed range."""

import time

import pytest

from conftest import ROOT, invlearn
from invlearn.book import runner
from invlearn.book.allowed import parse_allowed, split_allowed, violation

SIZES = {"mnist": 5000, "mnist_test": 0}


def test_grammar_reads_bounds_lengths_and_choices():
    a = parse_allowed("≥ 0, ≤ 13, len 2")
    assert a.bounds == (("≥", 0), ("≤", 13)) and a.lengths == (("=", 2),) and a.choices == ()
    assert parse_allowed("> 0, < 1").bounds == ((">", 0), ("<", 1))
    assert parse_allowed("≥ 1, ≤ mnist").bounds == (("≥", 1), ("≤", "mnist"))
    assert parse_allowed("len ≥ 1").lengths == (("≥", 1),)
    assert parse_allowed("copy | orbit").choices == ("copy", "orbit")
    assert parse_allowed("1 | 2 | 4").choices == (1, 2, 4)
    for bad in ("positive", "≥ one two", "len ≥ 1.5", ">= 1"):
        with pytest.raises(ValueError):
            parse_allowed(bad)


def test_split_allowed_leaves_the_rest_of_the_comment():
    rest, a = split_allowed("epochs of training [paper: 3000] [allowed: ≥ 1]")
    assert rest == "epochs of training [paper: 3000]" and a.text == "≥ 1"
    rest, a = split_allowed("a seed")
    assert rest == "a seed" and not a


@pytest.mark.parametrize(
    "text,value,why",
    [("≥ 1", 1, ""), ("≥ 1", 0, "0 is not ≥ 1"), ("> 0", 0.0, "0.0 is not > 0"), ("> 0", float("nan"), "nan is not > 0"),
     ("≥ 0, ≤ 13, len 2", [3, 3], ""), ("≥ 0, ≤ 13, len 2", [3, 14], "14 is not ≤ 13"),
     ("≥ 0, ≤ 13, len 2", [3], "length 1 is not 2"), ("> 0, len ≥ 1", [], "length 0 is not ≥ 1"),
     ("copy | orbit", "orbit", ""), ("copy | orbit", "row", "row is not one of copy | orbit"),
     ("relu | tanh, len ≥ 1", ["relu", "gelu"], "gelu is not one of relu | tanh"),
     ("1 | 2", 2.0, ""), ("1 | 2", True, "True is not one of 1 | 2"),
     ("≤ mnist", 5000, ""), ("≤ mnist", 5001, "5001 is not ≤ mnist = 5,000"), ("≤ mnist_test", 1, "1 is not ≤ mnist_test = 0"),
     ("≥ 1", None, "")],
)
def test_violation_names_the_broken_term(text, value, why):
    assert violation(parse_allowed(text), value, SIZES) == why


def test_data_sizes_are_read_only_when_a_bound_names_one():
    def fail():
        raise AssertionError("data sizes read for a numeric bound")

    assert violation(parse_allowed("≥ 1"), 5, fail) == ""
    assert violation(parse_allowed("≤ nosuch"), 5, SIZES).startswith("unknown data size 'nosuch'")


def test_every_notebook_parameter_declares_its_allowed_values():
    """One convention for all notebooks: every parameter but the name of a sweep file (checked against
    ``sweeps/``) declares its allowed values, and every default lies inside them."""
    specs = runner.light_discover(ROOT)
    missing = [f"{s.name}.{p.name}" for s in specs.values() if not s.is_variant for p in s.parameters.values()
               if not p.allowed and p.name != "sweep"]
    assert missing == []
    for spec in specs.values():
        for p in spec.parameters.values():
            assert violation(p.allowed, p.default, {"mnist": 60000, "mnist_test": 10000}) == "", (spec.name, p.name)


def test_a_default_outside_its_allowed_values_is_refused():
    with pytest.raises(ValueError, match="outside"):
        runner.Parameter.from_comment("epochs", 0, "epochs [allowed: ≥ 1]")


@pytest.mark.parametrize(
    "command,message",
    [(["run", "duan_fig02_training_curves", "-p", "epochs=-5"], "-5 is not ≥ 1. Allowed: ≥ 1"),
     (["run", "duan_fig02_training_curves", "-p", "n_samples=100000"], "100000 is not ≤ mnist"),
     (["run", "gideoni_tab01_kernelised_representations", "-p", "solver=normal64"], "normal64 is not one of"),
     (["sweep", "duan_fig02_training_curves", "--grid", "lr=0.001,-0.1"], "-0.1 is not > 0")],
)
def test_bad_values_exit_2_with_the_allowed_range_within_2_s(command, message):
    out = ROOT / "sweeps_out"
    before = sorted(out.iterdir()) if out.is_dir() else []
    start = time.perf_counter()
    result = invlearn(*command)
    elapsed = time.perf_counter() - start
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert (sorted(out.iterdir()) if out.is_dir() else []) == before  # no sweep folder made, nothing ran
