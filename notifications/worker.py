"""The notification worker: facts → outbox (producer), schedule → outbox (reminders), outbox → chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from events.services import tickets
from events.settings import Settings
from notifications.channels import Channel
from notifications.dispatcher import Dispatcher, ticket_photo_loader
from notifications.producers import Limits, Producer
from notifications.scheduler import produce_reminders

log = logging.getLogger(__name__)
PRODUCER_INTERVAL = 1.0
REMINDER_INTERVAL = 60.0


async def _every(seconds: float, work: Callable[[], Awaitable[Any]], stop: asyncio.Event, name: str) -> None:
    while not stop.is_set():
        try:
            await work()
        except Exception:  # a bad pass is logged and retried on the next tick; the loop must not die
            log.exception("%s pass failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def run_worker(
    settings: Settings, channel: Channel, stop: asyncio.Event, *, bot_username: Callable[[], str | None] = lambda: None
) -> None:
    limits = Limits(invitations_per_week=settings.invitations_per_week, matches_per_week=settings.matches_per_week)
    producer = Producer(limits=limits, bot_username=settings.bot_username)

    async def produce() -> None:
        producer.bot_username = settings.bot_username or bot_username()
        await producer.drain()

    dispatcher = Dispatcher(
        channel,
        rate_per_s=settings.send_rate,
        photo_loader=ticket_photo_loader(tickets.signer_for(settings.data_dir.resolve())),
        tz=settings.timezone,
    )
    await asyncio.gather(
        _every(PRODUCER_INTERVAL, produce, stop, "producer"),
        _every(REMINDER_INTERVAL, produce_reminders, stop, "reminders"),
        dispatcher.run(stop),
    )
