"""stamp_signature: the proof handed to the chunk jobs kept on the manifest (rotated, then released)

Revision ID: 9e5d1a7c3b42
Revises: 7b4e2c8d1f36
Create Date: 2026-12-06 17:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '9e5d1a7c3b42'
down_revision = '7b4e2c8d1f36'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('proof_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_stamp_manifest_proof_sha256'), ['proof_sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('stamp_manifest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stamp_manifest_proof_sha256'))
        batch_op.drop_column('proof_sha256')
        batch_op.drop_column('proof')
