"""example: visits of the public notice page

Revision ID: 8b3e5f0d2a91
Revises:
Create Date: 2026-12-06 08:00:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = '8b3e5f0d2a91'
down_revision = None
branch_labels = ('example',)
depends_on = '1d84de406aa8'  # the core's tenant table


def upgrade():
    op.create_table('example_notice_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visited_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_example_notice_visit_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_example_notice_visit'))
    )
    with op.batch_alter_table('example_notice_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_example_notice_visit_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_example_notice_visit_visited_at'), ['visited_at'], unique=False)


def downgrade():
    with op.batch_alter_table('example_notice_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_example_notice_visit_visited_at'))
        batch_op.drop_index(batch_op.f('ix_example_notice_visit_tenant_id'))
    op.drop_table('example_notice_visit')
