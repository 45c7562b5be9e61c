"""An index on each source's events by arrival: its latest event (the dashboard's summary and
/metrics' last-event age) without scanning the source's every row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:11:21.985345

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_source_received_at", ["source", "received_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_source_received_at")
