"""One coordinator process of the stress test: advance random enterprises for a fixed count.

Run as `python -m tests.stress.worker DB SEED COUNT OUT.json`. Every attempt ends
committed (with its audit entry), refused with a reason, or as a conflict that is
retried; anything else is an error and is reported.
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

from models.db import make_engine
from workflow.clock import FixedClock, parse_instant
from workflow.context import Context
from workflow.errors import CampaignError, ConcurrentChange
from workflow.services import enterprises
from workflow.services.lifecycle import Request, advance

NOW = "2024-09-20T10:00"
ACTORS = {"record_pre_assessment": "王专家", "submit_plan": "王专家", "record_evaluation": "王专家",
          "pass_acceptance": "许昌评审", "fail_acceptance": "许昌评审", "pass_recheck": "省复核员",
          "waive_recheck": "省复核员", "fail_recheck": "省复核员"}


def next_request(code: str, state: str | None, rng: random.Random) -> Request:
    def event(name: str, **more: Any) -> Request:
        return Request(code=code, event=name, **more)

    if state is None:
        return event("enroll", consent="自愿", target_grade="B")
    if rng.random() < 0.02:
        return event("withdraw", reason="压力测试：企业退出")
    options: dict[str, list[Request]] = {
        "cultivation": [event("start_assistance")],
        "assistance": [event("record_pre_assessment", data={"findings": "f"}),
                       event("submit_plan", data={"summary": "s", "measures": "m",
                                                  "completion_date": "2024-10-30"}),
                       event("begin_tracking")],
        "tracking": [event("record_evaluation", month=rng.choice(["2024-06", "2024-07", "2024-08", "2024-09"])),
                     event("submit_for_acceptance")],
        "acceptance": [event("pass_acceptance"), event("fail_acceptance", reason="未达标")],
        "provincial_recheck": [event("waive_recheck"), event("fail_recheck", reason="抽查未过")],
        "certification": [event("publicize"), event("object", reason="公示异议")],
    }
    return rng.choice(options.get(state, [event("withdraw", reason="终态")]))


def run(db: str, seed: int, count: int) -> dict[str, Any]:
    rng = random.Random(seed)
    engine = make_engine(db)
    ctx = Context(engine=engine, clock=FixedClock(parse_instant(NOW)), simulation=True)  # init --simulation
    codes = [r["code"] for r in enterprises.listing(ctx)]
    stats: dict[str, Any] = {"committed": 0, "refused": 0, "conflicts": 0, "retries": 0, "errors": []}
    start = time.monotonic()
    for _ in range(count):
        code = rng.choice(codes)
        for attempt in range(3):
            state = enterprises.show(ctx, code)["state"]
            req = next_request(code, state, rng)
            ctx.actor = ACTORS.get(req.event, "许昌联络员")
            try:
                advance(ctx, req)
                stats["committed"] += 1
            except ConcurrentChange:
                stats["conflicts"] += 1
                if attempt < 2:
                    stats["retries"] += 1
                    continue
            except CampaignError:
                stats["refused"] += 1
            except Exception as exc:
                stats["errors"].append(f"{type(exc).__name__}: {exc}"[:300])
            break
    stats["seconds"] = round(time.monotonic() - start, 2)
    engine.dispose()
    return stats


if __name__ == "__main__":
    db, seed, count, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(run(db, seed, count), f)
