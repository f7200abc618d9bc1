"""web_forms: who changed a form and how

Revision ID: 9d2b4f6e1a35
Revises: 6c1e7a94b2d3
Create Date: 2026-12-06 09:25:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = '9d2b4f6e1a35'
down_revision = '6c1e7a94b2d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('web_form_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('officer_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['web_form.id'], name=op.f('fk_web_form_change_form_id_web_form'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_web_form_change_officer_id_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_web_form_change_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_form_change'))
    )
    with op.batch_alter_table('web_form_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_form_change_form_id'), ['form_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_form_change_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('web_form_change')
