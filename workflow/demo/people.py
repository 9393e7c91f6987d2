"""The demo province's people: one coordinator, reviewer group and expert per city, the province's
admin and recheck group, and who acts on which event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workflow.context import Context
from workflow.demo import synthetic
from workflow.services import actors, enterprises
from workflow.services.setup import init

PROVINCE_ADMIN, PROVINCE_REVIEWER = "省厅管理员", "省厅复核组"


def short(city: str) -> str:
    return city.removesuffix("市") if len(city) <= 5 else "航空港区"


def coordinator(city: str) -> str:
    return f"{short(city)}联络员"


def reviewer(city: str) -> str:
    return f"{short(city)}评审组"


def expert(city: str) -> str:
    return f"{short(city)}专家"


def actor_for(event: str, city: str) -> str:
    if event in ("record_pre_assessment", "submit_plan", "record_evaluation"):
        return expert(city)
    if event in ("pass_acceptance", "fail_acceptance"):
        return reviewer(city)
    if event in ("pass_recheck", "waive_recheck", "fail_recheck"):
        return PROVINCE_REVIEWER
    if event in ("certify", "disqualify"):
        return PROVINCE_ADMIN
    return coordinator(city)


def setup_province(ctx: Context, home: Path, n: int, seed: int) -> dict[str, Any]:
    init(ctx, simulation_db=True)
    ctx.actor = None
    actors.add(ctx, PROVINCE_ADMIN, ("province_admin",), None)
    ctx.actor = PROVINCE_ADMIN
    actors.add(ctx, PROVINCE_REVIEWER, ("province_reviewer",), None)
    for city in synthetic.CITIES:
        actors.add(ctx, coordinator(city), ("city_coordinator",), city)
        actors.add(ctx, reviewer(city), ("city_reviewer",), city)
        actors.add(ctx, expert(city), ("expert",), None)
    path = home / "enterprises.csv"
    synthetic.write_csv(path, synthetic.generate(n, seed))
    result = enterprises.import_file(ctx, path)
    return {"enterprises": result.imported, "file": str(path)}

