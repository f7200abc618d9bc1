"""id_check: the id_check table, on the plugin's own branch

Revision ID: 6c1e2a9b7d40
Revises:
Create Date: 2026-12-06 08:30:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = '6c1e2a9b7d40'
down_revision = None
branch_labels = ('id_check',)
depends_on = '1d84de406aa8'  # tenant, case, party, officer


def upgrade():
    op.create_table('id_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('how', sa.String(length=20), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('checked_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_by', sa.Integer(), nullable=True),
    sa.Column('approved_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('front_image', sa.LargeBinary(), nullable=True),
    sa.Column('back_image', sa.LargeBinary(), nullable=True),
    sa.Column('image_type', sa.String(length=40), nullable=True),
    sa.Column('images_deleted_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_id_check_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_id_check_party_id_party'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['checked_by'], ['officer.id'], name=op.f('fk_id_check_checked_by_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['approved_by'], ['officer.id'], name=op.f('fk_id_check_approved_by_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_id_check_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_id_check')),
    sa.UniqueConstraint('party_id', name=op.f('uq_id_check_party_id'))
    )
    with op.batch_alter_table('id_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_id_check_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_id_check_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('id_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_id_check_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_id_check_case_id'))
    op.drop_table('id_check')
