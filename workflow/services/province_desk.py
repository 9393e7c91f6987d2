"""The province's desk in the web workspace: the provincial recheck queue, the spot-check draws (each
re-run from its seed to show it is reproducible), the publicity and certification lists, and the
certification phase's lists (正面清单, 应急减排清单) as XLSX downloads. Province roles only
(`province_desk`; the draw itself is `spot_check`, checked by `spotcheck.sample`)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from models.access import SpotCheck, SpotCheckPick
from models.tables import AuditEntry, City, Enterprise, Participation, table
from workflow.clock import SHANGHAI, parse_stored
from workflow.context import Context
from workflow.errors import InvalidInput
from workflow.services import permissions, spotcheck
from workflow.services.actors import lookup
from workflow.store.campaigns import CampaignRef, campaign

_P, _E, _C = table(Participation).c, table(Enterprise).c, table(City).c
_S, _PK, _AU = table(SpotCheck).c, table(SpotCheckPick).c, table(AuditEntry).c
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORTS = {"positive-list": "正面清单", "emission-list": "应急减排清单"}


@dataclass(frozen=True)
class QueueRow:
    code: str
    name: str
    city: str
    county: str
    industry: str
    target_grade: str
    drawn_in: int | None  # the audit seq of the draw that picked it (a real recheck is needed)


@dataclass(frozen=True)
class DrawRow:
    seq: int
    round: str
    city: str | None  # None: the whole province
    rate: float
    seed: int
    population: list[str]
    selected: list[str]
    drawn_by: str
    drawn_at: str  # Asia/Shanghai
    reproduced: bool  # spotcheck.draw(population, rate, seed) gives the same selection


@dataclass(frozen=True)
class PublicityRow:
    code: str
    name: str
    city: str
    target_grade: str
    start: date | None
    end: date | None
    status: str  # 待公示 / 公示中 / 公示期满，待认定


@dataclass(frozen=True)
class CertifiedRow:
    code: str
    name: str
    city: str
    starting_grade: str
    achieved_grade: str
    certified_on: date | None


@dataclass(frozen=True)
class Round:
    key: str
    title: str
    opens: date
    closes: date
    current: bool


@dataclass(frozen=True)
class Desk:
    year: int
    today: date
    cities: list[str]
    rounds: list[Round]
    queue: list[QueueRow]
    draws: list[DrawRow]
    publicity: list[PublicityRow]
    certified: list[CertifiedRow]


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    content: bytes
    rows: int


def _authorize(s: Session, ctx: Context) -> None:
    permissions.authorize_role(lookup(s, ctx.actor), "province_desk")


def _local(stored: str) -> str:
    return parse_stored(stored).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _parts(s: Session, camp: CampaignRef, states: tuple[str, ...]) -> list[dict[str, object]]:
    q = (select(_P.id, _E.code, _E.name, _C.name, _E.county, _E.industry, _P.target_grade, _P.starting_grade,
                _P.achieved_grade, _P.publicity_start, _P.publicity_end, _P.state)
         .join_from(table(Participation), table(Enterprise), _E.id == _P.enterprise_id)
         .join(table(City), _C.id == _E.city_id)
         .where(_P.campaign_id == camp.id, _P.state.in_(states)).order_by(_C.id, _E.code))
    keys = ("pid", "code", "name", "city", "county", "industry", "target", "starting", "achieved", "start", "end",
            "state")
    return [dict(zip(keys, r, strict=True)) for r in s.execute(q)]


def _draws(s: Session, camp: CampaignRef) -> list[DrawRow]:
    rows = s.execute(select(_S.audit_seq, _S.round, _S.city, _S.rate, _S.seed, _S.population, _S.selected,
                            _S.drawn_by, _S.drawn_at).where(_S.campaign_id == camp.id)
                     .order_by(_S.audit_seq.desc())).all()
    titles = {r.key: r.title for r in camp.plan.spot_check_rounds}
    out = []
    for seq, rnd, city, rate, seed, pop, sel, by, at in rows:
        population, selected = list(json.loads(pop)), list(json.loads(sel))
        out.append(DrawRow(seq=int(seq), round=titles.get(rnd, rnd), city=city, rate=float(rate), seed=int(seed),
                           population=population, selected=selected, drawn_by=by, drawn_at=_local(at),
                           reproduced=spotcheck.draw(population, float(rate), int(seed)) == selected))
    return out


def _certified_on(s: Session, camp: CampaignRef, codes: list[str]) -> dict[str, date]:
    if not codes:
        return {}
    last = (select(_AU.code, func.max(_AU.seq)).where(_AU.campaign_year == camp.year, _AU.event == "certify",
                                                      _AU.code.in_(codes)).group_by(_AU.code).subquery())
    rows = s.execute(select(_AU.code, _AU.effective_at).join(last, _AU.seq == last.c[1])).all()
    return {str(c): parse_stored(at).astimezone(SHANGHAI).date() for c, at in rows}


def _publicity_status(start: date | None, end: date | None, today: date) -> str:
    if start is None or end is None:
        return "待公示"
    if today <= end:
        return f"公示中（至 {end.isoformat()}）"
    return "公示期满，待认定"


def desk(ctx: Context) -> Desk:
    """What the province's desk shows, as of the campaign clock's today."""
    with ctx.uow(ctx.engine) as uow:
        s = uow.session
        _authorize(s, ctx)
        camp = campaign(s, ctx)
        drawn = dict(s.execute(select(_PK.participation_id, _S.audit_seq)
                               .join(table(SpotCheck), _S.id == _PK.spot_check_id)).all())
        queue = [QueueRow(code=str(p["code"]), name=str(p["name"]), city=str(p["city"]), county=str(p["county"]),
                          industry=str(p["industry"]), target_grade=str(p["target"]),
                          drawn_in=drawn.get(p["pid"]))  # type: ignore[call-overload]
                 for p in _parts(s, camp, ("provincial_recheck",))]
        publicity = [PublicityRow(code=str(p["code"]), name=str(p["name"]), city=str(p["city"]),
                                  target_grade=str(p["target"]), start=p["start"],  # type: ignore[arg-type]
                                  end=p["end"],  # type: ignore[arg-type]
                                  status=_publicity_status(p["start"], p["end"], ctx.today))  # type: ignore[arg-type]
                     for p in _parts(s, camp, ("certification",))]
        done = _parts(s, camp, ("certified",))
        days = _certified_on(s, camp, [str(p["code"]) for p in done])
        certified = [CertifiedRow(code=str(p["code"]), name=str(p["name"]), city=str(p["city"]),
                                  starting_grade=str(p["starting"]), achieved_grade=str(p["achieved"] or p["target"]),
                                  certified_on=days.get(str(p["code"])))
                     for p in done]
        draws = _draws(s, camp)
        rounds = [Round(r.key, r.title, r.opens, r.closes, r.opens <= ctx.today <= r.closes)
                  for r in camp.plan.spot_check_rounds]
        return Desk(year=camp.year, today=ctx.today, cities=list(camp.plan.cities), rounds=rounds, queue=queue,
                    draws=draws, publicity=publicity, certified=certified)


def cities(ctx: Context) -> list[str]:
    """The campaign's cities in the calendar's order (for the forms' city choices)."""
    with ctx.uow(ctx.engine) as uow:
        return list(campaign(uow.session, ctx).plan.cities)


def draw(ctx: Context, *, rate: str, city: str | None = None, seed: str | None = None) -> spotcheck.Drawn:
    """A spot-check draw from the form's text: `rate` a share in (0, 1] (or a percentage such as 20%),
    `seed` an integer (empty: a fresh random one), `city` empty for the whole province. The draw is
    `spotcheck.sample` (permissions, round, population, audit)."""
    raw = (rate or "").strip()
    try:
        share = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise InvalidInput(f"抽查比例应为 0 到 1 之间的小数（如 0.2）或百分数（如 20%），收到 '{raw[:20]}'") from None
    seed_text = (seed or "").strip()
    if seed_text and not (seed_text.isascii() and seed_text.isdigit() and len(seed_text) <= 16):
        raise InvalidInput(f"随机种子应为不超过 16 位的非负整数，收到 '{seed_text[:20]}'；留空则随机生成")
    return spotcheck.sample(ctx, rate=share, city=(city or "").strip() or None,
                            seed=int(seed_text) if seed_text else None)


def export(ctx: Context, kind: str, *, city: str | None = None) -> Download:
    """正面清单 (the province's, or one city's) or 应急减排清单 (one city's, or every city a sheet),
    as `campaign export positive-list|emission-list --out FILE.xlsx` writes it, as bytes."""
    from workflow.reports.exports import certification_list
    from workflow.reports.writers import write

    if kind not in EXPORTS:
        raise InvalidInput(f"未知清单 '{kind[:40]}'，可选：{'、'.join(EXPORTS)} (unknown list)")
    city = (city or "").strip() or None
    with ctx.uow(ctx.engine) as uow:
        _authorize(uow.session, ctx)
    sheets, _ = certification_list(ctx, kind, city=city, all_cities=kind == "emission-list" and city is None)
    with tempfile.TemporaryDirectory(prefix="campaign-export-") as tmp:
        path = write(sheets, Path(tmp) / "list.xlsx", simulation=ctx.simulation)
        content = path.read_bytes()
    region = sheets[0].name if len(sheets) == 1 and city else "全省"
    name = f"{region}{EXPORTS[kind]}-{ctx.today.isoformat()}.xlsx"
    return Download(filename=name, media_type=XLSX, content=content, rows=sum(len(sh.rows) for sh in sheets))

