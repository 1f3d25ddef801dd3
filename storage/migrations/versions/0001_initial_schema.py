"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('header_ts', sa.String(length=32), nullable=True),
    sa.Column('header_permalink', sa.String(length=500), nullable=True),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('posted_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('digest_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_runs_day'), ['day'], unique=False)

    op.create_table('locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('recipients',
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('corrected_to', sa.String(length=320), nullable=True),
    sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('corrected_by', sa.String(length=64), nullable=True),
    sa.Column('reactivation_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reactivation_requested_by', sa.String(length=64), nullable=True),
    sa.Column('reactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reactivated_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('address')
    )
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipients_domain'), ['domain'], unique=False)

    op.create_table('bounces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('bounced_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_changed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('pending_action', sa.String(length=64), nullable=True),
    sa.Column('pending_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('previous_bounce_id', sa.Integer(), nullable=True),
    sa.Column('digest_run_id', sa.Integer(), nullable=True),
    sa.Column('slack_channel', sa.String(length=32), nullable=True),
    sa.Column('slack_ts', sa.String(length=32), nullable=True),
    sa.Column('slack_permalink', sa.String(length=500), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['address'], ['recipients.address'], ),
    sa.ForeignKeyConstraint(['digest_run_id'], ['digest_runs.id'], ),
    sa.ForeignKeyConstraint(['previous_bounce_id'], ['bounces.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slack_channel', 'slack_ts', name='uq_bounces_slack_message')
    )
    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounces_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_bounces_domain'), ['domain'], unique=False)
        batch_op.create_index('ix_bounces_group', ['address', 'bounced_on', 'reason'], unique=False)
        batch_op.create_index('ix_bounces_state_bounced_on', ['state', 'bounced_on'], unique=False)
        batch_op.create_index('ix_bounces_unposted', ['slack_ts', 'bounced_on'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bounce_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=320), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['bounce_id'], ['bounces.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_bounce_id'), ['bounce_id'], unique=False)

    op.create_table('bounce_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bounce_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.Column('document_key', sa.String(length=200), nullable=False),
    sa.Column('client', sa.String(length=500), nullable=False),
    sa.Column('original_address', sa.String(length=1000), nullable=False),
    sa.Column('reason_text', sa.String(length=500), nullable=False),
    sa.Column('error_code', sa.String(length=200), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_name', sa.String(length=500), nullable=False),
    sa.Column('source_line', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bounce_id'], ['bounces.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint')
    )
    with op.batch_alter_table('bounce_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounce_documents_bounce_id'), ['bounce_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bounce_documents_document_key'), ['document_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bounce_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounce_documents_document_key'))
        batch_op.drop_index(batch_op.f('ix_bounce_documents_bounce_id'))

    op.drop_table('bounce_documents')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_bounce_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_address'))

    op.drop_table('audit_log')
    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.drop_index('ix_bounces_unposted')
        batch_op.drop_index('ix_bounces_state_bounced_on')
        batch_op.drop_index('ix_bounces_group')
        batch_op.drop_index(batch_op.f('ix_bounces_domain'))
        batch_op.drop_index(batch_op.f('ix_bounces_address'))

    op.drop_table('bounces')
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipients_domain'))

    op.drop_table('recipients')
    op.drop_table('locks')
    with op.batch_alter_table('digest_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_runs_day'))

    op.drop_table('digest_runs')
