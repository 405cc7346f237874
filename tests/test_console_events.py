"""The console's events and registrations pages (api/console/events.py) and the services behind them
(events/services/registration_admin.py, event_admin.py): what the page shows, what a form changes,
and bad input answered with a 4xx page, never a 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from api.app import create_app
from events.models import (
    Activity,
    Attendance,
    Event,
    EventStatus,
    OutboxMessage,
    Person,
    Registration,
    RegistrationStatus,
)
from events.services import catalog, registration_admin
from events.settings import Settings
from notifications.producers import Producer
from tests.console_kit import ConsoleWorld, a_event, as_, build_console_world
from tests.factories import make_registration

pytestmark = pytest.mark.usefixtures("frozen_clock")

FORM = {
    "title": "武创荟·光谷专场",
    "kind": "session",
    "series": "wuchuanghui",
    "district": "donghu_gaoxin",
    "venue": "光谷会议中心",
    "starts_at": "2026-06-20T14:00",
    "ends_at": "2026-06-20T17:00",
    "capacity": "80",
    "waitlist_enabled": "1",
}


@pytest.fixture
async def http(db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def w(http: httpx.AsyncClient) -> ConsoleWorld:
    return await build_console_world()


def version_in(html: str) -> str:
    found = re.search(r'name="version" value="([^"]*)"', html)
    assert found, "the form carries no version"
    return found.group(1)


# ---- events ----------------------------------------------------------------------------------------------


async def test_the_list_shows_the_organizations_events_with_filters(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    other = await a_event(w.b, title="江岸区的活动")
    page = await as_(http, w, "organizer_a", "GET", "/console/events", params={"lang": "en"})
    assert page.status_code == 200
    assert w.event.title in page.text and "A 的草稿" in page.text
    assert other.title in page.text  # published events are everyone's to see, as in the API
    drafts = await as_(http, w, "organizer_b", "GET", "/console/events", params={"status": "draft"})
    assert "A 的草稿" not in drafts.text  # another organization's draft is never listed
    only = await as_(http, w, "organizer_a", "GET", "/console/events", params={"status": "draft"})
    assert "A 的草稿" in only.text and f'/console/events/{w.event.id}"' not in only.text
    found = await as_(http, w, "organizer_a", "GET", "/console/events", params={"q": "草稿"})
    assert "A 的草稿" in found.text and f'/console/events/{w.event.id}"' not in found.text
    bad = await as_(http, w, "organizer_a", "GET", "/console/events", params={"from": "not a day"})
    assert bad.status_code == 400 and 'class="problem"' in bad.text


async def test_the_list_pages_by_cursor(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    for i in range(55):
        await a_event(w.a, publish=False, title=f"批量 {i:02d}")
    first = await as_(http, w, "organizer_a", "GET", "/console/events", params={"q": "批量"})
    assert first.text.count('href="/console/events/') >= 50
    cursor = re.search(r'cursor=([^&"]+)', first.text)
    assert cursor is not None
    second = await as_(
        http,
        w,
        "organizer_a",
        "GET",
        "/console/events",
        params={"q": "批量", "cursor": httpx.QueryParams("c=" + cursor.group(1))["c"]},
    )
    assert second.status_code == 200 and "批量 54" in second.text and "批量 00" not in second.text
    forged = await as_(http, w, "organizer_a", "GET", "/console/events", params={"cursor": "xyz.abc"})
    assert forged.status_code == 422


async def test_create_keeps_what_was_typed_and_names_the_field(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    wrong = FORM | {"ends_at": "2026-06-20T13:00", "capacity": "lots"}
    answer = await as_(http, w, "organizer_a", "POST", "/console/events/new", data=wrong)
    assert answer.status_code == 422
    assert 'id="problem-capacity"' in answer.text and 'value="光谷会议中心"' in answer.text
    answer = await as_(
        http, w, "organizer_a", "POST", "/console/events/new", data=FORM | {"ends_at": "2026-06-20T13:00"}
    )
    assert answer.status_code == 422 and 'id="problem-ends_at"' in answer.text
    assert await Event.filter(title=FORM["title"]).count() == 0
    made = await as_(http, w, "organizer_a", "POST", "/console/events/new", data=FORM)
    assert made.status_code == 303
    event = await Event.get(title=FORM["title"])
    assert made.headers["location"] == f"/console/events/{event.id}?done=created"
    assert event.status == EventStatus.DRAFT and event.organization_id == w.a and event.capacity == 80
    assert event.starts_at.isoformat() == "2026-06-20T06:00:00+00:00"  # 14:00 in Wuhan


async def test_edit_refuses_a_stale_form_and_shows_the_current_values(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    url = f"/console/events/{w.event.id}/edit"
    opened = await as_(http, w, "organizer_a", "GET", url)
    version = version_in(opened.text)
    await catalog.update_event(w.event.id, catalog.EventPatch(venue="别人改的会场"), actor="test")
    stale = await as_(http, w, "organizer_a", "POST", url, data=FORM | {"version": version, "title": "我的改动"})
    assert stale.status_code == 409 and 'id="stale"' in stale.text and 'value="别人改的会场"' in stale.text
    assert (await Event.get(id=w.event.id)).title == w.event.title
    saved = await as_(
        http, w, "organizer_a", "POST", url, data=FORM | {"version": version_in(stale.text), "title": "我的改动"}
    )
    assert saved.status_code == 303
    assert (await Event.get(id=w.event.id)).title == "我的改动"


async def test_publish_duplicate_and_cancel_with_a_message(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    published = await as_(http, w, "organizer_a", "POST", f"/console/events/{w.draft.id}/publish")
    assert published.status_code == 303
    assert (await Event.get(id=w.draft.id)).status == EventStatus.PUBLISHED
    copied = await as_(
        http, w, "organizer_a", "POST", f"/console/events/{w.event.id}/duplicate", data={"shift_days": "7"}
    )
    assert copied.status_code == 303
    copy = await Event.filter(title=w.event.title).order_by("-id").first()
    assert copy is not None and copy.id != w.event.id and copy.status == EventStatus.DRAFT
    assert copy.starts_at - w.event.starts_at == timedelta(days=7) and copy.venue == w.event.venue
    assert await Registration.filter(event_id=copy.id).count() == 0
    bad = await as_(http, w, "organizer_a", "POST", f"/console/events/{w.event.id}/duplicate", data={"new_start": "x"})
    assert bad.status_code == 422 and 'value="x"' in bad.text

    await make_registration(w.event, n=88, email="reg88@example.cn")
    await Producer().drain()
    before = await OutboxMessage.filter(event_id=w.event.id).count()
    cancelled = await as_(
        http, w, "organizer_a", "POST", f"/console/events/{w.event.id}/cancel", data={"message": "因故改期"}
    )
    assert cancelled.status_code == 303
    assert (await Event.get(id=w.event.id)).status == EventStatus.CANCELLED
    await Producer().drain()
    told = await OutboxMessage.filter(event_id=w.event.id).order_by("id")
    assert len(told) == before + 1 and "因故改期" in told[-1].text
    again = await as_(http, w, "organizer_a", "POST", f"/console/events/{w.event.id}/cancel", data={"message": ""})
    assert again.status_code == 409
    page = await as_(http, w, "organizer_a", "GET", f"/console/events/{w.event.id}", params={"done": "cancelled"})
    assert page.status_code == 200 and 'id="notice"' in page.text and 'id="cancel-event"' not in page.text


async def test_the_event_page_shows_its_figures_and_links(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    small = await a_event(w.a, title="小场", capacity=1)
    first = (await make_registration(small, n=1)).registration
    await make_registration(small, n=2)  # waitlisted
    signer = http._transport.app.state.signer  # type: ignore[attr-defined]
    await registration_admin.manual_checkin(first.id, event_id=small.id, signer=signer, actor="test")
    page = await as_(http, w, "organizer_a", "GET", f"/console/events/{small.id}")
    assert re.search(r'id="n-confirmed">1<', page.text) and re.search(r'id="n-waitlisted">1<', page.text)
    assert re.search(r'id="n-checked-in">1<', page.text) and re.search(r'id="n-pending">0<', page.text)
    for area in ("registrations", "door", "broadcasts", "exports", "staff"):
        assert f"/console/events/{small.id}/{area}" in page.text
    assert (await as_(http, w, "organizer_a", "GET", "/console/events/99999")).status_code == 404
    assert (await as_(http, w, "organizer_a", "GET", "/console/events/abc")).status_code == 404


# ---- registrations ------------------------------------------------------------------------------------


async def test_the_table_searches_filters_and_pages(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    event = await a_event(w.a, title="大场")
    for n in range(60):
        await make_registration(event, n=n, name=f"参会者{n:02d}", organization="华中科技大学" if n == 7 else "某公司")
    url = f"/console/events/{event.id}/registrations"
    first = await as_(http, w, "organizer_a", "GET", url)
    assert first.status_code == 200 and "参会者59" in first.text and "参会者00" not in first.text
    cursor = re.search(r'cursor=([^&"]+)', first.text)
    assert cursor is not None
    later = await as_(
        http, w, "organizer_a", "GET", url, params={"cursor": httpx.QueryParams("c=" + cursor.group(1))["c"]}
    )
    assert "参会者00" in later.text and "参会者59" not in later.text
    by_org = await as_(http, w, "organizer_a", "GET", url, params={"q": "华中科技"})
    assert "参会者07" in by_org.text and "参会者08" not in by_org.text
    by_phone = await as_(http, w, "organizer_a", "GET", url, params={"q": "139 0000 0012"})
    assert "参会者12" in by_phone.text and "参会者13" not in by_phone.text
    pending = await as_(http, w, "organizer_a", "GET", url, params={"status": "pending"})
    assert "参会者" not in pending.text


async def test_bulk_approve_and_the_limit(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    event = await a_event(w.a, title="审核场", requires_approval=True, capacity=2, waitlist_enabled=True)
    regs = [(await make_registration(event, n=n)).registration for n in range(3)]
    url = f"/console/events/{event.id}/registrations/bulk"
    # A crafted post of more ids than a page holds is refused before any is read (the form's field limit).
    crafted = await as_(http, w, "organizer_a", "POST", url, data={"action": "approve", "ids": list(range(1, 10_002))})
    assert 400 <= crafted.status_code < 500
    assert await Registration.filter(event_id=event.id, status=RegistrationStatus.PENDING).count() == 3
    many = await a_event(w.a, title="万人场", requires_approval=True)
    person = await Person.create(name="批量")
    await Registration.bulk_create(
        [
            Registration(event_id=many.id, person_id=person.id, status=RegistrationStatus.PENDING, name=f"p{i}")
            for i in range(10_001)
        ],
        batch_size=2000,
    )
    many_url = f"/console/events/{many.id}/registrations/bulk"
    too_many = await as_(
        http, w, "organizer_a", "POST", many_url, data={"action": "approve", "matching": "1", "status": "pending"}
    )
    problem = re.search(r'id="problem">([^<]*)<', too_many.text)
    assert too_many.status_code == 422 and problem is not None and "10000" in problem.group(1).replace(",", "")
    assert await Registration.filter(event_id=many.id, status=RegistrationStatus.PENDING).count() == 10_001
    none = await as_(http, w, "organizer_a", "POST", url, data={"action": "approve"})
    assert none.status_code == 422
    done = await as_(
        http, w, "organizer_a", "POST", url, data={"action": "approve", "ids": [r.id for r in regs] + [w.reg.id]}
    )
    assert done.status_code == 303 and "n=3" in done.headers["location"] and "skipped=1" in done.headers["location"]
    statuses = [(await Registration.get(id=r.id)).status for r in regs]
    assert statuses == [RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]
    assert (await Registration.get(id=w.reg.id)).status == RegistrationStatus.CONFIRMED  # another event's: untouched
    matching = await as_(
        http, w, "organizer_a", "POST", url, data={"action": "reject", "matching": "1", "status": "waitlisted"}
    )
    assert matching.status_code == 303 and "n=0" in matching.headers["location"]  # only pending ones are decided
    no_csrf = await as_(http, w, "organizer_a", "POST", url, data={"action": "reject", "ids": regs[0].id}, csrf=False)
    assert no_csrf.status_code == 403


async def test_edit_an_attendee(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    url = f"/console/events/{w.event.id}/registrations/{w.reg.id}"
    opened = await as_(http, w, "organizer_a", "GET", url)
    assert opened.status_code == 200 and "张三" in opened.text
    version = version_in(opened.text)
    form = {
        "name": "张三丰",
        "phone": "138 0013 8000",
        "email": "Zhang@Example.cn",
        "organization": "武当",
        "version": version,
    }
    bad = await as_(http, w, "organizer_a", "POST", url, data=form | {"phone": "12"})
    assert bad.status_code == 422 and 'class="problem"' in bad.text and 'value="张三丰"' in bad.text
    saved = await as_(http, w, "organizer_a", "POST", url, data=form)
    assert saved.status_code == 303
    reg = await Registration.get(id=w.reg.id)
    assert (reg.name, reg.phone, reg.email, reg.organization) == (
        "张三丰",
        "+8613800138000",
        "zhang@example.cn",
        "武当",
    )
    assert await Activity.filter(kind="registration.edited", registration_id=reg.id).count() == 1
    stale = await as_(http, w, "organizer_a", "POST", url, data=form | {"name": "又改"})
    assert stale.status_code == 409 and 'id="stale"' in stale.text and 'value="张三丰"' in stale.text
    assert (await Registration.get(id=w.reg.id)).name == "张三丰"
    other = await make_registration(w.event, n=77, phone="13900000077")
    dup = await as_(
        http,
        w,
        "organizer_a",
        "POST",
        f"/console/events/{w.event.id}/registrations/{other.registration.id}",
        data={
            "name": "李四",
            "phone": "13800138000",
            "email": "",
            "organization": "",
            "version": other.registration.updated_at.isoformat(),
        },
    )
    assert dup.status_code == 409
    wrong_event = await as_(http, w, "organizer_a", "GET", f"/console/events/{w.draft.id}/registrations/{w.reg.id}")
    assert wrong_event.status_code == 404
    b = await as_(http, w, "organizer_b", "POST", url, data=form)
    assert b.status_code == 404


async def test_manual_checkin_undo_and_resend(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    reg = (await make_registration(w.event, n=99, email="reg99@example.cn")).registration
    base = f"/console/events/{w.event.id}/registrations/{reg.id}"
    checked = await as_(http, w, "organizer_a", "POST", base + "/checkin")
    assert checked.status_code == 303
    assert await Attendance.filter(registration_id=reg.id).count() == 1
    twice = await as_(http, w, "organizer_a", "POST", base + "/checkin")
    assert twice.status_code == 409  # the door's own answer: already checked in
    undone = await as_(http, w, "organizer_a", "POST", base + "/checkin/undo")
    assert undone.status_code == 303 and await Attendance.filter(registration_id=reg.id).count() == 0
    assert await Activity.filter(kind="checkin.undone").count() == 1

    await Producer().drain()
    before = await OutboxMessage.filter(person_id=reg.person_id).count()
    resent = await as_(http, w, "organizer_a", "POST", base + "/resend")
    assert resent.status_code == 303
    await Producer().drain()
    messages = await OutboxMessage.filter(person_id=reg.person_id).order_by("id")
    assert len(messages) == before + 1 and messages[-1].photo == {"ticket_registration_id": reg.id}


async def test_promote_from_the_waitlist(http: httpx.AsyncClient, w: ConsoleWorld) -> None:
    event = await a_event(w.a, title="满员", capacity=1)
    await make_registration(event, n=1)
    waiting = (await make_registration(event, n=2)).registration
    assert waiting.status == RegistrationStatus.WAITLISTED
    answer = await as_(http, w, "organizer_a", "POST", f"/console/events/{event.id}/registrations/{waiting.id}/promote")
    assert answer.status_code == 303
    assert (await Registration.get(id=waiting.id)).status == RegistrationStatus.CONFIRMED
    fresh = await Event.get(id=event.id)
    assert (fresh.capacity, fresh.seats_taken, fresh.waitlist_length) == (2, 2, 0)
    again = await as_(http, w, "organizer_a", "POST", f"/console/events/{event.id}/registrations/{waiting.id}/promote")
    assert again.status_code == 409
