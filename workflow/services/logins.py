"""Who you are, for the web workspace: passwords, server-side sessions, lock-out and the login log.

People authenticate to the engine, never to the database. A password (argon2id, `workflow.domain.passwords`)
is set by the province admin for anyone (then it must be changed at first login) or by the person for
themself; it lives in `actor_credential`, apart from `actor`. A login opens a server-side session
(`web_session`, keyed by the SHA-256 of the cookie's token: a new random token every login); it ends
at logout, after the idle or absolute timeout (real time, `ctx.wall`), when the actor is deactivated
or their password set again. Five failed logins for one name from one client address lock that name
for that address for 15 minutes; the province admin can unlock. Every outcome goes into `login_event`,
with the client address (`campaign audit logins`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from workflow.clock import SHANGHAI, parse_stored, utc_iso
from workflow.context import Context
from workflow.domain import passwords
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import permissions
from workflow.services.actors import find, lookup
from workflow.store import sessions as store
from workflow.store.ledger import Entry, Ledger, audited, refusals_recorded

end_sessions = store.end_sessions  # deactivation ends the person's sessions in its own transaction

BAD = "用户名或密码错误"
LOCKED = "登录失败次数过多，该账号在此地址已锁定 15 分钟；请稍后再试或联系省级管理员解锁"
EXPIRED = "登录已失效，请重新登录 (session ended)"
OUTCOMES = ("success", "failure", "locked", "logout", "unlock", "expired")
OUTCOME_ZH = {"success": "登录成功", "failure": "登录失败", "locked": "已锁定，拒绝", "logout": "退出登录",
              "unlock": "解除锁定", "expired": "会话过期"}
IDLE_SETTING, MAX_SETTING, SECURE_SETTING = (
    "CAMPAIGN_SESSION_IDLE_MINUTES", "CAMPAIGN_SESSION_MAX_HOURS", "CAMPAIGN_COOKIE_SECURE")
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most this often (the idle timeout's precision)
store.NAME_MAX, store.CLIENT_MAX = 200, 100  # what a login form may put into the log


@dataclass(frozen=True)
class Who:
    """The authenticated person, read fresh on every request."""

    actor_id: int
    name: str
    roles: tuple[str, ...]
    city: str | None  # None for province roles and experts
    must_change: bool  # password set by someone else: must change before anything else


@dataclass(frozen=True)
class Opened:
    token: str  # the session id for the cookie; only its SHA-256 is stored
    who: Who


@dataclass(frozen=True)
class LoginEvent:
    at: str  # Asia/Shanghai ISO text
    name: str
    client: str
    outcome: str  # one of OUTCOMES
    detail: str


@dataclass(frozen=True)
class SessionSettings:
    idle: timedelta
    absolute: timedelta
    secure: bool  # cookies marked Secure (the workspace is served over HTTPS)


def _positive(settings: Mapping[str, str], name: str, default: int, unit: str) -> int:
    raw = (settings.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise InvalidInput(f"设置 {name} 应为正整数（{unit}），当前为 '{raw}' (not a positive integer)")
    return value


def session_settings(settings: Mapping[str, str]) -> SessionSettings:
    """Timeouts and the cookie's Secure flag from the run's settings (defaults: 30 minutes idle,
    12 hours absolute, not Secure)."""
    secure = (settings.get(SECURE_SETTING) or "").strip().lower() in ("1", "true", "yes", "on")
    return SessionSettings(idle=timedelta(minutes=_positive(settings, IDLE_SETTING, 30, "分钟")),
                           absolute=timedelta(hours=_positive(settings, MAX_SETTING, 12, "小时")), secure=secure)


def _who(row: Mapping[Any, Any]) -> Who:
    city = row["city"]
    return Who(actor_id=int(row["actor_id"]), name=str(row["name"]), roles=tuple(str(row["roles"]).split(",")),
               city=None if city is None else str(city), must_change=bool(row["must_change"]))



def login(ctx: Context, name: str, password: str, client: str) -> Opened:
    """Open a session for `name` with `password` from `client` (its address), or Refused: BAD for an
    unknown name, no password, a wrong password or a deactivated actor alike; LOCKED after 5 failures
    for (name, client) within 15 minutes, even with the right password. Every outcome is recorded."""
    typed, client = store.typed(name), client[:store.CLIENT_MAX]
    now_dt = ctx.wall.now()
    now = utc_iso(now_dt)
    with ctx.uow(ctx.engine) as uow:  # short: the hash is verified outside any transaction
        conn = uow.session.connection()
        locked = store.locked(conn, typed, client, now_dt)
        if locked is not None:
            store.record(conn, now, typed, client, "locked", f"锁定至 {locked.astimezone(SHANGHAI):%H:%M:%S}")
            uow.commit()
        person = None if locked else store.person(conn, name=typed)
    if locked is not None:
        raise Refused(LOCKED, rule="登录锁定")
    stored = None if person is None else person["hash"]
    ok = passwords.verify(stored, password)  # a dummy hash when there is none: the same cost either way
    why = ("未登记的用户名" if person is None else "未设置密码" if stored is None
           else "密码错误" if not ok else "操作人已停用" if not person["active"] else "")
    with ctx.uow(ctx.engine) as uow:
        conn = uow.session.connection()
        if why:
            store.record(conn, now, typed, client, "failure", why)
            uow.commit()
            raise Refused(BAD, rule="登录")
        if person is None:  # unreachable: `why` names an unknown person
            raise Refused(BAD, rule="登录")
        if passwords.needs_rehash(str(stored)):
            store.rehash(conn, person["actor_id"], passwords.hash_password(passwords.normalise(password)))
        token = store.open_session(conn, person, client, now)
        store.record(conn, now, typed, client, "success")
        uow.commit()
    return Opened(token=token, who=_who(person))


def resume(ctx: Context, token: str | None) -> Who | None:
    """The person behind a session token, read fresh; None when the session is unknown, ended, idle
    longer than the idle timeout, older than the absolute timeout, or its actor deactivated or given
    a new password since. Touches last_seen (at most once a minute)."""
    if not token:
        return None
    conf = session_settings(ctx.settings)
    now_dt = ctx.wall.now()
    now = utc_iso(now_dt)
    sid = store.digest(token)
    with ctx.uow(ctx.engine) as uow:
        conn = uow.session.connection()
        row = store.session_of(conn, sid)
        if row is None or row["ended_at"] is not None:
            return None
        idle = now_dt - parse_stored(row["last_seen"])
        age = now_dt - parse_stored(row["created_at"])
        why = ("操作人已停用" if not row["active"] else "密码已更改" if row["set_at"] != row["credential_set_at"]
               else f"空闲超过 {conf.idle}" if idle > conf.idle else f"登录超过 {conf.absolute}"
               if age > conf.absolute else "")
        if why:
            store.end_one(conn, sid, now)
            store.record(conn, now, str(row["name"]), str(row["client"]), "expired", why)
            uow.commit()
            return None
        if idle >= TOUCH_EVERY:
            store.touch(conn, sid, now)
            uow.commit()
        return _who(row)


def logout(ctx: Context, token: str, client: str) -> None:
    """End the session (recorded with the client's address); an unknown or ended one is left as it is."""
    if not token:
        return
    now = utc_iso(ctx.wall.now())
    sid = store.digest(token)
    with ctx.uow(ctx.engine) as uow:
        conn = uow.session.connection()
        name = store.open_name(conn, sid)
        if name is None:
            return
        store.end_one(conn, sid, now)
        store.record(conn, now, name, client, "logout")
        uow.commit()


def set_password(ctx: Context, name: str, password: str) -> None:
    """ctx.actor sets NAME's password: the province admin for anyone (NAME must then change it at first
    login), or the person for themself. At least 12 characters; argon2id; audited as `set_password`
    (the payload names the person, never the password or its hash); ends every session of NAME's."""

    def work(s: Session) -> None:
        actor = lookup(s, ctx.actor)
        found = find(s, name)
        if found is None:
            raise NotFound(actor=name.strip())
        aid, who = found
        role = permissions.authorize(s, actor, "set_password", city=None, code=None, subject=who.name)
        if not who.active:
            raise InvalidInput(f"操作人 {who.name} 已停用，不能设置密码 (actor deactivated)")
        hashed = passwords.hash_password(passwords.check_policy(password))
        must_change = who.name != actor.name
        at = utc_iso(ctx.wall.now())
        conn = s.connection()
        Ledger(s, ctx).append(Entry(city=who.city, event="set_password", actor=actor.name, role=role,
                                    payload={"name": who.name, "must_change": must_change}))
        store.store_credential(conn, aid, hashed, must_change, actor.name, at)
        store.end_all(conn, aid, at)

    audited(ctx, "set_password", None, work)


def change_own(ctx: Context, token: str, old: str, new: str, client: str) -> Opened:
    """The person behind `token` changes their own password: the old one is checked (a wrong one counts
    as a failed login for the lock-out), the new one set (no change needed any more), every session
    of theirs ended and a fresh one opened (a new token)."""
    who = resume(ctx, token)
    if who is None:
        raise Refused(EXPIRED, rule="登录")
    mine = replace(ctx, actor=who.name)
    with refusals_recorded(mine, "set_password", None):
        fresh = passwords.check_policy(new)
        if fresh == passwords.normalise(old):
            raise InvalidInput("新密码不能与原密码相同 (the new password is the old one)")
        now_dt = ctx.wall.now()
        now = utc_iso(now_dt)
        with ctx.uow(ctx.engine) as uow:
            conn = uow.session.connection()
            locked = store.locked(conn, who.name, client, now_dt)
            stored = store.stored_hash(conn, who.actor_id)
            if locked is not None:
                store.record(conn, now, who.name, client, "locked", "修改密码")
                uow.commit()
        if locked is not None:
            raise Refused(LOCKED, rule="登录锁定")
        if not passwords.verify(stored, old):
            with ctx.uow(ctx.engine) as uow:
                store.record(uow.session.connection(), now, who.name, client, "failure", "修改密码：原密码错误")
                uow.commit()
            raise Refused("原密码错误，密码未更改 (wrong current password)", rule="登录")
        hashed = passwords.hash_password(fresh)

    def work(s: Session) -> Opened:
        conn = s.connection()
        person = store.person(conn, actor_id=who.actor_id)
        if not person["active"]:
            raise Refused(EXPIRED, rule="登录")
        Ledger(s, mine).append(Entry(city=who.city, event="set_password", actor=who.name, role=who.roles[0],
                                     payload={"name": who.name, "must_change": False}))
        store.store_credential(conn, who.actor_id, hashed, False, who.name, now)
        store.end_all(conn, who.actor_id, now)
        token_ = store.open_session(conn, {**person, "set_at": now}, client, now)
        store.record(conn, now, who.name, client, "success", "修改密码后重新登录")
        return Opened(token=token_, who=replace(_who(person), must_change=False))

    return audited(mine, "set_password", None, work)


def unlock(ctx: Context, name: str, client: str) -> None:
    """Lift the lock-out of NAME at CLIENT (province admin only): its failures count no more. Audited as
    `login_unlock` and recorded in the login log."""

    def work(s: Session) -> None:
        actor = lookup(s, ctx.actor)
        role = permissions.authorize_role(actor, "login_unlock")
        typed, addr = store.typed(name), client.strip()[:store.CLIENT_MAX]
        if not typed or not addr:
            raise InvalidInput("请指明用户名和 --client 客户端地址 (name and client address required)")
        conn = s.connection()
        now_dt = ctx.wall.now()
        was = store.locked(conn, typed, addr, now_dt)
        Ledger(s, ctx).append(Entry(event="login_unlock", actor=actor.name, role=role,
                                    payload={"name": typed, "client": addr, "was_locked": was is not None}))
        store.record(conn, utc_iso(now_dt), typed, addr, "unlock", f"由 {actor.name} 解除")

    audited(ctx, "login_unlock", None, work)


def _local(stored: str) -> str:
    return parse_stored(stored).astimezone(SHANGHAI).isoformat(timespec="seconds")


def events(ctx: Context, *, name: str | None = None, limit: int = 200) -> list[LoginEvent]:
    """The login log, newest first (province admin only): logins, failures, lock-outs, logouts,
    unlocks and expiries with the client address."""
    if limit <= 0:
        raise InvalidInput("条数应为正整数 (limit must be positive)")
    with ctx.uow(ctx.engine) as uow:
        s = uow.session
        permissions.authorize_role(lookup(s, ctx.actor), "audit_logins")
        rows = store.login_log(s.connection(), name=store.typed(name) if name else None, limit=limit)
    return [LoginEvent(at=_local(r[0]), name=r[1], client=r[2], outcome=r[3], detail=r[4]) for r in rows]
