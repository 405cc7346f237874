"""no secrets at rest: capability tokens become seeds, stored replies are sealed

Calendar feed and transcript tokens are now derived from a stored seed with the at-rest key in
DATA_DIR (events/secretbox.py), so the database no longer holds them. The tokens stored so far are
plain secrets and cannot be turned into seeds: calendar tokens are cleared (a new feed link is made on
the next request, as for someone who never asked for one) and each broker's transcript address gets a
new seed (old addresses answer 404; the bot's /credits and POST …/transcript-link give the new one).
Idempotency records kept replies (with new API tokens and registration secrets) in the clear: they
live 24 hours and are dropped.

Revision ID: c11a0000edge
Revises: b358123ccdc9
Create Date: 2026-11-30 09:00:00.000000+00:00

"""
import secrets
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c11a0000edge'
down_revision: str | Sequence[str] | None = 'c11c0000cert'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM idempotency_record"))
    bind.execute(sa.text("UPDATE person SET calendar_token = NULL WHERE calendar_token IS NOT NULL"))
    bind.execute(sa.text("UPDATE registration SET calendar_token = NULL WHERE calendar_token IS NOT NULL"))
    broker_ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM broker"))]
    for broker_id in broker_ids:
        bind.execute(
            sa.text("UPDATE broker SET transcript_token = :seed WHERE id = :id"),
            {"seed": secrets.token_urlsafe(12), "id": broker_id},
        )


def downgrade() -> None:
    # The old tokens are gone for good; the seeds left behind are harmless random strings.
    pass
