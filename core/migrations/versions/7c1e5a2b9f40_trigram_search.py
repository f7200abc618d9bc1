"""trigram indexes for free-text case search (PostgreSQL only)

Revision ID: 7c1e5a2b9f40
Revises: 1d84de406aa8
Create Date: 2026-11-28 08:05:00

Titles, party names and addresses are searched with ILIKE '%text%'; pg_trgm's GIN indexes let
PostgreSQL answer that without scanning. SQLite (development) keeps scanning.
"""
from alembic import op

revision = "7c1e5a2b9f40"
down_revision = "1d84de406aa8"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_case_title_trgm", "case", "title"),
    ("ix_party_name_trgm", "party", "name"),
    ("ix_party_email_trgm", "party", "email"),
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
