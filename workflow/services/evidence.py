"""Evidence files (佐证材料) attached to an event: `campaign advance CODE EVENT --evidence FILE` and the
event forms of the web workspace.

Each file is checked first (type by content, size, name; `workflow.files.evidence`), then the event
is judged and written as any other (`lifecycle.apply`) with the files' SHA-256, name, size and type in
the PAYLOAD of its audit entry, so the chain proves which file was the evidence. In the same
transaction: one `evidence_file` row per content not seen before, and the bytes written under
documents/evidence/<sha[:2]>/<sha> if not there yet. A refused event writes no file and no row (the
files are written only after the event was decided); a transaction that fails after that removes the
files it wrote. A file never changes: a correction is a new file on a new event.

Downloads (`open_evidence`) go only to a person who may see the enterprise (the scope of its page,
`workflow.store.scope`), and only for a file an audit entry of THAT enterprise names; anything else is
NotFound. `verify_files` (`campaign audit verify --files`) checks every file an audit payload names."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import AuditEntry, Enterprise, table
from models.workspace import EvidenceFile
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain.decide import Evidence, Request, evidence_of
from workflow.errors import ConcurrentChange, IntegrityFailure, NotFound
from workflow.files import evidence as files
from workflow.files.documents import Stored
from workflow.services import announcements
from workflow.services.actors import lookup
from workflow.services.lifecycle import Advanced, Single, apply
from workflow.services.lifecycle import advance as advance_plain
from workflow.services.tasks import me
from workflow.store import scope
from workflow.store.campaigns import campaign
from workflow.store.ledger import Ledger, refusals_recorded

__all__ = ["Evidence", "Upload", "advance", "body_limit", "max_bytes", "max_mb", "open_evidence", "read_files",
           "record", "verify_files"]

log = logging.getLogger("campaign.evidence")
_E, _AU = table(Enterprise).c, table(AuditEntry).c
_EF = table(EvidenceFile)
FORM_SLACK = 1_000_000  # bytes a web form carries besides its files (fields, boundaries)


@dataclass(frozen=True)
class Upload:
    """A file as received: the name it came with (cleaned later) and its bytes (at most the limit + 1:
    read bounded by the caller, so that a larger file is refused as too large)."""

    name: str
    content: bytes


def max_bytes(settings: Mapping[str, str]) -> int:
    """The largest evidence file accepted (CAMPAIGN_EVIDENCE_MAX_MB, default 20 MB)."""
    return files.max_bytes(settings)


def max_mb(settings: Mapping[str, str]) -> str:
    """The limit as the megabytes it was set in, for a page to say."""
    return files.in_mb(files.max_bytes(settings))


def body_limit(settings: Mapping[str, str]) -> int:
    """The largest request body the web server should accept: one file at the limit plus the form."""
    return files.max_bytes(settings) + FORM_SLACK


def read_files(ctx: Context, paths: Sequence[str]) -> list[Upload]:
    """Files named on the command line, read bounded (a larger one is then refused as too large)."""
    limit = files.max_bytes(ctx.settings)
    return [Upload(*files.read(p, limit)) for p in paths]


def _checked(ctx: Context, uploads: Sequence[Upload]) -> list[files.Checked]:
    """Every upload judged before anything is written; the same content twice in one request once."""
    limit = files.max_bytes(ctx.settings)
    out: dict[str, files.Checked] = {}
    for u in uploads:
        c = files.check(u.name, u.content, limit)
        out.setdefault(c.sha256, c)
    return list(out.values())


def advance(ctx: Context, req: Request, uploads: Sequence[Upload] = ()) -> Advanced:
    """`lifecycle.advance` with evidence files: all or nothing (the event, its audit entry naming the
    files, their rows and bytes). A bad file is InvalidInput before anything is written."""
    if not uploads:
        return advance_plain(ctx, req)
    with refusals_recorded(ctx, req.event, req.code):
        checked = _checked(ctx, uploads)
    req = replace(req, evidence=tuple(c.evidence for c in checked))
    stored: list[Stored] = []
    try:
        with refusals_recorded(ctx, req.event, req.code), ctx.uow(ctx.engine) as uow:
            actor = lookup(uow.session, ctx.actor)
            camp = campaign(uow.session, ctx)
            try:
                result = apply(Single(uow.session, camp.id, actor.name), Ledger(uow.session, ctx), ctx, camp,
                               actor, req)
            except IntegrityError:
                raise ConcurrentChange(f"企业 {req.code} 已被他人同时更改，请刷新后重试", rule="concurrency",
                                       code=req.code) from None
            record(uow.session, ctx, checked, stored)
            announcements.emit(uow.session, ctx, camp, [result])
            uow.commit()
            return result
    except BaseException:
        _discard(ctx, stored)
        raise


def record(session: Session, ctx: Context, checked: Sequence[files.Checked], stored: list[Stored]) -> int:
    """Inside the caller's transaction, after its event was written: a row per content not stored
    before, and the bytes where they are not yet (appended to `stored`, for the caller to discard if
    the transaction fails). Returns how many rows were new."""
    conn = session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    new = 0
    for c in checked:
        row = insert(_EF).values(sha256=c.sha256, size=c.size, media_type=c.media_type, first_name=c.name,
                                 stored_at=utc_iso(ctx.wall.now()), stored_by=ctx.actor or "")
        new += conn.execute(row.on_conflict_do_nothing(index_elements=["sha256"])).rowcount or 0
        stored.append(files.store(ctx.home, c))  # after the row: on PostgreSQL its key is held until commit
    return new


def _discard(ctx: Context, stored: Sequence[Stored]) -> None:
    """Remove the files this attempt wrote, unless a committed row (another person's upload of the same
    bytes, meanwhile) now needs them."""
    wrote = [d for d in stored if d.created]
    if not wrote:
        return
    try:
        with UnitOfWork(ctx.engine) as uow:
            kept = set(uow.session.execute(select(_EF.c.sha256).where(
                _EF.c.sha256.in_([d.sha256 for d in wrote]))).scalars())
    except Exception:  # the database is away: keep the files (an orphan is harmless, a lost file is not)
        log.warning("evidence files kept after a failed event: %s", [d.path for d in wrote])
        return
    for d in wrote:
        if d.sha256 not in kept:
            files.unstore(ctx.home, d)


def _entries(session: Session, code: str, sha256: str) -> list[tuple[int, Evidence]]:
    rows = session.execute(select(_AU.seq, _AU.payload).where(_AU.code == code, _AU.payload.contains(sha256))
                           .order_by(_AU.seq.desc())).all()
    return [(int(seq), e) for seq, payload in rows for e in evidence_of(json.loads(payload)) if e.sha256 == sha256]


def open_evidence(ctx: Context, code: str, sha256: str) -> tuple[str, str, Path]:
    """(file name, media type, path) of an evidence file of the enterprise `code`, for ctx.actor to
    download: NotFound when the enterprise is unknown or outside their scope, or no audit entry of
    that enterprise names the file; IntegrityFailure when the stored file is missing or altered."""
    key, sha = (code or "").strip().upper(), (sha256 or "").strip().lower()
    if not files.is_sha256(sha):
        raise NotFound(code=key)
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        actor_id, actor = me(s, ctx.actor)
        if s.execute(select(_E.id).where(_E.code == key, scope.visible(actor, actor_id))).first() is None:
            raise NotFound(code=key)
        found = _entries(s, key, sha)
    if not found:
        raise NotFound(code=key)
    seq, ev = found[0]
    path = ctx.home / files.relpath(sha)
    problem = files.state(path, sha)
    if problem != "ok":
        raise IntegrityFailure(_problem(problem, seq, key, ev.name, sha), seq=seq, code=key)
    return ev.name, ev.media_type, path


def _problem(what: str, seq: int, code: str | None, name: str, sha: str) -> str:
    how = "缺失 (file missing)" if what == "missing" else "与审计记录的哈希不符，已被改动 (file altered)"
    return f"审计第 {seq} 条（企业 {code or '—'}）引用的文件 {name}（SHA-256 {sha[:12]}…）{how}"


def _references(payload: Any) -> list[tuple[str, str, str]]:
    """(name, sha256, path relative to home) of every file a payload names: its evidence, and a file
    filed with it (a deliverable's scan: top-level `sha256` and `path`)."""
    out = [(e.name, e.sha256, files.relpath(e.sha256)) for e in evidence_of(payload) if files.is_sha256(e.sha256)]
    if isinstance(payload, dict) and isinstance(payload.get("path"), str) and files.is_sha256(
            str(payload.get("sha256", ""))):
        out.append((str(payload.get("file") or payload["path"]), str(payload["sha256"]), payload["path"]))
    return out


def verify_files(ctx: Context) -> dict[str, Any]:
    """Every file an audit payload names is present under the campaign home and matches its SHA-256;
    IntegrityFailure (exit 3) naming the first entry (seq, enterprise, file) that does not."""
    with UnitOfWork(ctx.engine) as uow:
        rows = uow.session.execute(
            select(_AU.seq, _AU.code, _AU.payload)
            .where(or_(_AU.payload.contains('"evidence":'), _AU.payload.contains('"sha256":')))
            .order_by(_AU.seq)).all()
    home = ctx.home.resolve()
    seen: dict[tuple[str, str], str] = {}
    references = 0
    for seq, code, payload in rows:
        for name, sha, rel in _references(json.loads(payload)):
            path = (home / rel).resolve()
            if not path.is_relative_to(home):
                raise IntegrityFailure(_problem("missing", seq, code, name, sha), seq=seq, code=code)
            what = seen.get((sha, rel))
            if what is None:
                what = seen[(sha, rel)] = files.state(path, sha)
            if what != "ok":
                raise IntegrityFailure(_problem(what, seq, code, name, sha), seq=seq, code=code)
            references += 1
    return {"files": len(seen), "references": references, "ok": True}
