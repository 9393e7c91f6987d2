"""evidence, tokens, receipts

Issue 15: `evidence_file` (files that support events, content-addressed; their hashes go into the
audit entries of the events), `api_token` (per-actor tokens for the JSON API, stored hashed) and
`notice_read` (who opened which notice in the workspace, and when).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('evidence_file',
    sa.Column('sha256', _S(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', _S(length=100), nullable=False),
    sa.Column('first_name', _S(), nullable=False),
    sa.Column('stored_at', _S(), nullable=False),
    sa.Column('stored_by', _S(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', _S(length=64), nullable=False),
    sa.Column('label', _S(), nullable=False),
    sa.Column('created_at', _S(), nullable=False),
    sa.Column('created_by', _S(), nullable=False),
    sa.Column('expires_at', _S(), nullable=False),
    sa.Column('revoked_at', _S(), nullable=True),
    sa.Column('last_used_at', _S(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_api_token_actor_id'), 'api_token', ['actor_id'], unique=False)
    op.create_table('notice_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('actor', _S(), nullable=False),
    sa.Column('city', _S(), nullable=True),
    sa.Column('read_at', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'actor', name='uq_notice_read_actor')
    )
    op.create_index(op.f('ix_notice_read_notice_id'), 'notice_read', ['notice_id'], unique=False)
    op.create_index(op.f('ix_notice_read_city'), 'notice_read', ['city'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notice_read_city'), table_name='notice_read')
    op.drop_index(op.f('ix_notice_read_notice_id'), table_name='notice_read')
    op.drop_table('notice_read')
    op.drop_index(op.f('ix_api_token_actor_id'), table_name='api_token')
    op.drop_table('api_token')
    op.drop_table('evidence_file')
