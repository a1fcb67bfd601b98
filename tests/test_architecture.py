"""The layers of docs/architecture.rst, checked on the import graph.

Every ``import`` of every module under ``skcosim/`` is read with ``ast`` (the
package is not imported, so lazy imports inside functions count too) and
mapped to the layer of the module it names. No module may import from a
layer to its right, and each subpackage imports only the layers the page's
table lists for it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skcosim"

#: The foundation modules: they import only each other.
FOUNDATION = {"_compat", "_constraints", "_docstring", "_signals", "_validation"}
FOUNDATION |= {"exceptions"}

#: Left to right, as in docs/architecture.rst; a layer imports only from the
#: layers at its left (and the foundation).
LAYERS = [
    {"datasets", "model_selection"},
    {"_linalg"},
    {"_optim"},
    {"autoencoders"},
    {"preprocessing"},
    {"metrics"},
    {"plotting"},
    {"cli", "__main__"},
]

#: The "imports from skcosim" column of the page's table (foundation aside).
ALLOWED = {
    "datasets": set(),
    "model_selection": set(),
    "_linalg": set(),
    "_optim": {"_linalg"},
    "autoencoders": {"_linalg", "_optim", "model_selection"},
    "preprocessing": {"_linalg", "autoencoders"},
    "metrics": {"_linalg", "model_selection"},
    "plotting": {"_linalg", "metrics"},
    "cli": {
        "skcosim",
        "datasets",
        "_linalg",
        "_optim",
        "autoencoders",
        "preprocessing",
        "metrics",
        "plotting",
    },
    "__main__": {"cli"},
    # The package's __init__ re-exports the estimators.
    "skcosim": {"autoencoders"},
}


def _unit(module):
    """``skcosim.metrics._ranking`` -> ``metrics``; ``skcosim`` -> ``skcosim``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "skcosim"


def _resolve(package, name):
    """``from package import name``: the module ``package.name`` when it is
    one (``from .. import metrics``), else ``package`` itself."""
    candidate = f"{package}.{name}"
    path = PACKAGE.parent.joinpath(*candidate.split("."))
    return candidate if path.is_dir() or path.with_suffix(".py").exists() else package


def _imports(path):
    """(importing module, imported module) of every import in ``path``."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    is_init = parts[-1] == "__init__"
    if is_init:
        parts = parts[:-1]
    module = ".".join(parts)
    package = parts if is_init else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [_resolve(target, alias.name) for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "skcosim" or target.startswith("skcosim."):
                yield module, target


def _edges():
    """Imports that cross units: (from unit, to unit, 'module -> target')."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for module, target in _imports(path):
            src, dst = _unit(module), _unit(target)
            if src != dst:
                yield src, dst, f"{module} -> {target}"


def _layer(unit):
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    return None


def test_every_unit_has_a_place_on_the_page():
    units = {_unit(m) for p in PACKAGE.rglob("*.py") for m, _ in _imports(p)}
    units |= {
        p.stem if p.parent == PACKAGE else p.parent.name for p in PACKAGE.rglob("*.py")
    }
    units.discard("__init__")
    placed = FOUNDATION | set(ALLOWED)
    assert units - placed == set()


def test_foundation_imports_only_the_foundation():
    bad = [e for src, dst, e in _edges() if src in FOUNDATION and dst not in FOUNDATION]
    assert bad == []


def test_no_import_goes_right_to_left():
    bad = []
    for src, dst, edge in _edges():
        if src in FOUNDATION or dst in FOUNDATION or src == "skcosim":
            continue
        if dst == "skcosim" and src == "cli":
            continue  # __version__
        if _layer(dst) is None or _layer(src) is None or _layer(dst) > _layer(src):
            bad.append(edge)
    assert bad == []


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_each_subpackage_imports_what_the_page_lists(unit):
    bad = [
        edge
        for src, dst, edge in _edges()
        if src == unit and dst not in FOUNDATION and dst not in ALLOWED[unit]
    ]
    assert bad == []


def test_the_checker_sees_a_right_to_left_import(tmp_path, monkeypatch):
    """The graph is read: a planted estimator -> metrics import is found."""
    fake = tmp_path / "skcosim"
    (fake / "autoencoders").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "autoencoders" / "_x.py").write_text(
        "def f():\n    from ..metrics._ranking import SCORE_K\n"
    )
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake, raising=False)
    import sys

    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    edges = list(_edges())
    assert (
        "autoencoders",
        "metrics",
        "skcosim.autoencoders._x -> skcosim.metrics._ranking",
    ) in edges


def test_linalg_takes_arrays_not_estimators():
    """``_linalg`` is the numerical layer: its functions take arrays, not a
    fitted estimator (whose attributes and methods are the estimators' own)."""
    found = set()
    for path in sorted((PACKAGE / "_linalg").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in node.args.args + node.args.kwonlyargs]
                if "estimator" in names:
                    found.add(f"{path.stem}.{node.name}")
    assert found == set()
