"""notifications: outbox, broadcasts, activity cursors, per-event reminder offsets

Revision ID: a641257bdca5
Revises: 3ae3b7fdee03
Create Date: 2026-11-26 07:25:27.221034+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = 'a641257bdca5'
down_revision: str | Sequence[str] | None = '3ae3b7fdee03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cursor',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name'),
    comment='How far a reader of the activity log has got (e.g. the notification producer).'
    )
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    comment="An organizer's message to an event's registrants.",
    sqlite_autoincrement=True
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False, comment='INVITATION: invitation\\nREMINDER: reminder\\nWAITLIST_PROMOTED: waitlist_promoted\\nREGISTRATION_CONFIRMED: registration_confirmed\\nEVENT_CHANGED: event_changed\\nEVENT_CANCELLED: event_cancelled\\nMATCHED_OPPORTUNITY: matched_opportunity\\nCREDITS: credits\\nBROADCAST: broadcast'),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('buttons', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('photo', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('urgent', sa.Boolean().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False, comment='QUEUED: queued\\nSENDING: sending\\nSENT: sent\\nFAILED: failed\\nSKIPPED: skipped'),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('not_before', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('lease_until', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('telegram_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('sent_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key'),
    comment='A message to one person, written before it is sent, in the transaction that caused it.',
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('idx_outbox_mess_broadca_32437d', ['broadcast_id'], unique=False)
        batch_op.create_index('idx_outbox_mess_categor_005d71', ['category'], unique=False)
        batch_op.create_index('idx_outbox_mess_event_i_b31018', ['event_id'], unique=False)
        batch_op.create_index('idx_outbox_mess_not_bef_568a0c', ['not_before'], unique=False)
        batch_op.create_index('idx_outbox_mess_status_4cdf01', ['status'], unique=False)
        batch_op.create_index('idx_outbox_mess_status_be3025', ['status', 'not_before'], unique=False)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_minutes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[1440, 120]'))
        batch_op.alter_column('reminder_minutes', server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('reminder_minutes')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('idx_outbox_mess_status_be3025')
        batch_op.drop_index('idx_outbox_mess_status_4cdf01')
        batch_op.drop_index('idx_outbox_mess_not_bef_568a0c')
        batch_op.drop_index('idx_outbox_mess_event_i_b31018')
        batch_op.drop_index('idx_outbox_mess_categor_005d71')
        batch_op.drop_index('idx_outbox_mess_broadca_32437d')

    op.drop_table('outbox_message')
    op.drop_table('broadcast')
    op.drop_table('cursor')
