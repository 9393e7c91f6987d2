"""What every service needs, injected once by the entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from models.db import UnitOfWork
from workflow.clock import Clock, SystemClock, local_date
from workflow.config import Settings

SIMULATION_MARK = "【模拟 SIMULATION】"  # the first words of every output of a simulation database


@dataclass
class Context:
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)  # the campaign clock (CAMPAIGN_NOW)
    wall: Clock = field(default_factory=SystemClock)  # real time, for recorded_at
    actor: str | None = None
    year: int | None = None  # which campaign; None picks the current one
    home: Path = field(default_factory=Path.cwd)  # where documents and the outbox live
    simulation: bool = False  # the database was initialised as a simulation (demo, tests): outputs say 模拟
    clock_override: bool = False  # `clock` came from CAMPAIGN_NOW: the ledger writes it only in a simulation
    settings: Settings = field(default_factory=Settings)  # the run's settings, read once at bootstrap
    uow: Callable[[Engine], UnitOfWork] = UnitOfWork  # opens every audited write (a fake in unit tests)

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def today(self) -> date:
        return local_date(self.clock.now())
