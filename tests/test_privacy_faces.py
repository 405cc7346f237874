"""Privacy over HTTP (the admin API, the notice, a registrant's download and delete pages) and the ticket
card image."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import zxingcpp
from PIL import Image

from api.privacy_pages import FORM_MAX_AGE
from events import clock
from events.models import Activity, Person, Registration, RegistrationStatus, Role
from events.privacy import NOTICE_VERSION
from events.services import access_links, fonts, ticket_card, tickets
from tests.factories import bearer, make_event, make_registration, make_token

SCRIPT = "<script>alert(1)</script>"


def _form_token(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


# --- the admin API ------------------------------------------------------------------------------


async def test_admins_export_and_erase_a_person_organizers_may_not(client, frozen_clock):
    event = await make_event(capacity=1)
    mine = (await make_registration(event, name="赵敏", phone="13811112222")).registration
    waiting = (await make_registration(event, name="周芷若", phone="13811113333")).registration
    admin = bearer(await make_token(role=Role.ADMIN, name="office"))
    organizer = bearer(await make_token(role=Role.ORGANIZER))
    url = f"/api/v1/people/{mine.person_id}"

    assert (await client.get(f"{url}/export")).status_code == 401
    refused = await client.get(f"{url}/export", headers=organizer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert (await client.post(f"{url}/erase", headers=organizer)).status_code == 403
    missing = await client.get("/api/v1/people/999999/export", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "person_not_found"
    assert (await client.get("/api/v1/people/0/export", headers=admin)).status_code == 422

    export = await client.get(f"{url}/export", headers=admin)
    assert export.status_code == 200
    body = export.json()
    assert body["profile"]["name"] == "赵敏" and body["notice_version"] == NOTICE_VERSION
    assert [r["event_title"] for r in body["registrations"]] == [event.title]

    erased = await client.post(f"{url}/erase", headers=admin)
    assert erased.status_code == 200
    result = erased.json()
    assert result["registrations_cancelled"] == 1 and result["already_erased"] is False
    assert (await Registration.get(id=waiting.id)).status == RegistrationStatus.CONFIRMED  # promoted
    assert (await Person.get(id=mine.person_id)).name == result["pseudonym"]
    fact = await Activity.get(kind="privacy.erased")
    assert fact.actor.startswith("token:") and fact.actor.endswith(":office")
    again = await client.post(f"{url}/erase", headers=admin)
    assert again.status_code == 200 and again.json()["already_erased"] is True


# --- the notice ---------------------------------------------------------------------------------


async def test_the_notice_in_chinese_and_english_with_the_retention_and_the_version(client):
    zh = await client.get("/privacy")
    assert zh.status_code == 200 and zh.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in zh.headers["content-security-policy"]
    assert zh.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="zh-CN">' in zh.text and "隐私声明" in zh.text
    assert "730" in zh.text and NOTICE_VERSION in zh.text and "/mydata" in zh.text and "/delete" in zh.text
    assert 'href="/privacy?lang=en"' in zh.text and "<script" not in zh.text
    en = await client.get("/privacy", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in en.text and "Privacy notice" in en.text and "730 days" in en.text
    assert ">中文<" in en.text
    assert "隐私声明" in (await client.get("/privacy?lang=zh", headers={"Accept-Language": "en"})).text
    css = await client.get(re.search(r'href="(/static/privacy.css\?v=\w+)"', zh.text).group(1))  # type: ignore[union-attr]
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


async def test_the_notice_says_when_retention_is_off(db):
    import httpx

    from api.app import create_app

    app = create_app(db.model_copy(update={"retention_days": 0}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        page = await http.get("/privacy?lang=en")
    assert "until you ask us to delete them" in page.text and "730" not in page.text


# --- a registrant's own requests ----------------------------------------------------------------


async def test_a_registrant_downloads_their_data(client, frozen_clock):
    event = await make_event()
    registration = (await make_registration(event, name=SCRIPT, phone="13822223333", answers={})).registration
    token = await access_links.access_token(registration)
    answer = await client.get(f"/r/{token}/data")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"].startswith('attachment; filename="wuchuang-my-data-')
    assert answer.headers["cache-control"] == "private, no-store"
    data = answer.json()
    assert data["profile"]["name"] == SCRIPT and data["registrations"][0]["phone"] == "+8613822223333"


async def test_forged_and_expired_links_get_a_clear_page(client, frozen_clock):
    event = await make_event()
    registration = (await make_registration(event)).registration
    token = await access_links.access_token(registration)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for path in (f"/r/{forged}/data", f"/r/{forged}/delete", "/r/x/delete"):
        page = await client.get(path)
        assert page.status_code == 404 and "链接无效" in page.text and "重新获取" in page.text, page.text
        assert "content-security-policy" in page.headers
    english = await client.get(f"/r/{forged}/delete?lang=en")
    assert "This link is not valid" in english.text
    posted = await client.post(f"/r/{forged}/delete", data={"form_token": "1.x"})
    assert posted.status_code == 404
    frozen_clock.set(event.ends_at + access_links.LINK_GRACE + timedelta(days=1))
    expired = await client.get(f"/r/{token}/delete?lang=en")
    assert expired.status_code == 404 and "expired" in expired.text


async def test_deleting_from_the_web_link(client, frozen_clock):
    event = await make_event(capacity=1)
    registration = (
        await make_registration(event, name=SCRIPT, phone="13833334444", email="me@example.cn")
    ).registration
    waiting = (await make_registration(event, name="候补", phone="13833335555")).registration
    token = await access_links.access_token(registration)

    page = await client.get(f"/r/{token}/delete")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert SCRIPT not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # escaped
    assert f'href="/r/{token}"' in page.text and f'href="/r/{token}/data"' in page.text  # back, download
    assert "<script" not in page.text
    form = _form_token(page.text)

    # No token, a forged one, one made for another link, a stale one: refused, nothing erased.
    other = await access_links.access_token(waiting)
    other_form = _form_token((await client.get(f"/r/{other}/delete")).text)
    for bad in ({}, {"form_token": "123.abc"}, {"form_token": other_form}):
        refused = await client.post(f"/r/{token}/delete", data=bad)
        assert refused.status_code == 403 and "表单已过期" in refused.text, refused.text
    frozen_clock.set(clock.now() + timedelta(seconds=FORM_MAX_AGE + 1))
    stale = await client.post(f"/r/{token}/delete", data={"form_token": form})
    assert stale.status_code == 403
    assert (await Registration.get(id=registration.id)).name == SCRIPT

    form = _form_token((await client.get(f"/r/{token}/delete?lang=en")).text)
    done = await client.post(f"/r/{token}/delete?lang=en", data={"form_token": form})
    assert done.status_code == 200 and "Your data has been deleted" in done.text
    assert "already_erased" not in done.text and "已删除用户#" in done.text
    gone = await Registration.get(id=registration.id)
    assert gone.status == RegistrationStatus.CANCELLED and gone.phone is None and gone.email is None
    assert (await Registration.get(id=waiting.id)).status == RegistrationStatus.CONFIRMED
    # Single use: the link died with the data, so the same form sent again finds nothing.
    replay = await client.post(f"/r/{token}/delete?lang=en", data={"form_token": form})
    assert replay.status_code == 404 and "This link is not valid" in replay.text
    assert (await client.get(f"/r/{token}/data")).status_code == 404


# --- the ticket card ----------------------------------------------------------------------------


def _decode(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def test_the_ticket_card_shows_the_ticket_and_its_qr_reads(client, frozen_clock):
    event = await make_event(capacity=5, address="高新大道 999 号")
    created = (await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "李明"})).json()
    ticket = created["ticket"]
    code = ticket["code"]
    assert ticket["card_png_url"].endswith(f"/api/v1/tickets/{code}/card.png")
    card = await client.get(f"/api/v1/tickets/{code}/card.png")
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(card.content))
    assert image.width == ticket_card.WIDTH and image.height > ticket_card.QR_SIZE + 300
    assert _decode(card.content) == [code]
    assert _decode((await client.get(f"/api/v1/tickets/{code}/card.png?lang=en")).content) == [code]
    # The bare QR is unchanged: the QR image alone, square, of the code.
    bare = await client.get(f"/api/v1/tickets/{code}.png")
    assert bare.content == tickets.qr_png(code) and _decode(bare.content) == [code]
    assert (await client.get(f"/api/v1/tickets/{code}.svg")).headers["content-type"] == "image/svg+xml"
    # Not signed here, or no longer current: no card (it would show a name on a dead ticket).
    assert (await client.get("/api/v1/tickets/WC1.forged/card.png")).status_code == 404
    await client.post(f"/api/v1/registrations/{created['id']}/cancel", headers=bearer(created["access_token"]))
    gone = await client.get(f"/api/v1/tickets/{code}/card.png")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_a_reissued_ticket_has_a_new_card_and_the_old_code_none(db, frozen_clock):
    event = await make_event()
    registration = (await make_registration(event, name="王五")).registration
    signer = tickets.signer_for(db.data_dir.resolve())
    old = tickets.ticket_code(registration, signer)
    assert old is not None
    renewed = await tickets.reissue_ticket(registration.id, actor="test")
    new = tickets.ticket_code(renewed, signer)
    card = await ticket_card.card_of_registration(renewed, signer, locale="zh")
    assert card is not None and _decode(card) == [new]
    import pytest

    from events.errors import NotFound

    with pytest.raises(NotFound):
        await ticket_card.card_facts(old, signer)


async def test_without_a_chinese_font_the_card_still_carries_a_readable_qr(db, frozen_clock, monkeypatch):
    event = await make_event(title="Wuhan AI Day · 人工智能日")
    registration = (await make_registration(event, name="Li Ming 李明")).registration
    signer = tickets.signer_for(db.data_dir.resolve())
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    assert fonts.drawable("Wuhan AI Day · 人工智能日") == "Wuhan AI Day"
    assert fonts.drawable("武创荟 · 电子门票") == ""
    card = await ticket_card.card_of_registration(registration, signer, locale="zh")
    assert card is not None and _decode(card) == [tickets.ticket_code(registration, signer)]


def test_the_machine_has_a_simplified_chinese_face():
    """.ci/run installs fonts-noto-cjk; the face picked is the mainland one, not the collection's first."""
    face = fonts.cjk_font()
    assert face is not None
    from PIL import ImageFont

    family = ImageFont.truetype(face.path, 20, index=face.index).getname()[0]
    assert family is not None and ("SC" in family or "Hei" in family)
