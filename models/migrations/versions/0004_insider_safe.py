"""insider safe

Issue 12: an address is active at most once per receiving unit. Four partial unique indexes on
`contact` (city + e-mail, city + webhook, and the province's own, whose city is NULL). Contacts
stored twice before (the race of two `contact add` at once) are merged first: a later active
contact loses the address an earlier active one of the same unit already has, and is marked
inactive when it has no address left, so every address stays and is sent to once.

The database's own checks for a shared PostgreSQL database (read-only person logins, the audit
entry's role against the actor table, a participation change only with its audit entry) are
installed by `campaign db provision`, which is re-run after every upgrade.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ('uq_contact_city_email', ['city', 'email'], 'city IS NOT NULL AND email IS NOT NULL'),
    ('uq_contact_city_webhook', ['city', 'webhook'], 'city IS NOT NULL AND webhook IS NOT NULL'),
    ('uq_contact_province_email', ['email'], 'city IS NULL AND email IS NOT NULL'),
    ('uq_contact_province_webhook', ['webhook'], 'city IS NULL AND webhook IS NOT NULL'),
)


def _merge_duplicates(conn: sa.Connection) -> None:
    contact = sa.table('contact', sa.column('id'), sa.column('city'), sa.column('email'),
                       sa.column('webhook'), sa.column('active'))
    seen: set[tuple[str, str | None, str]] = set()
    rows = conn.execute(sa.select(contact.c.id, contact.c.city, contact.c.email, contact.c.webhook)
                        .where(contact.c.active.is_(True)).order_by(contact.c.id)).all()
    for cid, city, email, webhook in rows:
        keep: dict[str, None] = {}
        for column, value in (('email', email), ('webhook', webhook)):
            if value is None:
                continue
            if (column, city, value) in seen:
                keep[column] = None
            seen.add((column, city, value))
        if not keep:
            continue
        left = {'email': email, 'webhook': webhook, **keep}
        values = keep if any(left.values()) else {'active': False}
        conn.execute(sa.update(contact).where(contact.c.id == cid).values(**values))


def upgrade() -> None:
    _merge_duplicates(op.get_bind())
    for name, columns, where in INDEXES:
        condition = sa.text(f'active AND {where}')
        op.create_index(name, 'contact', columns, unique=True, sqlite_where=condition,
                        postgresql_where=condition)


def downgrade() -> None:
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name='contact')
