"""people may have their data erased (PIPL): a person keeps the moment of erasure, a registration the
moment its registrant's details were removed (erasure, or retention after the event)

Revision ID: pr1v0001pipl
Revises: w3b00000seed
Create Date: 2026-12-01 10:37:59.375007+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'pr1v0001pipl'
down_revision: str | Sequence[str] | None = 'w3b00000seed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.TIMESTAMP(timezone=True), nullable=True))

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.TIMESTAMP(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('erased_at')

