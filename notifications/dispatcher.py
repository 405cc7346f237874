"""Sending the outbox: one sender per bot, within Telegram's limits, never one row twice once it is sent.

A ``Dispatcher`` claims due outbox rows (``queued`` with ``not_before`` passed, or ``sending`` whose lease
lapsed because the sender that claimed them died), sends them through a channel and records each result
before the row's chat may be written to again:

* ok → ``sent`` with ``sent_at`` and ``telegram_message_id``; a sent row is never claimed again;
* 429 → back to ``queued`` with ``not_before = now + retry_after``, and nothing at all is sent for
  ``retry_after`` (Telegram's flood control is per bot);
* 403 → the person is marked blocked (``set_telegram_blocked``); the row goes by e-mail when the person
  has a usable address and e-mail is configured, else it and their other queued rows are ``skipped``;
* network errors, 5xx, timeouts → ``attempts + 1`` and ``queued`` again after ``backoff_base ** attempts``
  seconds (capped), ``failed`` with the reason after ``max_attempts``;
* 400 and the like → ``failed`` with the reason at once.

Channels: the row's channel is chosen per person when it is claimed, first that reaches them of
Telegram (or the console) for a linked chat not blocked, then the other channels given (e-mail for an
address that does not bounce), then, in development, the console for anyone. Each channel has its own
token bucket (Telegram ``rate_per_s``, e-mail its server's rate). A channel that says a person cannot
be reached (403 blocked; a 550 unknown address) marks them (``mark_unreachable``); the row goes to the
next channel that reaches them, or is skipped. A sent row records the channel that carried it.

Before a row is sent: a person no channel reaches (blocked the bot, no Telegram id for Telegram and no
usable e-mail) → ``skipped`` with the reason;
a non-urgent row in the person's quiet hours (default 22:00–08:00 in the display zone, per-person bounds,
equal bounds = off) → ``queued`` again with ``not_before`` at the end of the quiet window.

Limits: a token bucket keeps the whole bot at ``rate_per_s`` (default 25/s, under Telegram's ~30/s), and
a chat gets its next message no sooner than ``per_chat_interval`` after its previous one was answered.
Rows of a chat that must wait stay claimed (their lease renewed) while other chats' rows go ahead. A few
sends run at once (``concurrency``, default rate/5), which the limits bound, not the round trip.

On PostgreSQL, ``run`` holds the session advisory lock ``DISPATCHER_LOCK_KEY`` on a connection of its
own while it sends, so a second instance (another process, another host) waits until the first stops
or dies. ``drain`` (tests, benchmarks) takes no lock.

Crash safety — at most once where it can be, and the one window there is. A claim sets ``lease_until``
on the rows it takes (``sending``); a sent row is marked ``sent`` by one UPDATE as soon as its send
returns, before its chat is freed and with nothing batched behind it, and the claim never takes a
``sent`` row. A row is sent twice only when the sender dies (kill -9, power, OOM) after Telegram
accepted the message and before that UPDATE committed: Telegram's API has no idempotency key, so a
send whose answer was not recorded may have been delivered, and it is sent again. The rows at risk
after one crash are exactly the sends in flight at that moment: at most one per chat (a chat has one
send in flight at a time) and at most ``concurrency`` overall (default rate/5 = 5); rows that were only
claimed (held, waiting for their chat or a token) were never sent and go out once. A message that is
a photo and then its text (a caption too long) is two API calls, and a crash between them sends the
photo again. A send that times out (no answer) is retried the same way, for the same reason. Mail has
the same window (an SMTP server's final 250 received, the UPDATE not committed); its Message-ID is the
row's, so a mail sent twice that way is recognisably one. A mail whose connection dropped before that
250 was not accepted (RFC 5321) and is simply sent again.

Recovery: when ``run`` starts sending it reclaims at once what a dead sender left ``sending`` (back to
``queued``, due now) instead of waiting out its lease: on PostgreSQL once it holds the advisory lock,
which no live sender holds at the same time (a dead one's session, and its lock, are gone), after two
of ``lock_check_interval`` (see ``_run_locked``); on SQLite at start (see ``run``). Otherwise
(``drain``) rows are claimed again once their lease lapsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import time
import zoneinfo
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from events import clock, localtime, metrics
from events.db import conn, dialect_of, reset_on_release
from events.models import OutboxMessage, OutboxStatus, Person
from events.services.preferences import preferences_of
from notifications import signin
from notifications.channels import Channel, ChatChannel, Pace, PersonChannel, SendResult

log = logging.getLogger(__name__)

# Session-level advisory lock of the one dispatcher; "wcnotify" as a big-endian signed bigint
# (wuchuang.migrate.MIGRATION_LOCK_KEY is another key).
DISPATCHER_LOCK_KEY = int.from_bytes(b"wcnotify", "big")
MAX_ERROR_LENGTH = 500

PhotoLoader = Callable[[Any], "bytes | None | Awaitable[bytes | None]"]


class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` saved up; starts with one."""

    def __init__(self, rate: float, capacity: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = 1.0
        self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def delay(self, now: float) -> float:
        """Seconds until a token is there; 0 if one is there now."""
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0

    def empty(self, now: float) -> None:
        self._refill(now)
        self.tokens = min(self.tokens, 0.0)


def _hhmm(value: str) -> dtime:
    hours, minutes = value.split(":")
    return dtime(int(hours), int(minutes))


def quiet_until(person: Person, now: datetime, tz: zoneinfo.ZoneInfo) -> datetime | None:
    """The end (UTC) of the quiet window ``now`` falls in, in the person's terms; None outside one
    or when the person turned quiet hours off."""
    bounds = preferences_of(person).quiet_hours
    if bounds is None:
        return None
    start, end = _hhmm(bounds[0]), _hhmm(bounds[1])
    local = now.astimezone(tz)
    at = local.time()
    inside = start <= at < end if start < end else (at >= start or at < end)
    if not inside:
        return None
    until = datetime.combine(local.date(), end, tzinfo=tz)
    if until <= local:
        until = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return until.astimezone(UTC)


def ticket_photo_loader(signer: Any) -> Callable[[Any], Awaitable[bytes | None]]:
    """A ``photo_loader`` for ``{"ticket_registration_id": id}``: the ticket card (event, time, place,
    name and the QR) in the person's language as PNG, or None when the registration holds no ticket any
    more (cancelled): the text then goes alone."""
    from events.i18n import locale_of
    from events.models import Registration
    from events.services.ticket_card import card_of_registration

    async def load(reference: Any) -> bytes | None:
        if not isinstance(reference, dict) or "ticket_registration_id" not in reference:
            raise ValueError(f"unknown photo reference {reference!r}")
        registration = await Registration.get_or_none(id=int(reference["ticket_registration_id"])).select_related(
            "person"
        )
        if registration is None:
            return None
        return await card_of_registration(registration, signer, locale=locale_of(registration.person.language))

    return load


def _error(text: str | None) -> str:
    return (text or "unknown error")[:MAX_ERROR_LENGTH]


class Dispatcher:
    def __init__(
        self,
        channel: Channel,
        *,
        rate_per_s: float = 25.0,
        per_chat_interval: float = 1.0,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 6,
        backoff_base: float = 2.0,
        photo_loader: PhotoLoader | None = None,
        tz: str | None = None,
        backoff_cap: timedelta = timedelta(minutes=10),
        burst: float | None = None,
        concurrency: int | None = None,
        send_timeout: float | None = None,
        idle_interval: float = 1.0,
        lock_poll_interval: float = 2.0,
        lock_check_interval: float = 1.0,
        channels: Sequence[PersonChannel] = (),
    ) -> None:
        if rate_per_s <= 0 or per_chat_interval < 0 or batch < 1 or max_attempts < 1:
            raise ValueError("rate_per_s and batch must be positive, per_chat_interval not negative")
        self.channel = channel
        self.rate_per_s = float(rate_per_s)
        self.per_chat_interval = float(per_chat_interval)
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.photo_loader = photo_loader
        self.tz = zoneinfo.ZoneInfo(tz) if tz else localtime.zone()
        # What the bucket may save up: enough to make up for a late wake-up (50 ms at the rate), small
        # enough that rate + burst stays well within Telegram's 30 in any second.
        self.burst = burst if burst is not None else max(1.0, self.rate_per_s / 20)
        self.concurrency = concurrency if concurrency is not None else max(1, math.ceil(self.rate_per_s / 5))
        self.send_timeout = send_timeout if send_timeout is not None else min(30.0, lease.total_seconds() / 2)
        self.idle_interval = idle_interval
        self.lock_poll_interval = lock_poll_interval
        # How often a sender holding the lock checks that its lock connection is alive, and stops if
        # not; a new holder waits two of these before taking rows back (see _run_locked).
        self.lock_check_interval = lock_check_interval
        self.max_held = max(4 * batch, 2 * self.concurrency)
        self.requires_chat_id = bool(getattr(channel, "requires_chat_id", True))
        # The channel's label in wuchuang_outbox_sends: its ``name``, else TelegramChannel → "telegram".
        self.channel_name = str(getattr(channel, "name", "") or type(channel).__name__.removesuffix("Channel").lower())
        self.stats: Counter[str] = Counter()

        self._bucket = TokenBucket(self.rate_per_s, self.burst)
        # In order of preference: the chat, the other channels (e-mail), the console for anyone.
        chat = ChatChannel(channel, rate_per_s=self.rate_per_s)
        self.routes: list[PersonChannel] = [chat, *channels]
        if not chat.requires_chat_id:
            self.routes.append(ChatChannel(channel, rate_per_s=self.rate_per_s, catch_all=True))
        self._buckets: dict[str, TokenBucket] = {chat.name: self._bucket}
        for route in channels:
            self._buckets.setdefault(route.name, TokenBucket(route.rate_per_s, max(1.0, route.rate_per_s / 20)))
        self._via: dict[int, PersonChannel] = {}  # row id -> the channel chosen when it was claimed
        self._held: dict[int, OutboxMessage] = {}  # claimed, waiting for their chat or a token
        self._tasks: dict[int, asyncio.Task[None]] = {}  # row id -> its send
        self._busy: set[int] = set()  # persons with a send in flight
        self._chat_free_at: dict[int, float] = {}  # person id -> monotonic time of their next send
        self._paused_until = 0.0
        self._next_claim_at = 0.0
        self._next_renewal = 0.0
        self._wake = asyncio.Event()
        self._failure: BaseException | None = None
        self._recording: set[asyncio.Future[None]] = set()  # results being written, even if cancelled

    # --- running ------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set. On PostgreSQL only while holding the dispatcher's advisory lock:
        a second instance polls for it every ``lock_poll_interval`` seconds and sends nothing meanwhile.
        A database failure is logged and sending resumes after a pause."""
        while not stop.is_set():
            try:
                if dialect_of(conn()) == "postgres":
                    await self._run_locked(stop)
                else:
                    # A SQLite database is a file of one host: the notification worker runs this
                    # dispatcher only in the one process holding DATA_DIR/notifications.lock
                    # (notifications/worker.py, several `serve` workers included). So when it starts,
                    # nothing else is sending, and rows still `sending` were left by a process that is
                    # gone (or by this one's failed pass, whose sends are over).
                    await self.reclaim_dead_sender_rows()
                    await self._pump(stop=stop, until_idle=False)
            except Exception:
                log.exception("dispatcher: sending stopped; resuming in %.0f s", self.lock_poll_interval * 5)
                self._failure = None
                await self._sleep(self.lock_poll_interval * 5, stop, wake=False)

    async def _run_locked(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            async with conn().acquire_connection() as lock_conn:
                # A session lock: the pool's reset query drops it should the unlock below have failed.
                reset_on_release(lock_conn)
                if await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", DISPATCHER_LOCK_KEY):
                    log.info("dispatcher: holding the advisory lock, sending")
                    self.stats["lock_acquired"] += 1
                    # Holding the lock proves the sender that claimed any `sending` row is gone:
                    # PostgreSQL releases a dead session's lock, and a live sender holds the lock
                    # while it sends. One case needs a moment: a sender whose lock connection alone
                    # broke keeps sending until its next check of that connection (every
                    # lock_check_interval) and then stops; so wait two checks before taking back
                    # what it claimed, or both would send the same rows.
                    await self._sleep(2 * self.lock_check_interval, stop, wake=False)
                    await self.reclaim_dead_sender_rows()

                    async def still_connected() -> None:
                        await lock_conn.fetchval("SELECT 1")

                    try:
                        await self._pump(stop=stop, until_idle=False, check=still_connected)
                    finally:
                        with contextlib.suppress(Exception):
                            await asyncio.shield(
                                lock_conn.fetchval("SELECT pg_advisory_unlock($1)", DISPATCHER_LOCK_KEY)
                            )
                    return
            self.stats["lock_waits"] += 1
            await self._sleep(self.lock_poll_interval, stop, wake=False)

    async def reclaim_dead_sender_rows(self) -> int:
        """Give every ``sending`` row back (``queued``, due now): only for a sender that knows it is the
        only one (``run`` holding the lock, or on SQLite). Returns how many rows it took back."""
        now = clock.now().astimezone(UTC)
        async with in_transaction():
            await OutboxMessage.filter(status=OutboxStatus.SENDING, not_before__gt=now).update(not_before=now)
            count = await OutboxMessage.filter(status=OutboxStatus.SENDING).update(
                status=OutboxStatus.QUEUED, lease_until=None
            )
        if count:
            log.warning(
                "dispatcher: %s row(s) a stopped sender left `sending` are queued again; the ones it was "
                "sending when it stopped (at most %s, one per chat) may reach their chat twice",
                count,
                self.concurrency,
            )
            self.stats["reclaimed"] += count
        return count

    async def drain(self, *, timeout: float) -> Counter[str]:  # noqa: ASYNC109
        """Send until nothing is due (rows waiting for backoff, quiet hours or a 429's retry_after
        later than now are not due) and return what happened, counted. After ``timeout`` seconds it
        stops as ``run`` does (sends in flight finish, claimed rows are given back) and raises
        TimeoutError. Takes no advisory lock."""
        before = Counter(self.stats)
        stop = asyncio.Event()
        timer = asyncio.get_running_loop().call_later(timeout, stop.set)
        try:
            idle = await self._pump(stop=stop, until_idle=True)
        finally:
            timer.cancel()
        if not idle:
            raise TimeoutError(f"the outbox still had due rows after {timeout:g} s")
        return self.stats - before

    async def _pump(
        self,
        *,
        stop: asyncio.Event | None,
        until_idle: bool,
        check: Callable[[], Awaitable[None]] | None = None,
    ) -> bool:
        """Claim and send until ``stop`` is set, or (``until_idle``) nothing is due; True for the latter."""
        check_every = min(self.lock_check_interval, self.lease.total_seconds() / 4)
        next_check = time.monotonic() + check_every
        graceful = False
        try:
            while stop is None or not stop.is_set():
                # A send finishing from here on ends the next sleep early.
                self._wake.clear()
                if self._failure is not None:
                    raise self._failure
                now = time.monotonic()
                if check is not None and now >= next_check:
                    await check()
                    next_check = now + check_every
                if now >= self._next_renewal:
                    await self._renew_leases()
                if self._paused_until > now:  # waking for lease renewals meanwhile
                    await self._sleep(min(self._paused_until, self._next_renewal) - now, stop, wake=False)
                    continue
                row, ready = self._pick(now)
                if ready < max(self.concurrency * 2, self.batch // 2) and now >= self._next_claim_at:
                    claimed = await self._claim()
                    if claimed:
                        continue
                if row is None:
                    if until_idle and not self._held and not self._tasks:
                        if not await self._claim():
                            graceful = True
                            return True
                        continue
                    await self._sleep(self._wait_hint(now), stop)
                    continue
                if len(self._tasks) >= self.concurrency:
                    await self._sleep(self.idle_interval, stop)
                    continue
                bucket = self._bucket_of(row)
                delay = bucket.delay(now)
                if delay > 0:
                    await self._sleep(delay, stop, wake=False)
                    continue
                bucket.take(now)
                self._start(row)
            graceful = True
            return False
        finally:
            await self._wind_down(graceful)

    async def _wind_down(self, graceful: bool) -> None:
        """Stopped: let sends in flight finish and give held rows back. Cancelled (as in a crash):
        cancel the sends; their rows and the held ones wait for their lease to lapse."""
        tasks = list(self._tasks.values())
        if graceful:
            if tasks:
                await asyncio.wait(tasks, timeout=self.send_timeout + 5)
            held = list(self._held)
            self._held.clear()
            self._via.clear()
            if held:
                await OutboxMessage.filter(id__in=held, status=OutboxStatus.SENDING).update(
                    status=OutboxStatus.QUEUED, lease_until=None
                )
        else:
            for task in tasks:
                task.cancel()
            self._held.clear()
            self._via.clear()
        still = [task for task in tasks if not task.done()]
        for task in still:
            task.cancel()
        if still:
            await asyncio.gather(*still, return_exceptions=True)
        if self._recording:
            # A cancelled send's result is still being written (shielded): let it land before anyone
            # (this dispatcher's next pass, at its reclaim) may take the row back and send it again.
            await asyncio.wait(list(self._recording), timeout=self.send_timeout)

    async def _sleep(self, seconds: float, stop: asyncio.Event | None, *, wake: bool = True) -> None:
        """Sleep up to ``seconds``; a finished send (``wake``) or ``stop`` ends it early."""
        waiters = []
        if wake:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        if not waiters:
            await asyncio.sleep(max(0.0, seconds))
            return
        try:
            await asyncio.wait(waiters, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _wait_hint(self, now: float) -> float:
        """How long nothing can be sent: until the earliest held row's chat and channel are free, at most idle."""
        hint = self.idle_interval
        for row in self._held.values():
            if row.person_id not in self._busy:
                hint = min(hint, max(self._chat_free_at.get(row.person_id, now) - now, self._bucket_of(row).delay(now)))
        return max(hint, 0.001)

    def _bucket_of(self, row: OutboxMessage) -> TokenBucket:
        return self._buckets.get(self._via[row.id].name, self._bucket) if row.id in self._via else self._bucket

    def _pick(self, now: float) -> tuple[OutboxMessage | None, int]:
        """The first held row (claim order) whose chat may be written to now, and how many chats could."""
        first: OutboxMessage | None = None
        ready: set[int] = set()
        for row in self._held.values():
            person = row.person_id
            if person in self._busy or self._chat_free_at.get(person, 0.0) > now:
                continue
            if self._bucket_of(row) is not self._bucket and self._bucket_of(row).delay(now) > 0:
                continue  # another channel's rate: its rows wait, the chat's go on
            ready.add(person)
            if first is None:
                first = row
        return first, len(ready)

    def _start(self, row: OutboxMessage) -> None:
        del self._held[row.id]
        self._busy.add(row.person_id)
        task = asyncio.create_task(self._deliver(row), name=f"outbox-{row.id}")
        self._tasks[row.id] = task

    # --- claiming -----------------------------------------------------------------------------------------

    async def _claim(self) -> int:
        """Claim due rows (at most a batch, none of a person already held or in flight) and sort them:
        skipped, deferred for quiet hours, or held to be sent. Returns how many were claimed."""
        room = min(self.batch, self.max_held - len(self._held))
        now_mono = time.monotonic()
        if room <= 0:
            self._next_claim_at = now_mono + self.idle_interval
            return 0
        exclude = {row.person_id for row in self._held.values()} | self._busy
        if len(self._chat_free_at) > 4 * self.max_held:  # forget chats that may be written to again
            self._chat_free_at = {p: at for p, at in self._chat_free_at.items() if at > now_mono}
        now = clock.now().astimezone(UTC)
        ids = await self._claim_ids(now, room, exclude)
        self.stats["claims"] += 1
        if len(ids) < room:
            self._next_claim_at = now_mono + self.idle_interval
        if not ids:
            return 0
        self.stats["claimed"] += len(ids)
        rows = await OutboxMessage.filter(id__in=ids).select_related("person").order_by("-urgent", "not_before", "id")
        skipped: dict[str, list[int]] = {}
        quiet: dict[datetime, list[int]] = {}
        for row in rows:
            person: Person = row.person
            via = self._route(row, person)
            if via is None:
                skipped.setdefault(self._unreachable_reason(row, person), []).append(row.id)
                continue
            until = None if row.urgent else quiet_until(person, now, self.tz)
            if until is not None:
                quiet.setdefault(until, []).append(row.id)
                continue
            self._via[row.id] = via
            self._held[row.id] = row
        for until, quiet_ids in quiet.items():  # most share the default window: one UPDATE for them
            await OutboxMessage.filter(id__in=quiet_ids, status=OutboxStatus.SENDING).update(
                status=OutboxStatus.QUEUED, not_before=until, lease_until=None
            )
            self.stats["quiet_deferred"] += len(quiet_ids)
        for reason, skip_ids in skipped.items():
            await OutboxMessage.filter(id__in=skip_ids, status=OutboxStatus.SENDING).update(
                status=OutboxStatus.SKIPPED, last_error=reason, lease_until=None
            )
            self.stats["skipped"] += len(skip_ids)
        return len(ids)

    def _route(self, row: OutboxMessage, person: Person) -> PersonChannel | None:
        """The first channel that reaches the person with this row, in order of preference."""
        return next((route for route in self.routes if route.reaches(person, row)), None)

    def _unreachable_reason(self, row: OutboxMessage, person: Person) -> str:
        if row.channel is not None and row.channel not in self._buckets:
            return f"the message goes by {row.channel}, which is not configured"
        if person.telegram_blocked_at is not None:
            reason = "the person blocked the bot"
        elif person.telegram_id is None:
            reason = "the person has no Telegram chat"
        else:
            reason = f"the message goes by {row.channel}"
        if person.email and person.email == person.email_bounced:
            return reason + " and their e-mail address bounces"
        if person.email and "email" not in self._buckets:
            return reason + " and e-mail is not configured (WUCHUANG_SMTP_HOST)"
        return reason

    async def _claim_ids(self, now: datetime, limit: int, exclude: Iterable[int]) -> list[int]:
        connection: BaseDBAsyncClient = conn()
        lease_until = now + self.lease
        excluded = sorted(exclude)
        queued, sending = OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value
        if dialect_of(connection) == "postgres":
            sql = (
                "UPDATE outbox_message AS o SET status = $1, lease_until = $2 "
                "FROM (SELECT id FROM outbox_message "
                "WHERE ((status = $3 AND not_before <= $4) "
                "OR (status = $1 AND (lease_until IS NULL OR lease_until < $4))) "
                "AND NOT (person_id = ANY($5::int[])) "
                "ORDER BY urgent DESC, not_before, id LIMIT $6 FOR UPDATE SKIP LOCKED) AS due "
                "WHERE o.id = due.id RETURNING o.id"
            )
            values: list[Any] = [sending, lease_until, queued, now, excluded, limit]
        else:
            not_in = f"AND person_id NOT IN ({', '.join('?' * len(excluded))}) " if excluded else ""
            sql = (
                "UPDATE outbox_message SET status = ?, lease_until = ? "
                "WHERE id IN (SELECT id FROM outbox_message "
                "WHERE ((status = ? AND not_before <= ?) "
                "OR (status = ? AND (lease_until IS NULL OR lease_until < ?))) "
                f"{not_in}"
                "ORDER BY urgent DESC, not_before, id LIMIT ?) RETURNING id"
            )
            values = [sending, lease_until, queued, now, sending, now, *excluded, limit]
        # execute_query_dict: Tortoise's asyncpg execute_query drops what an UPDATE … RETURNING returns.
        rows = await connection.execute_query_dict(sql, values)
        return [int(row["id"]) for row in rows]

    async def _renew_leases(self) -> None:
        """Keep the claim on rows still held or in flight, so no one takes them while they wait."""
        self._next_renewal = time.monotonic() + self.lease.total_seconds() / 3
        ids = [*self._held, *self._tasks]
        if ids:
            await OutboxMessage.filter(id__in=ids, status=OutboxStatus.SENDING).update(
                lease_until=clock.now().astimezone(UTC) + self.lease
            )

    # --- sending ------------------------------------------------------------------------------------------

    async def _deliver(self, row: OutboxMessage) -> None:
        person_id = row.person_id
        via = self._via.pop(row.id, None) or self.routes[0]
        try:
            try:
                result = await self._attempt(row, via)
            finally:
                self._chat_free_at[person_id] = time.monotonic() + self.per_chat_interval
            # Recorded at once, and even if the dispatcher is cancelled meanwhile: a sent row must say so.
            recording = asyncio.ensure_future(self._record(row, result, via))
            self._recording.add(recording)
            recording.add_done_callback(self._recorded)
            await asyncio.shield(recording)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database failed: stop; the lease brings the row back
            log.exception("outbox %s: recording the result failed", row.id)
            self._failure = exc
        finally:
            self._busy.discard(person_id)
            self._tasks.pop(row.id, None)
            self._wake.set()

    def _recorded(self, recording: asyncio.Future[None]) -> None:
        self._recording.discard(recording)
        if not recording.cancelled():
            recording.exception()  # seen: _deliver reports it, or (cancelled) the lease brings the row back

    async def _attempt(self, row: OutboxMessage, via: PersonChannel) -> SendResult:
        try:
            row = await signin.materialize(row)  # a sign-in link is put in only now (no secret at rest)
        except signin.LinkGone as exc:
            return SendResult.refused(str(exc))
        try:
            photo = await self._photo(row)
        except (LookupError, TypeError, ValueError) as exc:  # a reference no loader can follow
            return SendResult.refused(f"photo {row.photo!r}: {type(exc).__name__}: {exc}")
        except Exception as exc:
            log.exception("outbox %s: loading the photo failed", row.id)
            return SendResult.failed(f"photo {row.photo!r}: {type(exc).__name__}: {exc}")
        try:
            return await asyncio.wait_for(
                via.deliver(row, photo=photo, pace=self._pacer(self._buckets.get(via.name, self._bucket))),
                self.send_timeout,
            )
        except TimeoutError:
            return SendResult.failed(f"no answer within {self.send_timeout:g} s")
        except Exception as exc:  # a channel's bug must not lose the row
            log.exception("outbox %s: the channel raised", row.id)
            return SendResult.failed(f"{type(exc).__name__}: {exc}")

    async def _photo(self, row: OutboxMessage) -> bytes | None:
        if row.photo is None or self.photo_loader is None:
            return None
        photo = self.photo_loader(row.photo)
        if inspect.isawaitable(photo):
            photo = await photo
        return photo

    def _pacer(self, bucket: TokenBucket) -> Pace:
        async def pace() -> None:
            """Between two calls for one message: the chat's interval, then a token of the channel's rate."""
            await asyncio.sleep(self.per_chat_interval)
            while True:
                now = time.monotonic()
                wait = max(self._paused_until - now if bucket is self._bucket else 0.0, bucket.delay(now))
                if wait <= 0:
                    bucket.take(now)
                    return
                await asyncio.sleep(wait)

        return pace

    def _pause(self, seconds: float) -> None:
        now = time.monotonic()
        # A hair longer than asked, so rows re-queued for ``now + retry_after`` are due when it ends.
        self._paused_until = max(self._paused_until, now + seconds + 0.01)
        self._bucket.empty(now)

    async def _record(self, row: OutboxMessage, result: SendResult, via: PersonChannel) -> None:
        now = clock.now().astimezone(UTC)
        claimed = OutboxMessage.filter(id=row.id, status=OutboxStatus.SENDING)
        outcome = result.outcome
        self.stats[outcome] += 1
        metrics.OUTBOX_SENDS.labels(self.channel_name, outcome).inc()
        if outcome == "ok":
            await claimed.update(
                status=OutboxStatus.SENT,
                sent_at=now,
                telegram_message_id=result.message_id if via.name == "telegram" else None,
                channel=via.name,
                attempts=row.attempts + 1,
                lease_until=None,
                last_error=None,
            )
            self.stats["sent"] += 1
            return
        if outcome == "retry_after":
            seconds = float(result.retry_after or 0)
            log.warning("outbox %s: flood control, nothing sent for %.1f s", row.id, seconds)
            self._pause(seconds)
            await claimed.update(
                status=OutboxStatus.QUEUED,
                not_before=now + timedelta(seconds=seconds),
                lease_until=None,
                last_error=_error(result.description),
            )
            return
        if outcome == "blocked":
            await self._unreachable(row, result, via)
            return
        attempts = row.attempts + 1
        if outcome == "permanent" or attempts >= self.max_attempts:
            log.warning("outbox %s: failed after %s attempt(s): %s", row.id, attempts, result.description)
            await claimed.update(
                status=OutboxStatus.FAILED, attempts=attempts, lease_until=None, last_error=_error(result.description)
            )
            self.stats["failed"] += 1
            return
        backoff = min(self.backoff_base**attempts, self.backoff_cap.total_seconds())
        await claimed.update(
            status=OutboxStatus.QUEUED,
            attempts=attempts,
            not_before=now + timedelta(seconds=backoff),
            lease_until=None,
            last_error=_error(result.description),
        )
        self.stats["retried"] += 1

    async def _unreachable(self, row: OutboxMessage, result: SendResult, via: PersonChannel) -> None:
        """The channel cannot reach the person (blocked the bot, an address that bounces): the channel
        marks them; this row goes by the next channel that reaches them, or is skipped; the person's
        rows held here go back to the queue, where the next claim routes or skips each of them."""
        person: Person = row.person
        await via.mark_unreachable(person, result)
        what = "the person blocked the bot" if via.name == "telegram" else f"{via.name}: the person cannot be reached"
        reason = _error(f"{what} ({result.description})")
        claimed = OutboxMessage.filter(id=row.id, status=OutboxStatus.SENDING)
        if self._route(row, person) is not None:
            await claimed.update(
                status=OutboxStatus.QUEUED, not_before=clock.now().astimezone(UTC), lease_until=None, last_error=reason
            )
        else:
            await claimed.update(
                status=OutboxStatus.SKIPPED, attempts=row.attempts + 1, lease_until=None, last_error=reason
            )
            self.stats["skipped"] += 1
        held = [held_id for held_id, other in self._held.items() if other.person_id == person.id]
        for held_id in held:
            del self._held[held_id]
            self._via.pop(held_id, None)
        if held:
            await OutboxMessage.filter(id__in=held, status=OutboxStatus.SENDING).update(
                status=OutboxStatus.QUEUED, lease_until=None
            )
        self.stats["blocked_people" if via.name == "telegram" else f"unreachable_{via.name}"] += 1
        log.info("person %s cannot be reached by %s: %s", person.id, via.name, result.description)
