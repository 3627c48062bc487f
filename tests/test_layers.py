"""The library's three layers and their import rules (``invlearn/__init__.py``).

Every ``import``/``from … import`` in every module counts, including the ones inside functions: a lazy import
still couples the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "invlearn"
PAPERS = ("duan", "gideoni", "flinth")
LAYERS = ("core", *PAPERS, "book")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def invlearn_imports(path: Path) -> set[str]:
    """Every ``invlearn…`` module named by an import statement of ``path`` (relative imports resolved)."""
    found = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "invlearn"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] == "invlearn":
                found |= {f"{base}.{a.name}" if (LIB.parent / base.replace(".", "/") / a.name).exists()
                          or (LIB.parent / f"{base.replace('.', '/')}/{a.name}.py").exists() else base
                          for a in node.names}
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "invlearn"


def allowed(layer: str) -> set[str]:
    if layer == "core":
        return {"core"}
    if layer in PAPERS:
        return {"core", layer}
    if layer == "book":
        return {"core", "book"}
    return {"invlearn", "book"}  # the top-level package: __init__, __main__ (the command line)


MODULES = sorted(LIB.rglob("*.py"))


def test_three_layers_exist():
    packages = {p.name for p in LIB.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(LAYERS)
    top_level = {p.name for p in LIB.glob("*.py")}
    assert top_level == {"__init__.py", "__main__.py"}, "every module belongs to a layer"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_follow_the_layers(path):
    layer = layer_of(module_name(path))
    bad = sorted(m for m in invlearn_imports(path) if layer_of(m) not in allowed(layer) and m != "invlearn")
    assert not bad, f"{module_name(path)} ({layer}) imports {bad}; allowed layers: {sorted(allowed(layer))}"


def test_rule_detects_a_violation(tmp_path):
    """The checker itself: a paper module importing another paper or the book is caught."""
    fake = LIB / "duan" / "_probe_layer_rule.py"
    fake.write_text("def f():\n    from invlearn.gideoni import experiments\n    import invlearn.book.runner\n")
    try:
        found = invlearn_imports(fake)
    finally:
        fake.unlink()
    assert {layer_of(m) for m in found} == {"gideoni", "book"}
