"""The province's desk in tests: a campaign with eight enterprises waiting for the provincial recheck
(six in 许昌, two in 郑州; tests/helpers/spot_checks.py), everyone with a password, built once per run
and copied for each test; the workspace app on a copy at a day inside the August spot-check round."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.spot_checks import awaiting_recheck
from tests.helpers.web import make_app, set_password

DESK_DAY = "2024-08-02"  # inside 8月抽查复核 (08-01…08-31)
PEOPLE = ("省管理员", "省复核员", "许昌联络员", "郑州联络员", "王专家")


def build(home: Path) -> Path:
    cli = Cli(str(home / "campaign.db"), home)
    awaiting_recheck(cli)
    for name in PEOPLE:
        set_password(cli, name, now="2024-07-26")
    return home / "campaign.db"


def copy_db(template: Path, folder: Path) -> Cli:
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(template) + suffix)
        if source.exists():
            shutil.copyfile(source, folder / ("campaign.db" + suffix))
    return Cli(str(folder / "campaign.db"), folder)


@pytest.fixture(scope="session", name="desk_template")
def desk_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("desk"))


@pytest.fixture(name="desk")
def desk_fixture(desk_template: Path, tmp_path: Path) -> Cli:
    """A copy of the desk campaign for one test."""
    return copy_db(desk_template, tmp_path)


@contextmanager
def client(cli: Cli, now: str = DESK_DAY) -> Iterator[Any]:
    """A TestClient on the workspace app of `cli`'s database at `now`."""
    from litestar.testing import TestClient

    with TestClient(make_app(cli, now=now), base_url="http://testserver.local") as c:
        yield c


def drawn_codes(html: str, seq: int | None = None) -> list[str]:
    """The selection a draw card shows (the newest, or the draw of audit `seq`)."""
    start = html.index(f'id="draw-{seq}"') if seq else html.index('class="card draw"')
    block = html[start:html.index("</article>", start)]
    sel = block[block.index('class="codes selected"'):]
    sel = sel[:sel.index("</ul>")]
    return re.findall(r">(\w{18})</a>", sel)


def shown_seed(html: str) -> int:
    return int(re.search(r'<code class="seed">(\d+)</code>', html).group(1))  # type: ignore[union-attr]


def verify_runs(cli: Cli) -> list[tuple[str, bool]]:
    """(actor, ok) of every recorded full verify, oldest first."""
    from sqlalchemy import text

    from models.db import make_engine

    engine = make_engine(cli.db)
    try:
        with engine.connect() as conn:
            return [(str(r[0]), bool(r[1])) for r in conn.execute(text("SELECT actor, ok FROM verify_run ORDER BY id"))]
    finally:
        engine.dispose()
