"""The public site through HTTP: home, event page, web registration (with its anti-abuse), the
registrant's page, "lost my link", series and district pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api import site
from api.ratelimit import PublicRateLimit
from events import clock, privacy
from events.models import Activity, Registration, RegistrationStatus
from events.services import access_links, catalog, form_guard
from events.services import registration as registrations
from tests.factories import bearer, make_event, make_registration, make_token


def _csp(response: httpx.Response) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, response.url


def _form_bits(page: str) -> tuple[str, str]:
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    question = re.search(r"(\d) \+ (\d) = \?", html.unescape(page))
    assert token is not None and question is not None
    return token.group(1), str(int(question.group(1)) + int(question.group(2)))


async def _register(
    client: httpx.AsyncClient,
    event_id: int,
    *,
    solve: str = "pow",
    page_path: str | None = None,
    **fields: Any,
) -> tuple[httpx.Response, dict[str, str]]:
    page = await client.get(page_path or f"/events/{event_id}")
    token, total = _form_bits(page.text)
    data = {"name": "王芳", "phone": "", "email": "wf@example.cn", "organization": "", "consent": "yes"}
    data |= {"form_token": token, "seen": "open"}
    if solve == "pow":
        data["pow"] = form_guard.solve(token)
    elif solve == "sum":
        data["answer"] = total
    data |= {k: v for k, v in fields.items() if v is not None}
    data = {k: v for k, v in data.items() if v != "<omit>"}
    return await client.post(f"/events/{event_id}/register", data=data), data


async def _follow(client: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    assert response.status_code == 303, response.text[:2000]
    return await client.get(response.headers["location"])


async def test_home_lists_upcoming_published_events_with_filters_and_paging(db, client, frozen_clock):
    first = await make_event(title="武创荟·光电子专场", tags=["光电子"], capacity=50)
    await make_event(title="未发布的活动", publish=False)
    await make_event(title="英雄杯路演", kind="roadshow", series="yingxiongbei", district="wuchang", tags=["生物医药"])
    full = await make_event(title="满员的专场", capacity=1, starts_in=timedelta(days=9))
    await make_registration(full)
    response = await client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    _csp(response)
    page = response.text
    assert "武创荟·光电子专场" in page and "英雄杯路演" in page and "未发布的活动" not in page
    assert f'href="/events/{first.id}"' in page
    assert "还剩 50 个名额" in page or "50" in page
    assert "候补" in page  # the full event with a waitlist
    # Filters go through the API's own list: kind, series, district, topic, search, dates.
    assert "英雄杯路演" not in (await client.get("/?kind=session")).text
    assert "光电子" not in (await client.get("/?district=wuchang")).text.split('id="events"')[-1]
    only_tag = (await client.get("/?tag=生物医药")).text.split('id="events"')[-1]
    assert "英雄杯路演" in only_tag and "光电子专场" not in only_tag
    searched = (await client.get("/?q=光电子")).text.split('id="events"')[-1]
    assert "光电子专场" in searched and "英雄杯" not in searched
    day = (clock.now() + timedelta(days=8)).date().isoformat()
    later = (await client.get(f"/?from={day}")).text.split('id="events"')[-1]
    assert "满员的专场" in later and "光电子专场" not in later
    # Nonsense filters are ignored, never a 500.
    assert (await client.get("/?kind=nope&district=mars&from=yesterday&cursor=forged")).status_code == 200


async def test_home_pages_by_keyset_with_a_more_link(db, client):
    for n in range(site.PAGE_SIZE + 3):
        await make_event(title=f"分页活动{n:02d}", starts_in=timedelta(days=2, hours=n))
    page = (await client.get("/")).text
    more = re.search(r'href="(/\?cursor=[^"]+)" rel="next"', page)
    assert more is not None and "分页活动00" in page and "分页活动14" not in page
    second = (await client.get(html.unescape(more.group(1)))).text
    assert "分页活动14" in second and "分页活动00" not in second


async def test_language_by_query_then_accept_language_with_a_switch(db, client):
    await make_event(title="双语活动")
    zh = await client.get("/")
    assert 'lang="zh-CN"' in zh.text and "English" in zh.text
    en = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in en.text and "Upcoming events" in en.text and "中文" in en.text
    forced = await client.get("/?lang=zh", headers={"Accept-Language": "en"})
    assert 'lang="zh-CN"' in forced.text


async def test_event_page_shows_everything_and_its_url_is_the_api_url(db, client):
    event = await make_event(
        title="武创荟·北斗专场",
        host="武汉市科技局",
        address="东湖高新区光谷大道77号",
        description="第一段。\n\n第二段。",
        tags=["北斗", "空间信息"],
        capacity=30,
        questions=[{"key": "unit_type", "label": "单位性质", "label_en": "Kind of unit", "choices": ["企业", "高校"]}],
    )
    api = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert api["url"].endswith(f"/events/{event.id}")
    response = await client.get(f"/events/{event.id}")
    assert response.status_code == 200
    _csp(response)
    page = response.text
    for text in ("武创荟·北斗专场", "武汉市科技局", "光谷科技会展中心", "Asia/Shanghai", "#北斗", "第二段", "单位性质"):
        assert text in page, text
    assert "https://uri.amap.com/search?keyword=" in page
    assert f"/calendar/events/{event.id}.ics" in page and "webcal://" in page
    assert "还剩 30 个名额" in page or "30" in page
    assert api["url"] in page  # the share link
    assert 'name="form_token"' in page and 'name="consent"' in page
    en = (await client.get(f"/events/{event.id}?lang=en")).text
    assert "Kind of unit" in en and "Register" in en


async def test_drafts_unknown_and_cancelled_events(db, client):
    draft = await make_event(publish=False)
    missing = [f"/events/{draft.id}", "/events/999999", "/events/0", "/events/abc", "/events/-1"]
    for path in [*missing, "/series/nothing-here", "/districts/mars"]:
        response = await client.get(path)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"], path
        _csp(response)
    event = await make_event(title="将被取消的活动")
    await catalog.cancel_event(event.id, actor="test")
    page = await client.get(f"/events/{event.id}")
    assert page.status_code == 200 and "活动已取消" in page.text and 'name="form_token"' not in page.text


async def test_the_bot_deep_link_is_offered_when_a_bot_is_configured(db, client):
    event = await make_event()
    assert "t.me/" not in (await client.get(f"/events/{event.id}")).text
    client._transport.app.state.bot_username = "wuchuang_test_bot"  # type: ignore[attr-defined]
    page = (await client.get(f"/events/{event.id}")).text
    assert f"https://t.me/wuchuang_test_bot?start=ev_{event.public_id}" in page


async def test_register_on_the_web_then_see_the_confirmation_with_ticket_and_link(db, client, frozen_clock):
    event = await make_event(title="报名测试专场", questions=[{"key": "unit_type", "label": "单位性质"}])
    response, _ = await _register(client, event.id, q_unit_type="企业", organization="华中科大")
    page = await _follow(client, response)
    assert page.status_code == 200
    _csp(page)
    assert page.headers["cache-control"] == "private, no-store"
    assert "报名成功" in page.text and "/api/v1/tickets/" in page.text
    registration = await Registration.get(event_id=event.id)
    assert registration.status == RegistrationStatus.CONFIRMED and registration.source == "web"
    assert registration.answers == {"unit_type": "企业"}
    assert registration.consent_version == privacy.NOTICE_VERSION and registration.consent_at == clock.now()
    assert await access_links.access_url(registration) in page.text
    assert f"/calendar/events/{event.id}.ics" in page.text
    ticket = re.search(r'src="(/api/v1/tickets/[^"]+\.svg)"', page.text)
    assert ticket is not None and (await client.get(ticket.group(1))).status_code == 200


async def test_without_javascript_the_sum_is_the_challenge(db, client):
    event = await make_event()
    response, _ = await _register(client, event.id, solve="sum")
    assert response.status_code == 303
    wrong, data = await _register(client, event.id, solve="none", answer="99", email="other@example.cn")
    assert wrong.status_code == 422 and "不对" in wrong.text or "not right" in wrong.text
    assert 'value="other@example.cn"' in wrong.text  # values kept
    assert await Registration.filter(event_id=event.id).count() == 1


async def test_bad_forms_are_shown_again_with_errors_and_values(db, client):
    event = await make_event(questions=[{"key": "unit_type", "label": "单位性质", "choices": ["企业", "高校"]}])
    cases = [
        ({"name": "<omit>"}, "name"),
        ({"name": "", "organization": "光谷实验室"}, "name"),
        ({"email": "", "phone": ""}, "phone"),
        ({"consent": "<omit>"}, "consent"),
        ({"name": "长" * 101}, "name"),
        ({"organization": "x" * 201}, "organization"),
        ({"email": "not-an-address"}, "email"),
        ({"q_unit_type": "外星机构"}, "q_unit_type"),
        ({"q_unit_type": "y" * 501}, "q_unit_type"),
    ]
    for fields, where in cases:
        fields.setdefault("q_unit_type", "企业")
        response, data = await _register(client, event.id, **fields)
        assert response.status_code == 422, (fields, response.status_code)
        _csp(response)
        at = response.text.index(f'name="{where}"')
        assert "has-error" in response.text[response.text.rfind("<label", 0, at) : at], where
        assert "请修改标出的项目" in response.text
        if fields.get("organization") == "光谷实验室":
            assert 'value="光谷实验室"' in response.text
        if len(fields.get("name", "")) > 100 or len(fields.get("organization", "")) > 200:
            assert "最多" in response.text
    assert await Registration.filter(event_id=event.id).count() == 0


async def test_a_script_in_a_name_is_escaped_everywhere(db, client):
    event = await make_event()
    evil = '<script>alert("x")</script>'
    response, _ = await _register(client, event.id, name=evil)
    page = await _follow(client, response)
    assert evil not in page.text and "&lt;script&gt;" in page.text
    token = await make_token()
    listing = await client.get(f"/api/v1/events/{event.id}/registrations", headers=bearer(token))
    assert listing.json()["items"][0]["name"] == evil  # stored as given, escaped where shown
    again, _ = await _register(client, event.id, name=evil, email="")  # the error page shows it too
    assert evil not in again.text and "&lt;script&gt;" in again.text


async def test_a_replayed_form_is_refused_clearly(db, client):
    event = await make_event()
    response, data = await _register(client, event.id)
    assert response.status_code == 303
    replay = await client.post(f"/events/{event.id}/register", data=data)
    assert replay.status_code == 409 and "已经提交过" in replay.text
    data["email"] = "someone-else@example.cn"
    assert (await client.post(f"/events/{event.id}/register", data=data)).status_code == 409
    forged = dict(data, form_token=data["form_token"][:-2] + "AA")
    assert (await client.post(f"/events/{event.id}/register", data=forged)).status_code == 403
    other_event = await make_event()
    assert (await client.post(f"/events/{other_event.id}/register", data=data)).status_code == 403
    assert await Registration.filter(event_id=event.id).count() == 1


async def test_an_expired_form_is_refused(db, client, frozen_clock):
    event = await make_event()
    page = await client.get(f"/events/{event.id}")
    token, _ = _form_bits(page.text)
    frozen_clock.set(clock.now() + form_guard.TTL + timedelta(seconds=1))
    data = {"name": "迟到者", "email": "late@example.cn", "consent": "yes", "form_token": token}
    data["pow"] = form_guard.solve(token)
    response = await client.post(f"/events/{event.id}/register", data=data)
    assert response.status_code == 403 and "过期" in response.text


async def test_a_stale_form_after_the_event_filled_up_ends_on_the_waitlist_said_clearly(db, client):
    event = await make_event(capacity=1)
    page = await client.get(f"/events/{event.id}")  # one seat left when the form was shown
    token, _ = _form_bits(page.text)
    await make_registration(event)  # someone else takes it meanwhile
    data = {"name": "晚一步", "email": "late@example.cn", "consent": "yes", "seen": "open", "form_token": token}
    data["pow"] = form_guard.solve(token)
    mine = await _follow(client, await client.post(f"/events/{event.id}/register", data=data))
    assert "名额已满" in mine.text and "候补（第 1 位）" in mine.text
    registration = await Registration.get(email="late@example.cn")
    assert registration.status == RegistrationStatus.WAITLISTED
    # The event page now offers the waitlist.
    assert "加入候补" in (await client.get(f"/events/{event.id}")).text


async def test_closed_and_duplicate_registrations_are_said_on_the_form(db, client):
    event = await make_event()
    assert (await _register(client, event.id))[0].status_code == 303
    again, _ = await _register(client, event.id)
    assert again.status_code == 409 and "已报名" in again.text


async def test_the_per_address_rate_limit_applies_to_the_form(db, client):
    event = await make_event()
    client._transport.app.state.rate_limit = PublicRateLimit("2/minute")  # type: ignore[attr-defined]
    for n in range(2):
        assert (await _register(client, event.id, email=f"r{n}@example.cn"))[0].status_code == 303
    limited, _ = await _register(client, event.id, email="r3@example.cn")
    assert limited.status_code == 429


async def test_my_registration_page_cancel_with_a_confirm_step_promotes_the_waitlist(db, client):
    event = await make_event(capacity=1)
    response, _ = await _register(client, event.id)
    mine_url = response.headers["location"].split("?")[0]
    waiting = (await make_registration(event, name="候补者")).registration
    assert waiting.status == RegistrationStatus.WAITLISTED
    page = await client.get(mine_url)
    assert page.status_code == 200 and "报名成功" in page.text
    confirm = await client.get(mine_url + "/cancel")
    assert "确定取消" in confirm.text
    token = re.search(r'name="form_token" value="([^"]+)"', confirm.text)
    assert token is not None
    done = await _follow(client, await client.post(mine_url + "/cancel", data={"form_token": token.group(1)}))
    assert "已取消" in done.text
    assert (await Registration.get(id=waiting.id)).status == RegistrationStatus.CONFIRMED
    replay = await client.post(mine_url + "/cancel", data={"form_token": token.group(1)})
    assert replay.status_code == 409


async def test_the_waitlist_position_shows_on_my_page(db, client):
    event = await make_event(capacity=1)
    await make_registration(event)
    await make_registration(event)
    response, _ = await _register(client, event.id, seen="waitlist")
    page = await _follow(client, response)
    assert "候补第 2 位" in page.text or "第 2" in page.text


async def test_change_answers_through_the_service(db, client):
    event = await make_event(questions=[{"key": "unit_type", "label": "单位性质", "choices": ["企业", "高校"]}])
    response, _ = await _register(client, event.id, q_unit_type="企业")
    mine_url = response.headers["location"].split("?")[0]
    page = await client.get(mine_url)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    bad = await client.post(mine_url + "/answers", data={"form_token": token.group(1), "q_unit_type": "外星"})
    assert bad.status_code == 422 and "不是" in bad.text
    page = await client.get(mine_url)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    good = await client.post(mine_url + "/answers", data={"form_token": token.group(1), "q_unit_type": "高校"})
    assert good.status_code == 303
    assert (await Registration.get(event_id=event.id)).answers == {"unit_type": "高校"}
    assert await Activity.filter(kind="registration.answers_changed").count() == 1


async def test_change_answers_service_validates_like_register(db):
    event = await make_event(questions=[{"key": "unit_type", "label": "单位性质", "choices": ["企业", "高校"]}])
    result = await make_registration(event, answers={"unit_type": "企业"})
    from events.errors import InvalidInput, InvalidTransition

    with pytest.raises(InvalidInput):
        await registrations.change_answers(result.registration.id, {"unit_type": "外星"}, actor="t")
    with pytest.raises(InvalidInput):
        await registrations.change_answers(result.registration.id, {}, actor="t")
    await registrations.cancel_registration(result.registration.id, actor="t")
    with pytest.raises(InvalidTransition):
        await registrations.change_answers(result.registration.id, {"unit_type": "高校"}, actor="t")


async def test_forged_and_expired_links_show_the_lost_link_form(db, client, frozen_clock):
    event = await make_event(starts_in=timedelta(days=1))
    registration = (await make_registration(event, email="old@example.cn")).registration
    token = await access_links.access_token(registration)
    forged = await client.get("/r/" + token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert forged.status_code == 404 and 'action="/r/lost"' in forged.text
    _csp(forged)
    assert (await client.get("/r/x")).status_code == 404
    assert (await client.get("/r/" + "y" * 300)).status_code == 404
    frozen_clock.set(event.ends_at + access_links.LINK_GRACE + timedelta(minutes=1))
    expired = await client.get(f"/r/{token}")
    assert expired.status_code == 410 and 'action="/r/lost"' in expired.text
    assert (await client.post(f"/r/{token}/cancel", data={})).status_code == 410


async def test_lost_link_gives_the_same_answer_and_records_requests(db, client):
    event = await make_event()
    await make_registration(event, email="known@example.cn")
    answers = []
    for email in ("Known@Example.cn", "nobody@example.cn"):
        page = await client.get("/r/lost")
        _csp(page)
        token, _ = _form_bits(page.text)
        response = await client.post(
            "/r/lost", data={"email": email, "form_token": token, "pow": form_guard.solve(token)}
        )
        assert response.status_code == 200
        answers.append(re.sub(r'value="[^"]*"', "", response.text.split("<main>")[1].split("</main>")[0]))
    assert answers[0] == answers[1] and "如果该地址" in answers[0]
    requested = await Activity.filter(kind="registration.link_requested")
    assert len(requested) == 1 and requested[0].registration_id is not None
    page = await client.get("/r/lost")
    token, _ = _form_bits(page.text)
    bad = await client.post("/r/lost", data={"email": "x" * 300, "form_token": token, "pow": form_guard.solve(token)})
    assert bad.status_code == 422


async def test_request_link_service_counts_live_registrations_of_the_address(db):
    first, second = await make_event(), await make_event()
    await make_registration(first, email="a@example.cn")
    cancelled = (await make_registration(second, email="a@example.cn")).registration
    await registrations.cancel_registration(cancelled.id, actor="t")
    assert await access_links.request_link(" A@example.cn ", None, actor="web") == 1
    assert await access_links.request_link("a@example.cn", second.id, actor="web") == 0
    assert await access_links.request_link("not an address", None, actor="web") == 0


async def test_series_and_district_pages_group_by_month(db, client):
    await make_event(title="一月场", starts_at=clock.now() + timedelta(days=3))
    await make_event(title="二月场", starts_at=clock.now() + timedelta(days=40), district="hongshan")
    series = await client.get("/series/wuchuanghui")
    assert series.status_code == 200 and "一月场" in series.text and "二月场" in series.text
    assert series.text.count('class="month"') == 2 and "webcal://" in series.text
    district = await client.get("/districts/hongshan")
    assert district.status_code == 200 and "二月场" in district.text and "一月场" not in district.text
    _csp(district)


async def test_a_competition_event_links_its_entry_form_and_results(db, client):
    from events.models import Competition
    from events.services import organizations

    event = await make_event(kind="competition", title="武创源大赛启动会")
    competition = await Competition.create(
        title="武创源颠覆性技术大赛",
        launch_event_id=event.id,
        managed_by_id=await organizations.default_organization_id(),
        created_by="test",
    )
    page = (await client.get(f"/events/{event.id}")).text
    assert "武创源颠覆性技术大赛" in page and f"/competitions/{competition.id}/results" in page


async def test_the_cached_event_page_follows_seat_changes(db, client):
    event = await make_event(capacity=2)
    assert "还剩 2 个名额" in (await client.get(f"/events/{event.id}")).text
    await make_registration(event)
    assert "还剩 1 个名额" in (await client.get(f"/events/{event.id}")).text
    first = await client.get(f"/events/{event.id}")
    second = await client.get(f"/events/{event.id}")
    assert _form_bits(first.text)[0] != _form_bits(second.text)[0]  # a fresh token in every copy


async def test_links_point_at_the_event_page(db):
    from events.models import Person
    from events.services import posters
    from notifications.producers import _event_button

    event = await make_event()
    person = await Person.create(name="张三", telegram_id=42, language="zh")
    rows = _event_button(event, person, "wuchuang_test_bot", public_url="https://site.example")
    assert rows is not None and rows[-1][0]["url"] == f"https://site.example/events/{event.id}"
    assert _event_button(event, person, None) is None
    assert (
        "网页报名" in posters.poster_caption(None)[0]
        and "@wuchuang_test_bot" in posters.poster_caption("wuchuang_test_bot")[0]
    )


async def test_a_cached_page_never_carries_another_visitor_s_query(db, client):
    event = await make_event()
    first = await client.get(f"/events/{event.id}?utm_source=poster&x=<b>")
    assert "utm_source" not in first.text
    again = await client.get(f"/events/{event.id}")
    assert f'href="/events/{event.id}?lang=en"' in again.text
    home = await client.get("/?kind=session&junk=1")
    assert "junk" not in home.text and "kind=session&amp;lang=en" in home.text


async def test_the_render_cache_can_be_turned_off(db, frozen_clock):
    from api.app import create_app

    app = create_app(db.model_copy(update={"site_cache_seconds": 0}), manage_db=False)
    event = await make_event(capacity=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert "还剩 5 个名额" in (await http.get(f"/events/{event.id}")).text
        from events.models import Event

        # Seats taken by another process (a bulk update: no save signal here) show at once without a cache.
        await Event.filter(id=event.id).update(seats_taken=3)
        assert "还剩 2 个名额" in (await http.get(f"/events/{event.id}")).text


async def test_an_event_that_needs_approval_says_so_on_the_confirmation(db, client):
    event = await make_event(requires_approval=True)
    assert "报名需审核" in (await client.get(f"/events/{event.id}")).text
    page = await _follow(client, (await _register(client, event.id))[0])
    assert "等待审核" in page.text and "/api/v1/tickets/" not in page.text
    assert (await Registration.get(event_id=event.id)).status == RegistrationStatus.PENDING


async def test_the_registrants_page_leads_to_their_data_their_erasure_and_the_ticket_card(client):
    event = await make_event()
    registration = (await make_registration(event, name="周杰", email="zj@example.cn")).registration
    token = await access_links.access_token(registration)
    page = await client.get(f"/r/{token}")
    assert page.status_code == 200
    _csp(page)
    assert f'href="/r/{token}/data"' in page.text and f'href="/r/{token}/delete"' in page.text
    card = re.search(r'href="(/api/v1/tickets/[^"]+/card\.png\?lang=zh)"', page.text)
    assert card is not None
    image = await client.get(html.unescape(card.group(1)))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    data = await client.get(f"/r/{token}/data")
    assert data.status_code == 200 and "周杰" in data.text


async def test_a_cancellation_on_the_web_is_the_registrants_own(client):
    event = await make_event()
    registration = (await make_registration(event, name="吴敏", email="wm@example.cn")).registration
    token = await access_links.access_token(registration)
    page = await client.get(f"/r/{token}/cancel")
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert form_token is not None
    done = await client.post(f"/r/{token}/cancel", data={"form_token": form_token.group(1)})
    assert done.status_code in (200, 303)
    fact = await Activity.get(kind="registration.cancelled", registration_id=registration.id)
    assert fact.actor.startswith("web:")  # the mail says "you cancelled", not "the organizers cancelled"
