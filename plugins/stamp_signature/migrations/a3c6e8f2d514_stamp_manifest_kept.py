"""stamp_signature: manifests the cleanup found named by a signature (kept); orphans are deleted

Revision ID: a3c6e8f2d514
Revises: 9e5d1a7c3b42
Create Date: 2026-12-06 17:10:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base


revision = 'a3c6e8f2d514'
down_revision = '9e5d1a7c3b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_at', core.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.drop_column('kept_at')
