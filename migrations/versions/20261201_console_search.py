"""console search: an event's registrations found by the beginning of a name, an organization, an
e-mail address or a phone number through indexes (the console's table with 100,000 registrations)

On PostgreSQL the four (event_id, column) indexes use text_pattern_ops, so ``LIKE 'prefix%'`` is an
index range whatever the database's collation; such an index serves equality too (the duplicate
checks of a registration keep using the phone and e-mail ones). SQLite searches by range instead.

Revision ID: c0nsearch01
Revises: acc0unts01
Create Date: 2026-12-01 13:30:00+00:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c0nsearch01"
down_revision: str | Sequence[str] | None = "acc0unts01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = {"idx_registratio_event_i_e1093b": "name", "idx_registratio_event_i_2bd7c9": "organization"}
REBUILT = {"idx_registratio_event_i_e0df5e": "phone", "idx_registratio_event_i_ea6ea0": "email"}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgres():
        for name, column in REBUILT.items():
            op.drop_index(name, table_name="registration")
        for name, column in (NEW | REBUILT).items():
            op.create_index(name, "registration", ["event_id", column], postgresql_ops={column: "text_pattern_ops"})
        return
    with op.batch_alter_table("registration", schema=None) as batch_op:
        for name, column in NEW.items():
            batch_op.create_index(name, ["event_id", column], unique=False)


def downgrade() -> None:
    if _postgres():
        for name in NEW | REBUILT:
            op.drop_index(name, table_name="registration")
        for name, column in REBUILT.items():
            op.create_index(name, "registration", ["event_id", column])
        return
    with op.batch_alter_table("registration", schema=None) as batch_op:
        for name in NEW:
            batch_op.drop_index(name)
