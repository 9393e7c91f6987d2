"""Who may do what. The permission matrix is data, kept here in one place (`campaign roles`).

Checks, in order, each refusal naming its rule:
  利益冲突回避  an actor with a declared conflict of interest may not act on that enterprise at all;
  权限          the actor holds none of the roles the action needs;
  城市范围      city-level roles act only in their own city;
  专家指派      experts act only on enterprises they are assigned to;
  职责分离      the enterprise's expert and whoever submitted it for acceptance may not review that
                acceptance, and whoever passed its city acceptance may not do its provincial recheck;
  抽查复核      a participation drawn in a spot check needs a real recheck (no waiver);
  数据库登录    on PostgreSQL, a login mapped to an actor (`db grant`) acts only as that actor (the
                database's own trigger enforces it again for raw SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, literal_column, select
from sqlmodel import Session

from models.access import Assignment, Conflict, LoginMapping, SpotCheckPick
from models.tables import Actor, AuditEntry, Campaign, Enterprise, Participation, table
from workflow.domain.matrix import (  # noqa: F401  (the matrix's names, as callers have used them)
    ADMIN,
    CITY_ROLES,
    CITYLESS,
    COORD,
    DEFAULT,
    EXPERT,
    MATRIX,
    PERMISSION_RULES,
    READS_AUDIT,
    RECHECK,
    ROLE_ZH,
    SELF,
    Permission,
    roles_for,
    roles_zh,
)
from workflow.errors import Refused
from workflow.services.actors import ActorRecord

_E, _P, _A = table(Enterprise).c, table(Participation).c, table(Actor).c
_CO, _AS, _AU = table(Conflict).c, table(Assignment).c, table(AuditEntry).c
_CA, _PK, _LM = table(Campaign).c, table(SpotCheckPick).c, table(LoginMapping).c


def refuse(rule: str, message: str) -> Refused:
    """A refusal whose one line starts with the rule it names."""
    return Refused(f"{rule}：{message}", rule=rule)


def check_city(actor: ActorRecord, role: str, city: str | None, action: str) -> None:
    """City-level roles act only in their own city (城市范围)."""
    if role in CITY_ROLES and city != actor.city and not (city is None and action in CITYLESS):
        where = city or "省级事项"
        raise refuse("城市范围", f"{actor.name} 是 {actor.city or '—'} 的{ROLE_ZH[role]}，不能对 {where} 执行 {action} "
                     "(outside one's city)")


# Statements of the hot path (every advance), built once.
_EXPERT = (select(_AS.id).join_from(table(Assignment), table(Actor), _A.id == _AS.actor_id)
           .join(table(Enterprise), _E.id == _AS.enterprise_id)
           .where(_A.name == bindparam("name"), _E.code == bindparam("code")))
_EXPERT_NOW = _EXPERT.where(_AS.removed_at.is_(None)).limit(1)
_EXPERT_EVER = _EXPERT.limit(1)
_CONFLICT = (select(_CO.id).join_from(table(Conflict), table(Actor), _A.id == _CO.actor_id)
             .join(table(Enterprise), _E.id == _CO.enterprise_id)
             .where(_A.name == bindparam("name"), _E.code == bindparam("code")).limit(1))
_IN_STATE = (select(_P.id, _CA.year).join_from(table(Participation), table(Enterprise), _E.id == _P.enterprise_id)
             .join(table(Campaign), _CA.id == _P.campaign_id)
             .where(_E.code == bindparam("code"), _P.state == bindparam("state")).limit(1))
_SUBMITTED = (select(_AU.seq, _AU.actor)  # the latest submission: the one of the current cycle
              .where(_AU.code == bindparam("code"), _AU.campaign_year == bindparam("year"),
                     _AU.event == "submit_for_acceptance").order_by(_AU.seq.desc()).limit(1))
_PASSED = select(_AU.seq).where(_AU.code == bindparam("code"), _AU.campaign_year == bindparam("year"),
                                _AU.event == "pass_acceptance", _AU.actor == bindparam("name")).limit(1)
_DRAWN = select(_PK.spot_check_id).where(_PK.participation_id == bindparam("pid")).limit(1)
_LOGIN = (select(_A.name).join_from(table(LoginMapping), table(Actor), _A.id == _LM.actor_id)
          .where(_LM.login == literal_column("session_user")))


_KNOWN_EXPERT = (select(_E.code, _AS.removed_at.is_(None))
                 .join_from(table(Assignment), table(Actor), _A.id == _AS.actor_id)
                 .join(table(Enterprise), _E.id == _AS.enterprise_id)
                 .where(_A.name == bindparam("name"), _E.code.in_(bindparam("codes", expanding=True))))
_KNOWN_CONFLICT = (select(_E.code).join_from(table(Conflict), table(Actor), _A.id == _CO.actor_id)
                   .join(table(Enterprise), _E.id == _CO.enterprise_id)
                   .where(_A.name == bindparam("name"), _E.code.in_(bindparam("codes", expanding=True))))


_KNOWN_SUBMITTED = (select(_AU.code, _AU.seq, _AU.actor)
                    .where(_AU.event == "submit_for_acceptance", _AU.campaign_year == bindparam("year"),
                           _AU.code.in_(bindparam("codes", expanding=True))))
_KNOWN_PASSED = (select(_AU.code, _AU.seq)
                 .where(_AU.event == "pass_acceptance", _AU.campaign_year == bindparam("year"),
                        _AU.actor == bindparam("name"), _AU.code.in_(bindparam("codes", expanding=True))))
_KNOWN_DRAWN = select(_PK.participation_id).where(_PK.participation_id.in_(bindparam("pids", expanding=True)))


class Separation:
    """What separation of duties reads from the audit log, for a batch's codes in one campaign year,
    read up front and kept current as the batch applies its events (`note`): the latest submission
    for acceptance of each code, the codes whose acceptance the actor passed, the participations
    drawn for a spot check; and, from the batch's own rows, each code's participation as it stands."""

    def __init__(self, session: Session, name: str, year: int, codes: list[str], pids: list[int],
                 state_of: Callable[[str], tuple[int, str] | None], chunk: int = 500) -> None:
        self.name, self.year, self.state_of = name, year, state_of
        self.submitted: dict[str, tuple[int, str]] = {}
        self.passed: dict[str, int] = {}  # code -> an audit seq of the actor's pass_acceptance
        self.drawn: set[int] = set()
        conn = session.connection()
        for i in range(0, len(codes), chunk):
            part = {"year": year, "name": name, "codes": codes[i:i + chunk]}
            for code, seq, actor in conn.execute(_KNOWN_SUBMITTED, part):
                if code not in self.submitted or seq > self.submitted[code][0]:
                    self.submitted[code] = (int(seq), str(actor))
            for code, seq in conn.execute(_KNOWN_PASSED, part):
                self.passed.setdefault(code, int(seq))
        for i in range(0, len(pids), chunk):
            self.drawn.update(conn.execute(_KNOWN_DRAWN, {"pids": pids[i:i + chunk]}).scalars())

    def note(self, code: str, event: str, seq: int, actor: str) -> None:
        """An event the batch applied: what the later rows' checks must see."""
        if event == "submit_for_acceptance":
            self.submitted[code] = (seq, actor)
        elif event == "pass_acceptance" and actor == self.name:
            self.passed.setdefault(code, seq)


class Known:
    """One actor's declared conflicts and expert assignments over a batch's codes, read in a few
    queries up front: an `advance --file` batch writes neither, so they hold for the whole batch.
    Other actors and codes outside the batch are asked of the database as before."""

    def __init__(self, session: Session, name: str, codes: list[str], chunk: int = 500) -> None:
        self.name, self.codes = name, set(codes)
        self.conflicts, self.assigned, self.ever = set[str](), set[str](), set[str]()
        self.separation: Separation | None = None  # a batch's audit facts (`Preloaded`)
        wanted = sorted(self.codes)
        for i in range(0, len(wanted), chunk):
            part = {"name": name, "codes": wanted[i:i + chunk]}
            self.conflicts.update(session.execute(_KNOWN_CONFLICT, part).scalars())
            for code, active in session.execute(_KNOWN_EXPERT, part):
                self.ever.add(code)
                if active:
                    self.assigned.add(code)

    @classmethod
    def of(cls, name: str, code: str, *, conflict: bool, assigned: bool, ever: bool) -> Known:
        """The facts of one actor on one enterprise, read with the enterprise (`Direct(actor=…)`)."""
        known = cls.__new__(cls)
        known.name, known.codes = name, {code}
        known.conflicts = {code} if conflict else set()
        known.assigned = {code} if assigned else set()
        known.ever = {code} if ever or assigned else set()
        known.separation = None
        return known

    def holds(self, name: str, code: str) -> bool:
        return name == self.name and code in self.codes


def _expert_of(session: Session, name: str, code: str, *, active: bool, known: Known | None = None) -> bool:
    if known is not None and known.holds(name, code):
        return code in (known.assigned if active else known.ever)
    q = _EXPERT_NOW if active else _EXPERT_EVER
    return session.connection().execute(q, {"name": name, "code": code}).first() is not None


def _conflict(session: Session, name: str, code: str, known: Known | None = None) -> bool:
    if known is not None and known.holds(name, code):
        return code in known.conflicts
    return session.connection().execute(_CONFLICT, {"name": name, "code": code}).first() is not None


def _scope(session: Session, actor: ActorRecord, role: str, action: str, city: str | None,
           code: str | None, subject: str | None, known: Known | None = None) -> None:
    if role == SELF and subject != actor.name:
        raise refuse("权限", f"{action} 只能由本人或省级管理员执行")
    check_city(actor, role, city, action)
    if role == "expert" and (code is None or not _expert_of(session, actor.name, code, active=True,
                                                                          known=known)):
        raise refuse("专家指派", f"专家 {actor.name} 未被指派到企业 {code}，请先 campaign assign {code} --expert "
                     f"{actor.name} (expert not assigned)")


def _login_actor(session: Session) -> str | None:
    """On PostgreSQL, the actor the database login is mapped to (`db grant`), once per session."""
    key = "campaign_login_actor"
    if key not in session.info:
        conn = session.connection()
        session.info[key] = None if conn.dialect.name != "postgresql" else conn.execute(_LOGIN).scalar_one_or_none()
    value = session.info[key]
    return str(value) if value is not None else None


def authorize(session: Session, actor: ActorRecord, action: str, *, city: str | None,
              code: str | None, subject: str | None = None, known: Known | None = None) -> str:
    """Return the role under which `actor` performs `action`, or raise Refused naming the rule.
    `known`: facts read up front for a batch (`Known`); the same answers, fewer queries."""
    allowed = roles_for(action)
    if session is not None and (login := _login_actor(session)) and login != actor.name:
        raise refuse("数据库登录", f"当前数据库登录映射为操作人 {login}，不能以 {actor.name} 的名义操作 "
                     "(the database login writes as another actor)")
    if code and actor.role != "system" and _conflict(session, actor.name, code, known):
        raise refuse("利益冲突回避", f"{actor.name} 已申报与企业 {code} 存在利益冲突，须回避 "
                     "(declared conflict of interest)")
    held = [r for r in actor.roles if r in allowed] + ([SELF] if SELF in allowed else [])
    if not held:
        raise refuse("权限", f"{actor.name}（{roles_zh(actor.roles)}）无权执行 {action}；须为 {roles_zh(allowed)} "
                     "(not permitted)")
    first: Refused | None = None
    for role in held:
        try:
            _scope(session, actor, role, action, city, code, subject, known)
        except Refused as exc:
            first = first or exc
            continue
        if code:
            _separation(session, actor, action, code, known)
        return role if role != SELF else actor.role
    raise first or refuse("权限", f"{actor.name} 无权执行 {action} (not permitted)")  # held is never empty


def _in_state(session: Session, code: str, state: str) -> tuple[int, int] | None:
    """(participation id, campaign year) of the enterprise's participation in `state`."""
    row = session.connection().execute(_IN_STATE, {"code": code, "state": state}).first()
    return (int(row[0]), int(row[1])) if row else None


def _audit_facts(known: Known | None, actor: ActorRecord, code: str) -> Separation | None:
    """The batch's separation facts, when they hold for this actor and code."""
    if known is None or known.separation is None or not known.holds(actor.name, code):
        return None
    return known.separation


def _acceptance(session: Session, actor: ActorRecord, code: str, known: Known | None) -> None:
    """Neither the enterprise's expert nor whoever submitted it for acceptance reviews that acceptance."""
    if _expert_of(session, actor.name, code, active=False, known=known):
        raise refuse("职责分离", f"{actor.name} 是企业 {code} 的帮扶专家，不得评审其验收 (separation of duties)")
    facts = _audit_facts(known, actor, code)
    if facts is not None:
        here = facts.state_of(code)
        if here is None or here[1] != "acceptance":
            return  # the state machine refuses it with the state
        submitted: Any = facts.submitted.get(code)
    else:
        waiting = _in_state(session, code, "acceptance")
        if waiting is None:
            return  # the state machine refuses it with the state
        submitted = session.connection().execute(_SUBMITTED, {"code": code, "year": waiting[1]}).first()
    if submitted is not None and submitted[1] == actor.name:
        raise refuse("职责分离", f"{actor.name} 申请了企业 {code} 的验收（审计 #{submitted[0]}），不得评审其验收 "
                     "(separation of duties: the submitter may not review)")


def _separation(session: Session, actor: ActorRecord, action: str, code: str, known: Known | None = None) -> None:
    if action in ("pass_acceptance", "fail_acceptance"):
        _acceptance(session, actor, code, known)
        return
    if action not in READS_AUDIT:
        return
    facts = _audit_facts(known, actor, code)
    if facts is not None:
        here = facts.state_of(code)
        if here is None or here[1] != "provincial_recheck":
            return  # the state machine refuses it with the state
        _recheck(actor, action, code, facts.passed.get(code), here[0] in facts.drawn)
        return
    awaiting = _in_state(session, code, "provincial_recheck")
    if awaiting is None:
        return  # the state machine refuses it with the state
    pid, year = awaiting
    passed = session.connection().execute(_PASSED, {"code": code, "year": year, "name": actor.name}).first()
    drawn = action == "waive_recheck" and session.connection().execute(_DRAWN, {"pid": pid}).first() is not None
    _recheck(actor, action, code, int(passed[0]) if passed else None, drawn)


def _recheck(actor: ActorRecord, action: str, code: str, passed: int | None, drawn: bool) -> None:
    """Whoever passed its city acceptance (audit seq `passed`) does not recheck it; a participation
    drawn for a spot check is not waived."""
    if passed is not None:
        raise refuse("职责分离", f"{actor.name} 通过了企业 {code} 的市级验收（审计 #{passed}），不得进行省级复核 "
                     "(separation of duties)")
    if action == "waive_recheck" and drawn:
        raise refuse("抽查复核", f"企业 {code} 已被抽查复核抽中，须实际复核（pass_recheck 或 fail_recheck），"
                     "不得免于抽查")


def authorize_role(actor: ActorRecord, action: str) -> str:
    """For an action outside any city or enterprise scope: the role of the actor's that the matrix
    allows, or Refused (权限)."""
    allowed = roles_for(action)
    held = [r for r in actor.roles if r in allowed]
    if not held:
        raise refuse("权限", f"{actor.name}（{roles_zh(actor.roles)}）无权执行 {action}；须为 {roles_zh(allowed)} "
                     "(not permitted)")
    return held[0]


def authorize_override(actor: ActorRecord) -> None:
    if "province_admin" not in actor.roles and actor.role != "system":
        raise refuse("权限", "只有省级管理员 (province_admin) 可以 --override-window")


def authorize_actor_admin(actor: ActorRecord, action: str = "actor_add") -> None:
    """Only a province_admin manages actors once the first one exists."""
    if "province_admin" not in actor.roles:
        raise refuse("权限", f"只有省级管理员 (province_admin) 可以管理操作人（{action}）")


def matrix() -> list[dict[str, object]]:
    """The matrix as rows, for `campaign roles`."""
    scope = {"city_coordinator": "本市", "city_reviewer": "本市", "expert": "受指派企业", SELF: "本人"}
    rows: list[dict[str, object]] = [{"action": p.action, "zh": p.zh, "roles": list(p.roles),
             "scope": "；".join(f"{r}: {scope[r]}" for r in p.roles if r in scope), "note": p.note}
            for p in MATRIX.values()]
    rows.append({"action": "(其他 other)", "zh": "未列出的操作", "roles": list(DEFAULT),
                 "scope": "city_coordinator: 本市", "note": "默认规则 (default)"})
    return rows
