"""Evidence files (佐证材料) in tests: real files of each accepted type, disguised ones, what the store
and the evidence_file table hold, and a service context acting as a given person."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from tests.conftest import CODE, Cli
from tests.helpers.web import Server

PDF_TYPE = "application/pdf"
# An HTML page with a script, as a file renamed `.pdf` would carry it.
DISGUISED_HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SHELL_SCRIPT = b"#!/bin/sh\nrm -rf ~\n"


def pdf(text: str = "Pre-assessment report") -> bytes:
    """A small valid PDF (the demo's generator: no dependency)."""
    from workflow.demo.behaviour import evidence_pdf

    return evidence_pdf(text)


def ooxml(kind: str) -> bytes:
    """A minimal DOCX ("word") or XLSX ("xl") package: a ZIP with its content types and main part."""
    part = {"word": "word/document.xml", "xl": "xl/workbook.xml"}[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr(part, '<?xml version="1.0"?><root/>')
    return buf.getvalue()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def write(folder: Path, name: str, content: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def stored_files(home: Path) -> list[Path]:
    """Every file in the evidence store of a campaign home."""
    root = home / "documents" / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def evidence_rows(cli: Cli) -> list[dict[str, Any]]:
    """The evidence_file table as stored."""
    from sqlalchemy import text

    from models.db import make_engine

    engine = make_engine(cli.db)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM evidence_file ORDER BY sha256"))]
    finally:
        engine.dispose()


def entry(cli: Cli, event: str, *, code: str = CODE, now: str = "2024-12-01") -> dict[str, Any]:
    """The last audit entry of `event` for the enterprise (`campaign history --json`)."""
    rows = json.loads(cli("history", code, "--json", now=now).stdout)
    return dict(next(r for r in reversed(rows) if r["event"] == event))


def context_as(cli: Cli, actor: str, now: str) -> Any:
    """The services' context on the test's database, acting as `actor` (bootstrapped as a command is)."""
    from commands.serve import bootstrap
    from tests.helpers.web import environment

    with environment(CAMPAIGN_NOW=now, CAMPAIGN_DB=cli.db):
        cwd = os.getcwd()
        os.chdir(cli.home)
        try:
            ctx = bootstrap(cli.db)
        finally:
            os.chdir(cwd)
    return dataclasses.replace(ctx, actor=actor)


def disposition_name(header: str) -> str:
    """The file name of a Content-Disposition header (RFC 5987 `filename*` preferred)."""
    from urllib.parse import unquote

    star = re.search(r"filename\*=UTF-8''([^;]+)", header, re.IGNORECASE)
    if star:
        return unquote(star.group(1))
    plain = re.search(r'filename="([^"]*)"', header)
    return plain.group(1) if plain else ""



ServerAtHome = Server  # the shared server already runs in the test's home (documents stay out of the tree)
