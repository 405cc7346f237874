"""Queueing messages: one outbox row per person and reason, deduplicated by key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock
from events.models import Category, OutboxMessage, Person
from events.services.preferences import ESSENTIAL

# Transactional messages go at any hour; the rest wait for the end of the person's quiet hours.
URGENT = frozenset(
    {Category.WAITLIST_PROMOTED, Category.REGISTRATION_CONFIRMED, Category.EVENT_CHANGED, Category.EVENT_CANCELLED}
)


# What makes sense as a mail: a person's registrations, their events, reminders and the organizers'
# broadcasts. The rest are conversations with the bot (answer buttons, follow-ups) and stay in the chat.
MAIL_CATEGORIES = frozenset(
    {
        Category.REGISTRATION_CONFIRMED,
        Category.WAITLIST_PROMOTED,
        Category.EVENT_CHANGED,
        Category.EVENT_CANCELLED,
        Category.REMINDER,
        Category.BROADCAST,
        Category.SIGNIN,
    }
)
EMAIL = "email"


def has_chat(person: Person | Contact) -> bool:
    """The person can be written to in Telegram (linked, not blocked)."""
    return person.telegram_id is not None and person.telegram_blocked_at is None


def has_mailbox(person: Person | Contact) -> bool:
    """The person has an address that has not bounced."""
    return bool(person.email) and person.email != person.email_bounced


# ``has_chat(p) or has_mailbox(p)`` in SQL, over a person aliased ``p``: a pass that must not read
# everyone (most registrants of a rush give a phone alone) leaves out in the database who cannot be
# reached at all; ``reachable`` still decides for each person read.
CAN_REACH_SQL = (
    "((p.telegram_id IS NOT NULL AND p.telegram_blocked_at IS NULL) "
    "OR (p.email IS NOT NULL AND p.email <> '' AND (p.email_bounced IS NULL OR p.email_bounced <> p.email)))"
)
# What ``reachable`` reads of a person.
CONTACT_FIELDS = ("telegram_id", "telegram_blocked_at", "email", "email_bounced", "opted_out")


@dataclass(frozen=True, slots=True)
class Contact:
    """A person as ``reachable`` reads it (``CONTACT_FIELDS``, in order): a model per row cost more than the query."""

    telegram_id: int | None
    telegram_blocked_at: Any
    email: str | None
    email_bounced: str | None
    opted_out: list[str] | None


def reachable(person: Person | Contact, category: Category, *, channel: str | None = None) -> bool:
    """Whether a message of ``category`` may be queued for the person: they did not opt out of it, and
    some channel can carry it (Telegram; else e-mail for the categories mail carries). ``channel``
    ``"email"``: by e-mail only. Whether e-mail is configured is decided when the row is sent."""
    if category.value not in ESSENTIAL and category.value in (person.opted_out or []):
        return False
    if channel == EMAIL:
        return has_mailbox(person)
    return has_chat(person) or (category in MAIL_CATEGORIES and has_mailbox(person))


TELEGRAM = "telegram"


def channel_for(person: Person, category: Category) -> str | None:
    """The channel a message of ``category`` would reach the person by now: ``telegram`` (a linked
    chat), ``email`` (no chat, a working address, a category mail carries), None (opted out, or no way)."""
    if not reachable(person, category):
        return None
    return TELEGRAM if has_chat(person) else EMAIL


async def broadcast_reach(event_id: int, audience: str = "registered") -> dict[str | None, int]:
    """How many of an event's announcement recipients (``audience``) each channel reaches ({"telegram",
    "email", None: nobody}), as ``producers`` would queue an announcement made now."""
    from events.services import broadcasts

    reach: dict[str | None, int] = {TELEGRAM: 0, EMAIL: 0, None: 0}
    for registration in await broadcasts.registrants(event_id, audience=audience):
        reach[channel_for(registration.person, Category.BROADCAST)] += 1
    return reach


T = TypeVar("T")
# Values per ``IN (…)``: within SQLite's oldest limit of 999 variables, with room for the other filters.
_PER_QUERY = 900


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), _PER_QUERY):
        yield values[start : start + _PER_QUERY]


async def enqueue(
    person: Person,
    category: Category,
    *,
    dedup_key: str,
    text: str,
    using_db: BaseDBAsyncClient | None = None,
    event_id: int | None = None,
    broadcast_id: int | None = None,
    buttons: list[list[dict[str, str]]] | None = None,
    photo: dict[str, Any] | None = None,
    urgent: bool | None = None,
    not_before: datetime | None = None,
    mail: dict[str, Any] | None = None,
    channel: str | None = None,
) -> bool:
    """Queue a message unless the person cannot or does not want to get it. Returns whether a row was
    written; an existing row with the same key is left alone (ON CONFLICT DO NOTHING), so producers
    may run twice or side by side. ``mail`` is what an e-mail is composed from when the row goes by
    mail ({"template", "context", "registration_id"}; see notifications/mail.py); without it a mail
    carries ``text``. ``channel`` fixes the channel ("email"); None lets the dispatcher choose.
    """
    if not reachable(person, category, channel=channel):
        return False
    before = await OutboxMessage.filter(dedup_key=dedup_key).using_db(using_db).exists()
    if before:
        return False
    row = _row(
        person, category, dedup_key, text, event_id=event_id, broadcast_id=broadcast_id, buttons=buttons,
        photo=photo, urgent=urgent, not_before=not_before, mail=mail, channel=channel,
    )  # fmt: skip
    await OutboxMessage.bulk_create([row], ignore_conflicts=True, using_db=using_db)
    return True


@dataclass(frozen=True, slots=True)
class Queued:
    """One message for ``enqueue_many``: what differs between the people of one mailing."""

    person: Person
    dedup_key: str
    text: str
    event_id: int | None = None
    buttons: list[list[dict[str, str]]] | None = None


async def enqueue_many(
    category: Category, messages: Sequence[Queued], *, using_db: BaseDBAsyncClient | None = None
) -> int:
    """``enqueue`` for many messages of one category at once (an event's invitations to everyone on the
    bot): which keys are queued already is read once per 900 and the rest inserted together, where
    ``enqueue`` takes two statements a message. Returns how many rows were written (or were written
    meanwhile by a producer side by side: the keys stay unique)."""
    wanted: dict[str, Queued] = {}
    for message in messages:
        if reachable(message.person, category):
            wanted.setdefault(message.dedup_key[:200], message)
    for chunk in _chunks(list(wanted)):
        taken: list[Any] = (
            await OutboxMessage.filter(dedup_key__in=chunk).using_db(using_db).values_list("dedup_key", flat=True)
        )
        for key in taken:
            wanted.pop(key, None)
    rows = [_row(m.person, category, key, m.text, event_id=m.event_id, buttons=m.buttons) for key, m in wanted.items()]
    await OutboxMessage.bulk_create(rows, batch_size=500, ignore_conflicts=True, using_db=using_db)
    return len(rows)


def _row(
    person: Person,
    category: Category,
    dedup_key: str,
    text: str,
    *,
    event_id: int | None = None,
    broadcast_id: int | None = None,
    buttons: list[list[dict[str, str]]] | None = None,
    photo: dict[str, Any] | None = None,
    urgent: bool | None = None,
    not_before: datetime | None = None,
    mail: dict[str, Any] | None = None,
    channel: str | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        person_id=person.id,
        category=category,
        dedup_key=dedup_key[:200],
        locale=person.language,
        text=text,
        buttons=buttons,
        photo=photo,
        urgent=category in URGENT if urgent is None else urgent,
        not_before=not_before or clock.now(),
        # The service clock, like the activity log: weekly caps count by it.
        created_at=clock.now(),
        event_id=event_id,
        broadcast_id=broadcast_id,
        mail=mail,
        channel=channel,
    )


async def sent_this_week(
    person_ids: Collection[int], category: Category, *, using_db: BaseDBAsyncClient | None = None
) -> Counter[int]:
    """Messages of ``category`` queued for each of these people in the last 7 days (absent: none), in one
    query per 900 people: a producer asks this for everyone on the bot at once."""
    since = clock.now() - timedelta(days=7)
    counts: Counter[int] = Counter()
    for chunk in _chunks(sorted(set(person_ids))):
        rows: list[Any] = (
            await OutboxMessage.filter(person_id__in=chunk, category=category, created_at__gte=since)
            .using_db(using_db)
            .values_list("person_id", flat=True)
        )
        counts.update(rows)
    return counts
