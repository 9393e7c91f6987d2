"""Create the schema and load a campaign calendar (idempotent)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from models.db import UnitOfWork, create_schema
from models.tables import Campaign, City, CityTarget, table

from .actors import SYSTEM
from .context import Context
from .errors import Refused
from .ledger import Entry, Ledger
from .plan import DEFAULT_CALENDAR, default_text, load_file, parse


def init(ctx: Context, calendar: str | Path | None = None) -> dict[str, Any]:
    if calendar is None:
        text, source = default_text(), DEFAULT_CALENDAR
        plan = parse(text, source=source)
    else:
        plan, text = load_file(calendar)
        source = str(calendar)
    create_schema(ctx.engine)
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        existing = s.execute(select(Campaign).where(table(Campaign).c.year == plan.year)).scalar_one_or_none()
        if existing is not None:
            if existing.calendar == text:
                return {"year": plan.year, "created": False, "cities": len(plan.cities)}
            raise Refused(f"{plan.year} 年的行动已用另一份日历初始化；已载入的日历不能被覆盖 "
                          "(calendar differs from the one loaded)", rule="calendar")
        camp = Campaign(year=plan.year, name=plan.name, start=plan.start, end=plan.end, calendar=text)
        s.add(camp)
        s.flush()
        known = {c.name: c for c in s.execute(select(City)).scalars()}
        for name, target in plan.cities.items():
            city = known.get(name)
            if city is None:
                city = City(name=name)
                s.add(city)
                s.flush()
            assert camp.id is not None and city.id is not None
            s.add(CityTarget(campaign_id=camp.id, city_id=city.id, target=target))
        Ledger(s, ctx).append(Entry(
            None, plan.year, None, "campaign_init", None, None, ctx.actor or SYSTEM.name,
            "system" if not ctx.actor else "operator", "",
            {"calendar": source, "sha256": hashlib.sha256(text.encode()).hexdigest(),
             "cities": len(plan.cities)}))
        uow.commit()
    return {"year": plan.year, "created": True, "cities": len(plan.cities)}
