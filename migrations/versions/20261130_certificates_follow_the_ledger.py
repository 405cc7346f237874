"""certificates follow the ledger: each certificate has a number (WH-JSJL-<year>-<id>) and a state
(active, suspended by the ledger, revoked by an admin) with the reason, the ledger line, who and when;
existing certificates get their numbers and start active

Revision ID: c11c0000cert
Revises: b358123ccdc9
Create Date: 2026-11-30 15:51:36.100718+00:00

"""
import zoneinfo
from collections.abc import Sequence
from datetime import datetime

from alembic import op
import sqlalchemy as sa

from events.settings import load_settings


# revision identifiers, used by Alembic.
revision: str = 'c11c0000cert'
down_revision: str | Sequence[str] | None = 'c11d0000ident'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As events.services.certification.certificate_number makes them (copied: a migration keeps the
# rule it ran with, whatever the code says later).
NUMBER_PREFIX = 'WH-JSJL'
STATE_COMMENT = 'ACTIVE: active\\nSUSPENDED: suspended\\nREVOKED: revoked'


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    postgres = _postgres()
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='active', comment=STATE_COMMENT))
        batch_op.add_column(sa.Column('state_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('state_changed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('state_changed_at', sa.TIMESTAMP(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('state_entry_id', sa.Integer(), nullable=True))
        if postgres:  # the names PostgreSQL gives inline constraints itself, as in the models' schema
            batch_op.create_unique_constraint('certification_number_key', ['number'])
            batch_op.create_foreign_key('certification_state_entry_id_fkey', 'credit_entry', ['state_entry_id'], ['id'], ondelete='RESTRICT')

    # Existing certificates get their numbers: the local year they were issued and their id.
    tz = zoneinfo.ZoneInfo(load_settings().timezone)
    certification = sa.table(
        'certification',
        sa.column('id', sa.Integer()),
        sa.column('certified_at', sa.TIMESTAMP(timezone=True)),
        sa.column('number', sa.String(32)),
    )
    bind = op.get_bind()
    for cert_id, certified_at in bind.execute(sa.select(certification.c.id, certification.c.certified_at)).all():
        if isinstance(certified_at, str):  # SQLite hands back text
            certified_at = datetime.fromisoformat(certified_at)
        if certified_at.tzinfo is None:  # stored UTC
            certified_at = certified_at.replace(tzinfo=zoneinfo.ZoneInfo('UTC'))
        number = f'{NUMBER_PREFIX}-{certified_at.astimezone(tz).year}-{cert_id:06d}'
        bind.execute(certification.update().where(certification.c.id == cert_id).values(number=number))

    # The defaults were for the rows already there; the models give them from now on. SQLite's
    # rebuilt table takes the unique number and the foreign key inline and unnamed, as the models'
    # schema has them (batch mode cannot add an unnamed constraint any other way).
    sqlite_keys = {} if postgres else {
        'recreate': 'always',
        'reflect_args': [
            sa.Column('number', sa.String(length=32), nullable=True, unique=True),
            sa.Column('state_entry_id', sa.Integer(), sa.ForeignKey('credit_entry.id', ondelete='RESTRICT'), nullable=True),
        ],
    }
    with op.batch_alter_table('certification', schema=None, **sqlite_keys) as batch_op:
        batch_op.alter_column('state', server_default=None, existing_type=sa.String(length=16), existing_nullable=False, existing_comment=STATE_COMMENT)
        batch_op.alter_column('state_reason', server_default=None, existing_type=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('certification', schema=None) as batch_op:
        if _postgres():
            batch_op.drop_constraint('certification_state_entry_id_fkey', type_='foreignkey')
            batch_op.drop_constraint('certification_number_key', type_='unique')
        batch_op.drop_column('state_entry_id')
        batch_op.drop_column('state_changed_at')
        batch_op.drop_column('state_changed_by')
        batch_op.drop_column('state_reason')
        batch_op.drop_column('state')
        batch_op.drop_column('number')
