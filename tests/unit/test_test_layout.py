"""The test tree's own rule: what several test modules share lives in tests/helpers/, so a test
module imports only `tests.helpers…` and `tests.conftest`, never another test module."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ALLOWED = ("tests.conftest", "tests.helpers")


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import of ours under tests/, relative ones resolved to a marker."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                out.append((node.lineno, "." * node.level + (node.module or "")))
            elif node.module == "tests":
                out += [(node.lineno, f"tests.{a.name}") for a in node.names]
            elif node.module:
                out.append((node.lineno, node.module))
    return [(line, m) for line, m in out if m.startswith((".", "tests.")) or m == "tests"]


def allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_no_test_module_imports_another_test_module() -> None:
    wrong = [f"{path.relative_to(TESTS.parent)}:{line}: {module}"
             for path in sorted(TESTS.rglob("*.py"))
             for line, module in imported(ast.parse(path.read_text("utf-8")))
             if not allowed(module)]
    assert not wrong, "move the shared helper into tests/helpers/:\n" + "\n".join(wrong)


def test_the_layout_check_sees_each_kind_of_import() -> None:
    source = ("from tests.cli.test_lifecycle_cli import ENROLL\nimport tests.cli.progress\n"
              "from tests import integration\nfrom . import sibling\nfrom tests.helpers import progress\n"
              "from tests.conftest import Cli\nimport json\n")
    assert [m for _, m in imported(ast.parse(source)) if not allowed(m)] == [
        "tests.cli.test_lifecycle_cli", "tests.cli.progress", "tests.integration", "."]
