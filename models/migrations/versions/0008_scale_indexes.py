"""scale indexes

Issue 16 (a province of 500,000 participations on PostgreSQL): two indexes the measured plans asked for.

- `ix_audit_state_changes` on audit_entry (campaign_year, code, seq), only the state changes
  (to_state IS NOT NULL), carrying to_state and effective_at on PostgreSQL: the scheduler's reading of
  who was in tracking when (workflow/scheduling/obligations.py, a window function over each
  participation's changes in seq order) becomes an index-only scan in that order instead of a sort of
  three million rows spilled to disk.
- `ix_evaluation_month` on evaluation (month, participation_id, cycle): "is this month's evaluation
  recorded" over a whole list (the task list, the missing-evaluation alerts) is planned as one hashed
  lookup of the month's rows, which without it is a scan of every evaluation.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANGES = sa.text('to_state IS NOT NULL')


def upgrade() -> None:
    op.create_index('ix_audit_state_changes', 'audit_entry', ['campaign_year', 'code', 'seq'], unique=False,
                    postgresql_include=['to_state', 'effective_at'], postgresql_where=_CHANGES,
                    sqlite_where=_CHANGES)
    op.create_index('ix_evaluation_month', 'evaluation', ['month', 'participation_id', 'cycle'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_evaluation_month', table_name='evaluation')
    op.drop_index('ix_audit_state_changes', table_name='audit_entry')
