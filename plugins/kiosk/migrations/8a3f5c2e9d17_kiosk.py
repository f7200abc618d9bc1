"""kiosk: paired tablets and pairing codes, on the plugin's own branch

Revision ID: 8a3f5c2e9d17
Revises:
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = '8a3f5c2e9d17'
down_revision = None
branch_labels = ('kiosk',)
depends_on = '1d84de406aa8'  # tenant, case, party, officer


def upgrade():
    op.create_table('kiosk_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('paired_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('pushed_by', sa.Integer(), nullable=True),
    sa.Column('pushed_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('push_token_hash', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_kiosk_device_case_id_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['paired_by'], ['officer.id'], name=op.f('fk_kiosk_device_paired_by_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_kiosk_device_party_id_party'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pushed_by'], ['officer.id'], name=op.f('fk_kiosk_device_pushed_by_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_kiosk_device_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_device')),
    sa.UniqueConstraint('push_token_hash', name=op.f('uq_kiosk_device_push_token_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kiosk_device_token_hash'))
    )
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_device_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('kiosk_pairing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['officer.id'], name=op.f('fk_kiosk_pairing_created_by_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['kiosk_device.id'], name=op.f('fk_kiosk_pairing_device_id_kiosk_device'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_kiosk_pairing_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_pairing')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_kiosk_pairing_code_hash'))
    )
    with op.batch_alter_table('kiosk_pairing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_pairing_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('kiosk_pairing')
    op.drop_table('kiosk_device')
