"""kill -9 mid-broadcast: a sender process is killed twice while it sends, then a new one finishes.

The fake Bot API delivers each message, then answers 30 ms later (as Telegram does over a real
network), so a kill often falls between a delivery and the row being marked sent: the one window in
which a message can reach its chat twice. Every row must be delivered, and each crash may double at
most the sends in flight when it fell: with ``concurrency=1`` at most one message, with the default
at most ``concurrency``, and never two for one chat.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from events import clock
from events.db import init_db
from events.models import Category, OutboxMessage, OutboxStatus, Person
from events.settings import Settings, load_settings
from notifications.channels import TelegramChannel
from notifications.dispatcher import Dispatcher
from tests.conftest import ticking_clock
from tests.fake_telegram import FakeTelegram

pytestmark = pytest.mark.slow

RECIPIENTS = 60
FIRST_CHAT = 710_001
KILL_AFTER = (15, 35)  # messages delivered before each kill


def _options(concurrency: int | None) -> dict[str, float | int | None]:
    return {"concurrency": concurrency, "idle_interval": 0.05, "lock_poll_interval": 0.1, "lock_check_interval": 0.2}


def _sender_process(
    database_url: str, data_dir: str, api_base: str, token: str, now: datetime, concurrency: int | None
):
    """A dispatcher in a process of its own, sending until it is killed."""
    clock.set_clock(ticking_clock(now))  # the parent's controlled time

    async def send() -> None:
        await init_db(load_settings(database_url=database_url, data_dir=data_dir))
        bot = Bot(
            token,
            session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        await Dispatcher(TelegramChannel(bot), **_options(concurrency)).run(asyncio.Event())

    asyncio.run(send())


@pytest.mark.parametrize("concurrency", [1, None], ids=["one-send-at-a-time", "default-concurrency"])
async def test_a_sender_killed_mid_broadcast_loses_nothing_and_doubles_only_what_was_in_flight(
    db: Settings, tmp_path: Path, concurrency: int | None
):
    async with FakeTelegram() as tg:
        tg.rate_limit(global_per_s=30, per_chat_per_s=1)
        tg.hang("sendMessage", 0.03, after_processing=True)  # delivered, then answered 30 ms later
        chats = list(range(FIRST_CHAT, FIRST_CHAT + RECIPIENTS))
        for n, chat in enumerate(chats):
            tg.add_user(chat)
            person = await Person.create(name=f"收件人{n}", telegram_id=chat, quiet_start="00:00", quiet_end="00:00")
            await OutboxMessage.create(
                person=person,
                category=Category.BROADCAST,
                dedup_key=f"crash:{n}",
                locale="zh",
                text=f"<b>通知</b> 第{n}条",
                not_before=clock.now(),
            )

        def delivered() -> int:
            return sum(len(tg.sent_messages(chat)) for chat in chats)

        # Forked from a server that imported this module once: a sender starts in milliseconds, not in
        # the seconds importing aiogram and Tortoise takes (twice per test).
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload([__name__])
        crashes = 0
        for kill_after in KILL_AFTER:
            sender = forkserver.Process(
                target=_sender_process,
                args=(db.database_url or "", str(tmp_path), tg.base_url, tg.token, clock.now(), concurrency),
                daemon=True,
            )
            sender.start()
            try:
                await tg.wait_for(lambda n=kill_after: delivered() >= n, timeout=60)
            finally:
                sender.kill()  # SIGKILL: no clean-up of any kind
                await asyncio.get_running_loop().run_in_executor(None, sender.join, 10)
            crashes += 1
            assert delivered() < RECIPIENTS, "the broadcast ended before the kill: nothing was tested"

        # A new sender (in this process) takes the dead one's rows back at once and finishes.
        bot = tg.make_bot(default=DefaultBotProperties(parse_mode=ParseMode.HTML))
        last = Dispatcher(TelegramChannel(bot), **_options(concurrency))
        stop = asyncio.Event()
        running = asyncio.create_task(last.run(stop))
        try:
            for _ in range(300):
                if await OutboxMessage.filter(status=OutboxStatus.SENT).count() == RECIPIENTS:
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(running, 20)
            await bot.session.close()

        assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == RECIPIENTS
        per_chat = {chat: len(tg.sent_messages(chat)) for chat in chats}
        doubled = sum(count - 1 for count in per_chat.values())
        print(f"\ncrashes: {crashes}, doubled: {doubled}, reclaimed by the last sender: {last.stats['reclaimed']}")
        assert min(per_chat.values()) == 1  # nothing lost
        assert max(per_chat.values()) <= 1 + crashes  # a chat has one send in flight at a time
        assert doubled <= crashes * last.concurrency  # the sends in flight when each kill fell
        # (A 429 may come: the new sender cannot know that the dead one wrote to a chat a moment ago.)


async def test_the_kill_harness_sees_a_double_send_when_the_row_is_not_marked(db: Settings):
    """Control: the count of deliveries per chat catches a message sent twice (the harness can fail)."""
    async with FakeTelegram() as tg:
        tg.add_user(FIRST_CHAT)
        person = await Person.create(name="收件人", telegram_id=FIRST_CHAT, quiet_start="00:00", quiet_end="00:00")
        row = await OutboxMessage.create(
            person=person,
            category=Category.BROADCAST,
            dedup_key="crash:c",
            locale="zh",
            text="x",
            not_before=clock.now(),
        )
        bot = tg.make_bot()
        try:
            sender = Dispatcher(TelegramChannel(bot), idle_interval=0.05)
            await sender.drain(timeout=10)
            await OutboxMessage.filter(id=row.id).update(status=OutboxStatus.QUEUED)  # as if the UPDATE was lost
            await sender.drain(timeout=10)
        finally:
            await bot.session.close()
        assert len(tg.sent_messages(FIRST_CHAT)) == 2
