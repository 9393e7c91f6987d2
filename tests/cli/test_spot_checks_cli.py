"""Fair spot checks (抽查复核): reproducible draws, audited, and no waiver for those drawn."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli, bootstrap
from tests.helpers.spot_checks import XU, ZZ, awaiting_recheck
from workflow.domain.creditcode import make


def sample(cli: Cli, *args: str, actor: str = "省复核员", expect: int = 0) -> dict:
    r = cli("recheck", "sample", *args, "--json", now="2024-08-02", actor=actor, expect=expect)
    return json.loads(r.stdout) if expect == 0 else {"stderr": r.stderr}


def test_a_spot_check_draw_is_reproducible_from_its_audited_seed(cli: Cli) -> None:
    from workflow.services.spotcheck import draw

    awaiting_recheck(cli)
    r = sample(cli, "--city", "许昌", "--rate", "0.5")
    assert r["population"] == sorted(XU)
    assert len(r["selected"]) == 3 and set(r["selected"]) <= set(XU)
    entry = json.loads(cli("audit", "log", "--event", "spot_check", "--json").stdout)[-1]
    assert entry["actor"] == "省复核员" and entry["city"] == "许昌市"
    p = entry["payload"]
    assert (p["seed"], p["population"], p["selected"]) == (r["seed"], r["population"], r["selected"])
    assert draw(p["population"], p["rate"], p["seed"]) == r["selected"]  # anyone can re-run it
    cli("audit", "verify")


def test_the_same_seed_draws_the_same_enterprises(cli: Cli) -> None:
    from workflow.services.spotcheck import draw

    awaiting_recheck(cli)
    r = sample(cli, "--rate", "0.25", "--seed", "20240801")
    assert r["seed"] == 20240801
    assert r["population"] == sorted(XU + ZZ)
    assert r["selected"] == draw(sorted(XU + ZZ), 0.25, 20240801) and len(r["selected"]) == 2
    again = sample(cli, "--rate", "1")  # those drawn before are not drawn again
    assert sorted(again["population"]) == sorted(set(XU + ZZ) - set(r["selected"]))


def test_those_drawn_need_a_real_recheck_and_the_others_may_be_waived(cli: Cli) -> None:
    awaiting_recheck(cli)
    r = sample(cli, "--city", "许昌市", "--rate", "0.3", "--seed", "7")
    drawn = r["selected"][0]
    spared = next(c for c in XU if c not in r["selected"])
    out = cli("advance", drawn, "waive_recheck", now="2024-08-05", actor="省复核员", expect=1)
    assert out.stderr.startswith("错误 Error: 抽查复核")
    cli("advance", drawn, "pass_recheck", now="2024-08-05", actor="省复核员")
    cli("advance", spared, "waive_recheck", now="2024-08-05", actor="省复核员")
    cli("advance", ZZ[0], "waive_recheck", now="2024-08-05", actor="省复核员")  # 郑州 was not sampled


def test_only_the_province_draws_and_the_rate_must_be_a_share(cli: Cli) -> None:
    awaiting_recheck(cli)
    assert "权限" in sample(cli, "--rate", "0.5", actor="许昌联络员", expect=1)["stderr"]
    assert "--rate" in sample(cli, "--rate", "1.5", expect=1)["stderr"]
    assert "--rate" in sample(cli, "--rate", "0", expect=1)["stderr"]
    r = sample(cli, "--city", "郑州市", "--rate", "0.5", actor="省管理员")
    assert r["population"] == sorted(ZZ) and len(r["selected"]) == 1
    rest = sample(cli, "--city", "郑州市", "--rate", "1")
    assert rest["population"] == rest["selected"] == [c for c in ZZ if c not in r["selected"]]
    assert "没有待抽查" in sample(cli, "--city", "郑州市", "--rate", "1", expect=1)["stderr"]


def test_a_bad_rate_is_named_even_when_nobody_awaits_recheck(cli: Cli) -> None:
    bootstrap(cli)
    for rate in ("1.5", "0", "nan"):
        err = cli("recheck", "sample", "--rate", rate, now="2024-08-02", actor="省管理员", expect=1).stderr
        assert "--rate" in err and "没有待抽查" not in err and "Traceback" not in err


def test_the_draw_is_pure_and_rounds_the_share_up() -> None:
    from workflow.services.spotcheck import draw, size

    population = [make(f"9141100{i:010d}") for i in range(30)]
    assert size(10, 0.3) == 3 and size(7, 0.1) == 1 and size(5, 1) == 5
    first = draw(population, 0.2, 42)
    assert first == draw(list(reversed(population)), 0.2, 42) == sorted(first)
    assert len(first) == 6 and draw(population, 0.2, 43) != first


def test_sample_prints_the_seed_and_the_codes(tmp_path: Path, sqlite_cli: Cli) -> None:
    awaiting_recheck(sqlite_cli)
    out = sqlite_cli("recheck", "sample", "--city", "郑州市", "--rate", "1", "--seed", "5", now="2024-08-02",
                     actor="省复核员").stdout
    assert "种子 seed 5" in out and all(c in out for c in ZZ)


def test_a_batch_may_not_waive_those_drawn_and_waives_the_others(cli: Cli) -> None:
    """A batch reads the draws up front (issue 16): the drawn row is refused, the whole file undone."""
    awaiting_recheck(cli)
    r = sample(cli, "--city", "许昌市", "--rate", "0.3", "--seed", "7")
    drawn = r["selected"][0]
    spared = [c for c in XU if c not in r["selected"]]
    f = cli.home / "waive.csv"
    f.write_text("code,event\n" + "".join(f"{c},waive_recheck\n" for c in [*spared, drawn]), encoding="utf-8")
    out = cli("advance", "--file", str(f), now="2024-08-05", actor="省复核员", expect=1)
    assert "抽查复核" in out.stderr and drawn in out.stderr
    assert [e["event"] for e in json.loads(cli("audit", "log", "--json").stdout)].count("waive_recheck") == 0
    f.write_text("code,event\n" + "".join(f"{c},waive_recheck\n" for c in spared), encoding="utf-8")
    cli("advance", "--file", str(f), now="2024-08-05", actor="省复核员")
    cli("audit", "verify")
