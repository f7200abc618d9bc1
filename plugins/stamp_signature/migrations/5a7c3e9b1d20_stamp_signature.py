"""stamp_signature: manifests and opened documents

Revision ID: 5a7c3e9b1d20
Revises:
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = '5a7c3e9b1d20'
down_revision = None
branch_labels = ('stamp_signature',)
depends_on = '1d84de406aa8'  # tenant, party, document


def upgrade():
    op.create_table('stamp_manifest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stamp_manifest_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stamp_manifest'))
    )
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stamp_manifest_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_stamp_manifest_tenant_id'), ['tenant_id'], unique=False)
    op.create_table('stamp_opened',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_stamp_opened_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_stamp_opened_party_id_party'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stamp_opened_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stamp_opened')),
    sa.UniqueConstraint('party_id', 'document_id', name='uq_stamp_opened_party_document')
    )
    with op.batch_alter_table('stamp_opened', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stamp_opened_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stamp_opened_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stamp_opened', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stamp_opened_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_stamp_opened_party_id'))
    op.drop_table('stamp_opened')
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stamp_manifest_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_stamp_manifest_sha256'))
    op.drop_table('stamp_manifest')
