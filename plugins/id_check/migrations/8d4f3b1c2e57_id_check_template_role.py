"""id_check: what a template's role asks (id_check_template_role)

Revision ID: 8d4f3b1c2e57
Revises: 6c1e2a9b7d40
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '8d4f3b1c2e57'
down_revision = '6c1e2a9b7d40'
branch_labels = None
depends_on = 'd26089cd6388'  # case_template


def upgrade():
    op.create_table('id_check_template_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('role_key', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['case_template.id'], name=op.f('fk_id_check_template_role_template_id_case_template'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_id_check_template_role_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_id_check_template_role')),
    sa.UniqueConstraint('template_id', 'role_key', name=op.f('uq_id_check_template_role_template_id'))
    )
    with op.batch_alter_table('id_check_template_role', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_id_check_template_role_template_id'), ['template_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_id_check_template_role_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('id_check_template_role', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_id_check_template_role_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_id_check_template_role_template_id'))
    op.drop_table('id_check_template_role')
