"""organizations own events: the organization table (with the default organization), and the owner of
events, brokers, API tokens and person roles

Revision ID: c11e0000owner
Revises: b358123ccdc9
Create Date: 2026-11-30 15:52:00.937463+00:00

"""
from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c11e0000owner'
down_revision: str | Sequence[str] | None = 'b358123ccdc9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with events.services.organizations.DEFAULT_NAME / normalize_name.
DEFAULT_NAME = 'Default organization'
DEFAULT_NORMALIZED = 'default organization'

# (table, column, constraint name: PostgreSQL's own default, which is what Tortoise's schema gets)
OWNERS = (
    ('api_token', 'organization_id', 'api_token_organization_id_fkey'),
    ('broker', 'owner_organization_id', 'broker_owner_organization_id_fkey'),
    ('event', 'organization_id', 'event_organization_id_fkey'),
    ('person_role', 'organization_id', 'person_role_organization_id_fkey'),
)


def upgrade() -> None:
    organization = op.create_table('organization',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_normalized', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False, comment='COMPANY: company\\nUNIVERSITY: university\\nINSTITUTE: institute\\nINVESTOR: investor\\nGOVERNMENT: government\\nOTHER: other'),
    sa.Column('district', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name_normalized'),
    comment='A host unit or district office: it owns events (and through them courses, broadcasts,',
    sqlite_autoincrement=True
    )
    for table, column, name in OWNERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(name, 'organization', [column], ['id'], ondelete='RESTRICT')

    # Everything made before organizations existed belongs to the default organization.
    op.bulk_insert(
        organization,
        [{'name': DEFAULT_NAME, 'name_normalized': DEFAULT_NORMALIZED, 'kind': 'other', 'created_at': datetime.now(UTC)}],
    )
    default_id = sa.select(sa.column('id')).select_from(sa.table('organization', sa.column('id'), sa.column('name_normalized'))).where(
        sa.column('name_normalized') == DEFAULT_NORMALIZED
    ).scalar_subquery()
    op.execute(sa.table('event', sa.column('organization_id')).update().values(organization_id=default_id))
    op.execute(sa.table('broker', sa.column('owner_organization_id')).update().values(owner_organization_id=default_id))
    op.execute(sa.table('person_role', sa.column('organization_id')).update().values(organization_id=default_id))
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Integer(), nullable=False)
    # One grant of a role per organization: door staff may work for several organizations.
    with op.batch_alter_table('person_role', schema=None) as batch_op:
        batch_op.drop_constraint('uid_person_role_person__fa6b33', type_='unique')
        batch_op.create_unique_constraint('uid_person_role_person__31e4e7', ['person_id', 'role', 'organization_id'])


def downgrade() -> None:
    # Back to one grant of a role per person: the oldest grant of each role stays.
    person_role = sa.table('person_role', sa.column('id'), sa.column('person_id'), sa.column('role'))
    keep = sa.select(sa.func.min(person_role.c.id)).group_by(person_role.c.person_id, person_role.c.role)
    op.execute(person_role.delete().where(person_role.c.id.not_in(keep)))
    with op.batch_alter_table('person_role', schema=None) as batch_op:
        batch_op.drop_constraint('uid_person_role_person__31e4e7', type_='unique')
        batch_op.create_unique_constraint('uid_person_role_person__fa6b33', ['person_id', 'role'])
    for table, column, name in reversed(OWNERS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
            batch_op.drop_column(column)
    op.drop_table('organization')
