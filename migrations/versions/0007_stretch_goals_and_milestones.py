"""Stretch goals and milestones: two campaign settings, and a table of crossings.

Every existing campaign gets no stretch goal and no milestone but its goal (both settings
empty), so every figure stays as it was. The milestone table starts empty: a crossing is
recorded when it is next detected.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:42:51.165033

"""
from alembic import op
import sqlalchemy as sa

import membership.models.base


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('crossed_at', membership.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('announced', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_milestone_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone')),
    sa.UniqueConstraint('campaign_id', 'label', name=op.f('uq_milestone_campaign_id'))
    )
    # Plain ADD COLUMNs: on SQLite, rebuilding campaign (batch mode) would drop a table that
    # adjustments, copy and sources refer to. NOT NULL needs a default there.
    for column in ('stretch_goals', 'milestones'):
        op.add_column('campaign', sa.Column(column, sa.Text(), nullable=False, server_default=''))
        if op.get_bind().dialect.name == "postgresql":
            op.alter_column('campaign', column, server_default=None)


def downgrade():
    op.drop_column('campaign', 'milestones')
    op.drop_column('campaign', 'stretch_goals')
    op.drop_table('milestone')
