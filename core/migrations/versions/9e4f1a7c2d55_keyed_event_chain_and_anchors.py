"""evidence keys for the event chain; anchors of chain heads

Revision ID: 9e4f1a7c2d55
Revises: 5b7d2e8c4a10
Create Date: 2026-12-06 05:00:00

New events are HMACs under an evidence key from the environment and name it in `event.key_id`;
events already stored keep `key_id` NULL and their plain SHA-256, and verify as before: each intact
chain's plain part is covered here by a keyed MAC (`chain_legacy_cover`), so that a later
"downgrade" of keyed events to plain hashes is found. Anchors keep timestamped Merkle roots over
every case's chain head.
"""
import hashlib
from itertools import groupby

import sqlalchemy as sa
from alembic import op

import core.models.base

revision = "9e4f1a7c2d55"
down_revision = "5b7d2e8c4a10"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "chain_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("previous_root", sa.String(length=64), nullable=True),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("tsa_url", sa.String(length=500), nullable=True),
        sa.Column("token", sa.LargeBinary(), nullable=True),
        sa.Column("timestamped_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_anchor")),
    )
    with op.batch_alter_table("chain_anchor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chain_anchor_created_at"), ["created_at"], unique=False)
    op.create_table(
        "chain_anchor_leaf",
        sa.Column("anchor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["anchor_id"], ["chain_anchor.id"],
                                name=op.f("fk_chain_anchor_leaf_anchor_id_chain_anchor"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("anchor_id", "case_id", name=op.f("pk_chain_anchor_leaf")),
    )
    with op.batch_alter_table("chain_anchor_leaf", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chain_anchor_leaf_case_id"), ["case_id"], unique=False)


    op.create_table(
        "chain_legacy_cover",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_chain_legacy_cover")),
    )
    cover_existing_chains(op.get_bind())


EVENT = sa.table(
    "event", *(sa.column(name, sa.Integer()) for name in ("case_id", "tenant_id", "seq", "actor_id")),
    *(sa.column(name, sa.String()) for name in ("kind", "actor_type", "actor_label", "ip", "user_agent",
                                                "prev_hash", "hash")),
    sa.column("data", sa.JSON()), sa.column("created_at", core.models.base.UTCDateTime(timezone=True)))
CASE = sa.table("case", sa.column("id", sa.Integer()), sa.column("event_head", sa.String()))
COVER = sa.table("chain_legacy_cover", *(sa.column(n, sa.Integer()) for n in ("case_id", "tenant_id", "event_count")),
                 *(sa.column(n, sa.String()) for n in ("head", "key_id", "mac")))


def cover_existing_chains(bind) -> None:
    """Every intact chain stored so far gets its keyed cover; a broken one is left for verify to report."""
    from flask import current_app

    from core.cases.events import GENESIS, canonical, legacy_mac, parse_keys

    key_id, key = next(iter(parse_keys(current_app.config.get("EVIDENCE_KEYS"),
                                       current_app.config["SECRET_KEY"]).items()))
    heads = dict(bind.execute(sa.select(CASE.c.id, CASE.c.event_head)).all())
    rows = bind.execute(sa.select(EVENT).order_by(EVENT.c.case_id, EVENT.c.seq)).mappings()
    covers = []
    for case_id, chain in groupby(rows, key=lambda row: row["case_id"]):
        chain = list(chain)
        expected_prev, intact = GENESIS, True
        for position, e in enumerate(chain, start=1):
            body = canonical(e["case_id"], e["seq"], e["kind"], e["actor_type"], e["actor_id"], e["actor_label"] or "",
                             e["data"] or {}, e["ip"], e["user_agent"], e["created_at"], e["prev_hash"])
            intact &= (e["seq"] == position and e["prev_hash"] == expected_prev
                       and hashlib.sha256(body).hexdigest() == e["hash"])
            expected_prev = e["hash"]
        last = chain[-1]
        if intact and heads.get(case_id) == last["hash"]:
            covers.append({"case_id": case_id, "tenant_id": last["tenant_id"], "event_count": last["seq"],
                           "head": last["hash"], "key_id": key_id,
                           "mac": legacy_mac(key, case_id, last["tenant_id"], last["seq"], last["hash"])})
    if covers:
        bind.execute(sa.insert(COVER), covers)


def downgrade():
    op.drop_table("chain_legacy_cover")
    op.drop_table("chain_anchor_leaf")
    op.drop_table("chain_anchor")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
