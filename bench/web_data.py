"""Databases for the web load benchmark (bench/web_load.py): built once per backend, copied per run.

Everything here is set-up and is not timed. The schema, the calendar and the actors come from the
`campaign` CLI (`init --simulation`, `actor add`, `enterprise import`, `actor password`); the
participations are taken to where the load starts through the public API (`workflow.api`:
`assign`, `advance_batch`), so every row and audit entry is the engine's own.

A database is either a SQLite file or a PostgreSQL database of our own on the server `PG_URL`
(created with `CREATE DATABASE`, dropped at the end); a run's copy is a file copy (SQLite backup API)
or `CREATE DATABASE … TEMPLATE …`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import data, province
from bench.proc import CAMPAIGN, campaign

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-load-password-2024"  # ≥ 12 characters
ADMIN, COORD, CITY = data.ADMIN, data.COORD, data.CITY
SETUP_ENROL, SETUP_ASSIST = "2024-05-20", "2024-06-20"
SERVE_NOW = "2024-08-20"  # the clock the server is held at: pre-assessment, plan and evaluations open
MONTHS = ("2024-05", "2024-06", "2024-07", "2024-08")  # evaluations a tracking participation still owes
FINDINGS = {"data:findings": "废气收集效率偏低，无组织排放需治理"}
PLAN = {"data:summary": "一企一策提升方案", "data:measures": "密闭改造；在线监测",
        "data:completion_date": "2024-10-31"}


def expert_name(i: int) -> str:
    return f"压测专家{i + 1:02d}"


@dataclass(frozen=True)
class Step:
    """One event a session posts: the form fields the enterprise page asks for."""

    code: str
    event: str
    form: dict[str, str]


@dataclass
class LoadPlan:
    """Who logs in and what each of them advances, in order (their own enterprises only)."""

    experts: list[str]
    steps: dict[str, list[Step]] = field(default_factory=dict)


# --- where a database lives ------------------------------------------------------------------------

def pg_reachable(url: str = PG_URL) -> bool:
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@dataclass
class Store:
    """Where the benchmark's databases of one backend go: `name` → a SQLite path or a PG URL."""

    backend: str  # "sqlite" | "postgresql"
    root: Path  # SQLite files (and every working directory)
    server: str = PG_URL
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    made: list[str] = field(default_factory=list)

    def _admin(self) -> Any:
        from sqlalchemy import create_engine

        return create_engine(self.server, isolation_level="AUTOCOMMIT")

    def url(self, name: str) -> str:
        if self.backend == "sqlite":
            return str(self.root / f"{name}.db")
        from sqlalchemy.engine import make_url

        return make_url(self.server).set(database=self._pg_name(name)).render_as_string(hide_password=False)

    def _pg_name(self, name: str) -> str:
        return f"bench_web_{self.tag}_{name}"

    def create(self, name: str) -> str:
        """An empty database (SQLite: no file yet; `campaign init` makes it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.backend == "sqlite":
            for p in self.root.glob(f"{name}.db*"):
                p.unlink()
        else:
            from sqlalchemy import text

            eng = self._admin()
            with eng.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self._pg_name(name)}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{self._pg_name(name)}"'))
            eng.dispose()
            self.made.append(name)
        return self.url(name)

    def copy(self, src: str, dst: str) -> str:
        """A consistent copy of database `src` named `dst`."""
        if self.backend == "sqlite":
            province.copy(Path(self.url(src)), Path(self.url(dst)))
        else:
            from sqlalchemy import text

            eng = self._admin()
            with eng.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self._pg_name(dst)}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{self._pg_name(dst)}" TEMPLATE "{self._pg_name(src)}"'))
            eng.dispose()
            self.made.append(dst)
        return self.url(dst)

    def drop(self, name: str) -> None:
        if self.backend == "sqlite":
            for p in self.root.glob(f"{name}.db*"):
                p.unlink()
            return
        from sqlalchemy import text

        eng = self._admin()
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self._pg_name(name)}" WITH (FORCE)'))
        eng.dispose()
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self.drop(name)


# --- contexts and CLI calls ------------------------------------------------------------------------

@contextlib.contextmanager
def _env(**values: str | None) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        for k in [k for k in os.environ if k.startswith("CAMPAIGN_")]:
            del os.environ[k]
        for k, v in values.items():
            if v is not None:
                os.environ[k] = v
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def context(db: str, now: str, actor: str | None = None) -> Any:
    """The base context `campaign serve` builds (commands.serve.bootstrap) with CAMPAIGN_NOW = `now`,
    acting as `actor`. The caller disposes of `ctx.engine`."""
    from commands.serve import bootstrap

    with _env(CAMPAIGN_DB=db, CAMPAIGN_NOW=now):
        ctx = bootstrap(db)
    return dataclasses.replace(ctx, actor=actor)


def cli(args: list[str], db: str, now: str, actor: str | None = None) -> None:
    env = {"CAMPAIGN_DB": db, "CAMPAIGN_NOW": now, **({"CAMPAIGN_ACTOR": actor} if actor else {})}
    campaign(args, env)


def set_passwords(db: str, names: list[str], now: str, *, parallel: int = 2) -> None:
    """`campaign actor password NAME --stdin --actor NAME` for each name (the person themself, so no
    change is forced at first login), `parallel` processes at a time."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    base.update({"CAMPAIGN_DB": db, "CAMPAIGN_NOW": now})
    pending = list(names)
    running: list[tuple[str, subprocess.Popen[bytes], Any]] = []
    while pending or running:
        while pending and len(running) < parallel:
            name = pending.pop(0)
            log = tempfile.TemporaryFile()  # noqa: SIM115 (closed once the process is reaped)
            p = subprocess.Popen([CAMPAIGN, "--actor", name, "actor", "password", name, "--stdin"], env=base,
                                 stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
            assert p.stdin is not None
            p.stdin.write((PASSWORD + "\n").encode())
            p.stdin.close()
            running.append((name, p, log))
        name, p, log = running.pop(0)
        code = p.wait()
        log.seek(0)
        text = log.read().decode(errors="replace")
        log.close()
        if code != 0:
            raise RuntimeError(f"actor password {name} exited {code}: {text}")


def _batch(db: str, now: str, actor: str, reqs: list[Any]) -> None:
    from workflow import api

    if not reqs:
        return
    ctx = context(db, now, actor)
    try:
        for start in range(0, len(reqs), 2000):
            ok, outcomes = api.advance_batch(ctx, list(enumerate(reqs[start:start + 2000], 1)))
            if not ok:
                bad = [o for o in outcomes if getattr(o, "error", None)][:3]
                raise RuntimeError(f"set-up batch {reqs[0].event} as {actor} refused: {bad or outcomes[:3]}")
    finally:
        ctx.engine.dispose()


# --- the load database -----------------------------------------------------------------------------

def build_load(store: Store, name: str, sessions: int, per_session: int, work: Path) -> tuple[str, LoadPlan]:
    """`sessions` experts with their own passwords, each assigned `per_session` enterprises of 郑州市:
    every other one in assistance (the expert owes the pre-assessment and the plan: 2 events), the
    others in tracking (four monthly evaluations, 2024-05…08: 4 events). Returns the database and,
    per expert, the steps in the order a session posts them at SERVE_NOW."""
    from workflow import api

    db = store.create(name)
    t0 = "2024-05-06"
    cli(["init", "--simulation"], db, t0)
    cli(["actor", "add", ADMIN, "--role", "province_admin"], db, t0)
    cli(["actor", "add", COORD, "--role", "city_coordinator", "--city", CITY], db, t0, ADMIN)
    experts = [expert_name(i) for i in range(sessions)]
    ctx = context(db, t0, ADMIN)
    try:
        for e in experts:
            api.add_actor(ctx, e, ("expert",), None)
    finally:
        ctx.engine.dispose()
    set_passwords(db, experts, t0)
    rows = data.candidates(sessions * per_session, seed=14)
    work.mkdir(parents=True, exist_ok=True)
    cli(["enterprise", "import", str(data.write_enterprises(work / f"{name}-enterprises.csv", rows))], db, t0,
        ADMIN)
    owner = {r["code"]: experts[i // per_session] for i, r in enumerate(rows)}
    ctx = context(db, t0, COORD)
    try:
        for code, e in owner.items():
            api.assign(ctx, code, e)
    finally:
        ctx.engine.dispose()
    R = api.Request
    _batch(db, SETUP_ENROL, COORD, [R(code=r["code"], event="enroll", consent=f"自愿-{r['code'][-6:]}",
                                      target_grade=r["target"]) for r in rows])
    _batch(db, SETUP_ASSIST, COORD, [R(code=r["code"], event="start_assistance") for r in rows])
    tracking = [r["code"] for i, r in enumerate(rows) if i % 2 == 1]
    for e in experts:
        mine = [c for c in tracking if owner[c] == e]
        _batch(db, SETUP_ASSIST, e, [R(code=c, event=ev, data=d) for c in mine for ev, d in (
            ("record_pre_assessment", {"findings": FINDINGS["data:findings"]}),
            ("submit_plan", {k.removeprefix("data:"): v for k, v in PLAN.items()}))])
    _batch(db, SETUP_ASSIST, COORD, [R(code=c, event="begin_tracking") for c in tracking])
    plan = LoadPlan(experts)
    for i, r in enumerate(rows):
        code = r["code"]
        steps = ([Step(code, "record_pre_assessment", FINDINGS), Step(code, "submit_plan", PLAN)] if i % 2 == 0
                 else [Step(code, "record_evaluation", {"month": m}) for m in MONTHS])
        plan.steps.setdefault(owner[code], []).extend(steps)
    return db, plan


# --- the task-list database: one city of 500 in a province of 100,000 --------------------------------

BIG_CITY, BIG_COORD = "许昌市", "许昌联络员"
BIG_NOW = "2024-08-01"


def build_big(path: Path, participations: int, city_share: int, work: Path) -> str:
    """SQLite only (the bulk writer of bench/province.py): `participations` enterprises, `city_share` of
    them in 许昌市 and the rest in the other 18 cities, all taking part in the states of
    province.MIX; 许昌联络员 (city coordinator) with their own password. Returns the database path."""
    from workflow.demo import synthetic

    db = path
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    db.parent.mkdir(parents=True, exist_ok=True)
    t0 = "2024-05-06"
    cli(["init", "--simulation"], str(db), t0)
    cli(["actor", "add", ADMIN, "--role", "province_admin"], str(db), t0)
    cli(["actor", "add", BIG_COORD, "--role", "city_coordinator", "--city", BIG_CITY], str(db), t0, ADMIN)
    others = [c for c in synthetic.CITIES if c != BIG_CITY]
    rows = [*synthetic.generate(max(0, participations - city_share), 2024, cities=others),
            *synthetic.generate(city_share, 99, cities=[BIG_CITY])]
    unique = list({r["code"]: r for r in rows}.values())
    csv = data.write_enterprises(work / "big-enterprises.csv", unique)
    cli(["enterprise", "import", str(csv)], str(db), t0, ADMIN)
    province.add_participations(db, len(unique))
    set_passwords(str(db), [BIG_COORD], t0)
    return str(db)
