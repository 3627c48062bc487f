"""Links from a figure page to the library code it calls, found by static analysis of the notebook's code.

A figure page gets a markdown cell *Library code on this page* with a MyST cross-reference to every ``invlearn``
module, function, class or constant its code cells use: the names its imports bind
(``from invlearn.duan.linear import train_linear_methods``, ``import invlearn.core.plotting as plotting``) and the
attributes read through an imported module (``plotting.curves(...)`` after ``from invlearn.core import plotting``).
The references point into the book's *Library* part, the API reference generated from the docstrings.

Nothing is imported: the library's source files are read and parsed, so the book layer stays free of the paper
packages and of torch. An object is linked only when the API reference documents it: a public name defined at the
top level of its module (``def``, ``class`` or an assignment) and listed in the module's literal ``__all__`` when
there is one; a name a module merely imports from another ``invlearn`` module is linked at its definition.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from invlearn.book.deps import module_file, strip_magics

__all__ = ["LIBRARY_CELL_TITLE", "used_objects", "notebook_objects", "links_markdown", "add_library_links"]

PACKAGE = "invlearn"
LIB = Path(__file__).resolve().parents[2]
"""The folder holding the ``invlearn`` package (``lib`` in the repository)."""
LIBRARY_CELL_TITLE = "Library code on this page"


def _module_file(module: str, lib: Path) -> Path | None:
    """The source file of an ``invlearn`` module or package in ``lib``, ``None`` when there is none
    (:func:`invlearn.book.deps.module_file`)."""
    return module_file(module, lib / PACKAGE)


def _module_names(module: str, lib: Path) -> tuple[frozenset[str] | None, dict[str, str], frozenset[str]]:
    """What a module's top level binds: its literal ``__all__`` (``None`` if absent), the names it imports from
    other ``invlearn`` modules (``name -> "module.original"``), and the names it defines itself."""
    tree = ast.parse(_module_file(module, lib).read_text())
    package = module if _module_file(module, lib).name == "__init__.py" else module.rsplit(".", 1)[0]
    exported, imported, defined = None, {}, set()
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] == PACKAGE:
                for alias in node.names:
                    imported[alias.asname or alias.name] = f"{base}.{alias.name}"
        for target in targets:
            if isinstance(target, ast.Name):
                defined.add(target.id)
                if target.id == "__all__" and isinstance(node.value, (ast.List, ast.Tuple)):
                    exported = frozenset(e.value for e in node.value.elts if isinstance(e, ast.Constant))
    return exported, imported, frozenset(defined)


def _resolve(module: str, name: str, lib: Path, depth: int = 0) -> str | None:
    """The documented full name of ``module.name`` (a submodule, or an object followed to the module defining it),
    ``None`` when the API reference does not document it."""
    if _module_file(f"{module}.{name}", lib) is not None:
        return f"{module}.{name}"
    if _module_file(module, lib) is None or name.startswith("_") or depth > 5:
        return None
    exported, imported, defined = _module_names(module, lib)
    if name in defined and (exported is None or name in exported):
        return f"{module}.{name}"
    if name in imported:
        origin, original = imported[name].rsplit(".", 1)
        return _resolve(origin, original, lib, depth + 1)
    return None


def _parse(source: str) -> ast.Module | None:
    """A code cell's syntax tree, IPython magics and shell lines commented out
    (:func:`invlearn.book.deps.strip_magics`); ``None`` for a cell that still does not parse."""
    try:
        return ast.parse(strip_magics(source))
    except SyntaxError:
        return None


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; ``None`` for anything not a chain of attributes on a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def used_objects(sources: Iterable[str], lib: str | Path = LIB) -> list[str]:
    """Full names of the ``invlearn`` modules and objects that code (e.g. a notebook's code cells) uses.

    Args:
        sources: Python source texts, read as one program (an import in one cell serves the others).
        lib: the folder holding the ``invlearn`` package whose files are read.

    Returns:
        Sorted full names such as ``"invlearn.core.plotting"`` and ``"invlearn.core.plotting.curves"``, each one
        documented by the API reference.
    """
    lib = Path(lib).resolve()
    trees = [tree for tree in map(_parse, sources) if tree is not None]
    modules: dict[str, str] = {}  # local name -> module it is bound to
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] != PACKAGE or _module_file(alias.name, lib) is None:
                        continue
                    found.add(alias.name)
                    if alias.asname:
                        modules[alias.asname] = alias.name
                    else:
                        modules[PACKAGE] = PACKAGE
            elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == PACKAGE:
                for alias in node.names:
                    full = _resolve(node.module, alias.name, lib) if alias.name != "*" else None
                    if full is None:
                        continue
                    found.add(full)
                    if _module_file(full, lib) is not None:
                        modules[alias.asname or alias.name] = full
    for tree in trees:
        for node in ast.walk(tree):
            chain = _dotted(node) if isinstance(node, ast.Attribute) else None
            if not chain or chain[0] not in modules:
                continue
            current = modules[chain[0]]
            for attr in chain[1:]:
                full = _resolve(current, attr, lib)
                if full is None:
                    break
                found.add(full)
                if _module_file(full, lib) is None:
                    break
                current = full
    return sorted(found)


def notebook_objects(nb: Mapping[str, Any], lib: str | Path = LIB) -> list[str]:
    """:func:`used_objects` of a notebook's code cells (an ``nbformat`` notebook or its JSON as a dict)."""
    return used_objects([_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"], lib)


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _layer_order(full: str) -> tuple[int, str]:
    """Paper packages first, then ``invlearn.core``, then ``invlearn.book``; by name within a layer."""
    layer = full.split(".")[1] if "." in full else ""
    return {"core": 1, "book": 2}.get(layer, 0), full


def links_markdown(objects: Iterable[str], lib: str | Path = LIB) -> str:
    """A markdown cell listing MyST cross-references to ``objects``, one line per module: the paper's modules,
    then the core's, then the book's.

    Args:
        objects: full names from :func:`used_objects`.
        lib: the folder holding the ``invlearn`` package, to tell modules from the objects in them.

    Returns:
        ``""`` when there is nothing to link.
    """
    lib = Path(lib).resolve()
    by_module: dict[str, list[str]] = {}
    for full in sorted(set(objects), key=_layer_order):
        module = full if _module_file(full, lib) is not None else full.rsplit(".", 1)[0]
        members = by_module.setdefault(module, [])
        if full != module:
            members.append(full)
    if not by_module:
        return ""
    lines = [f"**{LIBRARY_CELL_TITLE}** (API reference and source in the *Library* part):", ""]
    for module, members in by_module.items():
        names = ", ".join(f"{{py:obj}}`~{m}`" for m in members)
        lines.append(f"* {{py:obj}}`{module}`" + (f": {names}" if names else ""))
    return "\n".join(lines)


def add_library_links(nb: Any, lib: str | Path = LIB) -> None:
    """Insert the *Library code on this page* cell into an ``nbformat`` notebook, in place.

    It goes right after the cell tagged ``parameters`` and papermill's ``injected-parameters`` cell (both hidden
    on the page, so it follows the table of parameters), else before the first code cell; no cell when the code
    uses nothing from ``invlearn``.
    """
    import nbformat

    text = links_markdown(notebook_objects(nb, lib), lib)
    if not text:
        return
    cells = nb.cells
    index = next((i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if index is None:
        index = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    while index < len(cells) and "injected-parameters" in cells[index].get("metadata", {}).get("tags", []):
        index += 1
    cells.insert(index, nbformat.v4.new_markdown_cell(text))
