"""Campaigns choose what counts: the sources they count and the offers that are memberships.

campaign_source is empty for every existing campaign, which means "every source, everything
in it": every count stays as it was. membership_offer starts empty too; memberships gain their
offers as their events arrive, and `flask events offers` fills them in from the stored events
before a campaign narrows its definition.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:39:03.639832

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_source',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('offers', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_source_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'source', name=op.f('pk_campaign_source'))
    )
    op.create_table('membership_offer',
    sa.Column('membership_key', sa.String(length=255), nullable=False),
    sa.Column('offer', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['membership_key'], ['membership.key'], name=op.f('fk_membership_offer_membership_key_membership'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('membership_key', 'offer', name=op.f('pk_membership_offer'))
    )
    with op.batch_alter_table('membership_offer', schema=None) as batch_op:
        batch_op.create_index('ix_membership_offer_offer', ['offer'], unique=False)



def downgrade():
    with op.batch_alter_table('membership_offer', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_offer_offer')

    op.drop_table('membership_offer')
    op.drop_table('campaign_source')
