"""lookup indexes and home viewers

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Adds the indexes behind the slash command's lookups and the App Home's
30-day counts, and the home_viewers table of users whose Home tab is
republished when a bounce changes.

On PostgreSQL it also adds an index on `address COLLATE "C"`, because the
"same local part at another domain" suggestion is a prefix range query and
range comparisons under a language collation (such as en_US.UTF-8) do not
follow byte order. SQLite compares text byte by byte (BINARY), so its primary
key index already serves that query. The index is not in storage.models
because SQLite has no "C" collation.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('home_viewers',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    with op.batch_alter_table('home_viewers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_viewers_opened_at'), ['opened_at'], unique=False)

    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.create_index('ix_bounces_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_bounces_domain_state', ['domain', 'state'], unique=False)
        batch_op.create_index('ix_bounces_state_reason_bounced_on', ['state', 'reason', 'bounced_on'], unique=False)
        batch_op.create_index('ix_bounces_state_changed_at_state', ['state_changed_at', 'state'], unique=False)

    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.create_index('ix_recipients_domain_address', ['domain', 'address'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE INDEX ix_recipients_address_bytes ON recipients (address COLLATE "C")')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX ix_recipients_address_bytes')

    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_domain_address')

    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.drop_index('ix_bounces_state_changed_at_state')
        batch_op.drop_index('ix_bounces_state_reason_bounced_on')
        batch_op.drop_index('ix_bounces_domain_state')
        batch_op.drop_index('ix_bounces_created_at')

    with op.batch_alter_table('home_viewers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_viewers_opened_at'))

    op.drop_table('home_viewers')
