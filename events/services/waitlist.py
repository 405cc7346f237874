"""Moving people from the waitlist into free seats. Callers hold the event lock."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock
from events.models import Event, EventStatus, Registration, RegistrationStatus
from events.services import activity

# Seat counters change without touching the event's updated_at: that stamp means "the event itself
# changed" (calendars use it), and a registration rush must not invalidate every feed.
COUNTERS = ["seats_taken", "waitlist_length", "waitlist_seq"]


def has_free_seat(event: Event) -> bool:
    return event.capacity is None or event.seats_taken < event.capacity


async def waitlist_position(registration: Registration, *, using_db: BaseDBAsyncClient | None = None) -> int | None:
    """1-based place in the queue, derived from the order numbers of those still waiting."""
    if registration.status != RegistrationStatus.WAITLISTED or registration.waitlist_order is None:
        return None
    ahead = (
        await Registration.filter(
            event_id=registration.event_id,
            status=RegistrationStatus.WAITLISTED,
            waitlist_order__lt=registration.waitlist_order,
        )
        .using_db(using_db)
        .count()
    )
    return ahead + 1


async def fill_free_seats(conn: BaseDBAsyncClient, event: Event, *, actor: str) -> list[Registration]:
    """Promote waitlist heads while seats are free, each logged as ``waitlist.promoted``.

    Only for a published event that has not ended: nobody is promoted into a cancelled event.
    """
    if event.status != EventStatus.PUBLISHED or event.ends_at <= clock.now():
        return []
    promoted: list[Registration] = []
    while has_free_seat(event):
        head = await (
            Registration.filter(event_id=event.id, status=RegistrationStatus.WAITLISTED)
            .order_by("waitlist_order")
            .using_db(conn)
            .first()
        )
        if head is None:
            break
        head.status = RegistrationStatus.CONFIRMED
        head.confirmed_at = clock.now()
        head.ticket_version = max(1, head.ticket_version)  # the ticket comes with the seat
        await head.save(update_fields=["status", "confirmed_at", "ticket_version", "updated_at"], using_db=conn)
        event.seats_taken += 1
        event.waitlist_length -= 1
        await activity.record(
            "waitlist.promoted",
            actor=actor,
            event_id=event.id,
            registration_id=head.id,
            person_id=head.person_id,
            using_db=conn,
        )
        promoted.append(head)
    if promoted:
        await event.save(update_fields=COUNTERS, using_db=conn)
    return promoted
