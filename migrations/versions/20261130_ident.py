"""identity is proven, not claimed; phones in E.164: a registration's own calendar feed, one-time link codes, phones re-normalised

Revision ID: c11d0000ident
Revises: b358123ccdc9
Create Date: 2026-11-30 15:53:40.659789+00:00

"""
from collections.abc import Sequence
import logging

from alembic import op
import phonenumbers
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c11d0000ident'
down_revision: str | Sequence[str] | None = 'c11e0000owner'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("wuchuang.migrations.phones")

# Every column that holds a phone number.
PHONE_COLUMNS = (("person", "phone"), ("registration", "phone"))


def _e164(raw: str) -> str | None:
    """The number in E.164 as ``people.normalize_phone`` stores it (frozen here: a migration must not
    change when the code does); None when it is not a valid number.
    """
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def renormalize_phones(connection: sa.Connection) -> None:
    """Store every phone in E.164. A value that is not a valid number is left as it is and logged; two
    live registrations of one event that now share a number are logged as a clash (an organizer
    decides which one stays), never merged or failed on.
    """
    for table, column in PHONE_COLUMNS:
        rows = connection.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
        changed = 0
        for row_id, value in rows:
            normal = _e164(value)
            if normal is None:
                log.warning("%s %s: %r is not a valid phone number; left as it is", table, row_id, value)
            elif normal != value:
                connection.execute(
                    sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), {"value": normal, "id": row_id}
                )
                changed += 1
        log.info("%s.%s: %s of %s numbers re-normalised", table, column, changed, len(rows))
    clashes = connection.execute(
        sa.text(
            "SELECT event_id, phone, COUNT(*) FROM registration"
            " WHERE phone IS NOT NULL AND status IN ('confirmed', 'waitlisted', 'pending')"
            " GROUP BY event_id, phone HAVING COUNT(*) > 1 ORDER BY event_id, phone"
        )
    ).all()
    for event_id, phone, count in clashes:
        ids = connection.execute(
            sa.text(
                "SELECT id FROM registration WHERE event_id = :event AND phone = :phone"
                " AND status IN ('confirmed', 'waitlisted', 'pending') ORDER BY id"
            ),
            {"event": event_id, "phone": phone},
        ).scalars().all()
        log.warning(
            "phone clash: event %s has %s live registrations with %s (registrations %s)",
            event_id,
            count,
            phone,
            ", ".join(str(i) for i in ids),
        )


def upgrade() -> None:
    op.create_table('registration_link',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('used_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('used_by_person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash'),
    comment='A one-time code (SHA-256 stored) that attaches a registration to the person who redeems it.',
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('calendar_alarm_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.create_index('idx_registratio_calenda_fb130c', ['calendar_token'], unique=False)
    # The default filled the existing rows; from now on the application sets the value.
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.alter_column('calendar_alarm_minutes', server_default=None)

    renormalize_phones(op.get_bind())


def downgrade() -> None:
    # Phones stay in E.164: the older code reads them (as international numbers) and they fit the columns.
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('idx_registratio_calenda_fb130c')
        batch_op.drop_column('calendar_alarm_minutes')
        batch_op.drop_column('calendar_token')

    op.drop_table('registration_link')
