"""web_forms: framing origins, personal number and email confirmation

Revision ID: e4a8c2f61b09
Revises: b7e3c5a2d816
Create Date: 2026-12-06 11:00:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = 'e4a8c2f61b09'
down_revision = 'b7e3c5a2d816'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('web_form', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame_origins', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('require_personal_number', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('require_confirmation', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('web_form', schema=None) as batch_op:
        batch_op.alter_column('frame_origins', server_default=None)
        batch_op.alter_column('require_personal_number', server_default=None)
        batch_op.alter_column('require_confirmation', server_default=None)

    with op.batch_alter_table('web_form_submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_number', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=False, server_default='sv'))
        batch_op.add_column(sa.Column('confirm_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('confirm_expires_at', core.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', core.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_web_form_submission_confirm_token_hash'),
                                          ['confirm_token_hash'])
    with op.batch_alter_table('web_form_submission', schema=None) as batch_op:
        batch_op.alter_column('language', server_default=None)


def downgrade():
    with op.batch_alter_table('web_form_submission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_web_form_submission_confirm_token_hash'), type_='unique')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirm_expires_at')
        batch_op.drop_column('confirm_token_hash')
        batch_op.drop_column('language')
        batch_op.drop_column('personal_number')
    with op.batch_alter_table('web_form', schema=None) as batch_op:
        batch_op.drop_column('require_confirmation')
        batch_op.drop_column('require_personal_number')
        batch_op.drop_column('frame_origins')
