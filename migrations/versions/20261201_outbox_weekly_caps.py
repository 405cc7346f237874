"""the weekly caps count a person's messages of one category since a date: index outbox_message on
(person_id, category, created_at). Publishing an event with 10,000 people on the bot counted each
person's invitations this week by scanning every invitation in the outbox.

Revision ID: o7weekcap1
Revises: h0tevent01
Create Date: 2026-12-01 19:55:00+00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "o7weekcap1"
down_revision: str | None = "h0tevent01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "idx_outbox_mess_person__6c0150"


def upgrade() -> None:
    op.create_index(NAME, "outbox_message", ["person_id", "category", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name="outbox_message")
