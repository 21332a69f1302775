"""Imports point one way: data <- features (and strategy) <- models <- training / evaluation <- serving / jobs <- api.

A module may import its own part and any lower layer, never a higher one or a peer (training and
evaluation do not import each other). Checked on the source (AST, every import, also those inside
functions), so a violation fails here before it becomes a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "python-services" / "coinpredict"

# Part of the package (its first name under coinpredict) -> layer. Higher layers may import lower ones.
LAYERS: dict[str, int] = {
    "": 0, "config": 0, "errors": 0, "common": 0,  # "" is the package root (__init__)
    "data": 1,
    "features": 2, "strategy": 2,  # the strategy engine reads forecasts and candles, never a model
    "models": 3,
    "training": 4, "evaluation": 4,
    "serving": 5, "jobs": 5, "ledger": 5,
    "api": 6, "launch": 6, "transport": 6, "dashboard": 6,
    "migrations": 6,  # compares the migrated schema with the tables jobs and ledger declare
    "cli": 7,  # the programs: they may use every part
}
BASE = 0  # parts of the base layer may import one another
# (importing part, imported part): the root's lazy create_app, the one door wsgi.py uses into the API; the
# app factory mounting the dashboard's pages (which import nothing of the package: they read the JSON API).
ALLOWED = {("", "api"), ("api", "dashboard")}
# Third-party packages a part must never import.
FORBIDDEN = {
    "flask": {"data", "features", "models", "training", "evaluation", "serving", "jobs", "ledger", "common",
              "strategy"},
    "torch": {"api", "transport", "dashboard", "strategy"},
}


def _part(module: str, package: str) -> str:
    names = module.split(".")
    return names[1] if len(names) > 1 and names[0] == package else ""


def _imports(path: Path, package_dir: Path, package: str):
    """(line, absolute module) for every import in ``path``."""
    rel = path.relative_to(package_dir.parent).with_suffix("").parts
    here = list(rel[:-1])  # the package a relative import starts from (for __init__ too)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if node.module is None:  # from . import x: x may be a module of that package or a name in it
                for alias in node.names:
                    target = package_dir.parent.joinpath(*module.split("."), alias.name)
                    is_module = target.with_suffix(".py").is_file() or target.is_dir()
                    yield node.lineno, f"{module}.{alias.name}" if is_module else module
            else:
                yield node.lineno, module


def violations(package_dir: Path, layers: dict[str, int] = LAYERS) -> list[str]:
    """Every import that points up the layers, across peers, or into a forbidden library."""
    package = package_dir.name
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = [p for p in path.relative_to(package_dir.parent).with_suffix("").parts if p != "__init__"]
        source = _part(".".join(rel), package)
        if source not in layers:
            found.append(f"{path.relative_to(package_dir)}: part {source!r} has no layer")
            continue
        for line, module in _imports(path, package_dir, package):
            top = module.split(".")[0]
            where = f"{path.relative_to(package_dir)}:{line} imports {module}"
            if source in FORBIDDEN.get(top, ()):
                found.append(f"{where} ({top} is not for {source})")
            if top != package:
                continue
            target = _part(module, package)
            if target == source or (source, target) in ALLOWED:
                continue
            if target not in layers:
                found.append(f"{where} (part {target!r} has no layer)")
            elif layers[target] > layers[source] or (layers[target] == layers[source] != BASE):
                found.append(f"{where} (layer {layers[source]} {source or 'root'} -> "
                             f"layer {layers[target]} {target or 'root'})")
    return found


def test_imports_point_down_the_layers():
    assert violations(PACKAGE_DIR) == []


def test_every_part_of_the_package_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE_DIR.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert parts <= set(LAYERS)


def _package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "coinpredict"
    for name, text in {"__init__.py": "", **files}.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name != "__init__.py" and not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(text)
    return pkg


@pytest.mark.parametrize(("files", "expected"), [
    ({"data/x.py": "from ..serving import thing\n", "serving/__init__.py": ""}, "layer 1 data -> layer 5 serving"),
    ({"models/x.py": "def f():\n    from ..training.loop import run\n", "training/loop.py": ""},
     "layer 3 models -> layer 4 training"),
    ({"evaluation/x.py": "import coinpredict.training.pipeline\n", "training/pipeline.py": ""},
     "layer 4 evaluation -> layer 4 training"),
    ({"models/x.py": "import flask\n"}, "flask is not for models"),
    ({"api/x.py": "from torch import nn\n"}, "torch is not for api"),
    ({"serving/x.py": "from .. import api\n", "api/__init__.py": ""}, "layer 5 serving -> layer 6 api"),
])
def test_the_checker_catches_a_bad_import(tmp_path, files, expected):
    found = violations(_package(tmp_path, files))
    assert len(found) == 1 and expected in found[0], found


def test_the_checker_accepts_imports_that_point_down(tmp_path):
    pkg = _package(tmp_path, {"api/x.py": "from ..serving import p\nfrom . import y\n", "api/y.py": "",
                              "serving/p.py": "from ..models.m import M\nfrom ..common.times import iso\n",
                              "models/m.py": "import torch\nfrom ..data.c import C\n", "data/c.py": "",
                              "common/times.py": "from ..errors import E\n", "errors.py": ""})
    assert violations(pkg) == []
