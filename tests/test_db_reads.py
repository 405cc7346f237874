"""``events.db_reads.get_one`` reads what the ORM reads, on both backends."""

from __future__ import annotations

from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from events.db import conn
from events.db_reads import get_each, get_one
from events.models import ApiToken, Event, Registration
from events.services import tokens
from events.settings import Settings
from tests.factories import make_event, make_registration


def _fields(instance: Model) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in instance._meta.fields_db_projection}


async def test_a_registration_with_its_event_is_the_orms(db: Settings) -> None:
    event = await make_event(capacity=5)
    registration = (await make_registration(event, answers={"公司": "光谷", "n": [1, 2]})).registration
    orm = await Registration.get(id=registration.id).select_related("event")
    fast = await get_one(Registration, related="event", id=registration.id)
    assert fast is not None
    assert _fields(fast) == _fields(orm)
    assert _fields(fast.event) == _fields(orm.event)
    assert fast.answers == {"公司": "光谷", "n": [1, 2]} and fast.created_at.tzinfo is not None
    # A model instance as the ORM makes it: it saves, and the save is seen.
    fast.name = "改过的名字"
    await fast.save(update_fields=["name"])
    assert (await Registration.get(id=registration.id)).name == "改过的名字"


async def test_each_of_several_ids_is_the_orms_in_the_order_asked(db: Settings) -> None:
    """PostgreSQL's read for the door's batched scans: one query, a row per id asked (None where none)."""
    if db.dialect != "postgres":
        return
    event = await make_event(capacity=5)
    first, second = [(await make_registration(event)).registration for _ in range(2)]
    each = await get_each(Registration, [second.id, 999_999, first.id, second.id], related="event", using_db=conn())
    assert [found.id if found else None for found in each] == [second.id, None, first.id, second.id]
    assert each[0] is not each[3]  # two scans of one ticket do not share an instance
    for found in (each[0], each[2]):
        assert found is not None
        orm = await Registration.get(id=found.id).select_related("event")
        assert _fields(found) == _fields(orm) and _fields(found.event) == _fields(orm.event)


async def test_null_filters_a_missing_row_and_a_missing_related_row(db: Settings) -> None:
    created = await tokens.create_token(role="checker", name="door")
    token = await get_one(ApiToken, token_hash=created.token.token_hash, revoked_at=None)
    assert token is not None and token.id == created.token.id
    await tokens.revoke_token(created.token.id)
    assert await get_one(ApiToken, token_hash=created.token.token_hash, revoked_at=None) is None
    assert await get_one(Event, id=987_654) is None
    bare = await ApiToken.create(name="no organization", role="checker", token_hash="h" * 64)
    found = await get_one(ApiToken, related="organization", id=bare.id)
    assert found is not None and found.organization_id is None and found.organization is None


async def test_it_reads_inside_the_current_transaction(db: Settings) -> None:
    event = await make_event()
    async with in_transaction():
        await Event.filter(id=event.id).update(title="事务中的标题")
        seen = await get_one(Event, id=event.id)
        assert seen is not None and seen.title == "事务中的标题"
