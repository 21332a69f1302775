"""Every program imports and every documented script names one: a program moved into the package that
still imports a sibling script by its old name fails here, not in the replay an hour later."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import coinpredict.cli
from tests.conftest import REPO

PROGRAMS = sorted(m.name for m in pkgutil.iter_modules(coinpredict.cli.__path__))


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_program_imports(name):
    importlib.import_module(f"coinpredict.cli.{name}")


@pytest.mark.parametrize("script", sorted(p.name for p in (REPO / "scripts").glob("*.py")))
def test_every_script_is_a_wrapper_of_a_program_with_main(script):
    target = re.search(r"^from coinpredict\.cli\.(\w+) import main$", (REPO / "scripts" / script).read_text(), re.M)
    assert target and target.group(1) == script.removesuffix(".py")
    assert callable(importlib.import_module(f"coinpredict.cli.{target.group(1)}").main)
