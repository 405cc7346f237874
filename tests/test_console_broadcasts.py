"""The console's announcements (api/console/broadcasts.py): reach by channel, preview, sending once per
form, progress per channel, cancel; ``broadcasts.send_broadcast`` and ``notifications.outbox.broadcast_reach``."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from events.errors import BroadcastClosed, IdempotencyKeyReused
from events.models import Broadcast, IdempotencyRecord, OutboxMessage, OutboxStatus, Person, Registration
from events.services import broadcasts
from notifications.outbox import broadcast_reach
from notifications.producers import Producer
from tests.console_kit import ConsoleWorld, as_, build_console_world
from tests.factories import make_registration
from tests.test_console_matrix import console_client  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("frozen_clock")


async def _audience(w: ConsoleWorld) -> None:
    """Beside 张三 (a phone only: unreachable): two in Telegram, one by mail, one who turned them off."""
    await make_registration(w.event, name="电报甲", telegram_id=9001)
    await make_registration(w.event, name="电报乙", telegram_id=9002, email="yi@example.cn")
    await make_registration(w.event, name="邮件丙", email="bing@example.cn")
    off = (await make_registration(w.event, name="退订丁", telegram_id=9004)).registration
    await Person.filter(id=off.person_id).update(opted_out=["broadcast"])


async def test_reach_by_channel_is_what_the_producer_queues(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    w = await build_console_world()
    await _audience(w)
    assert await broadcast_reach(w.event.id) == {"telegram": 2, "email": 1, None: 2}
    broadcast = await broadcasts.create_broadcast(w.event.id, "会场改到 B 厅", actor="t")
    await Producer().drain()
    queued = await OutboxMessage.filter(broadcast_id=broadcast.id).count()
    assert queued == 3  # the reachable ones, as counted before sending


async def test_compose_preview_send_once_and_progress(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    w = await build_console_world()
    await _audience(w)
    url = f"/console/events/{w.event.id}/broadcasts"
    page = await as_(console_client, w, "organizer_a", "GET", url)
    assert page.status_code == 200
    assert 'data-reach="telegram">2<' in page.text and 'data-reach="email">1<' in page.text
    assert 'data-reach="none">2<' in page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key

    text = "会场改到 B 厅 <b>请</b> & 准时"
    shown = await as_(console_client, w, "organizer_a", "POST", url + "/preview", data={"text": text, "key": key[1]})
    assert shown.status_code == 200
    assert (
        "📢 <b>武创荟·A 专场</b><br>会场改到 B 厅 &lt;b&gt;请&lt;/b&gt; &amp; 准时" in shown.text
    )  # typed tags stay text
    assert "来自主办方" in shown.text or "From the organizers" in shown.text
    assert "发送给 3 人" in shown.text and f'value="{key[1]}"' in shown.text
    assert await Broadcast.all().count() == 0  # a preview sends nothing

    first = await as_(console_client, w, "organizer_a", "POST", url, data={"text": text, "key": key[1]})
    again = await as_(console_client, w, "organizer_a", "POST", url, data={"text": text, "key": key[1]})
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]  # the double click: the same one
    assert await Broadcast.all().count() == 1
    broadcast = await Broadcast.get()
    assert broadcast.text == text and broadcast.author == f"account:{w.accounts['organizer_a'].id}"

    await Producer().drain()
    rows = await OutboxMessage.filter(broadcast_id=broadcast.id).order_by("id")
    await OutboxMessage.filter(id=rows[0].id).update(status=OutboxStatus.SENT, channel="telegram")
    await OutboxMessage.filter(id=rows[1].id).update(status=OutboxStatus.FAILED, channel="email")
    shown = await as_(console_client, w, "organizer_a", "GET", first.headers["location"])
    assert shown.status_code == 200 and "通知已排队" in shown.text
    table = shown.text[shown.text.index('id="progress-table"') :]
    assert re.search(r"<td>Telegram</td>.*?<td class=\"num\">1</td><td class=\"num\">0</td>", table, re.S)
    assert "data-live=" in shown.text  # one still pending: the page refreshes
    fragment = await as_(console_client, w, "organizer_a", "GET", f"/console/broadcasts/{broadcast.id}/progress")
    assert fragment.status_code == 200 and "<html" not in fragment.text and "progress-table" in fragment.text

    listed = await as_(console_client, w, "organizer_a", "GET", "/console/broadcasts")
    assert "会场改到 B 厅" in listed.text and "武创荟·A 专场" in listed.text
    assert "会场改到" not in (await as_(console_client, w, "organizer_b", "GET", "/console/broadcasts")).text

    stop = await as_(console_client, w, "organizer_a", "POST", f"/console/broadcasts/{broadcast.id}/cancel")
    assert stop.status_code == 303 and "stopped=1" in stop.headers["location"]
    assert await OutboxMessage.filter(broadcast_id=broadcast.id, status=OutboxStatus.QUEUED).count() == 0
    twice = await as_(console_client, w, "organizer_a", "POST", f"/console/broadcasts/{broadcast.id}/cancel")
    assert twice.status_code == 409


async def test_bad_announcements_are_refused_with_the_text_kept(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    w = await build_console_world()
    url = f"/console/events/{w.event.id}/broadcasts"
    empty = await as_(console_client, w, "organizer_a", "POST", url, data={"text": "  ", "key": "k1"})
    assert empty.status_code == 422
    long = await as_(
        console_client, w, "organizer_a", "POST", url + "/preview", data={"text": "长" * 3501, "key": "k2"}
    )
    assert long.status_code == 422 and "长" * 100 in long.text
    no_key = await as_(console_client, w, "organizer_a", "POST", url, data={"text": "你好"})
    assert no_key.status_code == 422 and "你好" in no_key.text
    draft = await as_(console_client, w, "organizer_a", "POST", f"/console/events/{w.draft.id}/broadcasts",
                      data={"text": "你好", "key": "k3"})  # fmt: skip
    assert draft.status_code == 409 and "6 小时" in draft.text
    assert (
        await as_(console_client, w, "organizer_b", "POST", url, data={"text": "你好", "key": "k4"})
    ).status_code == 404
    assert (
        await as_(console_client, w, "organizer_a", "POST", url, data={"text": "x", "key": "k5"}, csrf=False)
    ).status_code == 403
    for bad in ("abc", "999999"):
        assert (await as_(console_client, w, "organizer_a", "GET", f"/console/broadcasts/{bad}")).status_code == 404
    assert (
        await as_(console_client, w, "organizer_a", "GET", "/console/broadcasts", params={"cursor": "x"})
    ).status_code == 422
    assert await Broadcast.all().count() == 0


async def test_send_broadcast_is_once_per_key(console_client: httpx.AsyncClient, frozen_clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    w = await build_console_world()
    made, new = await broadcasts.send_broadcast(w.event.id, "一", actor="a", key="k")
    again, new_again = await broadcasts.send_broadcast(w.event.id, " 一 ", actor="a", key="k")
    assert new and not new_again and made.id == again.id
    with pytest.raises(IdempotencyKeyReused):
        await broadcasts.send_broadcast(w.event.id, "二", actor="a", key="k")
    other, _ = await broadcasts.send_broadcast(w.event.id, "一", actor="b", key="k")  # another person's key
    assert other.id != made.id
    frozen_clock.now += timedelta(days=3)  # a failed send frees its key for the retry
    with pytest.raises(BroadcastClosed):
        await broadcasts.send_broadcast(w.event.id, "三", actor="a", key="k9")
    assert not await IdempotencyRecord.filter(key="k9").exists()
    assert await Broadcast.all().count() == 2


async def test_an_audience_narrows_reach_preview_and_what_is_queued(
    console_client: httpx.AsyncClient,  # noqa: F811
    db,  # type: ignore[no-untyped-def]
) -> None:
    from events.services import checkin, tickets

    w = await build_console_world()
    await _audience(w)
    inside = await Registration.get(event_id=w.event.id, name="电报甲")
    signer = tickets.signer_for(db.data_dir.resolve())
    scan = checkin.Scan(code=tickets.ticket_code(inside, signer) or "", event_id=w.event.id, gate="东门")
    assert (await checkin.redeem(scan, signer=signer, actor="t")).result == "ok"

    assert await broadcast_reach(w.event.id, "checked_in") == {"telegram": 1, "email": 0, None: 0}
    assert await broadcast_reach(w.event.id, "not_checked_in") == {"telegram": 1, "email": 1, None: 2}
    assert await broadcast_reach(w.event.id, "waitlisted") == {"telegram": 0, "email": 0, None: 0}

    url = f"/console/events/{w.event.id}/broadcasts"
    form = {"text": "请到 B 厅领取资料", "key": "aud-1", "audience": "checked_in"}
    shown = await as_(console_client, w, "organizer_a", "POST", url + "/preview", data=form)
    assert shown.status_code == 200 and "发送给 1 人" in shown.text
    assert '<option value="checked_in" selected>' in shown.text
    sent = await as_(console_client, w, "organizer_a", "POST", url, data=form)
    assert sent.status_code == 303
    broadcast = await Broadcast.get()
    assert broadcast.audience == "checked_in"
    await Producer().drain()
    queued = await OutboxMessage.filter(broadcast_id=broadcast.id).values_list("person_id", flat=True)
    assert queued == [inside.person_id]
    page = await as_(console_client, w, "organizer_a", "GET", sent.headers["location"])
    assert "已签到的人" in page.text

    bad = await as_(console_client, w, "organizer_a", "POST", url + "/preview", data=form | {"audience": "vip"})
    assert bad.status_code == 422
    bad_send = await as_(console_client, w, "organizer_a", "POST", url, data=form | {"audience": "vip", "key": "aud-2"})
    assert bad_send.status_code == 422 and await Broadcast.all().count() == 1
