"""officer sessions: one row per logged-in browser, so logging out ends that session server-side

Revision ID: 3a6c0f2e8b17
Revises: d26089cd6388
Create Date: 2026-12-06 07:45:00.000000

Sessions that were open before this revision carry no session token and end at the upgrade:
every officer logs in once more.
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


# revision identifiers, used by Alembic.
revision = '3a6c0f2e8b17'
down_revision = 'd26089cd6388'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('officer_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('ip_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_officer_session_officer_id_officer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_officer_session_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_officer_session_token_hash'))
    )
    with op.batch_alter_table('officer_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_session_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_officer_session_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('officer_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_session_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_officer_session_officer_id'))
    op.drop_table('officer_session')
