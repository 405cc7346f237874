"""bot: registration questions, invitation preferences, quiet hours, opt-outs, blocked flag, person roles, handled update ids

Revision ID: 3ae3b7fdee03
Revises: 80a82498373c
Create Date: 2026-11-26 07:01:31.232234+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '3ae3b7fdee03'
down_revision: str | Sequence[str] | None = '80a82498373c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('telegram_update',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('received_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('update_id'),
    comment='Update ids already handled, so a webhook delivery Telegram repeats is handled once.'
    )
    op.create_table('person_role',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('event_ids', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('granted_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'role', name='uid_person_role_person__fa6b33'),
    comment='A role held by a person in the bot (door staff scanning in the Mini App, organizers).',
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pref_districts', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('pref_topics', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('pref_kinds', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('opted_out', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('quiet_start', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('quiet_end', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('telegram_blocked_at', sa.TIMESTAMP(timezone=True), nullable=True))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))

    # The defaults only filled existing rows; the models set these values themselves.
    with op.batch_alter_table('person', schema=None) as batch_op:
        for column in ('pref_districts', 'pref_topics', 'pref_kinds', 'opted_out'):
            batch_op.alter_column(column, server_default=None)
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('questions', server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('questions')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('telegram_blocked_at')
        batch_op.drop_column('quiet_end')
        batch_op.drop_column('quiet_start')
        batch_op.drop_column('opted_out')
        batch_op.drop_column('pref_kinds')
        batch_op.drop_column('pref_topics')
        batch_op.drop_column('pref_districts')

    op.drop_table('person_role')
    op.drop_table('telegram_update')
