"""Ledger, events and campaigns: the first schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 00:33:18.793529

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('goal', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('baseline', sa.Integer(), nullable=False),
    sa.Column('headline', sa.String(length=200), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('cta_label', sa.String(length=80), nullable=False),
    sa.Column('cta_url', sa.String(length=500), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("rule IN ('active', 'new')", name=op.f('ck_campaign_rule_known')),
    sa.CheckConstraint('goal > 0', name=op.f('ck_campaign_goal_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    sa.UniqueConstraint('slug', name=op.f('uq_campaign_slug'))
    )
    op.create_table('ledger_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_state'))
    )
    # The single row every ledger writer locks; it must exist before the first webhook.
    op.execute("INSERT INTO ledger_state (id, version, changed_at) VALUES (1, 0, CURRENT_TIMESTAMP)")
    op.create_table('member',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('active_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lapsed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_member'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_active_until'), ['active_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_first_started_at'), ['first_started_at'], unique=False)

    op.create_table('refund',
    sa.Column('payment_intent', sa.String(length=255), nullable=False),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('payment_intent', name=op.f('pk_refund'))
    )
    op.create_table('stripe_event',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('api_version', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('applied', 'ignored', 'failed')", name=op.f('ck_stripe_event_outcome_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_event'))
    )
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.create_index('ix_stripe_event_outcome', ['outcome'], unique=False)
        batch_op.create_index('ix_stripe_event_received_at', ['received_at'], unique=False)

    op.create_table('adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_adjustment_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment'))
    )
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.create_index('ix_adjustment_campaign_id', ['campaign_id'], unique=False)

    op.create_table('membership',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('member_key', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_rank', sa.Integer(), nullable=False),
    sa.Column('state_event_id', sa.String(length=255), nullable=False),
    sa.Column('final_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded', sa.Boolean(), nullable=False),
    sa.Column('payment_intent', sa.String(length=255), nullable=True),
    sa.Column('active_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('subscription', 'payment')", name=op.f('ck_membership_kind_known')),
    sa.CheckConstraint("state IN ('pending', 'active', 'lapsed')", name=op.f('ck_membership_state_known')),
    sa.ForeignKeyConstraint(['member_key'], ['member.key'], name=op.f('fk_membership_member_key_member')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_membership'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_member_key'), ['member_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_payment_intent'), ['payment_intent'], unique=False)



def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_payment_intent'))
        batch_op.drop_index(batch_op.f('ix_membership_member_key'))

    op.drop_table('membership')
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.drop_index('ix_adjustment_campaign_id')

    op.drop_table('adjustment')
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.drop_index('ix_stripe_event_received_at')
        batch_op.drop_index('ix_stripe_event_outcome')

    op.drop_table('stripe_event')
    op.drop_table('refund')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_first_started_at'))
        batch_op.drop_index(batch_op.f('ix_member_active_until'))

    op.drop_table('member')
    op.drop_table('ledger_state')
    op.drop_table('campaign')
