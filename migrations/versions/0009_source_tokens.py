"""Source tokens: the membership API's bearer tokens, one source each, stored as SHA-256.

One new table, empty at first: no system may PUT memberships until the newsroom makes a token.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:45:23.252896

"""

import sqlalchemy as sa
from alembic import op

import membership.models.base

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "source_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", membership.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", membership.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_source_token_token_hash")),
    )
    with op.batch_alter_table("source_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_token_source"), ["source"], unique=False)


def downgrade():
    with op.batch_alter_table("source_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_token_source"))
    op.drop_table("source_token")
