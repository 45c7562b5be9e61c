"""Notifications: a campaign's channels, its weekly digest, and the outbox of deliveries.

Three new tables, all empty at first: no campaign has a channel or a digest until the newsroom
adds one, so nothing is sent for what happened before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:45:58.452683

"""

import sqlalchemy as sa
from alembic import op

import membership.models.base

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notify_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("milestones", sa.Text(), nullable=False),
        sa.Column("created_at", membership.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('slack', 'email', 'webhook')", name=op.f("ck_notify_channel_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_notify_channel_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_channel")),
    )
    with op.batch_alter_table("notify_channel", schema=None) as batch_op:
        batch_op.create_index("ix_notify_channel_campaign_id", ["campaign_id"], unique=False)

    op.create_table(
        "notify_digest",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("since", membership.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_notify_digest_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_notify_digest")),
    )
    op.create_table(
        "notify_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("notice_key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("milestone", sa.String(length=80), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", membership.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", membership.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_attempt_at", membership.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("delivered_at", membership.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f("ck_notify_delivery_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_notify_delivery_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notify_channel.id"],
            name=op.f("fk_notify_delivery_channel_id_notify_channel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_delivery")),
        sa.UniqueConstraint("channel_id", "notice_key", name=op.f("uq_notify_delivery_channel_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_notify_delivery_public_id")),
    )
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_notify_delivery_campaign_id", ["campaign_id", "id"], unique=False)
        batch_op.create_index("ix_notify_delivery_due", ["status", "due_at"], unique=False)


def downgrade():
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_delivery_due")
        batch_op.drop_index("ix_notify_delivery_campaign_id")

    op.drop_table("notify_delivery")
    op.drop_table("notify_digest")
    with op.batch_alter_table("notify_channel", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_channel_campaign_id")

    op.drop_table("notify_channel")
