"""/mydata and /delete in the bot, end to end through the fake Bot API, in both languages."""

from __future__ import annotations

import json

from events.models import Activity, Person, Registration, RegistrationStatus
from tests.factories import make_event, make_registration
from tests.test_bot import ALICE, BOB, press_edit, say, world  # noqa: F401  (world is a fixture)


async def test_mydata_sends_a_json_file_of_everything(world):  # noqa: F811
    tg = world.tg
    await say(tg, ALICE, "/start")
    event = await make_event(capacity=5)
    await make_registration(event, name="李明", phone="13800001234", telegram_id=ALICE)
    sent = await say(tg, ALICE, "/mydata")
    document = sent[-1]
    assert document["document"] and "privacy" in document["caption"] and "JSON" in document["caption"]
    data = json.loads(document["file"].content)
    assert data["profile"]["telegram_id"] == ALICE
    assert [r["event_title"] for r in data["registrations"]] == [event.title]
    assert data["registrations"][0]["phone"] == "+8613800001234"


async def test_delete_asks_then_erases_and_the_waitlist_moves(world):  # noqa: F811
    tg = world.tg
    await say(tg, BOB, "/start", lang="en")
    event = await make_event(capacity=1)
    mine = (await make_registration(event, name="Li Na", phone="13800005678", telegram_id=BOB)).registration
    waiting = (await make_registration(event, name="候补", phone="13800009999")).registration
    asked = await say(tg, BOB, "/delete", lang="en")
    assert "Delete everything we hold about you?" in asked[-1]["text"]
    kept = await press_edit(tg, BOB, "No, keep")
    assert kept["text"] == "Nothing was deleted."
    assert (await Registration.get(id=mine.id)).status == RegistrationStatus.CONFIRMED

    await say(tg, BOB, "/delete", lang="en")
    done = await press_edit(tg, BOB, "Yes, delete")
    assert "Your data has been deleted." in done["text"] and "cancelled: 1" in done["text"]
    person = await Person.get(id=mine.person_id)
    assert person.telegram_id is None and person.name.startswith("已删除用户#") and person.erased_at is not None
    assert (await Registration.get(id=mine.id)).status == RegistrationStatus.CANCELLED
    assert (await Registration.get(id=waiting.id)).status == RegistrationStatus.CONFIRMED
    fact = await Activity.get(kind="privacy.erased")
    assert fact.actor == f"person:{person.id}" and str(BOB) not in json.dumps(fact.payload)


async def test_delete_in_chinese(world):  # noqa: F811
    tg = world.tg
    await say(tg, ALICE, "/start")
    asked = await say(tg, ALICE, "/delete")
    assert "删除我们保存的关于您的全部信息" in asked[-1]["text"] and "/privacy" in asked[-1]["text"]
    done = await press_edit(tg, ALICE, "确认删除")
    assert "您的数据已删除" in done["text"]
