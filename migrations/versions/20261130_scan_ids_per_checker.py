"""scan ids per checker: a scan id is unique per checker (token, Telegram person), not per event

Revision ID: c11b0000scan
Revises: b358123ccdc9
Create Date: 2026-11-30 15:53:01.300873+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c11b0000scan'
down_revision: str | Sequence[str] | None = 'c11a0000edge'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _forget_repeated_scan_ids(*key: str) -> None:
    """Before a unique key on ``key`` + scan_id: the scans that share one keep it on their first row only.

    A scan id only serves replays, which come within minutes; the rows themselves stay in the log.
    """
    columns = ", ".join(key)
    op.execute(
        "UPDATE checkin_scan SET scan_id = NULL WHERE scan_id IS NOT NULL AND id NOT IN "
        f"(SELECT MIN(id) FROM checkin_scan WHERE scan_id IS NOT NULL GROUP BY {columns}, scan_id)"
    )


def upgrade() -> None:
    _forget_repeated_scan_ids('checker')
    with op.batch_alter_table('checkin_scan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uid_checkin_sca_event_i_866236'), type_='unique')
        batch_op.create_unique_constraint('uid_checkin_sca_checker_2aa47b', ['checker', 'scan_id'])


def downgrade() -> None:
    _forget_repeated_scan_ids('event_id')
    with op.batch_alter_table('checkin_scan', schema=None) as batch_op:
        batch_op.drop_constraint('uid_checkin_sca_checker_2aa47b', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uid_checkin_sca_event_i_866236'), ['event_id', 'scan_id'])
