"""Who hears about a 1:1 meeting at a roadshow, and what.

From facts (``MeetingProducer``, called by ``Producer``): a request reaches its recipient with the
requester, the slot's time, the table, the message and accept / decline buttons; an answer reaches the
requester (accepted, declined), a withdrawal the recipient, a cancellation and an expiry both sides, a
meeting the organizer's scheduler made both sides. Each keyed by the request and the person, so a fact
read twice (a crash before the producer's cursor moved) queues nothing new.

From the schedule (``produce_meeting_prompts``, every pass of the worker, computed from the data and
never from timers held in memory, like the event reminders): a reminder ``reminder_minutes`` before each
meeting, the rating prompt once its slot has ended (没见成 / 兴趣不足 / 有收获但暂无合作 / 有合作可能), and
the follow-up ``follow_up_days`` later (无联系 / 洽谈中 / 已签约), to each side who has not answered yet.
Keys ``meeting:<what>:<request>:<person>``: a pass after a restart finds the rows it wrote and writes only
what is missing; a pass after downtime still sends a late reminder while the meeting has not begun.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock, localtime
from events.errors import N_
from events.i18n import Locale, format_when, gettext, locale_of
from events.models import (
    Activity,
    Category,
    EventStatus,
    FollowUpAnswer,
    MeetingOutcome,
    MeetingRating,
    MeetingRequest,
    MeetingStatus,
    OutboxMessage,
    OutboxStatus,
    OutcomeStage,
    Participant,
    Person,
)
from events.services.roadshows.outcomes import FOLLOW_UP_CODES, FOLLOW_UP_LABELS, RATING_CODES, RATING_LABELS
from events.services.roadshows.requests import RELATED
from notifications.outbox import enqueue
from notifications.render import render

# How long after a meeting its rating prompt is still worth sending (a pass after downtime), and its follow-up.
RATING_WINDOW = timedelta(days=7)
FOLLOW_UP_WINDOW = timedelta(days=30)
MAX_FOLLOW_UP_DAYS = 730  # SessionInput's bound
MAX_REMINDER = timedelta(minutes=24 * 60)  # SessionInput's bound

RATING_CODE_OF = {rating: code for code, rating in RATING_CODES.items()}
FOLLOW_UP_CODE_OF = {answer: code for code, answer in FOLLOW_UP_CODES.items()}


# Callback data packed as ``bot.callbacks`` reads it (prefix, then the fields, ':'-separated; a test
# unpacks these there).
def answer_data(action: str, request_id: int) -> str:
    """``bot.callbacks.MeetingAnswer``: action ``a`` accept, ``d`` decline, ``w`` withdraw."""
    return f"mta:{action}:{request_id}"


def rating_data(request_id: int, rating: MeetingRating) -> str:
    """``bot.callbacks.MeetingRate``."""
    return f"mtr:{request_id}:{RATING_CODE_OF[rating]}"


def follow_up_data(request_id: int, answer: FollowUpAnswer) -> str:
    """``bot.callbacks.MeetingFollowUp``."""
    return f"mtf:{request_id}:{FOLLOW_UP_CODE_OF[answer]}"


def answer_buttons(locale: Locale, request_id: int) -> list[list[dict[str, str]]]:
    return [
        [
            {"text": "✅ " + gettext(locale, N_("Accept")), "callback_data": answer_data("a", request_id)},
            {"text": "✖️ " + gettext(locale, N_("Decline")), "callback_data": answer_data("d", request_id)},
        ]
    ]


def rating_buttons(locale: Locale, request_id: int) -> list[list[dict[str, str]]]:
    labels = [
        {"text": gettext(locale, RATING_LABELS[r]), "callback_data": rating_data(request_id, r)} for r in RATING_LABELS
    ]
    return [labels[:2], labels[2:]]


def follow_up_buttons(locale: Locale, request_id: int) -> list[list[dict[str, str]]]:
    return [
        [
            {"text": gettext(locale, FOLLOW_UP_LABELS[a]), "callback_data": follow_up_data(request_id, a)}
            for a in FOLLOW_UP_LABELS
        ]
    ]


def side_of(request: MeetingRequest, person_id: int) -> tuple[Participant, Participant]:
    """(the person's own side, the other side)."""
    if request.requester.person_id == person_id:
        return request.requester, request.recipient
    return request.recipient, request.requester


def who(participant: Participant) -> str:
    """The other side as a person reads it: '光谷基金（张三）'."""
    name = participant.person.name if participant.person else ""
    return participant.title + (f"（{name}）" if name and name != participant.title else "")


def context(request: MeetingRequest, person: Person) -> dict[str, Any]:
    """What every meeting message says: the event, the time (local), the table, the other side."""
    locale = locale_of(person.language)
    _, other = side_of(request, person.id)
    return {
        "event": request.session.event,
        "when": format_when(request.slot.starts_at, request.slot.ends_at, locale),
        "table": request.table_no,
        "who": who(other),
        "message": request.message,
    }


def reminder_key(request_id: int, person_id: int) -> str:
    return f"meeting:reminder:{request_id}:{person_id}"


class MeetingProducer:
    """Turns ``meeting.*`` facts into outbox rows (called by ``Producer`` for the kinds it lists)."""

    # fact → (template's ``change``, who hears: "recipient" | "requester" | "both")
    TOLD: ClassVar[dict[str, tuple[str, str]]] = {
        "meeting.accepted": ("accepted", "requester"),
        "meeting.declined": ("declined", "requester"),
        "meeting.withdrawn": ("withdrawn", "recipient"),
        "meeting.cancelled": ("cancelled", "both"),
        "meeting.expired": ("expired", "both"),
        "meeting.scheduled": ("scheduled", "both"),
    }
    KINDS: ClassVar[frozenset[str]] = frozenset({"meeting.requested", *TOLD})

    async def handle(self, fact: Activity, conn: BaseDBAsyncClient) -> None:
        request = (
            await MeetingRequest.get_or_none(id=fact.payload.get("request_id"), using_db=conn).select_related(*RELATED)
            if isinstance(fact.payload.get("request_id"), int)
            else None
        )
        if request is None:
            return
        if fact.kind == "meeting.requested":
            await self._requested(request, conn)
            return
        change, to = self.TOLD[fact.kind]
        sides = {"requester": [request.requester], "recipient": [request.recipient]}.get(
            to, [request.requester, request.recipient]
        )
        if change == "accepted" and fact.payload.get("by_organizer"):
            sides = [request.requester, request.recipient]  # the recipient did not say yes themselves
        for side in sides:
            person = side.person
            await enqueue(
                person,
                Category.MEETING,
                dedup_key=f"meeting:{change}:{request.id}:{person.id}",
                text=render("meeting_changed", person.language, change=change, **context(request, person)),
                event_id=request.session.event_id,
                urgent=True,
                using_db=conn,
            )
        if change == "cancelled":
            # Reminders queued for a meeting called off are not sent (they would say it is on).
            keys = [reminder_key(request.id, side.person_id) for side in (request.requester, request.recipient)]
            await (
                OutboxMessage.filter(dedup_key__in=keys, status=OutboxStatus.QUEUED)
                .using_db(conn)
                .update(status=OutboxStatus.SKIPPED, last_error="the meeting was cancelled")
            )

    async def _requested(self, request: MeetingRequest, conn: BaseDBAsyncClient) -> None:
        person = request.recipient.person
        locale = locale_of(person.language)
        await enqueue(
            person,
            Category.MEETING,
            dedup_key=f"meeting:requested:{request.id}:{person.id}",
            text=render(
                "meeting_requested",
                locale,
                expires=localtime.stamp(request.expires_at),
                **context(request, person),
            ),
            event_id=request.session.event_id,
            buttons=answer_buttons(locale, request.id),
            urgent=True,
            using_db=conn,
        )


@dataclass(frozen=True, slots=True)
class MeetingPromptPass:
    reminders: int
    ratings: int
    follow_ups: int
    skipped: int


async def produce_meeting_prompts() -> MeetingPromptPass:
    """One pass: reminders due, rating prompts for meetings just ended, follow-ups due; each once per
    person and meeting (keyed), however many passes or processes run."""
    now = clock.now()
    # A reminder still queued when its meeting began is no use any more.
    started = await MeetingRequest.filter(
        status=MeetingStatus.ACCEPTED, slot__starts_at__lte=now, slot__starts_at__gt=now - MAX_REMINDER
    ).values_list("id", "requester__person_id", "recipient__person_id")
    stale = [reminder_key(rid, p) for rid, *people in started for p in people]
    skipped = (
        await OutboxMessage.filter(dedup_key__in=stale, status=OutboxStatus.QUEUED).update(
            status=OutboxStatus.SKIPPED, last_error="the meeting has begun"
        )
        if stale
        else 0
    )
    reminders = await _reminders(now)
    ratings = await _ratings(now)
    follow_ups = await _follow_ups(now)
    return MeetingPromptPass(reminders=reminders, ratings=ratings, follow_ups=follow_ups, skipped=skipped)


async def _answered(request_ids: list[int], stage: OutcomeStage) -> set[tuple[int, int]]:
    """(request, person) pairs that have answered at this stage."""
    rows = await MeetingOutcome.filter(request_id__in=request_ids, stage=stage).values_list(
        "request_id", "participant__person_id"
    )
    return {(rid, pid) for rid, pid in rows}


async def _taken(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return {str(key) for key in await OutboxMessage.filter(dedup_key__in=keys).values_list("dedup_key", flat=True)}


async def _each_side(
    meetings: list[MeetingRequest], what: str, skip: Set[tuple[int, int]] = frozenset()
) -> list[tuple[MeetingRequest, Person, str]]:
    """Every (meeting, person, key) still owed a message of this kind."""
    wanted = [
        (m, side.person, f"meeting:{what}:{m.id}:{side.person_id}")
        for m in meetings
        for side in (m.requester, m.recipient)
        if (m.id, side.person_id) not in skip
    ]
    taken = await _taken([key for _, _, key in wanted])
    return [(m, p, key) for m, p, key in wanted if key not in taken]


async def _reminders(now: datetime) -> int:
    soon = (
        await MeetingRequest.filter(
            status=MeetingStatus.ACCEPTED, slot__starts_at__gt=now, slot__starts_at__lte=now + MAX_REMINDER
        )
        .exclude(session__event__status=EventStatus.CANCELLED)
        .select_related(*RELATED)
    )
    due = [m for m in soon if m.slot.starts_at - timedelta(minutes=m.session.reminder_minutes) <= now]
    queued = 0
    for meeting, person, key in await _each_side(due, "reminder"):
        minutes = max(1, round((meeting.slot.starts_at - now).total_seconds() / 60))
        text = render("meeting_reminder", person.language, minutes=minutes, **context(meeting, person))
        if await enqueue(
            person, Category.MEETING, dedup_key=key, text=text, event_id=meeting.session.event_id, urgent=True
        ):
            queued += 1
    return queued


async def _ratings(now: datetime) -> int:
    ended = (
        await MeetingRequest.filter(
            status=MeetingStatus.ACCEPTED, slot__ends_at__lte=now, slot__ends_at__gt=now - RATING_WINDOW
        )
        .exclude(session__event__status=EventStatus.CANCELLED)
        .select_related(*RELATED)
    )
    answered = await _answered([m.id for m in ended], OutcomeStage.RATING)
    queued = 0
    for meeting, person, key in await _each_side(list(ended), "rate", answered):
        locale = locale_of(person.language)
        text = render("meeting_rate", locale, **context(meeting, person))
        buttons = rating_buttons(locale, meeting.id)
        if await enqueue(
            person, Category.MEETING, dedup_key=key, text=text, buttons=buttons, event_id=meeting.session.event_id
        ):
            queued += 1
    return queued


async def _follow_ups(now: datetime) -> int:
    # Sessions set their own delay (1–730 days): read the widest span, keep those due within the window.
    candidates = (
        await MeetingRequest.filter(
            status=MeetingStatus.ACCEPTED,
            slot__ends_at__lte=now - timedelta(days=1),
            slot__ends_at__gt=now - timedelta(days=MAX_FOLLOW_UP_DAYS) - FOLLOW_UP_WINDOW,
        )
        .exclude(session__event__status=EventStatus.CANCELLED)
        .select_related(*RELATED)
    )
    due = [
        m
        for m in candidates
        if m.slot.ends_at + timedelta(days=m.session.follow_up_days)
        <= now
        < m.slot.ends_at + timedelta(days=m.session.follow_up_days) + FOLLOW_UP_WINDOW
    ]
    answered = await _answered([m.id for m in due], OutcomeStage.FOLLOW_UP)
    queued = 0
    for meeting, person, key in await _each_side(due, "follow_up", answered):
        locale = locale_of(person.language)
        text = render(
            "meeting_follow_up",
            locale,
            days=meeting.session.follow_up_days,
            **context(meeting, person),
        )
        if await enqueue(
            person,
            Category.MEETING,
            dedup_key=key,
            text=text,
            buttons=follow_up_buttons(locale, meeting.id),
            event_id=meeting.session.event_id,
        ):
            queued += 1
    return queued
