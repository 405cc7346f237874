"""the programme office's stored briefs (每月简报): one per period, downloaded through a capability link

Revision ID: br1ef0001
Revises: m4i10001chan
Create Date: 2026-12-01 10:55:56.695811+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

# The outbox category column's comment lists the enum (PostgreSQL keeps comments; SQLite has none).
_OLD_COMMENT = (
    'INVITATION: invitation\\nREMINDER: reminder\\nWAITLIST_PROMOTED: waitlist_promoted\\nREGISTRATION_CONFIRMED: '
    'registration_confirmed\\nEVENT_CHANGED: event_changed\\nEVENT_CANCELLED: event_cancelled\\nMATCHED_OPPORTUNITY: '
    'matched_opportunity\\nCREDITS: credits\\nBROADCAST: broadcast\\nDEMAND_FOLLOW_UP: demand_follow_up\\nCOMPETITION: '
    'competition\\nMEETING: meeting'
)
_NEW_COMMENT = _OLD_COMMENT + '\\nBRIEF: brief'


def _category_comment(comment: str, previous: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "outbox_message", "category", existing_type=sa.String(length=24), existing_nullable=False,
            comment=comment, existing_comment=previous,
        )


# revision identifiers, used by Alembic.
revision: str = 'br1ef0001'
down_revision: str | Sequence[str] | None = 'm4i10001chan'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stored_brief',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.String(length=32), nullable=False),
    sa.Column('docx', sa.LargeBinary(), nullable=False),
    sa.Column('generated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period'),
    sa.UniqueConstraint('seed'),
    comment="The programme office's copy of a period's brief (每月简报), made once.",
    sqlite_autoincrement=True
    )
    _category_comment(_NEW_COMMENT, _OLD_COMMENT)


def downgrade() -> None:
    _category_comment(_OLD_COMMENT, _NEW_COMMENT)
    op.drop_table('stored_brief')
