"""Admin sessions kept on the server; event type and API version stored as unbounded text.

Logins made before this revision (signed cookies carrying the user's session token) end with
it: the token column goes, and a login is now a row of admin_session.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 06:44:45.171000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['admin_user.id'], name=op.f('fk_admin_session_user_id_admin_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_admin_session'))
    )
    with op.batch_alter_table('admin_session', schema=None) as batch_op:
        batch_op.create_index('ix_admin_session_user_id', ['user_id'], unique=False)

    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.drop_column('session_token')

    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.alter_column('type',
               existing_type=sa.VARCHAR(length=100),
               type_=sa.Text(),
               existing_nullable=False)
        batch_op.alter_column('api_version',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.Text(),
               existing_nullable=True)


def downgrade():
    # Longer values than the old columns allowed are cut to fit rather than failing the
    # downgrade; the payload column keeps the whole event either way.
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.alter_column('api_version',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=32),
               existing_nullable=True,
               postgresql_using='left(api_version, 32)')
        batch_op.alter_column('type',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=100),
               existing_nullable=False,
               postgresql_using='left(type, 100)')

    # Every user gets a fresh token: the sessions of this revision end with it.
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=False,
                                      server_default=''))
    random_hex = (
        "md5(random()::text || id::text)"
        if op.get_bind().dialect.name == "postgresql"
        else "lower(hex(randomblob(16)))"
    )
    op.execute(f"UPDATE admin_user SET session_token = {random_hex}")

    with op.batch_alter_table('admin_session', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_session_user_id')

    op.drop_table('admin_session')
