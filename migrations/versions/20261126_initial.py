"""initial: people, events, registrations, API tokens, idempotency records, activity

Revision ID: 12a980cb0ec0
Revises:
Create Date: 2026-11-26 06:15:46.783660+00:00

The tables exactly as Tortoise generates them from events/models, on SQLite and on PostgreSQL alike:
Tortoise's index and constraint names, JSONB and TIMESTAMPTZ on PostgreSQL, and AUTOINCREMENT on
SQLite so that ids are never reused. Column comments are the ones Tortoise writes on PostgreSQL
(its escaping leaves a literal backslash-n between enum members).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "12a980cb0ec0"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tortoise's types on each dialect: JSON / JSONB, INT / BOOL, REAL / DOUBLE PRECISION.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BOOL = sa.Boolean().with_variant(sa.Integer(), "sqlite")
DOUBLE = sa.Double().with_variant(sa.REAL(), "sqlite")
TIMESTAMPTZ = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("organization", sa.String(length=200), nullable=True),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("telegram_id"),
        comment="Someone the platform knows: an attendee, a broker, a judge. Found by telegram_id, phone or email.",
        sqlite_autoincrement=True,
    )
    op.create_index("idx_person_phone_3ec095", "person", ["phone"], unique=False)
    op.create_index("idx_person_email_81596b", "person", ["email"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="SESSION: session\\nCOMPETITION: competition\\nROADSHOW: roadshow\\nFAIR: fair"
            "\\nTRAINING: training",
        ),
        sa.Column("series", sa.String(length=50), nullable=True),
        sa.Column("district", sa.String(length=32), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("latitude", DOUBLE, nullable=True),
        sa.Column("longitude", DOUBLE, nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", TIMESTAMPTZ, nullable=False),
        sa.Column("ends_at", TIMESTAMPTZ, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("waitlist_enabled", BOOL, nullable=False),
        sa.Column("requires_approval", BOOL, nullable=False),
        sa.Column("registration_opens_at", TIMESTAMPTZ, nullable=True),
        sa.Column("registration_closes_at", TIMESTAMPTZ, nullable=True),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="DRAFT: draft\\nPUBLISHED: published\\nCANCELLED: cancelled\\nFINISHED: finished",
        ),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("waitlist_length", sa.Integer(), nullable=False),
        sa.Column("waitlist_seq", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("published_at", TIMESTAMPTZ, nullable=True),
        sa.Column("cancelled_at", TIMESTAMPTZ, nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("idx_event_series_d7ce59", "event", ["series"], unique=False)
    op.create_index("idx_event_distric_843121", "event", ["district"], unique=False)
    op.create_index("idx_event_starts__041da6", "event", ["starts_at"], unique=False)
    op.create_index("idx_event_status_69f524", "event", ["status"], unique=False)

    op.create_table(
        "registration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="CONFIRMED: confirmed\\nWAITLISTED: waitlisted\\nPENDING: pending\\nCANCELLED: cancelled"
            "\\nREJECTED: rejected",
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("waitlist_order", sa.Integer(), nullable=True),
        sa.Column("access_secret_hash", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=False),
        sa.Column("confirmed_at", TIMESTAMPTZ, nullable=True),
        sa.Column("cancelled_at", TIMESTAMPTZ, nullable=True),
        sa.Column("decided_at", TIMESTAMPTZ, nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("access_secret_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("idx_registratio_event_i_470494", "registration", ["event_id", "status"], unique=False)
    op.create_index("idx_registratio_event_i_e0df5e", "registration", ["event_id", "phone"], unique=False)
    op.create_index("idx_registratio_event_i_ea6ea0", "registration", ["event_id", "email"], unique=False)
    op.create_index("idx_registratio_event_i_d6b65d", "registration", ["event_id", "telegram_id"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.String(length=16),
            nullable=False,
            comment="ADMIN: admin\\nORGANIZER: organizer\\nCHECKER: checker\\nJUDGE: judge",
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("last_used_at", TIMESTAMPTZ, nullable=True),
        sa.Column("revoked_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        comment="A bearer token. Only its SHA-256 is stored; the token itself is shown once, at creation.",
        sqlite_autoincrement=True,
    )

    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("caller", sa.String(length=80), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_headers", JSON, nullable=True),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("completed_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "caller", name="uid_idempotency_key_6fbb2f"),
        comment="The first response to a POST carrying an Idempotency-Key, replayed for the same key and caller.",
        sqlite_autoincrement=True,
    )

    op.create_table(
        "activity",
        # BIGSERIAL on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY (64-bit anyway).
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        comment="An append-only fact, written in the transaction of the change it records.",
        sqlite_autoincrement=True,
    )
    op.create_index("idx_activity_kind_feed3e", "activity", ["kind"], unique=False)
    op.create_index("idx_activity_event_i_0e2310", "activity", ["event_id"], unique=False)


def downgrade() -> None:
    # Indexes go with their tables.
    op.drop_table("activity")
    op.drop_table("idempotency_record")
    op.drop_table("api_token")
    op.drop_table("registration")
    op.drop_table("event")
    op.drop_table("person")
