"""registrations get the seed of their web access link (/r/{token}), so a confirmation e-mail, the
"lost my link" form and the site can all show the same link again without storing it

Revision ID: w3b00000seed
Revises: r0ad0002bot
Create Date: 2026-12-01 10:45:00+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'w3b00000seed'
down_revision: str | Sequence[str] | None = 'r0ad0002bot'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_seed', sa.String(length=16), nullable=True))
    if _postgres():  # the name PostgreSQL gives an inline constraint itself, as in the models' schema
        op.create_unique_constraint('registration_access_seed_key', 'registration', ['access_seed'])
    else:  # SQLite's rebuilt table takes it inline and unnamed (batch mode cannot add one otherwise)
        seed = sa.Column('access_seed', sa.String(length=16), nullable=True, unique=True)
        with op.batch_alter_table('registration', recreate='always', reflect_args=[seed]):
            pass


def downgrade() -> None:
    # Dropping the column drops its constraint (PostgreSQL) or rebuilds the table without it (SQLite).
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('access_seed')
