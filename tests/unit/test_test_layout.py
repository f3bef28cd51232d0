"""The tests' own layout: no test imports a test module.

A test module imported by another runs its tests' module-level code twice, ties two files
that pytest may run in different processes, and hides shared code where nobody looks for
it. What tests share lives in ``tests/helpers/`` or a ``conftest.py``; this test keeps it so.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

IN_A_STRING = re.compile(r"\b(?:from|import)\s+(tests(?:\.\w+)*)")
"""An import in code a test hands to another interpreter (``python -c``)."""


def module_name(path: Path, root: Path) -> str:
    """``tests.unit.test_data`` for root/tests/unit/test_data.py (``__init__``: the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module path names: ``import a.b``, ``from a import b`` (b may be a module),
    relative imports resolved against path's package, and imports inside string constants."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.update(IN_A_STRING.findall(node.value))
    return names


def is_test_module(name: str) -> bool:
    """tests.<...>.test_*: a module pytest collects (or something inside one)."""
    parts = name.split(".")
    return parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:])


def test_module_imports(root: Path) -> list[tuple[str, str]]:
    """(importing file, imported test module) for every file under root/tests."""
    found = []
    for path in sorted((root / "tests").rglob("*.py")):
        for name in sorted(imported_modules(path, root)):
            if is_test_module(name):
                found.append((str(path.relative_to(root)), name))
    return found


# `test_module_imports` is a helper that pytest would collect by its name: say it is not.
test_module_imports.__test__ = False  # type: ignore[attr-defined]


def test_no_file_imports_a_test_module() -> None:
    assert test_module_imports(TESTS.parent) == []


def test_shared_code_is_not_in_test_modules() -> None:
    """The support modules are not collected: none of them is named test_*.py."""
    assert not list((TESTS / "helpers").rglob("test_*.py"))
    assert (TESTS / "helpers" / "waiting.py").is_file()


def test_every_way_of_importing_a_test_module_is_found(tmp_path: Path) -> None:
    """The check can fail: each spelling of such an import is caught, support imports are not."""
    unit = tmp_path / "tests" / "unit"
    unit.mkdir(parents=True)
    for name in ("__init__.py", "test_a.py", "test_b.py", "test_c.py", "support.py"):
        (unit / name).write_text("")
    (tmp_path / "tests" / "__init__.py").write_text("")
    source = (  # {pkg}, not the package's name: this file's own strings must not match
        "import {pkg}.unit.test_a\n"
        "from {pkg}.unit.test_a import x\n"
        "from . import test_a\n"
        "from .test_a import y\n"
        "from .. import unit\n"
        "from .support import z\n"
        "CODE = 'from {pkg}.unit.test_c import w'\n"
    )
    (unit / "test_b.py").write_text(source.format(pkg="tests"))
    found = {name for _, name in test_module_imports(tmp_path)}
    assert found == {
        "tests.unit.test_a",
        "tests.unit.test_a.x",
        "tests.unit.test_a.y",
        "tests.unit.test_c",
    }
