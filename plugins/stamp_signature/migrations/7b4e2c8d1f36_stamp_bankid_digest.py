"""stamp_signature: the party a manifest's method proved for (BankID orders), and digest emails sent

Revision ID: 7b4e2c8d1f36
Revises: 5a7c3e9b1d20
Create Date: 2026-12-06 11:00:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = '7b4e2c8d1f36'
down_revision = '5a7c3e9b1d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('party_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_stamp_manifest_party_id_party'), 'party', ['party_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_stamp_manifest_party_id'), ['party_id'], unique=False)
    op.create_table('stamp_digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('sent_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stamp_digest_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stamp_digest')),
    sa.UniqueConstraint('tenant_id', 'email', name='uq_stamp_digest_tenant_email')
    )
    with op.batch_alter_table('stamp_digest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stamp_digest_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('stamp_digest')
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stamp_manifest_party_id'))
        batch_op.drop_constraint(batch_op.f('fk_stamp_manifest_party_id_party'), type_='foreignkey')
        batch_op.drop_column('party_id')
