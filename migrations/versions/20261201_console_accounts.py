"""console accounts: a person's sign-in to the organizer console (argon2 password hash, lock-out),
its sessions, one-time sign-in links, the audit of sign-ins, and the account that made an API token

Revision ID: acc0unts01
Revises: s1te0001web
Create Date: 2026-12-01 11:43:04.425344+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

# The outbox category column's comment lists the enum (PostgreSQL keeps comments; SQLite has none).
_OLD_COMMENT = (
    'INVITATION: invitation\\nREMINDER: reminder\\nWAITLIST_PROMOTED: waitlist_promoted\\nREGISTRATION_CONFIRMED: '
    'registration_confirmed\\nEVENT_CHANGED: event_changed\\nEVENT_CANCELLED: event_cancelled\\nMATCHED_OPPORTUNITY: '
    'matched_opportunity\\nCREDITS: credits\\nBROADCAST: broadcast\\nDEMAND_FOLLOW_UP: demand_follow_up\\nCOMPETITION: '
    'competition\\nMEETING: meeting\\nBRIEF: brief'
)
_NEW_COMMENT = _OLD_COMMENT + '\\nSIGNIN: signin'


def _category_comment(comment: str, previous: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "outbox_message", "category", existing_type=sa.String(length=24), existing_nullable=False,
            comment=comment, existing_comment=previous,
        )


# revision identifiers, used by Alembic.
revision: str = 'acc0unts01'
down_revision: str | Sequence[str] | None = 's1te0001web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('login', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('password_changed_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('last_signin_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login'),
    sa.UniqueConstraint('person_id'),
    comment="A person's console sign-in. ``login`` is the name they type (an e-mail address or a phone",
    sqlite_autoincrement=True
    )
    op.create_table('account_session',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('revoked_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    comment='A signed-in browser. The cookie holds a random key; only its SHA-256 is stored here.',
    sqlite_autoincrement=True
    )
    op.create_table('signin_attempt',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False, comment='SUCCESS: success\\nFAILURE: failure\\nLOCKED: locked\\nRATE_LIMITED: rate_limited\\nLINK_SENT: link_sent\\nLINK: link\\nLINK_REFUSED: link_refused'),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    comment='The audit of sign-ins: every attempt, its outcome, when and from where. The per-address limit',
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('signin_attempt', schema=None) as batch_op:
        batch_op.create_index('idx_signin_atte_account_370f29', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('idx_signin_atte_ip_c6b750', ['ip', 'created_at'], unique=False)

    op.create_table('signin_link',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('seed', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('expires_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('used_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seed'),
    comment='A one-time sign-in link sent through the bot or by e-mail. The row keeps a random seed; the',
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('api_token_account_id_fkey', 'account', ['account_id'], ['id'], ondelete='SET NULL')

    _category_comment(_NEW_COMMENT, _OLD_COMMENT)



def downgrade() -> None:
    _category_comment(_OLD_COMMENT, _NEW_COMMENT)
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_constraint('api_token_account_id_fkey', type_='foreignkey')
        batch_op.drop_column('account_id')

    op.drop_table('signin_link')
    with op.batch_alter_table('signin_attempt', schema=None) as batch_op:
        batch_op.drop_index('idx_signin_atte_ip_c6b750')
        batch_op.drop_index('idx_signin_atte_account_370f29')

    op.drop_table('signin_attempt')
    op.drop_table('account_session')
    op.drop_table('account')
