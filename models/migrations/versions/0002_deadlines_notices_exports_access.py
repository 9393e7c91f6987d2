"""deadlines, notices, exports and access control

Tables added by the scheduler, notice, export and access-control releases:
deliverable submissions, enterprise needs, the APScheduler job store, notices,
delivery attempts, contacts, equipment updates, expert assignments, conflicts of
interest, spot checks and database logins.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('webhook', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_city'), ['city'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('delivered_at', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_city'), ['city'], unique=False)
        batch_op.create_index('ix_notice_due_work', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_kind'), ['kind'], unique=False)

    op.create_table('scheduler_job',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduler_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_job_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('deliverable_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('stored_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deliverable_submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_slot', ['campaign_id', 'city_id', 'kind', 'period'], unique=False)

    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempted_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempt_notice_id'), ['notice_id'], unique=False)

    op.create_table('spot_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('seed', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('population', sa.Text(), nullable=False),
    sa.Column('selected', sa.Text(), nullable=False),
    sa.Column('drawn_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('drawn_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('conflict_of_interest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('declared_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('declared_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('actor_id', 'enterprise_id')
    )
    with op.batch_alter_table('conflict_of_interest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_of_interest_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflict_of_interest_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('db_login',
    sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('granted_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('granted_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], ),
    sa.PrimaryKeyConstraint('login')
    )
    with op.batch_alter_table('db_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_db_login_actor_id'), ['actor_id'], unique=False)

    op.create_table('enterprise_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('received', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('opened_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enterprise_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_request_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_request_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('expert_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('assigned_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('removed_at', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enterprise_id', 'actor_id')
    )
    with op.batch_alter_table('expert_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_assignment_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_assignment_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('equipment_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=False),
    sa.Column('project', sa.Text(), nullable=False),
    sa.Column('equipment', sa.Text(), nullable=False),
    sa.Column('investment', sa.Float(), nullable=True),
    sa.Column('completed', sa.Date(), nullable=True),
    sa.Column('funding', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['participation_id'], ['participation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('equipment_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_equipment_update_participation_id'), ['participation_id'], unique=False)

    op.create_table('spot_check_pick',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['participation_id'], ['participation.id'], ),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_check.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('spot_check_id', 'participation_id')
    )
    with op.batch_alter_table('spot_check_pick', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_pick_participation_id'), ['participation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spot_check_pick_spot_check_id'), ['spot_check_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spot_check_pick', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_pick_spot_check_id'))
        batch_op.drop_index(batch_op.f('ix_spot_check_pick_participation_id'))

    op.drop_table('spot_check_pick')
    with op.batch_alter_table('equipment_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_update_participation_id'))

    op.drop_table('equipment_update')
    with op.batch_alter_table('expert_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_assignment_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_expert_assignment_actor_id'))

    op.drop_table('expert_assignment')
    with op.batch_alter_table('enterprise_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_request_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_enterprise_request_campaign_id'))

    op.drop_table('enterprise_request')
    with op.batch_alter_table('db_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_db_login_actor_id'))

    op.drop_table('db_login')
    with op.batch_alter_table('conflict_of_interest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_of_interest_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_conflict_of_interest_actor_id'))

    op.drop_table('conflict_of_interest')
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_campaign_id'))

    op.drop_table('spot_check')
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempt_notice_id'))

    op.drop_table('delivery_attempt')
    with op.batch_alter_table('deliverable_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_slot')

    op.drop_table('deliverable_submission')
    with op.batch_alter_table('scheduler_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_job_next_run_time'))

    op.drop_table('scheduler_job')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_kind'))
        batch_op.drop_index('ix_notice_due_work')
        batch_op.drop_index(batch_op.f('ix_notice_city'))

    op.drop_table('notice')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_city'))

    op.drop_table('contact')
