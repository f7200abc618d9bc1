"""web_forms: a form's closing day and most submissions

Revision ID: b7e3c5a2d816
Revises: 9d2b4f6e1a35
Create Date: 2026-12-06 09:27:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e3c5a2d816'
down_revision = '9d2b4f6e1a35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('web_form', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closes_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('max_submissions', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('web_form', schema=None) as batch_op:
        batch_op.drop_column('max_submissions')
        batch_op.drop_column('closes_on')
