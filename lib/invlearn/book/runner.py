"""Execute figure notebooks with papermill: parameter validation, profiles, cache, atomic outputs.

A figure notebook is a jupytext percent script ``notebooks/<name>.py`` whose header carries

.. code-block:: yaml

    invlearn:
      paper: Duan & Montúfar (2026)
      figure: Fig. 2
      title: one-line meaning

and whose cell tagged ``parameters`` holds literal assignments only, each with a trailing comment.

``run_notebook`` executes it into ``book/generated/<name>.ipynb`` and completes its result file
``book/generated/<name>.json``. Everything is written in a staging folder first and moved into place only
when the notebook succeeded; a failing notebook leaves the previous outputs untouched and is kept as
``<name>.failed.ipynb``.

A **variant** is a named notebook run with fixed parameters, declared in ``notebooks/variants.yaml``:

.. code-block:: yaml

    duan_fig03_noninvariant_norm_5seeds:
      notebook: duan_fig03_noninvariant_norm
      parameters: {n_seeds: 5}
      title: Fig. 3 over five initialisation seeds

It runs like a notebook (validated, cached, atomic) into ``book/generated/<variant>.ipynb``/``.json``. Under a
profile it takes the notebook's overrides, then its own parameters, then the profile's entry for the variant
name (if any), then ``-p`` values.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from invlearn.book.results import generated_dir, repo_root
from invlearn.core.settings import CHECKS_ENV, OUTPUT_ENV, PROFILE_ENV, PROGRESS_ENV, RUN_CACHE_ENV

__all__ = [
    "Parameter",
    "NotebookSpec",
    "ParameterError",
    "RunOutcome",
    "discover",
    "read_spec",
    "load_variants",
    "load_profile",
    "parse_assignment",
    "validate_parameters",
    "resolve_parameters",
    "cache_key",
    "sweep_of",
    "run_notebook",
]

PROFILES = ("paper", "quick")
PACKAGES = ("invlearn", "torch", "numpy", "matplotlib", "seaborn", "papermill", "jupytext", "jupyter-book")


class ParameterError(ValueError):
    """An unknown parameter name or a value whose type does not match the default's."""


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's ``parameters`` cell: name, literal default, its type name, the comment."""

    name: str
    default: Any
    type_name: str
    help: str


@dataclass(frozen=True)
class NotebookSpec:
    """A figure notebook as the runner sees it."""

    name: str
    path: Path
    paper: str
    figure: str
    title: str
    parameters: dict[str, Parameter] = field(default_factory=dict)
    notebook: str = ""
    """For a variant: the notebook it runs (``""`` for a notebook itself)."""
    fixed: dict[str, Any] = field(default_factory=dict)
    """For a variant: its own parameters, validated."""

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters.values()}

    @property
    def source(self) -> str:
        """The notebook whose file runs: ``notebook`` for a variant, else ``name``."""
        return self.notebook or self.name

    @property
    def is_variant(self) -> bool:
        return bool(self.notebook)


@dataclass
class RunOutcome:
    """What happened to one notebook: ``status`` is ``"ok"``, ``"cached"`` or ``"failed"``."""

    name: str
    status: str
    runtime_s: float = 0.0
    error: str = ""
    outputs: list[Path] = field(default_factory=list)


def notebooks_dir(root: Path) -> Path:
    return root / "notebooks"


def discover(root: str | os.PathLike | None = None) -> dict[str, NotebookSpec]:
    """Every figure notebook ``notebooks/*.py`` by name, sorted, followed by the variants of
    ``notebooks/variants.yaml`` (see :func:`load_variants`)."""
    root = repo_root(root)
    specs = {p.stem: read_spec(p) for p in sorted(notebooks_dir(root).glob("*.py"))}
    return {**specs, **load_variants(specs, root)}


def load_variants(notebooks: Mapping[str, NotebookSpec], root: str | os.PathLike | None = None) -> dict[str, NotebookSpec]:
    """The variants declared in ``notebooks/variants.yaml``: ``{name: {notebook, parameters, title}}``.

    Raises:
        ParameterError: a variant naming an unknown notebook, clashing with a notebook's name, or with an
            invalid parameter (unknown name or wrong type).
    """
    import dataclasses

    import yaml

    path = notebooks_dir(repo_root(root)) / "variants.yaml"
    if not path.is_file():
        return {}
    declared = yaml.safe_load(path.read_text()) or {}
    variants = {}
    for name, entry in declared.items():
        entry = entry or {}
        base = notebooks.get(entry.get("notebook", ""))
        if base is None:
            raise ParameterError(f"variants.yaml: variant {name!r} names unknown notebook {entry.get('notebook')!r}")
        if name in notebooks:
            raise ParameterError(f"variants.yaml: variant {name!r} has the name of a notebook")
        unknown = set(entry) - {"notebook", "parameters", "title", "figure"}
        if unknown:
            raise ParameterError(f"variants.yaml: variant {name!r} has unknown keys {sorted(unknown)}")
        fixed = validate_parameters(base, entry.get("parameters") or {}, origin=f"variants.yaml, {name}")
        label = ", ".join(f"{k} = {v!r}" for k, v in fixed.items())
        variants[name] = dataclasses.replace(
            base,
            name=name,
            notebook=base.name,
            fixed=fixed,
            title=entry.get("title") or f"{base.title} ({label})",
            figure=entry.get("figure") or f"{base.figure} ({label})",
        )
    return dict(sorted(variants.items()))


def _parameter_cell_index(nb) -> int:
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    raise ValueError("no cell tagged 'parameters'")


def read_spec(path: str | os.PathLike) -> NotebookSpec:
    """Read a notebook's header metadata and its parameters (names, literal defaults and help from papermill)."""
    import jupytext
    import nbformat
    import papermill

    path = Path(path)
    nb = jupytext.read(path)
    meta = nb.metadata.get("invlearn", {})
    cell = nb.cells[_parameter_cell_index(nb)]
    assigned = [t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)]
    with tempfile.TemporaryDirectory() as tmp:
        ipynb = Path(tmp) / f"{path.stem}.ipynb"
        nbformat.write(nb, ipynb)
        inferred = papermill.inspect_notebook(str(ipynb))
    if list(inferred) != assigned:
        raise ValueError(
            f"{path.name}: papermill parses parameters {list(inferred)} but the cell assigns {assigned}; "
            "keep one literal assignment per line and no '=' inside comments"
        )
    params = {}
    for name, info in inferred.items():
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"{path.name}: parameter {name!r} is not a literal: {info['default']}") from exc
        params[name] = Parameter(name, default, type(default).__name__, info.get("help", ""))
    return NotebookSpec(
        name=path.stem,
        path=path,
        paper=meta.get("paper", ""),
        figure=meta.get("figure", ""),
        title=meta.get("title", ""),
        parameters=params,
    )


def load_profile(profile: str, root: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """Per-notebook overrides of a profile: ``paper`` = none (the notebooks' own defaults);
    any other name reads ``notebooks/profiles/<profile>.yaml`` (``{notebook: {parameter: value}}``)."""
    if profile == "paper":
        return {}
    import yaml

    path = notebooks_dir(repo_root(root)) / "profiles" / f"{profile}.yaml"
    if not path.is_file():
        raise ParameterError(f"unknown profile {profile!r}: no {path}")
    return yaml.safe_load(path.read_text()) or {}


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"key=value"`` -> ``(key, value)``: a Python literal when it parses as one, ``true``/``false``/``none``
    in any case as booleans/None, else the raw string."""
    if "=" not in text:
        raise ParameterError(f"expected key=value, got {text!r}")
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    words = {"true": True, "false": False, "none": None, "null": None}
    if raw.lower() in words:
        return key, words[raw.lower()]
    try:
        return key, ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return key, raw


def _type_matches(default: Any, value: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def validate_parameters(spec: NotebookSpec, overrides: Mapping[str, Any], origin: str = "-p") -> dict[str, Any]:
    """Check names and types of ``overrides`` against ``spec``'s defaults; ints become floats where the default is a float.

    Raises:
        ParameterError: listing the valid names, or naming the expected type.
    """
    clean = {}
    for name, value in overrides.items():
        if name not in spec.parameters:
            valid = ", ".join(f"{p.name} ({p.type_name}, default {p.default!r})" for p in spec.parameters.values())
            raise ParameterError(f"{spec.name}: unknown parameter {name!r} (from {origin}). Valid parameters: {valid}")
        default = spec.parameters[name].default
        if not _type_matches(default, value):
            raise ParameterError(
                f"{spec.name}: parameter {name!r} (from {origin}) expects {type(default).__name__} like the default "
                f"{default!r}, got {type(value).__name__} {value!r}"
            )
        if isinstance(default, float) and isinstance(value, int):
            value = float(value)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        clean[name] = value
    return clean


def resolve_parameters(
    spec: NotebookSpec, profile: str, overrides: Mapping[str, Any], root: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Parameters that differ from the notebook's defaults, all validated: the profile's values for the notebook;
    for a variant then its own parameters and the profile's values for the variant name; then ``overrides``."""
    profiles = load_profile(profile, root)
    params = validate_parameters(spec, profiles.get(spec.source) or {}, origin=f"profile {profile!r}")
    if spec.is_variant:
        params.update(spec.fixed)
        params.update(validate_parameters(spec, profiles.get(spec.name) or {}, origin=f"profile {profile!r}"))
    params.update(validate_parameters(spec, overrides))
    return params


def _library_digest() -> str:
    package = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def sweep_of(spec: NotebookSpec, params: Mapping[str, Any]) -> str:
    """The sweep a *sweep page* collects: the value of its ``sweep`` parameter (a sweep file ``sweeps/<name>.yaml``);
    ``""`` for other notebooks. ``invlearn run`` runs that sweep, under the same profile, before the page."""
    if "sweep" not in spec.parameters:
        return ""
    return str(params.get("sweep", spec.parameters["sweep"].default))


def _sweep_digest(name: str, profile: str, root: Path) -> str:
    """The state of a sweep folder: its manifest's points, whether each finished, and their result cache keys."""
    manifest_path = root / "sweeps_out" / (name if profile == "paper" else f"{name}.{profile}") / "manifest.json"
    if not manifest_path.is_file():
        return "no sweep"
    manifest = json.loads(manifest_path.read_text())
    state = []
    for point in manifest["points"]:
        result = manifest_path.parent / point["folder"] / f"{manifest['output_name']}.json"
        key = json.loads(result.read_text()).get("cache_key") if result.is_file() else None
        state.append((point["id"], point["status"] in ("ok", "cached"), key))
    return json.dumps([manifest["sweep"].get("profile"), state])


def cache_key(spec: NotebookSpec, params: Mapping[str, Any], profile: str, root: str | os.PathLike | None = None) -> str:
    """sha256 over the notebook source, the parameters, the profile name and every ``invlearn`` source file; for
    a sweep page also over the state of its sweep folder."""
    h = hashlib.sha256()
    h.update(spec.path.read_bytes())
    h.update(json.dumps({"profile": profile, "params": params}, sort_keys=True, default=repr).encode())
    h.update(_library_digest().encode())
    sweep = sweep_of(spec, params)
    if sweep:
        h.update(_sweep_digest(sweep, profile, repo_root(root)).encode())
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _parameters_markdown(spec: NotebookSpec, params: Mapping[str, Any], profile: str) -> str:
    rows = [
        f"**Parameters of this run** (profile `{profile}`; values differing from the paper's are in bold; rerun with "
        f"`invlearn run {spec.name} -p name=value`):",
        "",
        "| parameter | value | paper default | meaning |",
        "|---|---|---|---|",
    ]
    for p in spec.parameters.values():
        value = params.get(p.name, p.default)
        shown = f"**`{value!r}`**" if p.name in params and value != p.default else f"`{value!r}`"
        rows.append(f"| `{p.name}` | {shown} | `{p.default!r}` | {p.help.replace('|', '/')} |")
    return "\n".join(rows)


def _present_parameters(nb, spec: NotebookSpec, params: Mapping[str, Any], profile: str) -> None:
    """Hide the parameters cell and papermill's injected cell; show a table of the values used instead."""
    import nbformat

    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    index = _parameter_cell_index(nb)
    nb.cells.insert(index, nbformat.v4.new_markdown_cell(_parameters_markdown(spec, params, profile)))


def _failure_message(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        lines = exc.source.splitlines()
        tail = "\n".join((["..."] if len(lines) > 8 else []) + lines[-8:])
        return f"cell {exc.cell_index} failed with {exc.ename}: {exc.evalue}\n--- end of the cell ---\n{tail}"
    return f"{type(exc).__name__}: {exc}"


def _retitle_variant(nb, spec: NotebookSpec) -> None:
    """A variant's page: its own title as the first heading, a line naming the notebook it runs, and figure labels
    suffixed with the variant's name (labels must be unique across the book)."""
    import nbformat

    for cell in nb.cells:
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if "name" in figure:
            figure["name"] = f"{figure['name']}-{spec.name}"

    fixed = ", ".join(f"`{k} = {v!r}`" for k, v in spec.fixed.items())
    note = nbformat.v4.new_markdown_cell(f"*Variant `{spec.name}` of {{doc}}`{spec.source} <{spec.source}>`, run with {fixed}.*")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            cell.source = "\n".join([f"# {spec.title}", *cell.source.lstrip().splitlines()[1:]])
            nb.cells.insert(index + 1, note)
            return
    nb.cells[:0] = [nbformat.v4.new_markdown_cell(f"# {spec.title}"), note]


def _staging_target(path: Path, staging: Path, out_dir: Path, spec: NotebookSpec) -> Path:
    """Where a staged file goes; a variant's files named after its notebook are renamed after the variant."""
    relative = path.relative_to(staging)
    if spec.is_variant and path.name.startswith(spec.source + "."):
        relative = relative.with_name(spec.name + path.name[len(spec.source):])
    return out_dir / relative


def run_notebook(
    spec: NotebookSpec,
    params: Mapping[str, Any],
    profile: str = "paper",
    force: bool = False,
    root: str | os.PathLike | None = None,
    threads: int | None = None,
    out_dir: str | os.PathLike | None = None,
    record_checks: bool = False,
) -> RunOutcome:
    """Execute one notebook or variant (parameters already validated) into ``out_dir`` (default ``book/generated/``).

    ``threads`` caps the kernel's BLAS/OpenMP threads (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``): parallel
    notebooks must share the cores, since oversubscribed PyTorch kernels slow down by an order of magnitude.
    ``record_checks`` lets a failed check be recorded in the result file instead of failing the run (see
    :func:`invlearn.book.results.assert_checks`); sweeps use it, so that a point where the claim does not hold is a
    result, not an error.

    Returns an outcome rather than raising on notebook failure; ``KeyboardInterrupt`` propagates after the
    staging folder is removed, so no half-written output remains.
    """
    import jupytext
    import nbformat
    import papermill

    root = repo_root(root)
    out_dir = Path(out_dir) if out_dir is not None else generated_dir(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    final_nb, final_json = out_dir / f"{spec.name}.ipynb", out_dir / f"{spec.name}.json"
    failed_nb = out_dir / f"{spec.name}.failed.ipynb"
    key = cache_key(spec, dict(params), profile, root)
    if not force and final_nb.is_file() and final_json.is_file():
        try:
            if json.loads(final_json.read_text()).get("cache_key") == key:
                return RunOutcome(spec.name, "cached", outputs=[final_nb, final_json])
        except json.JSONDecodeError:
            pass

    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", dir=out_dir))
    staged_nb = staging / f"{spec.name}.ipynb"
    staged_json = staging / f"{spec.source}.json"  # written by the notebook under its own name
    start = time.perf_counter()
    try:
        try:
            env = {OUTPUT_ENV: str(staging), PROGRESS_ENV: "0", CHECKS_ENV: "record" if record_checks else "assert",
                   PROFILE_ENV: profile, RUN_CACHE_ENV: str(root / ".cache" / "runs"),
                   "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
            if threads:
                env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
            with _environ(**env):
                papermill.execute_notebook(
                    jupytext.read(spec.path),
                    str(staged_nb),
                    parameters=dict(params),
                    cwd=str(root),
                    kernel_name="python3",
                    progress_bar=False,
                    log_output=False,
                )
            if not staged_json.is_file():
                raise RuntimeError("the notebook wrote no result file (call invlearn.book.results.save_results)")
        except Exception as exc:  # noqa: BLE001 - any notebook failure is reported, not raised
            if staged_nb.is_file():
                os.replace(staged_nb, failed_nb)
            return RunOutcome(spec.name, "failed", time.perf_counter() - start, _failure_message(exc), [failed_nb])
        runtime = time.perf_counter() - start

        nb = nbformat.read(staged_nb, as_version=4)
        _present_parameters(nb, spec, params, profile)
        if spec.is_variant:
            _retitle_variant(nb, spec)
        nbformat.write(nb, staged_nb)
        record = json.loads(staged_json.read_text())
        record.update(
            notebook=spec.source,
            variant=spec.name if spec.is_variant else None,
            paper=spec.paper,
            figure=spec.figure,
            title=spec.title,
            profile=profile,
            parameters={**spec.defaults, **params},
            overrides=dict(params),
            runtime_s=round(runtime, 3),
            versions=package_versions(),
            cache_key=key,
        )
        staged_json.unlink()
        staged_record = staging / f".{spec.name}.json"
        staged_record.write_text(json.dumps(record, indent=1, default=repr))

        outputs = []
        for path in sorted(staging.rglob("*")):
            if path.is_file() and path not in (staged_nb, staged_record):
                target = _staging_target(path, staging, out_dir, spec)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                outputs.append(target)
        # The result file carries the cache key, so it is moved last: an interruption in between leaves a
        # stale key and the next run redoes the notebook.
        os.replace(staged_nb, final_nb)
        os.replace(staged_record, final_json)
        failed_nb.unlink(missing_ok=True)
        return RunOutcome(spec.name, "ok", runtime, outputs=[final_nb, final_json, *outputs])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
