"""Render a notice kind's template in Jinja2's immutable sandbox with StrictUndefined.

Packaged templates are ours and render in-process. With an override directory, templates render
in a forked child with a time, memory and output limit (`isolate`). Any failure becomes a
`RenderError` naming the template, the line and what is wrong.
"""

from __future__ import annotations

import functools
import math
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workflow.errors import InvalidInput

from . import isolate, kinds
from .filters import FILTERS

TIME_LIMIT = 2.0  # seconds, for override templates
MAX_CHARS = 100_000  # rendered output


class RenderError(InvalidInput):
    """A template failed: which template, which line (0 when unknown) and what went wrong."""

    def __init__(self, template: str, line: int, reason: str) -> None:
        self.template, self.line, self.reason = template, line, reason
        where = f"第 {line} 行：" if line else ""
        super().__init__(f"模板 {template} {where}{reason}")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    template: str  # "packaged:reminder.j2" or the override file's path

    @property
    def text(self) -> str:
        return f"{self.subject}\n\n{self.body}\n"


@functools.lru_cache(maxsize=1)
def packaged_dir() -> Path:
    return Path(str(resources.files("notifications").joinpath("templates")))


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, also refusing huge powers and repetitions."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        numbers = isinstance(left, int | float) and isinstance(right, int | float)
        if operator == "**" and numbers and abs(left) > 1 and right * math.log10(abs(left)) > 100:
            raise SecurityError("幂运算结果过大 (power too large)")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_CHARS:
                    raise SecurityError(f"重复结果超过 {MAX_CHARS} 个元素 (repetition too large)")
        return super().call_binop(context, operator, left, right)


@functools.lru_cache(maxsize=1)
def _packaged_environment() -> Sandbox:
    """The packaged templates are ours: one environment, compiled templates cached."""
    return _environment(None)


def environment(templates: Path | None) -> Sandbox:
    return _packaged_environment() if templates is None else _environment(templates)


def _environment(templates: Path | None) -> Sandbox:
    search = [str(templates)] if templates else []
    env = Sandbox(loader=jinja2.FileSystemLoader([*search, str(packaged_dir())]),
                  undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False,
                  trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.globals.pop("lipsum", None)  # unbounded text on demand; templates have no use for it
    return env


def source_of(kind: str, templates: Path | None) -> str:
    """Where the template of `kind` comes from: the override file when there is one."""
    name = kinds.get(kind).template
    if templates is not None and (templates / name).is_file():
        return str(templates / name)
    return f"packaged:{name}"


def _where(exc: BaseException, dirs: list[str], fallback: str) -> tuple[str, int]:
    """The innermost template frame of a traceback: (template shown to the user, line)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return _display(exc.filename or exc.name or fallback, dirs), exc.lineno
    found = (fallback, 0)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2") and any(frame.filename.startswith(d) for d in dirs):
            found = (_display(frame.filename, dirs), frame.lineno or 0)
    return found


def _display(filename: str, dirs: list[str]) -> str:
    packaged = str(packaged_dir())
    if filename.startswith(packaged):
        return f"packaged:{Path(filename).name}"
    return filename


def _reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"语法错误：{exc.message}"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"找不到模板 {exc.name}"
    if isinstance(exc, SecurityError):
        return f"沙箱禁止的操作：{exc}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"未定义的变量或属性：{exc}"
    if isinstance(exc, isolate.RenderTimeout):
        return f"渲染超时（超过 {timeout:g} 秒）"
    if isinstance(exc, MemoryError):
        return "内存超限 (out of memory)"
    if isinstance(exc, _TooLong):
        return f"输出超过 {MAX_CHARS} 个字符的上限"
    return f"{type(exc).__name__}: {exc}"


class _TooLong(Exception):
    pass


def _render_answer(kind: str, context: Mapping[str, Any], templates: Path | None,
                   max_chars: int, timeout: float) -> dict[str, Any]:
    """Render and answer with plain values: {"text": …} or {"template", "line", "reason"}."""
    name = kinds.get(kind).template
    dirs = [str(templates.resolve()) if templates else "", str(packaged_dir())]
    dirs = [d for d in dirs if d]
    shown = source_of(kind, templates)
    try:
        tmpl = environment(templates.resolve() if templates else None).get_template(name)
        parts: list[str] = []
        size = 0
        for chunk in tmpl.generate(**context):
            size += len(chunk)
            if size > max_chars:
                raise _TooLong
            parts.append(chunk)
        return {"text": "".join(parts)}
    except Exception as exc:
        template, line = _where(exc, dirs, shown)
        return {"template": template, "line": line, "reason": _reason(exc, timeout)}


def render(kind: str, context: Mapping[str, Any], *, templates: Path | None = None,
           timeout: float = TIME_LIMIT, max_chars: int = MAX_CHARS) -> Rendered:
    """Subject (first line) and body of `kind` rendered with `context`; raises RenderError."""
    templates = templates.resolve() if templates is not None else None
    shown = source_of(kind, templates)
    ctx = dict(context)
    if templates is None:
        answer = _render_answer(kind, ctx, None, max_chars, timeout)
    else:
        def on_kill(timed_out: bool) -> dict[str, Any]:
            why = f"渲染超时（超过 {timeout:g} 秒）" if timed_out else "渲染进程异常退出（可能超出内存限制）"
            return {"template": shown, "line": 0, "reason": why}

        answer = isolate.run(lambda: _render_answer(kind, ctx, templates, max_chars, timeout),
                             timeout=timeout, on_kill=on_kill)
    if "text" not in answer:
        raise RenderError(str(answer["template"]), int(answer["line"]), str(answer["reason"]))
    subject, _, body = str(answer["text"]).strip().partition("\n")
    if not subject.strip():
        raise RenderError(shown, 0, "输出为空：第一行应为通知标题")
    return Rendered(subject.strip(), body.strip("\n"), shown)
