"""grades through the process

Issue 11: the industry vocabulary's 行业细分 and the rating document (评级文件文号) on the
enterprise, the ULE publicity evidence, re-enrolment cycles on the participation and its
evaluations, and the round a spot-check draw belongs to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def _evaluation_0001() -> sa.Table:
    """The evaluation table of 0001, its unnamed unique constraint given a name that SQLite's
    batch mode can drop."""
    return sa.Table(
        'evaluation', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participation_id', sa.Integer(), nullable=False),
        sa.Column('month', _TEXT(length=7), nullable=False),
        sa.Column('recorded_at', _TEXT(), nullable=False),
        sa.Column('audit_seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['participation_id'], ['participation.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('participation_id', 'month', name='uq_evaluation_month'),
    )


def upgrade() -> None:
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('industry_detail', _TEXT(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('rating_doc', _TEXT(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ule_ref', _TEXT(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ule_date', sa.Date(), nullable=True))

    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('starting_rating_doc', _TEXT(), nullable=False, server_default=''))

    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round', _TEXT(), nullable=False, server_default=''))

    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('evaluation', recreate='always',
                                  copy_from=_evaluation_0001()) as batch_op:
            batch_op.add_column(sa.Column('cycle', sa.Integer(), nullable=False, server_default='1'))
            batch_op.drop_constraint('uq_evaluation_month', type_='unique')
            batch_op.create_unique_constraint('uq_evaluation_cycle_month', ['participation_id', 'cycle', 'month'])
    else:
        op.add_column('evaluation', sa.Column('cycle', sa.Integer(), nullable=False, server_default='1'))
        op.drop_constraint('evaluation_participation_id_month_key', 'evaluation', type_='unique')
        op.create_unique_constraint('uq_evaluation_cycle_month', 'evaluation', ['participation_id', 'cycle', 'month'])


def downgrade() -> None:
    raise NotImplementedError("0003 is not reversible: restore the backup taken before `db upgrade`")
