"""One placement rule for the API's request and answer shapes: they live in ``api/schemas/``, one module
per resource, and a class name is unique there (it is the OpenAPI component name clients generate from)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from pydantic import BaseModel

import coinpredict.api.schemas as schemas_pkg

API_DIR = Path(__file__).resolve().parents[2] / "python-services" / "coinpredict" / "api"


def _schema_classes() -> list[type[BaseModel]]:
    found = []
    for info in pkgutil.iter_modules(schemas_pkg.__path__):
        module = importlib.import_module(f"{schemas_pkg.__name__}.{info.name}")
        found += [obj for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, BaseModel)
                  and obj.__module__ == module.__name__]
    return found


def test_no_view_module_declares_a_pydantic_class():
    shapes = {cls.__name__ for cls in _schema_classes()} | {"BaseModel", "RootModel"}
    misplaced = []
    for path in sorted(API_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if bases & shapes:
                    misplaced.append(f"{path.name}:{node.lineno} {node.name}")
    assert not misplaced, f"request and answer shapes belong in api/schemas/<resource>.py: {misplaced}"


def test_every_shape_has_a_name_of_its_own():
    names = [cls.__name__ for cls in _schema_classes()]
    assert len(names) > 40  # the package was read, not an empty folder
    assert sorted(n for n in names if names.count(n) > 1) == []
