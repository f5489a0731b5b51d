"""Project-level promises: the README's commands, the public API's docs, the typed marker."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import clientmodel

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_has_the_two_setup_commands() -> None:
    commands = _readme_commands()
    assert any("clientmodel demo" in c for c in commands)
    assert any("[test]" in c and "pytest" in c for c in commands)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(c for c in _readme_commands() if "[test]" in c and "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_package_ships_py_typed() -> None:
    assert (Path(clientmodel.__file__).parent / "py.typed").exists()


def _public_modules() -> list[str]:
    names = ["clientmodel"]
    for info in pkgutil.walk_packages(clientmodel.__path__, "clientmodel."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[-1] == "__main__":
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_name_is_documented(module_name: str) -> None:
    if module_name.startswith("clientmodel.plotting"):
        pytest.importorskip("matplotlib")
    module = importlib.import_module(module_name)
    assert module.__doc__, f"{module_name} has no module docstring"
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"
