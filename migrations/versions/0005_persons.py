"""One reader, one member: persons, and the identity fingerprints that link accounts to them.

Every existing member becomes its own person (no fingerprint was ever taken before this
revision), with the same figures, so every count stays as it was.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:01:06.378449

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('active_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lapsed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_person'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_active_until'), ['active_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_first_started_at'), ['first_started_at'], unique=False)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity', sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f('ix_event_identity'), ['identity'], unique=False)

    # Plain ADD COLUMNs: on SQLite, rebuilding member (batch mode) would drop a table that
    # memberships refer to. NOT NULL needs a default there; every row is then set.
    op.add_column('member', sa.Column('identity', sa.String(length=80), nullable=True))
    op.add_column('member', sa.Column('person_key', sa.String(length=255), nullable=False,
                                      server_default=''))
    op.execute("UPDATE member SET person_key = key")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('member', 'person_key', server_default=None)
    op.execute(
        "INSERT INTO person (key, active_until, first_started_at, lapsed_at) "
        "SELECT key, active_until, first_started_at, lapsed_at FROM member"
    )
    op.create_index('ix_member_person_key', 'member', ['person_key'], unique=False)


def downgrade():
    op.drop_index('ix_member_person_key', table_name='member')
    op.drop_column('member', 'person_key')
    op.drop_column('member', 'identity')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_identity'))
        batch_op.drop_column('identity')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_first_started_at'))
        batch_op.drop_index(batch_op.f('ix_person_active_until'))

    op.drop_table('person')
