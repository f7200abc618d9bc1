"""e-delivery: the delivery_file table, on the plugin's own branch

Revision ID: 4f2b9d61c0a7
Revises:
Create Date: 2026-12-06 08:00:00

Databases made before the table moved out of the core's initial migration (1d84de406aa8) have it
already, with their files: there this revision adopts it as it is and writes nothing.
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


# revision identifiers, used by Alembic.
revision = '4f2b9d61c0a7'
down_revision = None
branch_labels = ('e_delivery',)
depends_on = '1d84de406aa8'  # tenant, case, officer


def upgrade():
    if sa.inspect(op.get_bind()).has_table('delivery_file'):
        return  # made by the core's initial migration of an earlier release: kept, rows and all
    op.create_table('delivery_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=False),
    sa.Column('wrapped_key', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_delivery_file_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['officer.id'], name=op.f('fk_delivery_file_created_by_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_delivery_file_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_file'))
    )
    with op.batch_alter_table('delivery_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_file_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_file_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('delivery_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_file_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_file_case_id'))

    op.drop_table('delivery_file')
