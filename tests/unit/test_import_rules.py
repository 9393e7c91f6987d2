"""The arrows of the layout hold (README "Layout"): pure rules import no database, framework or
notification code; models import nothing of ours; notifications lean only on the shared kernel;
commands never import the click root; and no two modules import each other at module level."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[2]
KERNEL = {"workflow.errors", "workflow.clock", "workflow.context", "workflow.text"}
FRAMEWORKS = ("sqlalchemy", "sqlmodel", "models", "click", "jinja2", "apscheduler", "notifications")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool = False) -> Iterator[str]:
    """The absolute names `path` imports (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if node.module is not None:  # `from . import module` imports the module, not the package's names
                yield base
            yield from (f"{base}.{a.name}" for a in node.names)  # `from pkg import module`


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def offending(paths: list[Path], allowed: object) -> list[str]:
    return [f"{p.relative_to(ROOT)} imports {name}" for p in paths for name in set(imports(p))
            if not allowed(name)]  # type: ignore[operator]


def _ours(name: str) -> bool:
    return name.split(".")[0] in ("workflow", "models", "notifications", "commands", "cli")


def test_the_pure_rules_import_no_database_framework_or_notification_code() -> None:
    def allowed(name: str) -> bool:
        if name.split(".")[0] in FRAMEWORKS:
            return False
        return not _ours(name) or name.startswith("workflow.domain") or name in KERNEL or any(
            name.startswith(k + ".") for k in KERNEL)
    assert offending(sources("workflow/domain"), allowed) == []


def test_models_import_nothing_of_ours_but_models() -> None:
    assert offending(sources("models"), lambda n: not _ours(n) or n.startswith("models")) == []


def test_notifications_lean_only_on_the_shared_kernel() -> None:
    def allowed(name: str) -> bool:
        if not name.startswith("workflow"):
            return True
        return name in KERNEL or any(name.startswith(k + ".") for k in KERNEL)
    assert offending(sources("notifications"), allowed) == []


def test_workflow_reaches_notifications_only_through_its_package_interface() -> None:
    def allowed(name: str) -> bool:
        return not name.startswith("notifications.") or name.split(".")[1] in __import__(
            "notifications").__all__
    assert offending(sources("workflow"), allowed) == []


def test_commands_never_import_the_click_root() -> None:
    assert offending(sources("commands"), lambda n: n != "cli" and not n.startswith("cli.")) == []


WEB_MAY_CALL = ("workflow.api", "workflow.services", "workflow.reports", "workflow.context", "workflow.errors",
                "workflow.config", "workflow.clock")


def test_the_web_layer_calls_only_the_public_services() -> None:
    """web/ is thin: it calls the services and the reports, never the tables, SQL or the commands."""
    def allowed(name: str) -> bool:
        top = name.split(".")[0]
        if top in ("models", "sqlalchemy", "sqlmodel", "commands", "cli"):
            return False
        if top != "workflow":
            return True
        return name == "workflow" or any(name == m or name.startswith(m + ".") for m in WEB_MAY_CALL)
    assert sources("web"), "web/ has no modules"
    assert offending(sources("web"), allowed) == []


def test_nothing_below_the_web_layer_imports_it() -> None:
    assert offending(sources("workflow", "models", "notifications"), lambda n: n.split(".")[0] != "web") == []


def test_no_two_modules_import_each_other_at_module_level() -> None:
    paths = sources("workflow", "models", "notifications", "commands", "web")
    known = {module_name(p): p for p in paths}
    graph = {m: {n for n in imports(p, top_level_only=True) if n in known and n != m} for m, p in known.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append([*trail[trail.index(n):], n] if n in trail else [m, n])
            elif n not in state:
                visit(n, [*trail, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []
