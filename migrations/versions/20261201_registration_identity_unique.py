"""one live registration per identity and event, enforced by the database: partial unique indexes on
(event_id, phone), (event_id, email) and (event_id, telegram_id) over pending, confirmed and
waitlisted registrations. The registration service already refuses such a duplicate under the
event's lock; the index lets PostgreSQL's one-statement registration (no lock held across round
trips) refuse it too.

Revision ID: h0tevent01
Revises: c0nsearch01
Create Date: 2026-12-01 13:40:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h0tevent01"
down_revision: str | None = "c0nsearch01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('confirmed', 'waitlisted', 'pending')"
INDEXES = {
    "uniq_registration_live_phone": "phone",
    "uniq_registration_live_email": "email",
    "uniq_registration_live_telegram": "telegram_id",
}


def upgrade() -> None:
    for name, column in INDEXES.items():
        where = sa.text(f"{column} IS NOT NULL AND {LIVE}")
        op.create_index(
            name, "registration", ["event_id", column], unique=True, postgresql_where=where, sqlite_where=where
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="registration")
