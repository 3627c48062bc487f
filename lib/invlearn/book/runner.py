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

The executed notebook is then laid out for the reader (:func:`invlearn.book.present.present_page`): title and
claim, the figure (outputs of the cells with ``mystnb.figure`` metadata), *what this run shows*, the check, then
"Parameters and code" (the parameters table and every cell in source order, bookkeeping collapsed, the notes and
assumptions last). Cells are found by metadata and these tags:

* ``reading`` — a code cell displaying Markdown computed from the run ("what this run shows"); shown at the top
  under that heading. Untagged, a code cell whose outputs are all Markdown directly after a markdown cell mentioning
  "what this run shows" counts as one.
* ``check`` — the check cell; untagged, a cell calling ``save_results(`` or ``check_table(``. Its outputs go at the
  top after the ``## Check`` markdown cell before it; its input stays in the code section, collapsed.
* ``setup`` — bookkeeping collapsed in the code section; untagged, a cell with an import and only imports,
  assignments, definitions, bare calls and ``if`` branches made of those.

Outputs are moved, never duplicated: a cell shown at the top keeps its input, without output, in the code section.

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
import copy
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invlearn.book import allowed as allowed_values
from invlearn.book import audit, deps
from invlearn.book import protocol as protocols
from invlearn.book.apilinks import add_library_links
from invlearn.book.present import present_page
from invlearn.book.results import failed_checks, generated_dir, repo_root
from invlearn.core.settings import CHECKS_ENV, OUTPUT_ENV, PROFILE_ENV, PROGRESS_ENV, RUN_CACHE_ENV, RUN_CACHE_OFF

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
    "dependencies",
    "PageStatus",
    "page_status",
    "light_spec",
    "light_discover",
    "sweep_of",
    "CLUSTER_SWEEP",
    "cluster_sweep_of",
    "run_notebook",
    "page_lock",
    "ipc_kernel_manager",
]

PROFILES = ("default", "paper", "quick")
DEFAULT_PROFILE = "default"
"""The book's profile: the notebooks' own defaults. Its outputs and sweep folders carry no profile suffix."""
PACKAGES = ("invlearn", "torch", "numpy", "matplotlib", "seaborn", "papermill", "jupytext", "jupyter-book")


class ParameterError(ValueError):
    """An unknown parameter name or a value whose type does not match the default's."""


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's ``parameters`` cell: name, literal default, its type name, the comment (without
    its ``[paper: …]`` bracket) and the paper's value (:data:`invlearn.book.protocol.NOT_STATED` when the comment
    has no bracket; see :mod:`invlearn.book.protocol`)."""

    name: str
    default: Any
    type_name: str
    help: str
    paper: Any = protocols.NOT_STATED
    allowed: allowed_values.Allowed = allowed_values.Allowed()
    """The values a run may set, from the comment's ``[allowed: …]`` (see :mod:`invlearn.book.allowed`)."""

    @classmethod
    def from_comment(cls, name: str, default: Any, comment: str) -> Parameter:
        """A parameter from its literal default and its comment (``meaning [paper: …] [allowed: …]``).

        Raises:
            ValueError: an unreadable ``[allowed: …]`` or ``[paper: …]``, or a default outside its allowed values.
        """
        rest, allowed = allowed_values.split_allowed(comment)
        help_text, paper = protocols.split_comment(rest)
        why = allowed_values.violation(allowed, default, sizes=None)
        if why:
            raise ValueError(f"parameter {name!r}: the default {default!r} is outside [allowed: {allowed.text}]: {why}")
        return cls(name, default, type(default).__name__, help_text, paper, allowed)


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
    """For a variant, the notebook it runs (``""`` for a notebook itself)."""
    data: str | None = None
    """The paper's data, from the header's ``data:`` entry (``None`` when not declared)."""
    fixed: dict[str, Any] = field(default_factory=dict)
    """For a variant, its own parameters, validated."""

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters.values()}

    @property
    def source(self) -> str:
        """The notebook whose file runs, ``notebook`` for a variant, else ``name``."""
        return self.notebook or self.name

    @property
    def is_variant(self) -> bool:
        return bool(self.notebook)


@dataclass
class RunOutcome:
    """What happened to one notebook: ``status`` is ``"ok"``, ``"cached"`` or ``"failed"`` (the notebook raised, no
    page). ``reproduced`` is false when the page was made but its checks fail (the claim is not reproduced by this
    run); ``failed_checks`` names them."""

    name: str
    status: str
    runtime_s: float = 0.0
    error: str = ""
    outputs: list[Path] = field(default_factory=list)
    reproduced: bool = True
    failed_checks: list[str] = field(default_factory=list)
    threads: int | None = None
    """The BLAS/OpenMP threads the kernel had (the cores when uncapped)."""


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
        try:
            params[name] = Parameter.from_comment(name, default, info.get("help", ""))
        except ValueError as exc:
            raise ValueError(f"{path.name}: {exc}") from exc
    return NotebookSpec(
        name=path.stem,
        path=path,
        paper=meta.get("paper", ""),
        figure=meta.get("figure", ""),
        title=meta.get("title", ""),
        parameters=params,
        data=meta.get("data"),
    )


def load_profile(profile: str, root: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """Per-notebook overrides of a profile read from a file: ``default`` and ``paper`` have none here (the
    notebooks' own defaults; ``paper``'s values come from each notebook's ``[paper: …]`` brackets, see
    :func:`resolve_parameters`); any other name reads ``notebooks/profiles/<profile>.yaml``
    (``{notebook: {parameter: value}}``)."""
    if profile in (DEFAULT_PROFILE, "paper"):
        return {}
    path = notebooks_dir(repo_root(root)) / "profiles" / f"{profile}.yaml"
    if not path.is_file():
        raise ParameterError(f"unknown profile {profile!r}: no {path}")
    stat = path.stat()
    return copy.deepcopy(_read_yaml(str(path), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _read_yaml(path: str, size: int, mtime_ns: int) -> Any:
    """A YAML file's data, memoised by path, size and modification time (``invlearn status`` reads a profile per page)."""
    import yaml

    return yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


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
    """Check names, types and values of ``overrides`` against ``spec``'s parameters: the type of the default
    (ints become floats where the default is a float) and the parameter's ``[allowed: …]`` values, whose data
    sizes are those a kernel in the repository root would find (:func:`invlearn.book.allowed.data_sizes`).

    Raises:
        ParameterError: listing the valid names, naming the expected type, or giving the allowed values.
    """
    sizes: dict[str, int] = {}

    def data_sizes() -> dict[str, int]:
        if not sizes:
            sizes.update(allowed_values.data_sizes(cwd=spec.path.resolve().parent.parent))
        return sizes

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
        allowed = spec.parameters[name].allowed
        why = allowed_values.violation(allowed, value, sizes=data_sizes)
        if why:
            raise ParameterError(
                f"{spec.name}: parameter {name!r} = {value!r} (from {origin}) is not allowed: {why}. "
                f"Allowed: {allowed.text}"
            )
        clean[name] = value
    return clean


def resolve_parameters(
    spec: NotebookSpec, profile: str, overrides: Mapping[str, Any], root: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Parameters that differ from the notebook's defaults, all validated: the profile's values for the notebook
    (under ``paper``, every paper value that can run, :func:`invlearn.book.protocol.paper_overrides`); for a variant
    then its own parameters and the profile's values for the variant name; then ``overrides``."""
    profiles = load_profile(profile, root)
    params = validate_parameters(spec, profiles.get(spec.source) or {}, origin=f"profile {profile!r}")
    if profile == "paper":
        params.update(protocols.paper_overrides(spec))
    if spec.is_variant:
        params.update(spec.fixed)
        params.update(validate_parameters(spec, profiles.get(spec.name) or {}, origin=f"profile {profile!r}"))
    params.update(validate_parameters(spec, overrides))
    return params


def sweep_of(spec: NotebookSpec, params: Mapping[str, Any]) -> str:
    """The sweep a *sweep page* collects: the value of its ``sweep`` parameter (a sweep file ``sweeps/<name>.yaml``);
    ``""`` for other notebooks. ``invlearn run`` runs that sweep, under the same profile, before the page."""
    if "sweep" not in spec.parameters:
        return ""
    return str(params.get("sweep", spec.parameters["sweep"].default))


CLUSTER_SWEEP = "cluster_sweep"
"""A page parameter naming a sweep the page *reads* without running it (a paper protocol meant for a cluster): its
finished points enter the page's dependencies, so the page is stale once more points finish; neither ``invlearn
run`` nor the book build runs that sweep. A sweep file sets it to ``""`` in its points."""


def cluster_sweep_of(spec: NotebookSpec, params: Mapping[str, Any]) -> str:
    """The value of a page's :data:`CLUSTER_SWEEP` parameter; ``""`` when it has none."""
    if CLUSTER_SWEEP not in spec.parameters:
        return ""
    return str(params.get(CLUSTER_SWEEP, spec.parameters[CLUSTER_SWEEP].default))


def _sweep_digest(name: str, profile: str, root: Path) -> str:
    """The state of a sweep folder: its manifest's points, whether each finished, and their result cache keys."""
    manifest_path = root / "sweeps_out" / (name if profile == DEFAULT_PROFILE else f"{name}.{profile}") / "manifest.json"
    if not manifest_path.is_file():
        return "no sweep"
    manifest = json.loads(manifest_path.read_text())
    state = []
    for point in manifest["points"]:
        result = manifest_path.parent / point["folder"] / f"{manifest['output_name']}.json"
        key = json.loads(result.read_text()).get("cache_key") if result.is_file() else None
        state.append((point["id"], point["status"] in ("ok", "cached"), key))
    return json.dumps([manifest["sweep"].get("profile"), state])


def dependencies(
    spec: NotebookSpec,
    params: Mapping[str, Any],
    profile: str,
    root: str | os.PathLike | None = None,
    library: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """What a run of ``spec`` with ``params`` under ``profile`` depends on (:func:`invlearn.book.deps.page_dependencies`:
    notebook source, parameters, profile, the sources of the ``invlearn`` modules it imports transitively, the MNIST
    source if it reads MNIST, torch and numpy versions); for a sweep page also ``sweep``, a digest of the state of
    its sweep folder, and for a page with a :data:`CLUSTER_SWEEP` ``cluster_sweep``, the same for the sweep it reads. ``library`` is the ``invlearn`` package folder (default: the one imported)."""
    root = repo_root(root)
    record = deps.page_dependencies(spec.path, params, profile, root, library)
    sweep = sweep_of(spec, params)
    if sweep:
        record["sweep"] = hashlib.sha256(_sweep_digest(sweep, profile, root).encode()).hexdigest()
    cluster = cluster_sweep_of(spec, params)
    if cluster:
        record["cluster_sweep"] = hashlib.sha256(_sweep_digest(cluster, profile, root).encode()).hexdigest()
    return record


def cache_key(
    spec: NotebookSpec,
    params: Mapping[str, Any],
    profile: str,
    root: str | os.PathLike | None = None,
    library: str | os.PathLike | None = None,
) -> str:
    """sha256 over the page's :func:`dependencies`: a change of the library reruns only the pages importing the
    changed module."""
    return deps.digest(dependencies(spec, params, profile, root, library))


@dataclass(frozen=True)
class PageStatus:
    """Whether a page's output is ``current``, ``stale`` (``reasons`` say what changed), ``missing`` or ``failed``
    (a ``.failed.ipynb`` newer than the output)."""

    name: str
    state: str
    reasons: tuple[str, ...] = ()


def light_spec(path: str | os.PathLike) -> NotebookSpec:
    """A notebook's spec read straight from its percent script (no jupytext or papermill import): the same
    metadata, defaults and types as :func:`read_spec`, which also checks papermill's reading of the cell."""
    path = Path(path)
    meta, assigned = deps.parameter_cell(path)
    params = {name: Parameter.from_comment(name, default, comment) for name, default, comment in assigned}
    return NotebookSpec(name=path.stem, path=path, paper=meta.get("paper", ""), figure=meta.get("figure", ""),
                        title=meta.get("title", ""), parameters=params, data=meta.get("data"))


def light_discover(root: str | os.PathLike | None = None) -> dict[str, NotebookSpec]:
    """:func:`discover` through :func:`light_spec`: every notebook and variant, fast enough for ``invlearn status``."""
    root = repo_root(root)
    specs = {p.stem: light_spec(p) for p in sorted(notebooks_dir(root).glob("*.py"))}
    return {**specs, **load_variants(specs, root)}


def page_status(
    spec: NotebookSpec,
    params: Mapping[str, Any],
    profile: str,
    root: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    library: str | os.PathLike | None = None,
) -> PageStatus:
    """The state of a page's output in ``out_dir`` (default ``book/generated/``) against its current dependencies;
    nothing is run."""
    root = repo_root(root)
    out_dir = Path(out_dir) if out_dir is not None else generated_dir(root)
    final_nb, final_json = out_dir / f"{spec.name}.ipynb", out_dir / f"{spec.name}.json"
    failed_nb = out_dir / f"{spec.name}.failed.ipynb"
    have = final_nb.is_file() and final_json.is_file()
    if failed_nb.is_file() and (not have or failed_nb.stat().st_mtime > final_json.stat().st_mtime):
        return PageStatus(spec.name, "failed", (f"{failed_nb.name} is newer than the output",))
    if not have:
        return PageStatus(spec.name, "missing")
    try:
        record = json.loads(final_json.read_text())
    except json.JSONDecodeError:
        return PageStatus(spec.name, "stale", ("unreadable result file",))
    current = dependencies(spec, params, profile, root, library)
    reasons = [] if record.get("cache_key") == deps.digest(current) else (deps.changes(record.get("dependencies"), current)
                                                                         or ["cache key"])
    sweep = sweep_of(spec, params)
    if sweep:
        # `invlearn run` first reruns the sweep's stale points, which then changes the page's sweep digest
        points = _stale_sweep_points(sweep, profile, root, library)
        if points:
            reasons.append(points)
    return PageStatus(spec.name, "stale" if reasons else "current", tuple(reasons))


def _stale_sweep_points(name: str, profile: str, root: Path, library: str | os.PathLike | None) -> str:
    """``""`` when every point of the sweep folder is finished and current, else a phrase saying how many are not."""
    manifest_path = root / "sweeps_out" / (name if profile == DEFAULT_PROFILE else f"{name}.{profile}") / "manifest.json"
    if not manifest_path.is_file():
        return f"sweep {name}: not run"
    manifest = json.loads(manifest_path.read_text())
    import dataclasses

    from invlearn.book import sweep as sweeps

    path = sweeps.sweep_from_file(name, root)
    if path is not None:
        declared = json.dumps(dataclasses.asdict(sweeps.load_sweep_file(path, profile, root)), sort_keys=True, default=repr)
        if json.loads(declared) != manifest.get("sweep"):
            return f"sweep {name}: the sweep file changed"
    spec = light_spec(notebooks_dir(root) / f"{manifest['notebook']}.py")
    stale = 0
    for point in manifest["points"]:
        result = manifest_path.parent / point["folder"] / f"{manifest['output_name']}.json"
        key = json.loads(result.read_text()).get("cache_key") if result.is_file() else None
        if point["status"] not in ("ok", "cached") or key != cache_key(spec, point["parameters"], profile, root, library):
            stale += 1
    return f"sweep {name}: {stale} of {len(manifest['points'])} points stale" if stale else ""


def package_versions() -> dict[str, str]:
    """The Python version and the installed versions of :data:`PACKAGES` (:func:`invlearn.book.deps.package_versions`)."""
    return {"python": sys.version.split()[0], **deps.package_versions(PACKAGES)}


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


def ipc_kernel_manager(prefix: str | os.PathLike) -> type:
    """A kernel manager whose kernel talks over IPC sockets ``<prefix>-<n>`` instead of TCP ports on loopback:
    concurrent kernels cannot collide on a port, and no "running over TCP without encryption" warning is printed.
    ``prefix`` must be unique per kernel (the default, ``kernel-ipc`` in the cwd, is shared by concurrent kernels)
    and short (a socket path has at most ~100 characters).

    At shutdown the kernel is not sent the SIGINT that jupyter_client sends first by default: the notebook has
    finished, and a SIGINT landing while the kernel still handles a message only makes it log "KeyboardInterrupt
    caught in kernel". Interrupts before shutdown (an execution timeout) are sent as usual."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", str(prefix))
            super().__init__(**kwargs)

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return IPCKernelManager


def _socket_prefix() -> Path:
    """A fresh socket prefix in Jupyter's runtime folder."""
    import uuid

    from jupyter_core.paths import jupyter_runtime_dir

    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(parents=True, exist_ok=True)
    return runtime / f"invlearn-{uuid.uuid4().hex[:16]}"


def _failure_message(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        lines = exc.source.splitlines()
        tail = "\n".join((["..."] if len(lines) > 8 else []) + lines[-8:])
        return f"cell {exc.cell_index} failed with {exc.ename}: {exc.evalue}\n--- end of the cell ---\n{tail}"
    return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def page_lock(out_dir: Path, name: str, root: Path) -> Iterator[None]:
    """Hold ``<root>/.cache/locks/<name>-<digest of out_dir>`` exclusively (``flock``): a second run of the same page into the same folder
    waits, saying so, and then finds the first run's outputs (a cache hit when its parameters are the same). The
    outputs of a page are therefore always those of one run."""
    import fcntl

    locks = root / ".cache" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    folder = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:12]
    with open(locks / f"{name}-{folder}", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting   {name}: another run of this page is writing {out_dir}", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _staging_target(path: Path, staging: Path, out_dir: Path, spec: NotebookSpec) -> Path:
    """Where a staged file goes; a variant's files named after its notebook (``<notebook>.png``,
    ``<notebook>_control.png``) are renamed after the variant, so they never replace the notebook's own."""
    relative = path.relative_to(staging)
    if spec.is_variant and path.name.startswith((spec.source + ".", spec.source + "_")):
        relative = relative.with_name(spec.name + path.name[len(spec.source):])
    return out_dir / relative


def run_notebook(
    spec: NotebookSpec,
    params: Mapping[str, Any],
    profile: str = DEFAULT_PROFILE,
    force: bool = False,
    root: str | os.PathLike | None = None,
    threads: int | None = None,
    out_dir: str | os.PathLike | None = None,
) -> RunOutcome:
    """Execute one notebook or variant (parameters already validated) into ``out_dir`` (default ``book/generated/``).

    ``threads`` caps the kernel's BLAS/OpenMP threads (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``): parallel
    notebooks must share the cores, since oversubscribed PyTorch kernels slow down by an order of magnitude.
    A failed check is a result, not an error: the kernel runs with ``$INVLEARN_CHECKS=record``
    (:func:`invlearn.book.results.assert_checks` prints instead of raising), the page is made with a "not reproduced"
    banner, and the outcome says ``reproduced=False``. The result file gains ``protocol`` (``paper`` or ``scaled``)
    and ``deviations`` (:func:`invlearn.book.protocol.deviations`).

    Returns an outcome rather than raising on notebook failure; ``KeyboardInterrupt`` propagates after the
    staging folder is removed, so no half-written output remains.
    """
    root = repo_root(root)
    out_dir = Path(out_dir) if out_dir is not None else generated_dir(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    with page_lock(out_dir, spec.name, root):
        outcome = _run_locked(spec, params, profile, force, root, threads, out_dir)
    outcome.threads = threads or os.cpu_count() or 1
    return outcome


def _run_locked(spec: NotebookSpec, params: Mapping[str, Any], profile: str, force: bool, root: Path,
                threads: int | None, out_dir: Path) -> RunOutcome:
    """:func:`run_notebook` while holding the page's lock."""
    import jupytext
    import nbformat
    import papermill

    final_nb, final_json = out_dir / f"{spec.name}.ipynb", out_dir / f"{spec.name}.json"
    failed_nb = out_dir / f"{spec.name}.failed.ipynb"
    depends = dependencies(spec, dict(params), profile, root)
    key = deps.digest(depends)
    if not force and final_nb.is_file() and final_json.is_file():
        try:
            cached = json.loads(final_json.read_text())
        except json.JSONDecodeError:
            cached = {}
        if cached.get("cache_key") == key:
            failed = failed_checks(cached)
            return RunOutcome(spec.name, "cached", outputs=[final_nb, final_json], reproduced=not failed,
                              failed_checks=failed)

    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", dir=out_dir))
    staged_nb = staging / f"{spec.name}.ipynb"
    staged_json = staging / f"{spec.source}.json"  # written by the notebook under its own name
    start = time.perf_counter()
    sockets = _socket_prefix()
    try:
        try:
            store = os.environ.get(RUN_CACHE_ENV, "")
            if store.strip().lower() not in RUN_CACHE_OFF:  # a disabled store of training runs stays disabled
                store = str(root / ".cache" / "runs")
            env = {OUTPUT_ENV: str(staging), PROGRESS_ENV: "0", CHECKS_ENV: "record",
                   PROFILE_ENV: profile, RUN_CACHE_ENV: store,
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
                    kernel_manager_class=ipc_kernel_manager(sockets),
                )
            if not staged_json.is_file():
                raise RuntimeError("the notebook wrote no result file (call invlearn.book.results.save_results)")
        except Exception as exc:  # noqa: BLE001 - any notebook failure is reported, not raised
            if staged_nb.is_file():
                os.replace(staged_nb, failed_nb)
            return RunOutcome(spec.name, "failed", time.perf_counter() - start, _failure_message(exc), [failed_nb])
        runtime = time.perf_counter() - start

        record = json.loads(staged_json.read_text())
        found = protocols.deviations(spec, params, record.get("data"), spec.data)
        record.update(protocol=protocols.protocol_label(found), deviations=found)
        nb = nbformat.read(staged_nb, as_version=4)
        present_page(nb, spec, params, profile, record)
        add_library_links(nb)
        nbformat.write(nb, staged_nb)
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
            dependencies=depends,
        )
        record["typed_numbers"] = audit.typed_numbers(audit.notebook_markdown(spec.path), record)
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
        failed = failed_checks(record)
        return RunOutcome(spec.name, "ok", runtime, outputs=[final_nb, final_json, *outputs], reproduced=not failed,
                          failed_checks=failed)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for socket in sockets.parent.glob(f"{sockets.name}-*"):  # left behind by an interrupted kernel
            socket.unlink(missing_ok=True)
