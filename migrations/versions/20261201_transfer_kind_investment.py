"""transfers can be investments: a kind (technology | investment) and an investment's round, so a deal
signed after a roadshow meeting (已签约) is recorded and counted in the goals

Revision ID: r0ad0002bot
Revises: r0ad0001line
Create Date: 2026-12-01 04:17:05.893295+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'r0ad0002bot'
down_revision: str | Sequence[str] | None = 'r0ad0001line'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows are technology contracts; the server defaults fill them and then go (the models
    # have none: Tortoise supplies the values).
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='technology', comment='TECHNOLOGY: technology\\nINVESTMENT: investment'))
        batch_op.add_column(sa.Column('investment_round', sa.String(length=16), nullable=False, server_default=''))
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)
        batch_op.alter_column('investment_round', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_column('investment_round')
        batch_op.drop_column('kind')
