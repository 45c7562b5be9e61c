"""A provider-neutral ledger: keys carry their source, one event table for every source.

- stripe_event becomes event, keyed by (source, id); every stored event is Stripe's.
- member, membership and refund keys gain their source's prefix (cus_1 -> stripe:cus_1), and
  member and membership a source column, so a later source's ids can never collide.
- membership.payment_intent becomes payment; membership kinds are the ledger's own words:
  subscription -> recurring, payment -> one-off.

Counts do not change: the same rows, renamed. Downgrading is possible while every row is
Stripe's; it refuses otherwise, because the old schema has no way to say whose a key is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PREFIX = "stripe:"
EVENT_COLUMNS = (
    "id, type, created, livemode, api_version, outcome, detail, payload, duplicates, "
    "attempts, received_at, processed_at"
)


def _event_columns(source_key: bool) -> list:
    key = [sa.Column('source', sa.String(length=32), nullable=False)] if source_key else []
    return key + [
        sa.Column('id', sa.String(length=255), nullable=False),
        sa.Column('type', sa.Text(), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=source_key),
        sa.Column('api_version', sa.Text(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('duplicates', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade():
    # The events: a new table keyed by (source, id), filled from the old one.
    op.create_table(
        'event',
        *_event_columns(source_key=True),
        sa.CheckConstraint("outcome IN ('applied', 'ignored', 'failed')",
                           name=op.f('ck_event_outcome_known')),
        sa.PrimaryKeyConstraint('source', 'id', name=op.f('pk_event')),
    )
    op.execute(
        f"INSERT INTO event (source, {EVENT_COLUMNS}) "
        f"SELECT 'stripe', {EVENT_COLUMNS} FROM stripe_event"
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_outcome', ['outcome'], unique=False)
        batch_op.create_index('ix_event_received_at', ['received_at'], unique=False)
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.drop_index('ix_stripe_event_received_at')
        batch_op.drop_index('ix_stripe_event_outcome')
    op.drop_table('stripe_event')

    # Memberships let go of their members while both keys change, then hold on again.
    op.drop_index('ix_membership_payment_intent', table_name='membership')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_membership_member_key_member'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_membership_kind_known'), type_='check')
        batch_op.alter_column('payment_intent', new_column_name='payment',
                              existing_type=sa.String(length=255), existing_nullable=True)
        batch_op.add_column(sa.Column('source', sa.String(length=32), nullable=False,
                                      server_default='stripe'))
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=32), nullable=False,
                                      server_default='stripe'))
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.alter_column('payment_intent', new_column_name='payment',
                              existing_type=sa.String(length=255), existing_nullable=False)

    op.execute(f"UPDATE member SET key = '{PREFIX}' || key")
    op.execute(
        f"UPDATE membership SET key = '{PREFIX}' || key, member_key = '{PREFIX}' || member_key, "
        f"payment = CASE WHEN payment IS NULL THEN NULL ELSE '{PREFIX}' || payment END, "
        "kind = CASE kind WHEN 'subscription' THEN 'recurring' ELSE 'one-off' END"
    )
    op.execute(f"UPDATE refund SET payment = '{PREFIX}' || payment")

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.alter_column('source', server_default=None,
                              existing_type=sa.String(length=32), existing_nullable=False)
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.alter_column('source', server_default=None,
                              existing_type=sa.String(length=32), existing_nullable=False)
        batch_op.create_check_constraint('kind_known', "kind IN ('recurring', 'one-off')")
        batch_op.create_foreign_key(op.f('fk_membership_member_key_member'), 'member',
                                    ['member_key'], ['key'])
    op.create_index('ix_membership_payment', 'membership', ['payment'], unique=False)


def downgrade():
    bind = op.get_bind()
    others = bind.execute(sa.text(
        "SELECT (SELECT count(*) FROM event WHERE source <> 'stripe') "
        "+ (SELECT count(*) FROM member WHERE source <> 'stripe')"
    )).scalar()
    if others:
        raise RuntimeError(
            "cannot downgrade below 0004: the ledger holds events or members of sources other "
            "than Stripe, which the old schema cannot tell apart"
        )
    cut = len(PREFIX) + 1

    op.drop_index('ix_membership_payment', table_name='membership')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_membership_member_key_member'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_membership_kind_known'), type_='check')
    op.execute(f"UPDATE member SET key = substr(key, {cut})")
    op.execute(
        f"UPDATE membership SET key = substr(key, {cut}), member_key = substr(member_key, {cut}), "
        f"payment = CASE WHEN payment IS NULL THEN NULL ELSE substr(payment, {cut}) END, "
        "kind = CASE kind WHEN 'recurring' THEN 'subscription' ELSE 'payment' END"
    )
    op.execute(f"UPDATE refund SET payment = substr(payment, {cut})")
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.alter_column('payment', new_column_name='payment_intent',
                              existing_type=sa.String(length=255), existing_nullable=False)
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.alter_column('payment', new_column_name='payment_intent',
                              existing_type=sa.String(length=255), existing_nullable=True)
        batch_op.create_check_constraint('kind_known', "kind IN ('subscription', 'payment')")
        batch_op.create_foreign_key(op.f('fk_membership_member_key_member'), 'member',
                                    ['member_key'], ['key'])
    op.create_index('ix_membership_payment_intent', 'membership', ['payment_intent'], unique=False)

    op.create_table(
        'stripe_event',
        *_event_columns(source_key=False),
        sa.CheckConstraint("outcome IN ('applied', 'ignored', 'failed')",
                           name=op.f('ck_stripe_event_outcome_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_event')),
    )
    op.execute(
        f"INSERT INTO stripe_event ({EVENT_COLUMNS}) "
        f"SELECT {EVENT_COLUMNS} FROM event WHERE source = 'stripe'"
    )
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.create_index('ix_stripe_event_outcome', ['outcome'], unique=False)
        batch_op.create_index('ix_stripe_event_received_at', ['received_at'], unique=False)
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_received_at')
        batch_op.drop_index('ix_event_outcome')
    op.drop_table('event')
