"""The audited tables as the audit log implies them (pure): replay entries, one pass, plain dicts.

Each table is a dict key → {column: value}; values are plain (str, int, float, bool, None), dates
as ISO text. A fact the log does not hold (an entry written before its payload carried it) is
UNKNOWN, which never equals a stored value: such a row needs a `baseline` entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from workflow.clock import local_date
from workflow.domain.audit import FIELDS, canonical_json
from workflow.domain.grades import UNRATED

BASELINE = "baseline"
_SEQ, _CODE, _YEAR, _CITY, _EVENT, _TO, _ACTOR, _REASON, _PAYLOAD, _EFFECTIVE = (
    FIELDS.index(f) for f in ("seq", "code", "campaign_year", "city", "event", "to_state", "actor",
                              "reason", "payload", "effective_at"))


class _Unknown:
    """A fact the audit log does not record."""

    def __repr__(self) -> str:
        return "（审计链未记录）"

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


UNKNOWN: Any = _Unknown()
TABLES = ("campaign", "city_target", "actor", "enterprise", "participation", "evaluation",
          "expert_assignment", "conflict_of_interest", "contact", "deliverable_submission",
          "enterprise_request", "spot_check", "spot_check_pick", "equipment_update", "db_login")
_FAILED = ("fail_acceptance", "fail_recheck", "object")
_READ = frozenset({"enroll", "record_evaluation", "publicize", "certify", "disqualify", *_FAILED})  # payload used
_RESTART = {"failures": 0, "pre_assessed": False, "plan_submitted": False, "publicity_start": None,
            "publicity_end": None, "achieved_grade": None}


class Calendar:
    """What the replay needs of a campaign's plan: who decides (for a decision's document
    reference), the publicity period, the working days and the cities' targets."""

    def __init__(self, authority: str, publicity_workdays: int, nth_workday_after: Callable[[Any, int], Any],
                 targets: dict[str, int]) -> None:
        self.authority, self.publicity_workdays = authority, publicity_workdays
        self.nth_workday_after, self.targets = nth_workday_after, targets


def decision_doc(authority: str, event: str, seq: int) -> str:
    """The reference of a grade decided without a document of its own (as `lifecycle` writes it)."""
    return f"{authority}{'认定' if event == 'certify' else '取消评级资格决定'}（审计#{seq}）"


def _day(effective_at: str) -> str:
    return local_date(datetime.fromisoformat(effective_at.replace("Z", "+00:00"))).isoformat()


def _get(payload: dict[str, Any], key: str) -> Any:
    return payload.get(key, UNKNOWN)


class Projection:
    """Feed entries in seq order with `add`; `tables` then holds what the log implies."""

    def __init__(self, calendars: dict[int, Calendar]) -> None:
        self.calendars = calendars
        self.tables: dict[str, dict[Any, dict[str, Any]]] = {t: {} for t in TABLES}
        self.baselines = 0
        self.count = 0
        self._handlers: dict[str, Callable[[Sequence[Any], dict[str, Any]], None]] = {
            "campaign_init": self._campaign, "actor_add": self._actor_add,
            "actor_deactivate": self._actor_deactivate, "actor_roles": self._actor_roles,
            "enterprise_add": self._enterprise_add,
            "enterprise_update": self._enterprise_update, "grade_correction": self._grade_correction,
            "assign_expert": self._assign, "unassign_expert": self._unassign,
            "declare_conflict": self._conflict, "contact_add": self._contact_add,
            "contact_remove": self._contact_remove, "submit_deliverable": self._submission,
            "open_request": self._request_open, "answer_request": self._request_answer,
            "spot_check": self._spot_check, "record_equipment_update": self._equipment,
            "db_grant": self._db_grant, BASELINE: self._baseline}

    def add(self, e: Sequence[Any]) -> None:
        """One audit row (FIELDS order, hash and format may follow)."""
        self.count += 1
        event = e[_EVENT]
        if e[_TO] is not None and event != BASELINE:
            raw = e[_PAYLOAD]  # most lifecycle events change only the state: no need to parse
            self._lifecycle(e, json.loads(raw) if event in _READ or '"target_grade"' in raw else {})
            return
        handler = self._handlers.get(event)
        if handler is not None:
            handler(e, json.loads(e[_PAYLOAD]))

    def feed(self, rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
        """Pass rows through, replaying each: lets one stream serve the hash check and the replay."""
        add = self.add
        for row in rows:
            add(row)
            yield row

    # --- the lifecycle (workflow/services/lifecycle.py: apply, _effects, _grade_change) ---------------------

    def _lifecycle(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        key, event = (e[_CODE], e[_YEAR]), e[_EVENT]
        parts = self.tables["participation"]
        p = parts.get(key)
        if p is None or event == "enroll":
            fresh = {"state": e[_TO], "starting_grade": _get(pl, "starting_grade"),
                     "starting_rating_doc": _get(pl, "starting_rating_doc"),
                     "target_grade": _get(pl, "target_grade"), "consent_ref": _get(pl, "consent"),
                     "enrolled_late": pl.get("late") is True, **_RESTART}
            if event != "enroll":  # a participation the log never enrolled
                fresh.update({k: UNKNOWN for k in fresh if k != "state"})
            fresh["cycle"] = 1 if p is None else pl.get("cycle", p["cycle"] + 1)
            parts[key] = fresh
            return
        before = dict(p) if event == "disqualify" else p
        p["state"] = e[_TO]
        if "target_grade" in pl:  # --target-grade on any event changes it (recorded when it does)
            p["target_grade"] = pl["target_grade"]
        if event == "record_pre_assessment":
            p["pre_assessed"] = True
        elif event == "submit_plan":
            p["plan_submitted"] = True
        elif event in _FAILED:
            failures = pl.get("failures")
            p["failures"] = failures if isinstance(failures, int) else p["failures"] + 1
            p["publicity_start"] = p["publicity_end"] = None
        elif event == "publicize":
            self._publicize(e, pl, p)
        elif event == "record_evaluation":
            self.tables["evaluation"][(*key, p["cycle"], pl.get("month"))] = {"audit_seq": e[_SEQ]}
        elif event in ("certify", "disqualify"):
            if event == "certify":
                p["achieved_grade"] = _get(pl, "achieved_grade")
            self._grade_decided(e, pl, before)

    def _publicize(self, e: Sequence[Any], pl: dict[str, Any], p: dict[str, Any]) -> None:
        if "publicity_start" in pl and "publicity_end" in pl:
            p["publicity_start"], p["publicity_end"] = pl["publicity_start"], pl["publicity_end"]
            return
        cal = self.calendars.get(e[_YEAR])  # an entry from before the payload carried the period
        start = _day(e[_EFFECTIVE])
        p["publicity_start"] = start
        if cal is None:
            p["publicity_end"] = UNKNOWN
        else:
            p["publicity_end"] = cal.nth_workday_after(date.fromisoformat(start), cal.publicity_workdays).isoformat()

    def _grade_decided(self, e: Sequence[Any], pl: dict[str, Any], before: dict[str, Any]) -> None:
        ent = self.tables["enterprise"].get((e[_CODE],))
        if ent is None:
            return  # reported as the enterprise the log never added
        grade = _get(pl, "grade_to")
        ent["grade"] = grade
        cal = self.calendars.get(e[_YEAR])
        decided = UNKNOWN if cal is None else decision_doc(cal.authority, e[_EVENT], e[_SEQ])
        if e[_EVENT] == "certify":
            ent["rating_doc"] = str(pl.get("rating_doc", "")).strip() or decided
        elif grade == before["starting_grade"]:
            ent["rating_doc"] = before["starting_rating_doc"]
        else:
            ent["rating_doc"] = "" if grade == UNRATED else decided

    # --- master data, actors and access ------------------------------------------------------------

    def _campaign(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        year = e[_YEAR]
        self.tables["campaign"][(year,)] = {"calendar_sha256": _get(pl, "sha256")}
        cal = self.calendars.get(year)
        for city, target in (cal.targets if cal else {}).items():
            self.tables["city_target"][(year, city)] = {"target": target}

    def _actor_add(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        roles = pl.get("roles")
        self.tables["actor"][(pl.get("name"),)] = {
            "roles": ",".join(roles) if isinstance(roles, list) else UNKNOWN,
            "city": _get(pl, "city"), "active": True}

    def _actor_deactivate(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        row = self.tables["actor"].get((pl.get("name"),))
        if row is not None:
            row["active"] = False

    def _actor_roles(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        row = self.tables["actor"].get((pl.get("name"),))
        if row is not None:
            roles = pl.get("roles")
            row["roles"] = ",".join(roles) if isinstance(roles, list) else UNKNOWN
            row["city"] = _get(pl, "city")

    _ENTERPRISE = ("name", "city", "county", "industry", "industry_detail", "grade", "rating_doc", "ule",
                   "ule_ref", "ule_date", "livelihood")

    def _enterprise_add(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        self.tables["enterprise"][(e[_CODE],)] = {k: _get(pl, k) for k in self._ENTERPRISE}

    def _enterprise_update(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        row = self.tables["enterprise"].get((e[_CODE],))
        if row is not None:
            for k, change in pl.items():
                if k in row and isinstance(change, list) and len(change) == 2:
                    row[k] = change[1]

    def _grade_correction(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        row = self.tables["enterprise"].get((e[_CODE],))
        if row is not None:
            row["grade"], row["rating_doc"] = _get(pl, "to"), _get(pl, "rating_doc")

    def _assign(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        self.tables["expert_assignment"][(e[_CODE], pl.get("expert"))] = {
            "assigned_by": e[_ACTOR], "removed": False, "audit_seq": e[_SEQ]}

    def _unassign(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        row = self.tables["expert_assignment"].get((e[_CODE], pl.get("expert")))
        if row is not None:
            row["removed"] = True

    def _conflict(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        self.tables["conflict_of_interest"][(pl.get("actor"), e[_CODE])] = {
            "reason": e[_REASON], "declared_by": e[_ACTOR], "audit_seq": e[_SEQ]}

    def _contact_add(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        webhook = pl.get("webhook")
        self.tables["contact"][(pl.get("id"),)] = {
            "city": _get(pl, "city"), "name": _get(pl, "name"), "email": _get(pl, "email"),
            "webhook": webhook, "webhook_sha256": None if webhook is None else _get(pl, "webhook_sha256"),
            "active": True}

    def _contact_remove(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        row = self.tables["contact"].get((pl.get("id"),))
        if row is not None:
            row["active"] = False

    def _db_grant(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        self.tables["db_login"][(pl.get("login"),)] = {
            "actor": _get(pl, "actor"), "city": _get(pl, "city"), "role": _get(pl, "role"),
            "granted_by": e[_ACTOR]}

    # --- deadlines, requests, spot checks, equipment -----------------------------------------------

    def _submission(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        self.tables["deliverable_submission"][(e[_SEQ],)] = {
            "year": e[_YEAR], "city": e[_CITY], "kind": _get(pl, "kind"), "period": _get(pl, "period"),
            "due": _get(pl, "due"), "submitted_on": pl.get("submitted_on") or _day(e[_EFFECTIVE]),
            "late": _get(pl, "late"), "actor": e[_ACTOR], "file_name": pl.get("file"),
            "sha256": pl.get("sha256"), "stored_path": pl.get("path"), "note": e[_REASON]}

    def _request_open(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        self.tables["enterprise_request"][(pl.get("request"),)] = {
            "year": e[_YEAR], "code": e[_CODE], "subject": _get(pl, "subject"), "received": _get(pl, "received"),
            "due": _get(pl, "due"), "opened_by": e[_ACTOR], "answer": None, "answered_on": None,
            "answered_by": None, "late": None}

    def _request_answer(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        row = self.tables["enterprise_request"].get((pl.get("request"),))
        if row is not None:
            row.update(answer=_get(pl, "text"), answered_on=_get(pl, "answered_on"), answered_by=e[_ACTOR],
                       late=_get(pl, "late"))

    def _spot_check(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        selected = pl.get("selected")
        self.tables["spot_check"][(e[_SEQ],)] = {
            "year": e[_YEAR], "city": pl.get("city"), "round": pl.get("round", ""), "rate": _get(pl, "rate"),
            "seed": str(pl["seed"]) if "seed" in pl else UNKNOWN,
            "population": canonical_json(pl["population"]) if "population" in pl else UNKNOWN,
            "selected": canonical_json(selected) if selected is not None else UNKNOWN, "drawn_by": e[_ACTOR]}
        for code in selected or ():
            self.tables["spot_check_pick"][(e[_SEQ], code)] = {"year": e[_YEAR]}

    def _equipment(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        self.tables["equipment_update"][(e[_SEQ],)] = {
            "code": e[_CODE], "year": e[_YEAR], "project": _get(pl, "project"),
            "equipment": _get(pl, "equipment"), "investment": _get(pl, "investment"),
            "completed": _get(pl, "completed"), "funding": _get(pl, "funding"), "actor": e[_ACTOR]}

    # --- baselines ---------------------------------------------------------------------------------

    def _baseline(self, e: Sequence[Any], pl: dict[str, Any]) -> None:
        """A row as it stood when the province brought the database under the log (`audit baseline`):
        its values, or None for a row the log implied that no longer exists."""
        rows = self.tables.get(str(pl.get("table")))
        key = pl.get("key")
        if rows is None or not isinstance(key, list):
            return
        self.baselines += 1
        if pl.get("row") is None:
            rows.pop(tuple(key), None)
        else:
            rows[tuple(key)] = dict(pl["row"])
