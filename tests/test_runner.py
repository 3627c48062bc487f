"""The runner on a throwaway book holding one tiny notebook."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import invlearn
from invlearn.book import runner

TINY = '''# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   invlearn:
#     paper: Nobody (2000)
#     figure: Fig. 0
#     title: a tiny notebook for the runner's tests
#     data: synthetic
# ---

# %% tags=["parameters"]
value = 2  # a number written to the result file [paper: 2] [allowed: ≥ -100, ≤ 100]
scale = 1.5  # a float parameter [allowed: > 0]
fail = False  # raise in the compute cell
sleep = 0.0  # seconds to wait before writing results

# %%
import time

from invlearn.book.results import save_results

time.sleep(sleep)
assert not fail, "asked to fail"
save_results("tiny", claim="value is positive", checks={"value > 0": value > 0},
             metrics={"value": value, "scaled": value * scale}, series={"x": [0, 1]})
'''


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "notebooks" / "profiles").mkdir(parents=True)
    (tmp_path / "notebooks" / "tiny.py").write_text(TINY)
    (tmp_path / "notebooks" / "profiles" / "quick.yaml").write_text("tiny:\n  value: 3\n")
    return tmp_path


def _outputs(book: Path) -> list[str]:
    gen = book / "book" / "generated"
    return sorted(p.name for p in gen.iterdir()) if gen.is_dir() else []


def test_spec_reads_parameters_and_metadata(book):
    spec = runner.discover(book)["tiny"]
    assert spec.figure == "Fig. 0" and spec.paper == "Nobody (2000)"
    assert spec.defaults == {"value": 2, "scale": 1.5, "fail": False, "sleep": 0.0}
    assert spec.parameters["value"].help == "a number written to the result file"
    assert spec.parameters["value"].paper == 2 and spec.parameters["value"].allowed.text == "≥ -100, ≤ 100"
    assert not spec.parameters["fail"].allowed  # no [allowed: …]: any value of the default's type


@pytest.mark.parametrize(
    "arg,message",
    [("nosuch=1", "unknown parameter 'nosuch'"), ("value=abc", "expects int"), ("fail=1", "expects bool"),
     ("value=1.5", "expects int"), ("value=-101", "-101 is not ≥ -100. Allowed: ≥ -100, ≤ 100"),
     ("value=101", "101 is not ≤ 100"), ("scale=0", "0.0 is not > 0. Allowed: > 0")],
)
def test_invalid_parameters_are_rejected_before_any_kernel(book, arg, message):
    start = time.perf_counter()
    result = invlearn("run", "tiny", "-p", arg, "--publish", cwd=book)
    assert result.returncode == 2
    assert message in result.stderr
    if "nosuch" in arg:
        assert "Valid parameters: value (int, default 2), scale (float, default 1.5), fail (bool" in result.stderr
    assert _outputs(book) == []  # nothing executed, nothing written
    assert time.perf_counter() - start < 20


def test_int_is_accepted_for_float_and_unknown_notebook_rejected(book):
    spec = runner.discover(book)["tiny"]
    assert runner.validate_parameters(spec, {"scale": 2}) == {"scale": 2.0}
    result = invlearn("run", "nosuch", cwd=book)
    assert result.returncode == 2 and "unknown notebook" in result.stderr


def test_run_cache_and_library_change(book, root, monkeypatch):
    first = invlearn("run", "tiny", "--profile", "quick", "--publish", cwd=book)
    assert first.returncode == 0, first.stderr
    gen = book / "book" / "generated"
    record = json.loads((gen / "tiny.json").read_text())
    assert record["profile"] == "quick" and record["parameters"] == {"value": 3, "scale": 1.5, "fail": False, "sleep": 0.0}
    assert record["check"] == {"claim": "value is positive", "passed": True, "checks": {"value > 0": True}, "findings": {}}
    assert record["metrics"]["scaled"] == 4.5 and record["runtime_s"] > 0 and "torch" in record["versions"]
    assert record["figure"] == "Fig. 0"
    assert record["protocol"] == "scaled" and record["deviations"] == ["value: 3 vs 2"]
    assert record["typed_numbers"] == []
    # the injected cell and the parameters cell are hidden; a table of the values used is shown instead
    nb = json.loads((gen / "tiny.ipynb").read_text())
    hidden = [c for c in nb["cells"] if "remove-cell" in c["metadata"].get("tags", [])]
    assert {t for c in hidden for t in c["metadata"]["tags"]} >= {"parameters", "injected-parameters"}
    assert any("Parameters of this run" in "".join(c["source"]) and "**`3`**" in "".join(c["source"]) for c in nb["cells"])
    assert any("Protocol: scaled" in "".join(c["source"]) and "value: 3 vs 2" in "".join(c["source"]) for c in nb["cells"])

    again = invlearn("run", "tiny", "--profile", "quick", "--publish", cwd=book)
    assert again.returncode == 0 and again.stdout.startswith("cached")
    other = invlearn("run", "tiny", "-p", "value=4", "--publish", cwd=book)
    assert other.stdout.startswith("ok")

    # a copy of the library (the key follows module contents, not their location), then edits of the copy
    library = book / "lib"
    shutil.copytree(Path(runner.__file__).parents[1], library / "invlearn", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PYTHONPATH", str(library))
    assert invlearn("run", "tiny", "-p", "value=4", "--publish", cwd=book).stdout.startswith("cached")
    (library / "invlearn" / "book" / "_cache_probe_for_tests.py").write_text("# imported by no page\n")
    assert invlearn("run", "tiny", "-p", "value=4", "--publish", cwd=book).stdout.startswith("cached")
    imported = library / "invlearn" / "book" / "results.py"  # the tiny notebook imports it
    original = imported.read_text()
    imported.write_text(original + "# a change of an imported module invalidates the cache\n")
    changed = invlearn("run", "tiny", "-p", "value=4", "--publish", cwd=book)
    assert changed.returncode == 0 and changed.stdout.startswith("ok")
    imported.write_text(original)
    forced = invlearn("run", "tiny", "-p", "value=4", "--publish", cwd=book)
    assert forced.stdout.startswith("ok")  # the module is back as before the edit, so the key changed again
    assert invlearn("run", "tiny", "-p", "value=4", "--force", "--publish", cwd=book).stdout.startswith("ok")


def test_failing_notebook_keeps_previous_output(book):
    assert invlearn("run", "tiny", cwd=book).returncode == 0
    gen = book / "book" / "generated"
    before = {name: (gen / name).read_bytes() for name in ("tiny.ipynb", "tiny.json")}
    result = invlearn("run", "tiny", "-p", "fail=True", "--publish", cwd=book)
    assert result.returncode == 1
    assert "AssertionError: asked to fail" in result.stderr and "cell" in result.stderr
    assert {name: (gen / name).read_bytes() for name in before} == before
    assert (gen / "tiny.failed.ipynb").is_file()
    assert not [p for p in gen.iterdir() if p.name.startswith(".tiny.")]  # no staging left behind
    # a later success removes the stale failure
    assert invlearn("run", "tiny", "-p", "value=5", "--publish", cwd=book).returncode == 0
    assert not (gen / "tiny.failed.ipynb").exists()


def test_parse_assignment():
    assert runner.parse_assignment("lambdas=[0.1, 1]") == ("lambdas", [0.1, 1])
    assert runner.parse_assignment("loss=ce") == ("loss", "ce")
    assert runner.parse_assignment("flag=true") == ("flag", True)
    assert runner.parse_assignment("lr=1e-3") == ("lr", 0.001)
    with pytest.raises(runner.ParameterError):
        runner.parse_assignment("novalue")


def test_parallel_run_of_several_notebooks(book):
    (book / "notebooks" / "tiny2.py").write_text(TINY.replace('save_results("tiny"', 'save_results("tiny2"'))
    result = invlearn("run", "--all", "-j", "2", cwd=book)
    assert result.returncode == 0, result.stderr
    assert sorted(line.split()[0] for line in result.stdout.splitlines()) == ["ok", "ok"]
    for name in ("tiny", "tiny2"):
        assert json.loads((book / "book" / "generated" / f"{name}.json").read_text())["check"]["passed"]
    # one progress line per event, on stderr, and no kernel transport warning
    assert "[0/2] running tiny, tiny2; ETA" in result.stderr and "[1/2] running" in result.stderr
    assert "TCP" not in result.stderr
    again = invlearn("run", "--all", "-j", "2", "--force", cwd=book)  # the ETA now comes from recorded runtimes
    assert "[0/2]" in again.stderr and again.returncode == 0


def default_sigint() -> None:
    """Ctrl-C as in a terminal: a test run started in the background inherits an ignored SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupt_leaves_no_partial_output(book):
    gen = book / "book" / "generated"
    proc = subprocess.Popen([sys.executable, "-m", "invlearn", "run", "tiny", "-p", "sleep=60", "--publish"], cwd=book,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    deadline = time.time() + 60
    while time.time() < deadline and not (gen.is_dir() and any(p.name.startswith(".tiny.") for p in gen.iterdir())):
        time.sleep(0.2)
    time.sleep(5)  # the kernel is running the sleeping cell
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _outputs(book) == []


VARIANTS = """tiny_big:
  notebook: tiny
  parameters: {value: 7}
  title: the tiny notebook with a big value
"""


def test_variant_runs_like_a_notebook(book):
    (book / "notebooks" / "variants.yaml").write_text(VARIANTS)
    specs = runner.discover(book)
    assert list(specs) == ["tiny", "tiny_big"]
    variant = specs["tiny_big"]
    assert variant.is_variant and variant.source == "tiny" and variant.fixed == {"value": 7}
    listing = invlearn("list", cwd=book)
    assert "tiny_big" in listing.stdout and "variant of tiny with value = 7" in listing.stdout

    # quick profile: the notebook's overrides, then the variant's own parameters, then -p
    assert runner.resolve_parameters(variant, "quick", {}, book) == {"value": 7}
    (book / "notebooks" / "profiles" / "quick.yaml").write_text("tiny:\n  value: 3\n  scale: 0.5\n")
    assert runner.resolve_parameters(variant, "quick", {"scale": 2}, book) == {"value": 7, "scale": 2.0}

    result = invlearn("run", "--all", "--profile", "quick", "--publish", cwd=book)
    assert result.returncode == 0, result.stderr
    gen = book / "book" / "generated"
    assert {"tiny.json", "tiny_big.json", "tiny.ipynb", "tiny_big.ipynb"} <= set(_outputs(book))
    record = json.loads((gen / "tiny_big.json").read_text())
    assert record["metrics"] == {"value": 7, "scaled": 3.5}
    assert record["notebook"] == "tiny" and record["variant"] == "tiny_big" and record["overrides"]["value"] == 7
    assert json.loads((gen / "tiny.json").read_text())["metrics"]["value"] == 3  # the notebook's output is its own
    nb = json.loads((gen / "tiny_big.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Variant `tiny_big`" in text and "**`7`**" in text
    again = invlearn("run", "tiny_big", "--profile", "quick", "--publish", cwd=book)
    assert again.returncode == 0 and again.stdout.startswith("cached")


@pytest.mark.parametrize(
    "yaml_text,message",
    [("v:\n  notebook: nosuch\n", "unknown notebook 'nosuch'"),
     ("v:\n  notebook: tiny\n  parameters: {nosuch: 1}\n", "unknown parameter 'nosuch'"),
     ("v:\n  notebook: tiny\n  parameters: {value: abc}\n", "expects int"),
     ("tiny:\n  notebook: tiny\n", "has the name of a notebook")],
)
def test_invalid_variants_are_rejected(book, yaml_text, message):
    (book / "notebooks" / "variants.yaml").write_text(yaml_text)
    result = invlearn("run", "--all", cwd=book)
    assert result.returncode == 2 and message in result.stderr
    assert _outputs(book) == []


def test_paper_profile_and_label(book):
    assert invlearn("run", "tiny", "--profile", "paper", "--publish", cwd=book).returncode == 0
    record = json.loads((book / "book" / "generated" / "tiny.json").read_text())
    assert record["parameters"]["value"] == 2 and record["protocol"] == "paper" and record["deviations"] == []
    spec = runner.read_spec(book / "notebooks" / "tiny.py")
    assert spec.parameters["value"].paper == 2 and spec.parameters["value"].help == "a number written to the result file"
    assert spec.data == "synthetic"


def test_failing_claim_makes_its_page_with_a_banner(book):
    from invlearn.book import scorecard

    result = invlearn("run", "tiny", "-p", "value=-1", "--publish", cwd=book)
    assert result.returncode == 3, result.stderr
    assert "NOT REPRODUCED  tiny" in result.stderr and "value > 0" in result.stderr
    gen = book / "book" / "generated"
    record = json.loads((gen / "tiny.json").read_text())
    assert record["check"]["passed"] is False and not (gen / "tiny.failed.ipynb").exists()
    nb = json.loads((gen / "tiny.ipynb").read_text())
    banner = [c for c in nb["cells"] if c["metadata"].get("invlearn", {}).get("role") == "banner"]
    assert len(banner) == 1 and "Not reproduced" in "".join(banner[0]["source"])
    assert "".join(banner[0]["source"]).count("* value > 0") == 1
    assert invlearn("run", "tiny", "-p", "value=-1", "--publish", cwd=book).returncode == 3  # cached, still not reproduced
    rows = scorecard.scorecard_rows(book)
    assert rows[0]["check"] == "not reproduced" and rows[0]["checks"] == {"value > 0": False}
    assert "**NOT REPRODUCED**: value > 0" in scorecard.scorecard_markdown(rows)


def test_scorecard_survives_foreign_and_corrupt_result_files(book):
    from invlearn.book import scorecard

    gen = book / "book" / "generated"
    gen.mkdir(parents=True)
    (gen / "tiny.json").write_text('{"notebook": "tiny", "check": {"passed": true}}')
    rows = scorecard.scorecard_rows(book)
    assert rows[0]["check"] == "unreadable" and "tiny.json" in rows[0]["problem"] and "invlearn run" in rows[0]["problem"]
    (gen / "tiny.json").write_text("{not json")
    rows = scorecard.scorecard_rows(book)
    assert rows[0]["check"] == "unreadable" and "JSONDecodeError" in rows[0]["problem"]
    assert "**unreadable**" in scorecard.scorecard_markdown(rows)


def test_concurrent_runs_of_one_page_take_turns(book):
    """The second run waits for the page's lock (and says so); the outputs are those of one whole run."""
    command = [sys.executable, "-m", "invlearn", "run", "tiny", "-p", "sleep=4.0", "--force", "--publish"]
    first = subprocess.Popen(command, cwd=book, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    second = subprocess.Popen(command, cwd=book, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs
    assert "waiting   tiny" in outs[1][1]
    gen = book / "book" / "generated"
    record = json.loads((gen / "tiny.json").read_text())
    nb = json.loads((gen / "tiny.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert record["parameters"]["sleep"] == 4.0 and "sleep = 4.0" in "".join(injected[0]["source"])


def test_exploration_runs_never_touch_the_books_outputs(book):
    assert invlearn("run", "tiny", cwd=book).returncode == 0  # the book's run
    gen = book / "book" / "generated"
    before = {p.relative_to(gen): p.read_bytes() for p in gen.rglob("*") if p.is_file()}
    result = invlearn("run", "tiny", "-p", "value=9", cwd=book)
    assert result.returncode == 0, result.stderr
    folder = book / "runs" / "tiny"
    [scratch] = list(folder.iterdir())
    assert scratch.name.startswith("default-") and str(scratch) in result.stderr
    assert json.loads((scratch / "tiny.json").read_text())["parameters"]["value"] == 9
    assert invlearn("run", "tiny", "-p", "value=9", cwd=book).stdout.startswith("cached")  # found again
    assert invlearn("run", "tiny", "--profile", "quick", cwd=book).returncode == 0
    assert len(list(folder.iterdir())) == 2
    after = {p.relative_to(gen): p.read_bytes() for p in gen.rglob("*") if p.is_file()}
    assert after == before
