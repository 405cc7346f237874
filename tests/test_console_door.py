"""The console's live door view, door-staff links and downloads (api/console/door.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import httpx
import pytest

from events.models import ApiToken, Role
from events.services import checkin, door, door_links, organizations, tickets, tokens
from events.settings import Settings
from tests.console_kit import as_, build_console_world
from tests.factories import make_registration
from tests.test_console_matrix import console_client  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("frozen_clock")


async def _scan(db: Settings, event_id: int, registration, *, gate: str | None, actor: str) -> checkin.Outcome:  # type: ignore[no-untyped-def]
    signer = tickets.signer_for(db.data_dir.resolve())
    code = tickets.ticket_code(registration, signer)
    return await checkin.redeem(checkin.Scan(code=code, event_id=event_id, gate=gate), signer=signer, actor=actor)


async def test_door_view_counts_arrivals_gates_and_checkers(
    console_client: httpx.AsyncClient,  # noqa: F811
    db: Settings,
    frozen_clock,  # type: ignore[no-untyped-def]
) -> None:
    w = await build_console_world()
    people = [
        (await make_registration(w.event, name=f"来宾{i}", organization="光谷实验室")).registration for i in range(3)
    ]
    assert (await _scan(db, w.event.id, people[0], gate="东门", actor="token:7:东门 小李")).result == "ok"
    frozen_clock.now += timedelta(minutes=6)
    assert (await _scan(db, w.event.id, people[1], gate="东门", actor="token:7:东门 小李")).result == "ok"
    assert (await _scan(db, w.event.id, people[2], gate="西门", actor="token:8:西门")).result == "ok"
    assert (await _scan(db, w.event.id, people[2], gate="西门", actor="token:8:西门")).result == "already_checked_in"

    view = await door.door_view(w.event)
    assert view.stats.checked_in == 3 and view.stats.confirmed == 4
    assert view.gates == [("东门", 2), ("西门", 1)]
    assert [(c.checker, c.admitted, c.refused) for c in view.checkers] == [
        ("token:7:东门 小李", 2, 0),
        ("token:8:西门", 1, 1),
    ]
    assert view.refused == 1 and view.recent[0].name == "来宾2"
    assert sorted(n for _, n in view.stats.arrivals) == [1, 2]

    page = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{w.event.id}/door")
    assert page.status_code == 200
    html = page.text
    assert 'data-figure="checked_in">3<' in html and 'data-figure="confirmed">4<' in html
    assert "东门 小李" in html and "token:7" not in html  # the checker by the token's name
    assert "来宾2" in html and "<svg" in html and "<rect" in html
    assert 'http-equiv="refresh"' in html and "console_door.js" in html
    assert "style=" not in html  # the CSP forbids inline styles
    live = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{w.event.id}/door/live")
    assert live.status_code == 200 and "<html" not in live.text and 'data-figure="checked_in">3<' in live.text
    en = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{w.event.id}/door", params={"lang": "en"})
    assert "Arrivals per 5 minutes" in en.text
    assert "每5分钟到场" in html or "到场" in html


async def test_door_view_of_an_empty_event_and_bad_ids(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    w = await build_console_world()
    page = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{w.draft.id}/door")
    assert page.status_code == 200 and "<rect" not in page.text
    for bad in ("abc", "0", "99999999999", "999999"):
        answer = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{bad}/door")
        assert answer.status_code == 404, bad
    other = await as_(console_client, w, "organizer_b", "GET", f"/console/events/{w.event.id}/door/live")
    assert other.status_code == 404


async def test_a_door_link_scans_its_event_only_and_stops_when_revoked(
    console_client: httpx.AsyncClient,  # noqa: F811
) -> None:
    w = await build_console_world()
    made = await as_(
        console_client, w, "organizer_a", "POST", f"/console/events/{w.event.id}/staff", data={"name": "东门 小李"}
    )
    assert made.status_code == 200
    link = re.search(r'id="new-link">([^<]+)<', made.text)
    assert link, made.text[:500]
    assert "<svg" in made.text and "style=" not in made.text
    plaintext = re.search(r"#token=([^&]+)&amp;event=(\d+)", link.group(1))
    assert plaintext and int(plaintext.group(2)) == w.event.id
    token = await tokens.authenticate(plaintext.group(1))
    assert token.role == Role.CHECKER and token.event_ids == [w.event.id] and token.organization_id == w.a

    # It is the scanner's token: this event's door list, and no other event's.
    bearer = {"Authorization": f"Bearer {plaintext.group(1)}"}
    assert (await console_client.get(f"/api/v1/events/{w.event.id}/checkin-list", headers=bearer)).status_code == 200
    assert (await console_client.get(f"/api/v1/events/{w.draft.id}/checkin-list", headers=bearer)).status_code == 403

    listed = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{w.event.id}/staff")
    assert "东门 小李" in listed.text and plaintext.group(1) not in listed.text  # shown once only
    assert (
        await as_(console_client, w, "organizer_b", "GET", f"/console/events/{w.event.id}/staff")
    ).status_code == 404

    # B cannot revoke A's link; A can, once.
    url = f"/console/events/{w.event.id}/staff/{token.id}/revoke"
    assert (await as_(console_client, w, "organizer_b", "POST", url)).status_code == 404
    done = await as_(console_client, w, "organizer_a", "POST", url)
    assert done.status_code == 303 and "done=revoked" in done.headers["location"]
    assert (await ApiToken.get(id=token.id)).revoked_at is not None
    assert (await console_client.get(f"/api/v1/events/{w.event.id}/checkin-list", headers=bearer)).status_code == 401
    # A link of another event, or an organizer's token, is not this event's to revoke.
    other = await door_links.create_door_link(w.draft.id, "草稿门", scope=organizations.Scope(w.a), actor="t")
    wrong = await as_(
        console_client, w, "organizer_a", "POST", f"/console/events/{w.event.id}/staff/{other.token.id}/revoke"
    )
    assert wrong.status_code == 404 and (await ApiToken.get(id=other.token.id)).revoked_at is None


async def test_a_door_link_needs_a_name_and_the_csrf_token(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    w = await build_console_world()
    url = f"/console/events/{w.event.id}/staff"
    empty = await as_(console_client, w, "organizer_a", "POST", url, data={"name": "  "})
    assert empty.status_code == 422 and 'class="problem"' in empty.text
    long = await as_(console_client, w, "organizer_a", "POST", url, data={"name": "门" * 150})
    assert long.status_code == 422
    forged = await as_(console_client, w, "organizer_a", "POST", url, data={"name": "东门"}, csrf=False)
    assert forged.status_code == 403
    assert await ApiToken.filter(role=Role.CHECKER).count() == 0


async def test_downloads_are_the_apis_sheets(console_client: httpx.AsyncClient, db: Settings) -> None:  # noqa: F811
    w = await build_console_world()
    arrived = (await make_registration(w.event, name="到了", organization="=HYPERLINK()")).registration
    await _scan(db, w.event.id, arrived, gate="东门", actor="token:1:x")
    page = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{w.event.id}/exports")
    assert page.status_code == 200 and "sheet=not_in" in page.text and "format=xlsx" in page.text

    url = f"/console/events/{w.event.id}/exports/registrations"
    whole = await as_(console_client, w, "organizer_a", "GET", url, params={"sheet": "all", "format": "csv"})
    assert whole.status_code == 200 and whole.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(whole.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["编号", "状态", "候补位置", "姓名"] or rows[0][0] in ("ID", "编号")
    assert {r[3] for r in rows[1:]} == {"张三", "到了"}
    assert any(cell == "'=HYPERLINK()" for r in rows for cell in r)  # a formula stays text
    came = await as_(console_client, w, "organizer_a", "GET", url, params={"sheet": "in", "format": "csv"})
    assert [r[3] for r in list(csv.reader(io.StringIO(came.text.lstrip("\ufeff"))))[1:]] == ["到了"]
    absent = await as_(console_client, w, "organizer_a", "GET", url, params={"sheet": "not_in", "format": "csv"})
    assert [r[3] for r in list(csv.reader(io.StringIO(absent.text.lstrip("\ufeff"))))[1:]] == ["张三"]
    book = await as_(console_client, w, "organizer_a", "GET", url, params={"sheet": "confirmed", "format": "xlsx"})
    assert book.status_code == 200 and book.content[:2] == b"PK"

    for params in ({"sheet": "everything"}, {"format": "pdf"}):
        assert (await as_(console_client, w, "organizer_a", "GET", url, params=params)).status_code == 422
    assert (await as_(console_client, w, "organizer_b", "GET", url)).status_code == 404
    no_course = await as_(console_client, w, "organizer_a", "GET", f"/console/events/{w.event.id}/exports/attendance")
    assert no_course.status_code == 404


async def test_a_door_link_form_sent_twice_makes_one_link(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    w = await build_console_world()
    url = f"/console/events/{w.event.id}/staff"
    page = await as_(console_client, w, "organizer_a", "GET", url)
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key
    first = await as_(console_client, w, "organizer_a", "POST", url, data={"name": "东门", "key": key[1]})
    again = await as_(console_client, w, "organizer_a", "POST", url, data={"name": "东门", "key": key[1]})
    links = [re.search(r'id="new-link">([^<]+)<', r.text) for r in (first, again)]
    assert links[0] and links[1] and links[0][1] == links[1][1]  # the reload shows the same link
    assert await ApiToken.filter(role=Role.CHECKER).count() == 1
    other = await as_(console_client, w, "organizer_a", "POST", url, data={"name": "西门", "key": key[1]})
    assert other.status_code == 422 and await ApiToken.filter(role=Role.CHECKER).count() == 1
