"""The notification worker: facts → outbox (producer), schedule → outbox (reminders), outbox → chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from events import heap, metrics
from events.db import conn, dialect_of
from events.services import demand_status, demands, tickets
from events.services.roadshows import pitches, requests
from events.settings import Settings
from notifications.briefs import produce_monthly_brief
from notifications.channels import Channel
from notifications.competitions import produce_judge_reminders
from notifications.dispatcher import Dispatcher, ticket_photo_loader
from notifications.leader import lock_for, run_as_leader
from notifications.mail import email_channel
from notifications.meetings import produce_meeting_prompts
from notifications.producers import Limits, Producer
from notifications.scheduler import produce_reminders, retention_pass

log = logging.getLogger(__name__)
# Session-level advisory lock of the one scheduler; "wcsched" padded, as the dispatcher's key is made.
SCHEDULER_LOCK_KEY = int.from_bytes(b"wcsched\x00", "big")
PRODUCER_INTERVAL = 1.0
REMINDER_INTERVAL = 60.0
RETENTION_INTERVAL = 24 * 3600.0  # the retention pass: once a day (and once at start)
HEAP_TRIM_INTERVAL = 60.0


class HeapTrimmer:
    """Once a minute, if the sender worked since the last look, the C heap's free pages go back to the
    system (``events.heap.trim``): after a burst (the demo's thousands of confirmations with their ticket
    pictures) the process otherwise stays at its peak RSS (measured: 166 → 157 MB). An idle process is
    left alone, and the trim runs off the event loop."""

    def __init__(self, stats: Counter[str]) -> None:
        self.stats = stats
        self._seen = 0

    async def __call__(self) -> bool:
        seen = self.stats.total()
        if seen == self._seen:
            return False
        self._seen = seen
        return await asyncio.to_thread(heap.trim)


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
    limits = Limits(
        invitations_per_week=settings.invitations_per_week,
        matches_per_week=settings.matches_per_week,
        match_min_score=settings.match_min_score,
        matches_per_fact=settings.matches_per_fact,
    )
    # Telegram refuses a URL button to a local address (the default PUBLIC_URL): only a public https one.
    public_url = settings.base_url if settings.base_url.startswith("https://") else None
    producer = Producer(limits=limits, bot_username=settings.bot_username, public_url=public_url)

    async def produce() -> None:
        producer.bot_username = settings.bot_username or bot_username()
        await producer.drain(stop, caught_up_when_short=True)

    dispatcher = Dispatcher(
        channel,
        rate_per_s=settings.send_rate,
        photo_loader=ticket_photo_loader(tickets.signer_for(settings.data_dir.resolve())),
        tz=settings.timezone,
        # E-mail for people without a Telegram chat, at its server's own rate (none without SMTP_HOST).
        channels=[mail] if (mail := email_channel(settings)) is not None else [],
    )
    follow_up = timedelta(days=settings.demand_follow_up_days)
    trim = HeapTrimmer(dispatcher.stats)

    async def demand_passes() -> None:
        # Facts only (expiry, overdue follow-ups): the producer turns them into messages.
        await demand_status.expire_due_demands()
        await demands.flag_overdue_follow_ups(period=follow_up)

    async def meeting_passes() -> None:
        # Lapsed requests first (their facts tell both sides), then reminders, ratings and follow-ups.
        await requests.expire_due()
        await produce_meeting_prompts()

    async def roadshow_passes() -> None:
        # Facts only (the pitches that fit each investor): the producer pushes them, capped.
        if settings.roadshow_match_days:
            await pitches.match_due(days_before=settings.roadshow_match_days)

    async def retention() -> None:
        # Not a notification, but this is the process's one scheduler.
        await retention_pass(settings.retention_days)

    async def brief_passes() -> None:
        # Last month's brief for the programme office, once, on (or after) the 1st.
        await produce_monthly_brief(public_url=settings.base_url)

    def scheduler(job_stop: asyncio.Event) -> Awaitable[Any]:
        return asyncio.gather(
            _every(PRODUCER_INTERVAL, produce, job_stop, "producer"),
            _every(REMINDER_INTERVAL, produce_reminders, job_stop, "reminders"),
            _every(REMINDER_INTERVAL, demand_passes, job_stop, "demands"),
            _every(REMINDER_INTERVAL, produce_judge_reminders, job_stop, "judge reminders"),
            _every(REMINDER_INTERVAL, meeting_passes, job_stop, "meetings"),
            _every(REMINDER_INTERVAL, roadshow_passes, job_stop, "roadshow pitches"),
            _every(RETENTION_INTERVAL, retention, job_stop, "retention"),
            _every(REMINDER_INTERVAL, brief_passes, job_stop, "monthly brief"),
        )

    # Several workers (`serve --workers N`) each run this; exactly one of them runs the scheduler's passes
    # (they are not made to run side by side: the producer's cursor, the daily retention pass), elected
    # by a lock the database or the kernel drops when its holder dies, so a standby takes over.
    data_dir = settings.data_dir.resolve()
    if dialect_of(conn()) == "postgres":
        # The sender elects itself with its own advisory lock (Dispatcher.run), so the two may lead in
        # different processes.
        await asyncio.gather(
            run_as_leader(
                "scheduler",
                lock_for("scheduler", SCHEDULER_LOCK_KEY, data_dir),
                scheduler,
                stop,
                on_change=_leading,
            ),
            dispatcher.run(stop),
            _every(HEAP_TRIM_INTERVAL, trim, stop, "heap trim"),
        )
    else:
        # On SQLite the sender's start-up takes back what a dead sender left `sending`, which is only
        # safe for the one sender there is: so one lock covers both.
        async def everything(job_stop: asyncio.Event) -> None:
            await asyncio.gather(
                scheduler(job_stop), dispatcher.run(job_stop), _every(HEAP_TRIM_INTERVAL, trim, job_stop, "heap trim")
            )

        await run_as_leader(
            "notifications",
            lock_for("notifications", SCHEDULER_LOCK_KEY, data_dir),
            everything,
            stop,
            on_change=_leading,
        )


def _leading(leads: bool) -> None:
    metrics.SCHEDULER_LEADING.set(1 if leads else 0)
