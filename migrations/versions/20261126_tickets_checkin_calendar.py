"""tickets (version per registration), check-in scans and attendance, checker scopes, calendar tokens

Revision ID: 80a82498373c
Revises: 12a980cb0ec0
Create Date: 2026-11-26 06:30:29.780581+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '80a82498373c'
down_revision: str | Sequence[str] | None = '12a980cb0ec0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('checkin_scan',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('scan_id', sa.String(length=64), nullable=True),
    sa.Column('result', sa.String(length=24), nullable=False, comment='OK: ok\\nALREADY_CHECKED_IN: already_checked_in\\nWRONG_EVENT: wrong_event\\nCANCELLED: cancelled\\nREVOKED: revoked\\nINVALID: invalid\\nNOT_OPEN_YET: not_open_yet\\nCLOSED: closed'),
    sa.Column('direction', sa.String(length=8), nullable=False, comment='ENTRY: entry\\nEXIT: exit'),
    sa.Column('gate', sa.String(length=50), nullable=True),
    sa.Column('device', sa.String(length=100), nullable=True),
    sa.Column('scanned_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('received_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('offline', sa.Boolean().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('checker', sa.String(length=100), nullable=False),
    sa.Column('first_checked_in_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('first_gate', sa.String(length=50), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'scan_id', name='uid_checkin_sca_event_i_866236'),
    comment="Every scan as received, refused ones too, with their reason: the door's audit log.",
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('checkin_scan', schema=None) as batch_op:
        batch_op.create_index('idx_checkin_sca_event_i_b6488b', ['event_id', 'received_at'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('checked_in_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('gate', sa.String(length=50), nullable=True),
    sa.Column('checked_out_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registration_id', 'day', name='uid_attendance_registr_938478'),
    comment="A person's first successful entry on one (local) day of an event.",
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('idx_attendance_event_i_c6b8ec', ['event_id', 'checked_in_at'], unique=False)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_ids', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_opens_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.add_column(sa.Column('checkin_closes_minutes', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('calendar_alarm_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.create_index('idx_person_calenda_4c248f', ['calendar_token'], unique=False)

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_version', sa.Integer(), nullable=False, server_default='0'))

    # Existing confirmed registrations hold a ticket from now on.
    op.execute("UPDATE registration SET ticket_version = 1 WHERE status = 'confirmed'")

    # The defaults above only filled existing rows; the models set these values themselves.
    for table, columns in (
        ("event", ("checkin_opens_minutes", "checkin_closes_minutes")),
        ("person", ("calendar_alarm_minutes",)),
        ("registration", ("ticket_version",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('ticket_version')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('idx_person_calenda_4c248f')
        batch_op.drop_column('calendar_alarm_minutes')
        batch_op.drop_column('calendar_token')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('checkin_closes_minutes')
        batch_op.drop_column('checkin_opens_minutes')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('event_ids')

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index('idx_attendance_event_i_c6b8ec')

    op.drop_table('attendance')
    with op.batch_alter_table('checkin_scan', schema=None) as batch_op:
        batch_op.drop_index('idx_checkin_sca_event_i_b6488b')

    op.drop_table('checkin_scan')
