"""web_forms: a template's public form and its submissions, on the plugin's own branch

Revision ID: 6c1e7a94b2d3
Revises:
Create Date: 2026-12-06 09:05:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = '6c1e7a94b2d3'
down_revision = None
branch_labels = ('web_forms',)
depends_on = 'd26089cd6388'  # case_template (and tenant, case, party, officer before it)


def upgrade():
    op.create_table('web_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('role_key', sa.String(length=80), nullable=False),
    sa.Column('require_phone', sa.Boolean(), nullable=False),
    sa.Column('thank_you', sa.Text(), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['officer.id'], name=op.f('fk_web_form_owner_id_officer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['case_template.id'], name=op.f('fk_web_form_template_id_case_template'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_web_form_tenant_id_tenant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['officer.id'], name=op.f('fk_web_form_updated_by_id_officer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_form')),
    sa.UniqueConstraint('slug', name=op.f('uq_web_form_slug')),
    sa.UniqueConstraint('template_id', name=op.f('uq_web_form_template_id'))
    )
    with op.batch_alter_table('web_form', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_form_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('web_form_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_web_form_submission_case_id_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['form_id'], ['web_form.id'], name=op.f('fk_web_form_submission_form_id_web_form'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_web_form_submission_party_id_party'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_web_form_submission_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_form_submission')),
    sa.UniqueConstraint('form_id', 'idempotency_key', name='uq_web_form_submission_key')
    )
    with op.batch_alter_table('web_form_submission', schema=None) as batch_op:
        batch_op.create_index('ix_web_form_submission_form_created', ['form_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_form_submission_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('web_form_submission')
    op.drop_table('web_form')
