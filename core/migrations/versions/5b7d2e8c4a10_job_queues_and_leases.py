"""job queues, cases and heartbeats; webhook sequence numbers

Revision ID: 5b7d2e8c4a10
Revises: 7c1e5a2b9f40
Create Date: 2026-12-06 04:30:00

A job names its queue (sealing, mail, webhooks, default) and the case it works for (a job that
gives up says so on that case's timeline); a running job renews `heartbeat_at`, so a dead worker's
job is handed out again within the lease instead of after 15 minutes. Webhook deliveries carry
their case and a per-case sequence number.
"""
import sqlalchemy as sa
from alembic import op

import core.models.base

revision = "5b7d2e8c4a10"
down_revision = "7c1e5a2b9f40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("queue", sa.String(length=20), nullable=False, server_default="default"))
        batch_op.add_column(sa.Column("heartbeat_at", core.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_job_case_id"), ["case_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_job_case_id_case"), "case", ["case_id"], ["id"], ondelete="CASCADE")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.alter_column("queue", server_default=None)
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_column("sequence")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_job_case_id_case"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_job_case_id"))
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("queue")
        batch_op.drop_column("case_id")
