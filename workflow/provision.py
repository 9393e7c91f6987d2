"""PostgreSQL enforces the rules too: group roles, row-level security by city, an append-only audit
table for application roles, and a trigger tying each audit entry's actor to the database login.

Everything here is re-runnable (run `db provision` again after a schema upgrade: new tables get their
grants and policies) and tolerant of tables that do not exist yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, inspect, select, text, update
from sqlmodel import Session

from models.access import LoginMapping
from models.tables import table

from . import permissions
from .access import actor_row
from .actors import city_id, lookup
from .clock import utc_iso
from .context import Context
from .errors import InvalidInput, Refused
from .ledger import Entry, Ledger, audited

APP, PROVINCE, CITY = "campaign_app", "campaign_province", "campaign_city"
GROUP_OF = {"province_admin": PROVINCE, "province_reviewer": PROVINCE,
            "city_coordinator": CITY, "city_reviewer": CITY, "expert": CITY}
# How a row belongs to a city, per table.
BY_CITY_ID = ("enterprise", "deliverable_submission")
BY_ENTERPRISE = ("participation", "enterprise_request", "expert_assignment", "conflict_of_interest")
BY_PARTICIPATION = ("evaluation", "equipment_update", "spot_check_pick")
# Write privileges per table (everyone in campaign_app reads everything); tables not listed get
# INSERT, UPDATE, DELETE for campaign_app.
GRANTS: dict[str, tuple[str, str]] = {
    # append-only: the log, refused attempts and declared conflicts are never changed or removed
    "audit_entry": (APP, "INSERT"), "refusal": (APP, "INSERT"), "conflict_of_interest": (APP, "INSERT"),
    # an assignment is ended (removed_at), never deleted: separation of duties still sees it
    "expert_assignment": (APP, "INSERT, UPDATE"),
    # the province's own: spot checks, actors, cities, campaigns
    "spot_check": (PROVINCE, "INSERT"), "spot_check_pick": (PROVINCE, "INSERT"),
    "actor": (PROVINCE, "INSERT, UPDATE, DELETE"), "campaign": (PROVINCE, "INSERT, UPDATE, DELETE"),
    "city": (PROVINCE, "INSERT, UPDATE, DELETE"), "city_target": (PROVINCE, "INSERT, UPDATE, DELETE"),
    # written by `db grant` and migrations, as the owner only
    "db_login": (APP, ""), "alembic_version": (APP, ""),
}
APPEND_ONLY = tuple(t for t, (_, privileges) in GRANTS.items() if privileges == "INSERT")
_CITY = "campaign_login_city()"

FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION {_CITY} RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp AS
        $$ SELECT city_id FROM db_login WHERE login = session_user::text $$""",
    f"""CREATE OR REPLACE FUNCTION campaign_audit_actor_check() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE mapped text;
        BEGIN
          SELECT a.name INTO mapped FROM db_login l JOIN actor a ON a.id = l.actor_id
           WHERE l.login = session_user::text;
          IF mapped IS NULL THEN
            IF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                        JOIN pg_roles u ON u.oid = m.member
                        WHERE u.rolname = session_user AND g.rolname IN ('{APP}', '{PROVINCE}', '{CITY}')) THEN
              RAISE EXCEPTION 'login % is not mapped to an actor (campaign db grant)', session_user
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
          END IF;
          IF NEW.actor IS DISTINCT FROM mapped THEN
            RAISE EXCEPTION 'audit entry actor % does not match login % (mapped to actor %)',
                  NEW.actor, session_user, mapped USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$""",
]


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


def _policy_expr(name: str) -> str | None:
    if name in BY_CITY_ID:
        return f"city_id = {_CITY}"
    if name in BY_ENTERPRISE:
        return f"EXISTS (SELECT 1 FROM enterprise e WHERE e.id = {name}.enterprise_id AND e.city_id = {_CITY})"
    if name in BY_PARTICIPATION:
        return (f"EXISTS (SELECT 1 FROM participation p JOIN enterprise e ON e.id = p.enterprise_id "
                f"WHERE p.id = {name}.participation_id AND e.city_id = {_CITY})")
    return None


def _require_pg(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        raise InvalidInput("db provision / db grant 仅适用于 PostgreSQL（SQLite 没有数据库登录与行级安全）"
                           " (PostgreSQL only)")


def provision_sql(conn: Connection) -> dict[str, Any]:
    """Roles, grants, policies and the audit trigger, in the caller's transaction."""
    for role, parent in ((APP, None), (PROVINCE, APP), (CITY, APP)):
        _create_role(conn, role, member_of=parent)
    tables = sorted(inspect(conn).get_table_names())
    for stmt in FUNCTIONS:
        conn.execute(text(stmt))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP}"))
    conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {APP}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP}"))
    everyone = f"{APP}, {PROVINCE}, {CITY}, PUBLIC"
    for name in tables:
        conn.execute(text(f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "{name}" FROM {everyone}'))
        grantee, privileges = GRANTS.get(name, (APP, "INSERT, UPDATE, DELETE"))
        if privileges:
            conn.execute(text(f'GRANT {privileges} ON "{name}" TO {grantee}'))
    secured = []
    for name in tables:
        expr = _policy_expr(name)
        if expr is None:
            continue
        conn.execute(text(f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY'))
        for pol in ("campaign_province_all", "campaign_city_own"):
            conn.execute(text(f'DROP POLICY IF EXISTS {pol} ON "{name}"'))
        conn.execute(text(f'CREATE POLICY campaign_province_all ON "{name}" TO {PROVINCE} '
                          "USING (true) WITH CHECK (true)"))
        conn.execute(text(f'CREATE POLICY campaign_city_own ON "{name}" TO {CITY} USING ({expr}) WITH CHECK ({expr})'))
        secured.append(name)
    conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_actor_matches_login ON audit_entry"))
    conn.execute(text("CREATE TRIGGER audit_entry_actor_matches_login BEFORE INSERT ON audit_entry "
                      "FOR EACH ROW EXECUTE FUNCTION campaign_audit_actor_check()"))
    return {"roles": [APP, PROVINCE, CITY], "row_level_security": secured,
            "append_only": [t for t in APPEND_ONLY if t in tables], "tables": len(tables)}


def provision(ctx: Context) -> dict[str, Any]:
    def work(s: Session) -> dict[str, Any]:
        _require_pg(s.connection())
        actor = lookup(s, ctx.actor)
        role = permissions.authorize(s, actor, "db_provision", city=None, code=None)
        result = provision_sql(s.connection())
        Ledger(s, ctx).append(Entry(None, None, None, "db_provision", None, None, actor.name, role, "", result))
        return result

    return audited(ctx, "db_provision", None, work)


def grant(ctx: Context, login: str, *, city: str | None, role: str, actor: str | None = None) -> dict[str, Any]:
    """Map a database login to an actor (creating the login if needed) in the role's group."""

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
        _create_role(conn, name, member_of=group, login=True)
        other = CITY if group == PROVINCE else PROVINCE
        q = conn.dialect.identifier_preparer.quote_identifier
        conn.execute(text(f"REVOKE {other} FROM {q(name)}"))
        values = {"actor_id": aid, "city_id": cid, "role": role, "granted_by": acting.name,
                  "granted_at": utc_iso(ctx.now())}
        lm = table(LoginMapping)
        if s.execute(select(lm.c.login).where(lm.c.login == name)).first():
            conn.execute(update(lm).where(lm.c.login == name).values(**values))
        else:
            conn.execute(insert(lm).values(login=name, **values))
        payload = {"login": name, "actor": who.name, "role": role, "group": group, "city": cname}
        seq, _ = Ledger(s, ctx).append(Entry(None, None, cname, "db_grant", None, None, acting.name, my_role, "",
                                             payload))
        return {**payload, "seq": seq}

    return audited(ctx, "db_grant", None, work)
