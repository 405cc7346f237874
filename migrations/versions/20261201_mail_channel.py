"""the e-mail channel: an outbox row may name its channel (fixed by a producer, or the one that carried
it) and carries what a mail is composed from; a person's address that bounced is remembered

Revision ID: m4i10001chan
Revises: pr1v0001pipl
Create Date: 2026-12-01 11:00:00+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = 'm4i10001chan'
down_revision: str | Sequence[str] | None = 'pr1v0001pipl'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('mail', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_bounced', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('email_bounced_at', sa.TIMESTAMP(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('email_bounced_at')
        batch_op.drop_column('email_bounced')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('mail')
        batch_op.drop_column('channel')
