"""The outbox dispatcher against the fake Bot API enforcing Telegram's limits (30/s per bot, 1/s per chat).

Rate tests use a clock that ticks with real time; tests of what waits for time (backoff, retry_after,
quiet hours, leases) freeze ``events.clock`` and move it, while the limits themselves run on the monotonic
clock. The whole module runs twice, its clock starting at 23:30 and at 07:59 in Wuhan: inside the default
quiet hours, which only the quiet-hours tests keep on (a suite that passed only by day once failed every
evening's CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from PIL import Image

from events import clock
from events.db import conn as db_conn
from events.models import Category, OutboxMessage, OutboxStatus, Person
from events.services import tickets
from events.settings import Settings
from notifications.channels import ConsoleChannel, MessageInfo, SendResult, TelegramChannel, fits_caption
from notifications.dispatcher import DISPATCHER_LOCK_KEY, Dispatcher, quiet_until, ticket_photo_loader
from tests.conftest import ticking_clock
from tests.factories import make_event, make_registration
from tests.fake_telegram import FakeTelegram

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST_CHAT = 700_001


@pytest.fixture(autouse=True, params=["23:30", "07:59"], ids=["at-23h30", "at-07h59"])
def controlled_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Overrides the suite's clock: this module runs at the two hours the default quiet window makes hard."""
    hour, minute = map(int, request.param.split(":"))
    start = datetime(2026, 6, 1, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)
    clock.set_clock(ticking_clock(start))
    yield
    clock.set_clock(None)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.rate_limit(global_per_s=30, per_chat_per_s=1)
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = tg.make_bot(default=DefaultBotProperties(parse_mode=ParseMode.HTML), session_timeout=10)
    yield bot
    await bot.session.close()


def dispatcher(bot: Bot, **options: Any) -> Dispatcher:
    options.setdefault("idle_interval", 0.05)
    return Dispatcher(TelegramChannel(bot), **options)


async def people(tg: FakeTelegram | None, count: int, *, first: int = FIRST_CHAT, **fields: Any) -> list[Person]:
    """Recipients with quiet hours off unless ``fields`` say otherwise: only the quiet-hours tests test them."""
    fields.setdefault("quiet_start", "00:00")
    fields.setdefault("quiet_end", "00:00")
    made = []
    for i in range(count):
        chat = first + i
        if tg is not None:
            tg.add_user(chat)
        made.append(await Person.create(name=f"收件人{i}", telegram_id=chat, **fields))
    return made


_keys = iter(range(1, 10**9))


async def queue(
    person: Person,
    text: str | None = None,
    *,
    category: Category = Category.REMINDER,
    urgent: bool = False,
    **fields: Any,
) -> OutboxMessage:
    n = next(_keys)
    return await OutboxMessage.create(
        person=person,
        category=category,
        dedup_key=f"test:{n}",
        locale="zh",
        text=text if text is not None else f"<b>提醒</b> 第{n}条 &amp; 更多",
        urgent=urgent,
        not_before=fields.pop("not_before", clock.now()),
        **fields,
    )


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Poll ``predicate`` (dispatcher state, which the fake's wait_for does not watch) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"still false after {timeout} s: {predicate!r}")
        await asyncio.sleep(0.02)


async def statuses() -> dict[int, str]:
    return dict(await OutboxMessage.all().order_by("id").values_list("id", "status"))


def ok_sends(tg: FakeTelegram, chat: int | None = None) -> list[Any]:
    calls = tg.calls_to("sendMessage", ok=True) + tg.calls_to("sendPhoto", ok=True)
    return sorted((c for c in calls if chat is None or c.params.get("chat_id") == chat), key=lambda c: c.seq)


# --- nothing lost, nothing doubled, limits kept -----------------------------------------------------------------


async def test_every_row_is_sent_exactly_once_within_telegrams_limits(db: Settings, tg: FakeTelegram, bot: Bot):
    recipients = await people(tg, 20)
    rows = [
        await queue(person, f"第{round_}轮 给{person.name} &lt;{i}&gt;")
        for round_ in range(3)
        for i, person in enumerate(recipients)
    ]
    sender = dispatcher(bot, rate_per_s=25)

    loop = asyncio.get_running_loop()
    started = loop.time()
    done = await sender.drain(timeout=60)
    elapsed = loop.time() - started

    assert tg.too_many_requests == 0
    assert done["sent"] == 60
    assert set((await statuses()).values()) == {"sent"}
    for person in recipients:
        mine = [row for row in rows if row.person_id == person.id]
        delivered = tg.sent_messages(person.telegram_id)
        # each row exactly once, in the order queued, with the message id Telegram gave it
        assert [m["raw_text"] for m in delivered] == [row.text for row in mine]
        stored = await OutboxMessage.filter(person=person).order_by("id").values_list("telegram_message_id", flat=True)
        assert list(stored) == [m["message_id"] for m in delivered]
        times = [c.at for c in ok_sends(tg, person.telegram_id)]
        assert all(b - a >= 0.99 for a, b in zip(times, times[1:], strict=False))
    at = sorted(c.at for c in ok_sends(tg))
    busiest = max(sum(1 for t in at[i:] if t - start < 1.0) for i, start in enumerate(at))
    assert busiest <= 28  # 25/s plus the bucket's small burst, under the 30 Telegram allows
    assert await OutboxMessage.filter(sent_at=None).count() == 0
    assert 1.9 < elapsed < 30  # 3 rounds 1 s apart per chat; 60 at 25/s is 2.4 s


async def test_a_chat_that_must_wait_does_not_hold_up_the_others(db: Settings, tg: FakeTelegram, bot: Bot):
    busy, *others = await people(tg, 11)
    for _ in range(2):
        await queue(busy, category=Category.BROADCAST)
    for person in others:
        await queue(person)

    # A wide per-chat interval: ten sends must fit in it even on a loaded machine (they take ~0.4 s at
    # 25/s; under a load of 8 on 2 cores, 1 s was not always enough).
    await dispatcher(bot, per_chat_interval=4.0).drain(timeout=30)

    assert tg.too_many_requests == 0
    second_to_busy = ok_sends(tg, busy.telegram_id)[1].seq
    assert all(ok_sends(tg, p.telegram_id)[0].seq < second_to_busy for p in others)
    assert set((await statuses()).values()) == {"sent"}


# --- Telegram's refusals ----------------------------------------------------------------------------------------


async def test_429_pauses_all_sending_for_retry_after_then_delivers(
    db: Settings, frozen_clock, tg: FakeTelegram, bot: Bot
):
    first, second = await people(tg, 2)
    flooded = await queue(first)
    await queue(second)
    tg.fail_next("sendMessage", status=429, retry_after=1)
    sender = dispatcher(bot, concurrency=1)

    done = await sender.drain(timeout=30)

    assert done["retry_after"] == 1
    row = await OutboxMessage.get(id=flooded.id)
    assert row.status == OutboxStatus.QUEUED
    assert row.not_before == frozen_clock.now + timedelta(seconds=1)
    assert "retry after 1" in (row.last_error or "").lower()
    refused = tg.calls_to("sendMessage", ok=False)
    assert [c.status for c in refused] == [429]
    # nothing at all went out during the pause: the other chat's message waited too
    assert ok_sends(tg)[0].at - refused[0].at >= 1.0

    frozen_clock.set(frozen_clock.now + timedelta(seconds=1))
    await sender.drain(timeout=30)

    assert set((await statuses()).values()) == {"sent"}
    assert len(tg.sent_messages(first.telegram_id)) == 1
    assert len(tg.sent_messages(second.telegram_id)) == 1
    assert tg.too_many_requests == 1  # the injected one


async def test_403_marks_the_person_blocked_and_skips_their_rows(db: Settings, tg: FakeTelegram, bot: Bot):
    blocker, friend = await people(tg, 2)
    for _ in range(3):
        await queue(blocker)
    await queue(friend)
    tg.block(blocker.telegram_id)
    sender = dispatcher(bot)

    done = await sender.drain(timeout=30)

    assert done["blocked_people"] == 1
    assert (await Person.get(id=blocker.id)).telegram_blocked_at is not None
    assert (await Person.get(id=friend.id)).telegram_blocked_at is None
    mine = await OutboxMessage.filter(person=blocker).order_by("id")
    assert [row.status for row in mine] == [OutboxStatus.SKIPPED] * 3
    assert "blocked" in (mine[0].last_error or "")
    # one try told us; the other two were not attempted
    assert len([c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == blocker.telegram_id]) == 1
    assert len(tg.sent_messages(friend.telegram_id)) == 1

    # a row that reaches the outbox anyway is skipped without a call
    late = await queue(blocker)
    calls = len(tg.calls)
    await sender.drain(timeout=30)
    assert (await OutboxMessage.get(id=late.id)).status == OutboxStatus.SKIPPED
    assert len(tg.calls) == calls


async def test_a_server_error_is_retried_with_exponential_backoff_then_sent(
    db: Settings, frozen_clock, tg: FakeTelegram, bot: Bot
):
    (person,) = await people(tg, 1)
    row = await queue(person)
    tg.fail_next("sendMessage", status=500, times=2)
    sender = dispatcher(bot, backoff_base=2.0)
    start = frozen_clock.now

    await sender.drain(timeout=30)
    after_one = await OutboxMessage.get(id=row.id)
    assert (after_one.status, after_one.attempts) == (OutboxStatus.QUEUED, 1)
    assert after_one.not_before == start + timedelta(seconds=2)
    assert "Internal Server Error" in (after_one.last_error or "")

    await sender.drain(timeout=30)  # not due yet: no call
    assert len(tg.calls_to("sendMessage")) == 1

    frozen_clock.set(start + timedelta(seconds=2))
    await sender.drain(timeout=30)
    after_two = await OutboxMessage.get(id=row.id)
    assert (after_two.status, after_two.attempts) == (OutboxStatus.QUEUED, 2)
    assert after_two.not_before == start + timedelta(seconds=2 + 4)

    frozen_clock.set(start + timedelta(seconds=6))
    await sender.drain(timeout=30)
    sent = await OutboxMessage.get(id=row.id)
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 3)
    assert sent.sent_at == frozen_clock.now
    assert [m["raw_text"] for m in tg.sent_messages(person.telegram_id)] == [row.text]


async def test_after_max_attempts_the_row_fails_with_its_reason(db: Settings, frozen_clock, tg: FakeTelegram, bot: Bot):
    (person,) = await people(tg, 1)
    row = await queue(person)
    tg.fail_next("sendMessage", status=502, times=None)
    sender = dispatcher(bot, max_attempts=3, backoff_base=2.0)

    for _ in range(5):
        await sender.drain(timeout=30)
        frozen_clock.set(frozen_clock.now + timedelta(minutes=10))

    failed = await OutboxMessage.get(id=row.id)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 3)
    assert "Bad Gateway" in (failed.last_error or "")
    assert len(tg.calls_to("sendMessage")) == 3


async def test_a_refusal_fails_at_once_with_telegrams_reason(db: Settings, tg: FakeTelegram, bot: Bot):
    (person,) = await people(tg, 1)
    (stranger,) = await people(None, 1, first=999_999_001)  # never talked to the bot
    bad_html = await queue(person, "<b>没有闭合")
    no_chat = await queue(stranger)

    await dispatcher(bot).drain(timeout=30)

    first = await OutboxMessage.get(id=bad_html.id)
    assert (first.status, first.attempts) == (OutboxStatus.FAILED, 1)
    assert "can't parse entities" in (first.last_error or "")
    second = await OutboxMessage.get(id=no_chat.id)
    assert second.status == OutboxStatus.FAILED
    assert "chat not found" in (second.last_error or "")
    assert len(tg.calls_to("sendMessage")) == 2


async def test_no_telegram_chat_is_skipped_for_telegram(db: Settings, tg: FakeTelegram, bot: Bot):
    offline = await Person.create(name="只留了电话", phone="13900000000")
    row = await queue(offline)

    await dispatcher(bot).drain(timeout=30)

    skipped = await OutboxMessage.get(id=row.id)
    assert skipped.status == OutboxStatus.SKIPPED
    assert "no Telegram chat" in (skipped.last_error or "")
    assert tg.calls_to("sendMessage") == []


# --- crashes and hangs -----------------------------------------------------------------------------------------


async def test_a_crashed_dispatchers_rows_are_sent_after_the_lease_and_sent_rows_never_again(
    db: Settings, frozen_clock, tg: FakeTelegram, bot: Bot
):
    recipients = await people(tg, 12)
    for person in recipients:
        await queue(person)
    stuck = recipients[5].telegram_id
    tg.hang("sendMessage", 30, chat_id=stuck)
    first = dispatcher(bot, concurrency=1, lease=timedelta(seconds=60))
    crashing = asyncio.create_task(first.drain(timeout=60))
    await tg.wait_for(lambda: [c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == stuck], timeout=10)
    crashing.cancel()  # the process dies mid-send
    with contextlib.suppress(asyncio.CancelledError):
        await crashing

    before = await statuses()
    assert list(before.values()).count("sent") == 5
    assert list(before.values()).count("sending") == 7  # the one in flight and the six claimed behind it
    tg.clear_faults()

    second = dispatcher(bot)
    done = await second.drain(timeout=30)
    assert done["sent"] == 0  # their leases hold: nobody else may send them yet

    frozen_clock.set(frozen_clock.now + timedelta(seconds=61))
    done = await second.drain(timeout=30)

    assert done["sent"] == 7
    assert set((await statuses()).values()) == {"sent"}
    for person in recipients:
        assert len(tg.sent_messages(person.telegram_id)) == 1
    assert tg.too_many_requests == 0


async def _left_sending_by_a_dead_sender(rows: list[OutboxMessage]) -> datetime:
    """What a killed dispatcher leaves: its claimed rows `sending`, their lease a minute ahead."""
    lease_until = clock.now().astimezone(UTC) + timedelta(seconds=60)
    await OutboxMessage.filter(id__in=[row.id for row in rows]).update(
        status=OutboxStatus.SENDING, lease_until=lease_until
    )
    return lease_until


async def test_a_dead_senders_rows_are_taken_back_at_start_not_after_their_lease(
    db: Settings, tg: FakeTelegram, bot: Bot
):
    recipients = await people(tg, 6)
    rows = [await queue(person) for person in recipients]
    await _left_sending_by_a_dead_sender(rows[:4])
    sender = dispatcher(bot, lock_poll_interval=0.05, lock_check_interval=0.1)
    stop = asyncio.Event()
    started = asyncio.get_running_loop().time()
    running = asyncio.create_task(sender.run(stop))
    try:
        # Well under the 60 s lease (the clock ticks with real time: it would not lapse here).
        await eventually(lambda: sender.stats["sent"] == 6, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert asyncio.get_running_loop().time() - started < 5
    assert sender.stats["reclaimed"] == 4
    assert set((await statuses()).values()) == {"sent"}
    for person in recipients:
        assert len(tg.sent_messages(person.telegram_id)) == 1


async def test_a_sender_without_the_lock_leaves_the_live_senders_rows_alone(db: Settings, tg: FakeTelegram, bot: Bot):
    if db.dialect != "postgres":
        pytest.skip("advisory locks are PostgreSQL's")
    recipients = await people(tg, 4)
    rows = [await queue(person) for person in recipients]
    lease_until = await _left_sending_by_a_dead_sender(rows[:3])  # ...by a sender that is alive
    sender = dispatcher(bot, lock_poll_interval=0.05, lock_check_interval=0.1)
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    try:
        async with db_conn().acquire_connection() as live:
            assert await live.fetchval("SELECT pg_try_advisory_lock($1)", DISPATCHER_LOCK_KEY)
            try:
                running = asyncio.create_task(sender.run(stop))
                await eventually(lambda: sender.stats["lock_waits"] >= 5)
                left = await OutboxMessage.filter(id__in=[r.id for r in rows[:3]]).values_list("status", "lease_until")
                assert left == [(OutboxStatus.SENDING, lease_until)] * 3
                assert (sender.stats["reclaimed"], sender.stats["sent"], len(ok_sends(tg))) == (0, 0, 0)
            finally:
                # The live sender dies: PostgreSQL frees its lock, and the waiting one takes over at once.
                await live.fetchval("SELECT pg_advisory_unlock($1)", DISPATCHER_LOCK_KEY)
        await eventually(lambda: sender.stats["sent"] == 4, timeout=10)
    finally:
        stop.set()
        if running is not None:
            await asyncio.wait_for(running, 10)
    assert sender.stats["reclaimed"] == 3
    for person in recipients:
        assert len(tg.sent_messages(person.telegram_id)) == 1


async def test_a_send_without_an_answer_times_out_and_is_retried(
    db: Settings, frozen_clock, tg: FakeTelegram, bot: Bot
):
    (person,) = await people(tg, 1)
    row = await queue(person)
    tg.hang("sendMessage", 5, times=1)
    sender = dispatcher(bot, send_timeout=0.3, backoff_base=2.0)

    await sender.drain(timeout=30)
    waiting = await OutboxMessage.get(id=row.id)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.QUEUED, 1)
    assert "no answer" in (waiting.last_error or "")

    frozen_clock.set(frozen_clock.now + timedelta(seconds=2))
    await sender.drain(timeout=30)
    assert (await OutboxMessage.get(id=row.id)).status == OutboxStatus.SENT
    assert len(tg.sent_messages(person.telegram_id)) == 1


# --- quiet hours ------------------------------------------------------------------------------------------------


async def test_quiet_hours_hold_non_urgent_messages_until_morning(
    db: Settings, frozen_clock, tg: FakeTelegram, bot: Bot
):
    night = datetime(2026, 6, 1, 23, 0, tzinfo=SHANGHAI)
    frozen_clock.set(night.astimezone(UTC))
    sleeper, night_owl, late_sleeper, neighbour = await people(tg, 4, quiet_start=None, quiet_end=None)  # default
    await Person.filter(id=night_owl.id).update(quiet_start="00:00", quiet_end="00:00")  # quiet hours off
    await Person.filter(id=late_sleeper.id).update(quiet_start="23:30", quiet_end="07:00")
    invitation = await queue(sleeper, "邀请：下周武创荟", category=Category.INVITATION)
    cancelled = await queue(sleeper, "活动取消", category=Category.EVENT_CANCELLED, urgent=True)
    owl = await queue(night_owl, "邀请：路演", category=Category.INVITATION)
    late = await queue(late_sleeper, "邀请：培训", category=Category.INVITATION)
    match = await queue(neighbour, "新的对接机会", category=Category.MATCHED_OPPORTUNITY)
    sender = dispatcher(bot)

    done = await sender.drain(timeout=30)

    assert done["quiet_deferred"] == 2
    for row in (invitation, match):
        held = await OutboxMessage.get(id=row.id)
        assert held.status == OutboxStatus.QUEUED
        assert held.not_before == datetime(2026, 6, 2, 8, 0, tzinfo=SHANGHAI)
    for row in (cancelled, owl, late):
        assert (await OutboxMessage.get(id=row.id)).status == OutboxStatus.SENT
    assert [m["text"] for m in tg.sent_messages(sleeper.telegram_id)] == ["活动取消"]

    frozen_clock.set(datetime(2026, 6, 2, 7, 59, tzinfo=SHANGHAI).astimezone(UTC))
    await sender.drain(timeout=30)
    assert (await OutboxMessage.get(id=invitation.id)).status == OutboxStatus.QUEUED

    frozen_clock.set(datetime(2026, 6, 2, 8, 0, tzinfo=SHANGHAI).astimezone(UTC))
    await sender.drain(timeout=30)
    assert (await OutboxMessage.get(id=invitation.id)).status == OutboxStatus.SENT
    assert [m["text"] for m in tg.sent_messages(sleeper.telegram_id)] == ["活动取消", "邀请：下周武创荟"]
    assert [m["text"] for m in tg.sent_messages(neighbour.telegram_id)] == ["新的对接机会"]


@pytest.mark.parametrize(
    ("local", "bounds", "until"),
    [
        ("2026-06-01 21:59", (None, None), None),
        ("2026-06-01 22:00", (None, None), "2026-06-02 08:00"),
        ("2026-06-02 03:00", (None, None), "2026-06-02 08:00"),
        ("2026-06-02 08:00", (None, None), None),
        ("2026-06-01 13:30", ("13:00", "14:00"), "2026-06-01 14:00"),
        ("2026-06-01 14:00", ("13:00", "14:00"), None),
        ("2026-06-01 23:00", ("00:00", "00:00"), None),
    ],
)
def test_quiet_window_end(local: str, bounds: tuple[str | None, str | None], until: str | None):
    person = Person(
        name="x",
        quiet_start=bounds[0],
        quiet_end=bounds[1],
        pref_districts=[],
        pref_topics=[],
        pref_kinds=[],
        opted_out=[],
    )
    now = datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(UTC)
    expected = datetime.fromisoformat(until).replace(tzinfo=SHANGHAI) if until else None
    assert quiet_until(person, now, SHANGHAI) == expected


# --- photos and buttons -----------------------------------------------------------------------------------------


async def test_a_ticket_goes_as_a_photo_with_the_text_as_caption_and_buttons(db: Settings, tg: FakeTelegram, bot: Bot):
    (person,) = await people(tg, 1)
    registration = (await make_registration(await make_event(), telegram_id=person.telegram_id)).registration
    signer = tickets.signer_for(db.data_dir.resolve())
    buttons = [[{"text": "我的报名", "callback_data": "my:1"}, {"text": "日历", "url": "https://example.cn/cal"}]]
    short = await queue(
        person,
        "<b>报名成功</b>，凭此码入场",
        photo={"ticket_registration_id": registration.id},
        buttons=buttons,
        category=Category.REGISTRATION_CONFIRMED,
    )
    long_text = "<b>报名须知</b>\n" + "请携带身份证件按时入场。" * 100
    assert not fits_caption(long_text)
    long = await queue(person, long_text, photo={"ticket_registration_id": registration.id}, buttons=buttons)

    await dispatcher(bot, photo_loader=ticket_photo_loader(signer)).drain(timeout=30)

    first, second, third = tg.sent_messages(person.telegram_id)
    assert first["photo"] and first["caption"] == "报名成功，凭此码入场"
    assert [b["text"] for b in tg.inline_buttons(first)] == ["我的报名", "日历"]
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(first["file"].content)))
    assert decoded.text == tickets.ticket_code(registration, signer)
    # too long for a caption: the photo, then the text with the buttons, a second apart
    assert second["photo"] and not second["caption"]
    assert third["text"].startswith("报名须知") and [b["text"] for b in tg.inline_buttons(third)] == [
        "我的报名",
        "日历",
    ]
    assert tg.too_many_requests == 0
    stored = {row.id: row.telegram_message_id for row in await OutboxMessage.all()}
    assert stored == {short.id: first["message_id"], long.id: third["message_id"]}


async def test_without_a_photo_loader_the_text_goes_alone(db: Settings, tg: FakeTelegram, bot: Bot):
    (person,) = await people(tg, 1)
    await queue(person, "凭二维码入场", photo={"ticket_registration_id": 1})
    await dispatcher(bot).drain(timeout=30)
    (message,) = tg.sent_messages(person.telegram_id)
    assert message["text"] == "凭二维码入场" and not message["photo"]


# --- the console ------------------------------------------------------------------------------------------------


async def test_the_console_channel_prints_a_readable_block(db: Settings):
    offline = await Person.create(name="王工", phone="13900000001", quiet_start="00:00", quiet_end="00:00")
    await queue(
        offline,
        '<b>武创荟</b> 明天 14:00 开始 &amp; 请提前 <a href="https://example.cn/e/1">查看</a>',
        category=Category.REMINDER,
        buttons=[[{"text": "取消报名", "callback_data": "cancel:1"}]],
    )
    out = io.StringIO()

    done = await Dispatcher(ConsoleChannel(stream=out), idle_interval=0.05).drain(timeout=10)

    assert done["sent"] == 1
    printed = out.getvalue()
    assert "王工" in printed and "reminder" in printed and "no Telegram chat" in printed
    assert "武创荟 明天 14:00 开始 & 请提前 查看 (https://example.cn/e/1)" in printed
    assert "[取消报名 → callback cancel:1]" in printed
    assert "<b>" not in printed
    assert (await OutboxMessage.first()).status == OutboxStatus.SENT


async def test_console_render_and_send_result_outcomes():
    text = ConsoleChannel.render(
        chat_id=42, text="<i>hi</i>", buttons=None, photo=b"png", info=MessageInfo(7, 3, "李四", "credits", True)
    )
    assert text.startswith("──── #7 to 李四, person 3, chat 42 · credits (urgent) ────\n[photo, 3 bytes]\nhi")
    assert SendResult.sent(5).outcome == "ok"
    assert SendResult.flood(3).outcome == "retry_after"
    assert SendResult.unreachable("x").outcome == "blocked"
    assert SendResult.refused("x").outcome == "permanent"
    assert SendResult.failed("x").outcome == "transient"


# --- one sender per bot ----------------------------------------------------------------------------------------


async def test_a_second_dispatcher_waits_for_the_advisory_lock(db: Settings, tg: FakeTelegram, bot: Bot):
    if db.dialect != "postgres":
        pytest.skip("advisory locks are PostgreSQL's")
    from wuchuang.migrate import MIGRATION_LOCK_KEY

    assert DISPATCHER_LOCK_KEY != MIGRATION_LOCK_KEY
    recipients = await people(tg, 6)
    first, second = dispatcher(bot, lock_poll_interval=0.05), dispatcher(bot, lock_poll_interval=0.05)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    running_first = asyncio.create_task(first.run(stop_first))
    await eventually(lambda: first.stats["lock_acquired"])
    running_second = asyncio.create_task(second.run(stop_second))
    try:
        await eventually(lambda: second.stats["lock_waits"] >= 2)
        for person in recipients[:3]:
            await queue(person)
        await eventually(lambda: first.stats["sent"] == 3)
        await asyncio.sleep(0.3)
        assert first.stats["sent"] == 3
        assert (second.stats["sent"], second.stats["lock_acquired"]) == (0, 0)

        stop_first.set()
        await asyncio.wait_for(running_first, 10)
        await eventually(lambda: second.stats["lock_acquired"])
        for person in recipients[3:]:
            await queue(person)
        await eventually(lambda: second.stats["sent"] == 3)
        assert len(ok_sends(tg)) == 6
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.wait_for(asyncio.gather(running_first, running_second), 10)
    assert set((await statuses()).values()) == {"sent"}
    for person in recipients:
        assert len(tg.sent_messages(person.telegram_id)) == 1


async def test_run_stops_when_asked_and_gives_held_rows_back(db: Settings, tg: FakeTelegram, bot: Bot):
    busy, idle = await people(tg, 2)
    for _ in range(3):
        await queue(busy)
    await queue(idle)
    sender = dispatcher(bot)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await tg.wait_for(lambda: len(ok_sends(tg)) >= 2, timeout=10)
    stop.set()
    await asyncio.wait_for(running, 10)

    left = await statuses()
    assert "sending" not in left.values()  # nothing left leased: a restart sends the rest at once
    assert list(left.values()).count("sent") == len(ok_sends(tg))


async def test_an_unknown_photo_reference_fails_at_once(db: Settings, tg: FakeTelegram, bot: Bot):
    (person,) = await people(tg, 1)
    row = await queue(person, photo={"poster_id": 3})
    signer = tickets.signer_for(db.data_dir.resolve())

    await dispatcher(bot, photo_loader=ticket_photo_loader(signer)).drain(timeout=30)

    failed = await OutboxMessage.get(id=row.id)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert "unknown photo reference" in (failed.last_error or "")
    assert tg.calls_to("sendMessage") == []


async def test_drain_out_of_time_finishes_the_send_in_flight_and_gives_the_rest_back(
    db: Settings, tg: FakeTelegram, bot: Bot
):
    slow, waiting = await people(tg, 2)
    first = await queue(slow)
    second = await queue(waiting)
    tg.hang("sendMessage", 1, times=1)

    with pytest.raises(TimeoutError):
        await dispatcher(bot, concurrency=1).drain(timeout=0.2)

    assert (await OutboxMessage.get(id=first.id)).status == OutboxStatus.SENT
    given_back = await OutboxMessage.get(id=second.id)
    assert (given_back.status, given_back.lease_until) == (OutboxStatus.QUEUED, None)
