"""the public site: a registration keeps the time and version of the privacy notice its registrant
agreed to, and the public forms' spent single-use tokens are kept until they expire

Revision ID: s1te0001web
Revises: br1ef0001
Create Date: 2026-12-01 10:36:29.836329+00:00

"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 's1te0001web'
down_revision: str | Sequence[str] | None = 'br1ef0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('form_nonce',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce'),
    comment="A public form's single-use token, spent (api/site forms): inserting its nonce a second time"
    )
    with op.batch_alter_table('form_nonce', schema=None) as batch_op:
        batch_op.create_index('idx_form_nonce_expires_5344d9', ['expires_at'], unique=False)

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_at', sa.TIMESTAMP(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('consent_version', sa.String(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('consent_version')
        batch_op.drop_column('consent_at')

    with op.batch_alter_table('form_nonce', schema=None) as batch_op:
        batch_op.drop_index('idx_form_nonce_expires_5344d9')

    op.drop_table('form_nonce')
