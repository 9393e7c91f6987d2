"""PostgreSQL for a shared database: person logins read only their scope, and the database
refuses what the engine would refuse even from the engine's own (service) login.

- Person logins (`db grant`) are members of `campaign_city` or `campaign_province` (both in
  `campaign_app`) and hold SELECT only: they write nothing. Row-level security limits a city login
  to its city's rows on every table holding city data (contacts, notices and their delivery
  attempts, the audit log, refusals included); `scheduler_job` is the scheduler's alone.
- The engine writes with the service login, the database owner (the login that ran `campaign init`
  and `db upgrade`; the owner is not subject to row-level security). Triggers still check its
  writes: an audit entry's role must be one its actor holds in `actor`, and the actor active (the
  system actor excepted); a participation or evaluation row changes, and a conflict of interest is
  declared, only with an audit entry for that enterprise in the same transaction (deferred
  constraint triggers, checked at commit).

Everything here is re-runnable (run `db provision` again after a schema upgrade: new tables get their
grants and policies) and tolerant of tables that do not exist yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, inspect, select, text, update
from sqlmodel import Session

from models.access import LoginMapping
from models.tables import table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.errors import InvalidInput, Refused
from workflow.services import permissions
from workflow.services.access import actor_row
from workflow.services.actors import SYSTEM, city_id, lookup
from workflow.store.ledger import Entry, Ledger, audited

APP, PROVINCE, CITY = "campaign_app", "campaign_province", "campaign_city"
GROUPS = (APP, PROVINCE, CITY)
GROUP_OF = {"province_admin": PROVINCE, "province_reviewer": PROVINCE,
            "city_coordinator": CITY, "city_reviewer": CITY, "expert": CITY}
_CITY = "campaign_login_city()"
_CITY_NAME = "campaign_login_city_name()"
# How a row belongs to a city, per table: what a city login may read of it.
SCOPE: dict[str, str] = {
    **{t: f"city_id = {_CITY}" for t in ("enterprise", "deliverable_submission")},
    **{t: f"EXISTS (SELECT 1 FROM enterprise e WHERE e.id = {t}.enterprise_id AND e.city_id = {_CITY})"
       for t in ("participation", "enterprise_request", "expert_assignment", "conflict_of_interest")},
    **{t: (f"EXISTS (SELECT 1 FROM participation p JOIN enterprise e ON e.id = p.enterprise_id "
           f"WHERE p.id = {t}.participation_id AND e.city_id = {_CITY})")
       for t in ("evaluation", "equipment_update", "spot_check_pick")},
    **{t: f"city = {_CITY_NAME}" for t in ("contact", "notice", "spot_check", "notice_read")},
    # its city's entries and the province-level ones (actors, calendars, grants: no secrets, since
    # contact payloads carry masked webhooks); never another city's
    "audit_entry": f"city = {_CITY_NAME} OR city IS NULL",
    "delivery_attempt": (f"EXISTS (SELECT 1 FROM notice n WHERE n.id = delivery_attempt.notice_id "
                         f"AND n.city = {_CITY_NAME})"),
    "refusal": (f"EXISTS (SELECT 1 FROM enterprise e WHERE e.code = refusal.code AND e.city_id = {_CITY}) "
                f"OR EXISTS (SELECT 1 FROM actor a WHERE a.name = refusal.actor AND a.city_id = {_CITY})"),
    "db_login": "login = session_user::text",
}
# Reference data every person login reads whole. Any other table (scheduler_job, and a table this
# release does not know) is not readable by person logins at all.
SHARED = ("actor", "city", "campaign", "city_target", "alembic_version")
# The engine's own secrets: password hashes, web sessions, the login log and API token hashes. No
# person login reads them, whatever SHARED or SCOPE say.
SECRET = ("actor_credential", "web_session", "login_event", "api_token")
# Rows the engine writes only together with their audit entry (checked at commit).
AUDITED = ("participation", "evaluation", "conflict_of_interest")

FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION {_CITY} RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp AS
        $$ SELECT city_id FROM db_login WHERE login = session_user::text $$""",
    f"""CREATE OR REPLACE FUNCTION {_CITY_NAME} RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp AS
        $$ SELECT c.name FROM db_login l JOIN city c ON c.id = l.city_id WHERE l.login = session_user::text $$""",
    f"""CREATE OR REPLACE FUNCTION campaign_audit_entry_check() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE held text; is_active boolean;
        BEGIN
          IF NEW.actor = '{SYSTEM.name}' AND NEW.role = '{SYSTEM.role}' THEN
            RETURN NEW;
          END IF;
          SELECT roles, active INTO held, is_active FROM actor WHERE name = NEW.actor;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'audit entry by %: no such actor', NEW.actor USING ERRCODE = 'insufficient_privilege';
          ELSIF NOT is_active THEN
            RAISE EXCEPTION 'audit entry by %: the actor is deactivated', NEW.actor
                  USING ERRCODE = 'insufficient_privilege';
          ELSIF NOT (NEW.role = ANY (string_to_array(held, ','))) THEN
            RAISE EXCEPTION 'audit entry by % as %: the actor holds only %', NEW.actor, NEW.role, held
                  USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$""",
    # Deferred to commit: is there an audit entry for this enterprise written by this very
    # transaction (xmin: the top-level transaction id; the engine never audits inside a savepoint)?
    """CREATE OR REPLACE FUNCTION campaign_audited_change() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE v_code text; v_year integer; v_actor text;
        BEGIN
          IF TG_TABLE_NAME = 'participation' THEN
            SELECT e.code, c.year INTO v_code, v_year FROM enterprise e, campaign c
             WHERE e.id = NEW.enterprise_id AND c.id = NEW.campaign_id;
          ELSIF TG_TABLE_NAME = 'evaluation' THEN
            SELECT e.code, c.year INTO v_code, v_year FROM participation p
              JOIN enterprise e ON e.id = p.enterprise_id JOIN campaign c ON c.id = p.campaign_id
             WHERE p.id = NEW.participation_id;
          ELSE
            SELECT e.code INTO v_code FROM enterprise e WHERE e.id = NEW.enterprise_id;
            SELECT a.name INTO v_actor FROM actor a WHERE a.id = NEW.actor_id;
          END IF;
          IF NOT EXISTS (
              SELECT 1 FROM audit_entry a
               WHERE a.code = v_code AND (v_year IS NULL OR a.campaign_year = v_year)
                 AND a.xmin = pg_current_xact_id()::xid
                 AND (v_actor IS NULL OR (a.event = 'declare_conflict'
                                          AND a.payload::jsonb ->> 'actor' = v_actor))) THEN
            RAISE EXCEPTION '% of enterprise % (campaign %) written without its audit entry in the same transaction',
                  TG_TABLE_NAME, v_code, v_year USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NULL;
        END $$""",
]
TRIGGERS = {
    "audit_entry_checked": "BEFORE INSERT ON audit_entry FOR EACH ROW EXECUTE FUNCTION campaign_audit_entry_check()",
    **{f"{t}_audited": (f"AFTER INSERT OR UPDATE ON {t} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                        "EXECUTE FUNCTION campaign_audited_change()") for t in AUDITED},
}
RETIRED = ("DROP TRIGGER IF EXISTS audit_entry_actor_matches_login ON audit_entry",
           "DROP FUNCTION IF EXISTS campaign_audit_actor_check()")


def _create_role(conn: Connection, name: str, *, member_of: str | None = None, login: bool = False) -> None:
    """CREATE ROLE unless it exists; safe against a concurrent creation (roles are cluster-wide)."""
    q = conn.dialect.identifier_preparer.quote_identifier
    lit = name.replace("'", "''")
    conn.execute(text(f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{lit}') THEN
          CREATE ROLE {q(name)} {'LOGIN' if login else 'NOLOGIN'};
        END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"""))
    if member_of:
        conn.execute(text(f"""DO $$ BEGIN GRANT {q(member_of)} TO {q(name)};
            EXCEPTION WHEN unique_violation THEN NULL; END $$"""))


def _require_pg(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        raise InvalidInput("db provision / db grant 仅适用于 PostgreSQL（SQLite 没有数据库登录与行级安全）"
                           " (PostgreSQL only)")


def provision_sql(conn: Connection) -> dict[str, Any]:
    """Roles, read-only grants, policies and the checking triggers, in the caller's transaction."""
    for role, parent in ((APP, None), (PROVINCE, APP), (CITY, APP)):
        _create_role(conn, role, member_of=parent)
    tables = sorted(inspect(conn).get_table_names())
    for stmt in (*RETIRED, *FUNCTIONS):
        conn.execute(text(stmt))
    groups = ", ".join(GROUPS)
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {groups}, PUBLIC"))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {groups}, PUBLIC"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP}"))
    secured, shared, closed = [], [], []
    for name in tables:
        if name in SECRET:
            closed.append(name)
            continue
        if name in SHARED:
            conn.execute(text(f'GRANT SELECT ON "{name}" TO {APP}'))
            shared.append(name)
            continue
        expr = SCOPE.get(name)
        if expr is None:
            closed.append(name)
            continue
        conn.execute(text(f'GRANT SELECT ON "{name}" TO {APP}'))
        conn.execute(text(f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY'))
        for pol in ("campaign_province_all", "campaign_city_own"):
            conn.execute(text(f'DROP POLICY IF EXISTS {pol} ON "{name}"'))
        conn.execute(text(f'CREATE POLICY campaign_province_all ON "{name}" FOR SELECT TO {PROVINCE} USING (true)'))
        conn.execute(text(f'CREATE POLICY campaign_city_own ON "{name}" FOR SELECT TO {CITY} USING ({expr})'))
        secured.append(name)
    checks = []
    for trigger, definition in TRIGGERS.items():
        target = definition.split(" ON ", 1)[1].split(" ", 1)[0]
        if target not in tables:
            continue
        conn.execute(text(f'DROP TRIGGER IF EXISTS {trigger} ON "{target}"'))
        constraint = "CONSTRAINT " if "DEFERRABLE" in definition else ""
        conn.execute(text(f"CREATE {constraint}TRIGGER {trigger} {definition}"))
        checks.append(trigger)
    return {"roles": list(GROUPS), "read_only": True, "row_level_security": secured, "shared": shared,
            "no_access": closed, "checks": checks, "tables": len(tables)}


def provision(ctx: Context) -> dict[str, Any]:
    def work(s: Session) -> dict[str, Any]:
        _require_pg(s.connection())
        actor = lookup(s, ctx.actor)
        role = permissions.authorize(s, actor, "db_provision", city=None, code=None)
        result = provision_sql(s.connection())
        Ledger(s, ctx).append(Entry(event="db_provision", actor=actor.name, role=role, payload=result))
        return result

    return audited(ctx, "db_provision", None, work)


def grant(ctx: Context, login: str, *, city: str | None, role: str, actor: str | None = None) -> dict[str, Any]:
    """A read-only person login: map it to an actor (creating the login if needed) in the role's group,
    which reads the actor's city (a province group: everything) and writes nothing."""

    def work(s: Session) -> dict[str, Any]:
        conn = s.connection()
        _require_pg(conn)
        acting = lookup(s, ctx.actor)
        my_role = permissions.authorize(s, acting, "db_grant", city=None, code=None)
        name = login.strip()
        if not name or len(name.encode()) > 63 or "\x00" in name:
            raise InvalidInput("数据库登录名须为 1–63 字节")
        aid, who = actor_row(s, actor or name)
        if role not in GROUP_OF or role not in who.roles:
            raise InvalidInput(f"操作人 {who.name} 没有角色 {role}（其角色：{', '.join(who.roles)}）")
        group = GROUP_OF[role]
        cid, cname = city_id(s, city) if city else (None, None)
        if group == CITY and cid is None:
            raise InvalidInput(f"{role} 的数据库登录须用 --city 指定城市")
        if group == PROVINCE and cid is not None:
            raise InvalidInput(f"{role} 是省级角色，不能限定 --city")
        if who.city and cname and who.city != cname:
            raise Refused(f"城市范围：操作人 {who.name} 属于 {who.city}，不能映射到 {cname}", rule="城市范围")
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": group}).first() is None:
            raise Refused("请先运行 campaign db provision (roles not provisioned)", rule="provision")
        service = conn.execute(text("SELECT rolsuper OR rolname = current_user FROM pg_roles WHERE rolname = :r"),
                               {"r": name}).scalar_one_or_none()
        if service:
            raise InvalidInput(f"{name} 是引擎的服务登录或超级用户，不能作为个人只读登录 (service login)")
        _create_role(conn, name, member_of=group, login=True)
        other = CITY if group == PROVINCE else PROVINCE
        q = conn.dialect.identifier_preparer.quote_identifier
        conn.execute(text(f"REVOKE {other} FROM {q(name)}"))
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        # a courtesy, not the barrier (the grants are): the login's writes fail as read-only at once
        conn.execute(text(f"ALTER ROLE {q(name)} IN DATABASE {q(database)} SET default_transaction_read_only = on"))
        values = {"actor_id": aid, "city_id": cid, "role": role, "granted_by": acting.name,
                  "granted_at": utc_iso(ctx.now())}
        lm = table(LoginMapping)
        if s.execute(select(lm.c.login).where(lm.c.login == name)).first():
            conn.execute(update(lm).where(lm.c.login == name).values(**values))
        else:
            conn.execute(insert(lm).values(login=name, **values))
        payload = {"login": name, "actor": who.name, "role": role, "group": group, "city": cname,
                   "read_only": True}
        seq, _ = Ledger(s, ctx).append(Entry(city=cname, event="db_grant", actor=acting.name, role=my_role,
                                             payload=payload))
        return {**payload, "seq": seq}

    return audited(ctx, "db_grant", None, work)
