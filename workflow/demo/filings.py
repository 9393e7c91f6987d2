"""The cities' side of the demo year: deliverables filed (a few late) and enterprises' needs (需求)
opened and answered, each by the city's coordinator through the real services."""

from __future__ import annotations

import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

from models.db import UnitOfWork
from workflow.context import Context
from workflow.demo.people import coordinator, short
from workflow.services import enterprises
from workflow.services.deadlines import CONDITIONAL, submit
from workflow.services.needs import answer, open_need
from workflow.store.campaigns import campaign


def submission_days(ctx: Context, seed: int) -> dict[date, list[tuple[str, str, str]]]:
    """When each city files each deliverable: most a few days early, about one in seven late."""
    rng = random.Random(seed + 1)
    with UnitOfWork(ctx.engine) as uow:
        plan = campaign(uow.session, ctx).plan
    days: dict[date, list[tuple[str, str, str]]] = {}
    for city in plan.cities:
        for d in plan.deliverables.values():
            if d.kind in CONDITIONAL:
                continue
            for due in d.dues:
                opens = date.fromisoformat(due.period + "-01") if len(d.dues) > 1 else plan.start
                day = (due.due + timedelta(days=rng.randint(1, 12)) if rng.random() < 0.15
                       else due.due - timedelta(days=rng.randint(0, 10)))
                days.setdefault(max(day, opens), []).append((city, d.kind, due.period))
    return days


NEEDS = ("申请帮扶除尘设施提标改造技术指导", "咨询无组织排放管控措施验收要求", "申请协调清洁运输车辆备案",
         "咨询在线监测数据联网要求", "申请专家现场指导一企一策方案编制")


class Needs:
    """Enterprise needs (需求): some enterprises in the pipeline ask; coordinators answer, a few late."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed + 2)
        self.opening: dict[date, list[tuple[str, str]]] = {}
        self.answering: dict[date, list[tuple[int, str]]] = {}
        self.planned = False

    def plan(self, ctx: Context, day: date, until: date) -> None:
        from workflow.domain.states import ACTIVE

        codes = [(r["code"], r["city"]) for r in enterprises.listing(ctx) if r["state"] in ACTIVE]
        for code, city in self.rng.sample(codes, k=len(codes) // 12):
            when = day + timedelta(days=self.rng.randint(0, (until - day).days))
            self.opening.setdefault(when, []).append((code, city))
        self.planned = True

    def work(self, ctx: Context, day: date) -> None:
        saved = ctx.actor
        try:
            for code, city in self.opening.pop(day, []):
                ctx.actor = coordinator(city)
                r = open_need(ctx, code, self.rng.choice(NEEDS))
                wait = self.rng.randint(1, 6) if self.rng.random() < 0.85 else self.rng.randint(8, 16)
                self.answering.setdefault(day + timedelta(days=wait), []).append((r["id"], city))
            for rid, city in self.answering.pop(day, []):
                ctx.actor = coordinator(city)
                answer(ctx, rid, "已安排专家对接，按方案推进。")
        finally:
            ctx.actor = saved


SCANNED = ("attachment1", "attachment5")  # the stamped, signed sheets the demo files as scans
SCAN_CITIES = 4  # the first cities of the plan file theirs with a scan (the 报送 page shows them)


def scan_pdf(title: str) -> bytes:
    """A minimal valid one-page PDF (a stand-in for a stamped, signed scan): header, four objects,
    a cross-reference table with the right offsets, trailer. ASCII only (the title is escaped)."""
    text = title.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def submit_due(ctx: Context, todo: list[tuple[str, str, str]]) -> None:
    """File the day's deliverables, each by its city's coordinator (as `deliverable submit` does); the
    first cities file their 附件1 and 附件5 with a (generated) scan, so the 报送 page shows filed scans."""
    if not todo:
        return
    with UnitOfWork(ctx.engine) as uow:
        scanning = set(list(campaign(uow.session, ctx).plan.cities)[:SCAN_CITIES])
    saved = ctx.actor
    try:
        with tempfile.TemporaryDirectory(prefix="campaign-demo-") as tmp:
            for city, kind, period in todo:
                ctx.actor = coordinator(city)
                scan = None
                if kind in SCANNED and city in scanning:
                    path = Path(tmp) / f"{kind}-{period}-scan.pdf"
                    path.write_bytes(scan_pdf(f"{kind} {period} stamped and signed (demo scan)"))
                    scan = str(path)
                submit(ctx, city=city, kind=kind, period=period, file=scan, note=f"{short(city)}报送",
                       generate=kind == "emission_list")  # the revised list, built from the data that day
    finally:
        ctx.actor = saved


