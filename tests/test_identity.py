"""Identity is proven, not claimed (issue #11, point 1), and phones are one number in any form (point 9).

A phone or an e-mail address in a registration is a claim: it never reaches a known person's feed,
chat, preferences or other registrations. A Telegram id is honoured from the bot, validated initData,
admin and organizer tokens. A web registration joins a person only through a one-time link the
person opens in their own Telegram chat.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

import pytest

from events.errors import DomainError
from events.models import Category, OutboxMessage, Person, Registration, RegistrationLink, Role
from events.services import brokers, calendar, people
from events.services import registration as reg
from notifications.producers import Producer
from tests.factories import bearer, make_event, make_registration, make_token

VICTIM_TELEGRAM_ID = 9001


async def _code(awaitable) -> str:  # noqa: ANN001
    with pytest.raises(DomainError) as info:
        await awaitable
    return info.value.code


async def _victim() -> tuple[Person, Registration]:
    """Someone the platform knows through Telegram, with a feed, an alarm and a registration."""
    event = await make_event(title="受害者自己的活动")
    result = await make_registration(
        event, name="王芳", phone="13800000009", email="wang.fang@example.com", telegram_id=VICTIM_TELEGRAM_ID
    )
    person = await Person.get(id=result.registration.person_id)
    person.calendar_token = "victim-seed-0123"
    person.calendar_alarm_minutes = 30
    await person.save()
    return person, result.registration


@pytest.mark.parametrize(
    "claim", [{"phone": "+86 138 0000 0009"}, {"email": "Wang.Fang@Example.com"}], ids=["phone", "email"]
)
async def test_an_unproven_phone_or_email_never_reaches_another_persons_data(client, frozen_clock, claim):
    victim, _ = await _victim()
    await Producer().drain()
    event = await make_event(title="冒名者报名的活动")

    created = await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "冒名者"} | claim)
    assert created.status_code == 201, created.text
    registration = await Registration.get(id=created.json()["id"])
    assert registration.person_id != victim.id
    own = await Person.get(id=registration.person_id)
    assert own.telegram_id is None

    token = bearer(created.json()["access_token"])
    base = f"/api/v1/registrations/{registration.id}/calendar"
    feed_url = (await client.get(base, headers=token)).json()["url"]
    feed = (await client.get(feed_url.split("8000", 1)[1])).text
    assert "冒名者报名的活动" in feed and "受害者自己的活动" not in feed
    assert (await client.post(f"{base}/rotate", headers=token)).status_code == 200
    assert (await client.put(f"{base}/alarm", json={"minutes": 0}, headers=token)).status_code == 200
    await Producer().drain()

    victim = await Person.get(id=victim.id)
    assert victim.calendar_token == "victim-seed-0123"
    assert victim.calendar_alarm_minutes == 30
    # Nothing about this registration reaches their chat (an invitation to the new event may).
    assert not await OutboxMessage.filter(
        person_id=victim.id, category=Category.REGISTRATION_CONFIRMED, event_id=event.id
    ).exists()
    victim_feed = await calendar.calendar_token(victim.id)  # derived from the seed stored above
    assert (await client.get(f"/calendar/me/{victim_feed}.ics")).status_code == 200


async def test_a_second_claim_of_the_same_phone_gets_a_person_of_its_own(db, frozen_clock):
    first = await make_registration(await make_event(), phone="13800000010")
    second = await make_registration(await make_event(), phone="138-0000-0010")
    assert first.registration.person_id != second.registration.person_id


@pytest.mark.parametrize(
    "claim",
    [{"phone": "0086 138 0000 0009"}, {"phone": "8613800000009"}, {"email": "WANG.FANG@example.com"}],
    ids=["0086", "86-prefix", "email"],
)
async def test_duplicates_are_refused_without_revealing_anything(client, frozen_clock, claim):
    _, registration = await _victim()
    url = f"/api/v1/events/{registration.event_id}/registrations"
    response = await client.post(url, json={"name": "冒名者"} | claim)
    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == "already_registered"


@pytest.mark.parametrize("role", [Role.CHECKER, Role.JUDGE])
async def test_checker_and_judge_tokens_may_not_send_a_telegram_id(client, frozen_clock, role):
    victim, _ = await _victim()
    event = await make_event()
    response = await client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": "冒名者", "telegram_id": victim.telegram_id},
        headers=bearer(await make_token(role=role)),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "telegram_id_not_allowed"
    assert not await Registration.filter(event_id=event.id).exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ORGANIZER])
async def test_admin_and_organizer_vouch_for_a_telegram_id(client, frozen_clock, role):
    victim, _ = await _victim()
    event = await make_event()
    response = await client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": "王芳", "telegram_id": victim.telegram_id},
        headers=bearer(await make_token(role=role)),
    )
    assert response.status_code == 201
    registration = await Registration.get(id=response.json()["id"])
    assert registration.person_id == victim.id and registration.telegram_id == victim.telegram_id
    assert response.json()["telegram_link"] is None  # nothing to link: the Telegram id is known


async def test_a_registration_token_reaches_its_own_registration_only(client, frozen_clock):
    event = await make_event()
    mine = await make_registration(event)
    other = await make_registration(event)
    token = bearer(mine.access_secret)
    for method, path in (
        ("GET", ""),
        ("POST", "/cancel"),
        ("GET", "/calendar"),
        ("POST", "/calendar/rotate"),
        ("POST", "/telegram-link"),
    ):
        response = await client.request(method, f"/api/v1/registrations/{other.registration.id}{path}", headers=token)
        assert response.status_code == 404, path
    alarm = await client.put(
        f"/api/v1/registrations/{other.registration.id}/calendar/alarm", json={"minutes": 5}, headers=token
    )
    assert alarm.status_code == 404
    assert (await Registration.get(id=other.registration.id)).status == "confirmed"


async def test_a_link_code_attaches_once_expires_and_is_stored_hashed(db, frozen_clock):
    event = await make_event(title="网上报名的活动")
    web = (await make_registration(event, phone="13800000011")).registration
    code = await reg.issue_link_code(web.id)
    (row,) = await RegistrationLink.filter(registration_id=web.id)
    assert row.code_hash == hashlib.sha256(code.encode()).hexdigest() and code not in str(row.__dict__)
    telegram_person = await people.person_for_telegram(telegram_id=7777, name="王芳", language_code="zh")

    linked = await reg.redeem_link_code(code, person_id=telegram_person.id, telegram_id=7777, actor="telegram:7777")
    assert linked.person_id == telegram_person.id and linked.telegram_id == 7777
    assert [r.id for r in await reg.registrations_of_person(telegram_person.id)] == [web.id]
    assert await _code(reg.redeem_link_code(code, person_id=telegram_person.id, telegram_id=7777, actor="t")) == (
        "link_code_invalid"
    )

    # Expired after LINK_CODE_TTL; a new code replaces the older one.
    later = (await make_registration(await make_event(), phone="13800000012")).registration
    stale = await reg.issue_link_code(later.id)
    fresh = await reg.issue_link_code(later.id)
    assert await _code(reg.redeem_link_code(stale, person_id=telegram_person.id, telegram_id=7777, actor="t")) == (
        "link_code_invalid"
    )
    frozen_clock.set(frozen_clock.now + reg.LINK_CODE_TTL + timedelta(seconds=1))
    assert await _code(reg.redeem_link_code(fresh, person_id=telegram_person.id, telegram_id=7777, actor="t")) == (
        "link_code_invalid"
    )
    assert await _code(reg.redeem_link_code("", person_id=telegram_person.id, telegram_id=7777, actor="t")) == (
        "link_code_invalid"
    )


async def test_linking_a_second_registration_for_the_same_event_is_refused(db, frozen_clock):
    event = await make_event()
    await make_registration(event, telegram_id=7778, phone=None)
    web = (await make_registration(event, phone="13800000013")).registration
    person = await Person.get(telegram_id=7778)
    code = await reg.issue_link_code(web.id)
    assert await _code(reg.redeem_link_code(code, person_id=person.id, telegram_id=7778, actor="t")) == (
        "already_registered"
    )
    assert (await Registration.get(id=web.id)).person_id != person.id


async def test_the_registration_response_carries_a_telegram_link_when_a_bot_is_configured(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    without = (await client.post(url, json={"name": "甲", "phone": "13800000014"})).json()
    assert without["telegram_link"] is None
    refused = await client.post(
        f"/api/v1/registrations/{without['id']}/telegram-link", headers=bearer(without["access_token"])
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "bot_not_configured"

    client._transport.app.state.bot_username = "wuchuang_test_bot"
    body = (await client.post(url, json={"name": "乙", "phone": "13800000015"})).json()
    prefix = "https://t.me/wuchuang_test_bot?start=link_"
    assert body["telegram_link"].startswith(prefix) and len(body["telegram_link"].split("start=")[1]) <= 64
    again = await client.post(f"/api/v1/registrations/{body['id']}/telegram-link", headers=bearer(body["access_token"]))
    assert again.status_code == 200 and again.json()["telegram_link"].startswith(prefix)
    person = await people.person_for_telegram(telegram_id=7779, name="乙", language_code="zh")
    old_code = body["telegram_link"].removeprefix(prefix)
    assert await _code(reg.redeem_link_code(old_code, person_id=person.id, telegram_id=7779, actor="t")) == (
        "link_code_invalid"
    )
    new_code = again.json()["telegram_link"].removeprefix(prefix)
    await reg.redeem_link_code(new_code, person_id=person.id, telegram_id=7779, actor="t")
    linked = await client.post(
        f"/api/v1/registrations/{body['id']}/telegram-link", headers=bearer(body["access_token"])
    )
    assert linked.status_code == 409 and linked.json()["error"]["code"] == "already_linked"


# --- Phones ---------------------------------------------------------------------------------------


def test_one_number_in_any_form():
    forms = ["+86 138 0000 0000", "8613800000000", "0086 138 0000 0000", "138-0000-0000", "13800000000"]
    assert {people.normalize_phone(form) for form in forms} == {"+8613800000000"}
    assert people.normalize_phone("027-8765 4321") == "+862787654321"  # a Wuhan landline
    assert people.normalize_phone("+1 650 253 0000") == "+16502530000"
    assert people.normalize_phone("  ") is None
    # Telegram's contact button: international, with or without its "+".
    assert people.normalize_telegram_phone("8613800000000") == "+8613800000000"
    assert people.normalize_telegram_phone("+8613800000000") == "+8613800000000"
    assert people.display_phone("+8613800000000") == "138 0000 0000"
    assert people.display_phone("+16502530000") == "+1 650-253-0000"


@pytest.mark.parametrize("bad", ["12345", "1380000000", "call me", "+86 138 0000 0000 ext. 5", "1" * 41])
def test_invalid_numbers_are_refused(bad):
    with pytest.raises(DomainError) as info:
        people.normalize_phone(bad)
    assert info.value.code == "invalid_input" and info.value.params["field"] == "phone"


async def test_an_invalid_phone_is_a_clear_422_in_both_languages(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    zh = await client.post(url, json={"name": "甲", "phone": "12345"})
    en = await client.post(url, json={"name": "甲", "phone": "12345"}, headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 422
    assert zh.json()["error"] == {"code": "invalid_input", "field": "phone", "message": "“12345”不是有效的电话号码。"}
    assert en.json()["error"] == {"code": "invalid_input", "field": "phone", "message": "12345 is not a phone number."}


async def test_phones_are_stored_once_compared_as_one_and_shown_readably(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    created = await client.post(url, json={"name": "甲", "phone": "86 138 0000 0001"})
    assert created.status_code == 201
    assert (await Registration.get(id=created.json()["id"])).phone == "+8613800000001"
    for form in ("+86 138-0000-0001", "13800000001", "0086 13800000001"):
        duplicate = await client.post(url, json={"name": "甲", "phone": form})
        assert duplicate.json()["error"]["code"] == "already_registered", form

    token = bearer(await make_token())
    (item,) = (await client.get(url, headers=token)).json()["items"]
    assert item["phone"] == "+8613800000001" and item["phone_display"] == "138 0000 0001"
    exported = await client.get(url, params={"format": "csv"}, headers=token)
    (row,) = csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))
    assert row["手机号"] == "138 0000 0001"

    broker = await brokers.create_broker(brokers.BrokerInput(name="经理人", phone="0086-139-0000-0002"), actor="t")
    assert broker.person.phone == "+8613900000002"
