"""A registrant's own web address: ``/r/{token}`` shows the registration, its ticket, and lets the
person cancel or change answers, with no account and no Telegram.

The token is a capability (``events.secretbox``): the registration keeps only a random seed, so the
same link can be shown again (confirmation page, every e-mail, the "lost my link" form) and a
database dump holds none. A link works until ``LINK_GRACE`` after its event ends; after that the
page is gone (the data is on its way to retention, and nobody needs a ticket for a past event).
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from events import clock, secretbox
from events.errors import N_, InvalidInput, NotFound
from events.models import ACTIVE_STATUSES, Activity, Registration
from events.services import activity
from events.services.people import normalize_email
from events.settings import get_settings

ACCESS_PURPOSE = "registration-access"
LINK_GRACE = timedelta(days=30)
PATH_PREFIX = "/r/"
LINK_REQUESTED = "registration.link_requested"
# A registration's link is mailed again at most this often an hour, so the "lost my link" form cannot be
# used to flood someone's mailbox.
LINK_REQUESTS_PER_HOUR = 3


class AccessLinkInvalid(NotFound):
    code = "access_link_invalid"
    message = N_("This link is not valid. Ask for it again with the address you registered with.")


class AccessLinkExpired(NotFound):
    code = "access_link_expired"
    message = N_("This link has expired: its event ended more than 30 days ago.")


async def access_token(registration: Registration, *, using_db: BaseDBAsyncClient | None = None) -> str:
    """The registration's link token; the seed is made (once) on first use."""
    if registration.access_seed is None:
        seed = secretbox.new_seed()
        # Only the first writer's seed sticks: a concurrent caller re-reads it.
        updated = (
            await Registration.filter(id=registration.id, access_seed=None).using_db(using_db).update(access_seed=seed)
        )
        if not updated:
            fresh = await Registration.get(id=registration.id, using_db=using_db)
            seed = fresh.access_seed or seed
        registration.access_seed = seed
    return secretbox.current().capability(ACCESS_PURPOSE, registration.access_seed)


async def access_url(registration: Registration, *, using_db: BaseDBAsyncClient | None = None) -> str:
    """The absolute address of the registrant's page (``PUBLIC_URL`` + ``/r/{token}``)."""
    return f"{get_settings().base_url}{PATH_PREFIX}{await access_token(registration, using_db=using_db)}"


async def registration_by_token(token: str) -> Registration:
    """The registration (with its event and person) behind ``token``.
    Raises ``access_link_invalid`` (forged, mistyped, rotated), ``access_link_expired``."""
    seed = secretbox.current().seed_of(ACCESS_PURPOSE, token) if token and len(token) <= 64 else None
    registration = await Registration.get_or_none(access_seed=seed).select_related("event", "person") if seed else None
    if registration is None:
        raise AccessLinkInvalid()
    event = registration.event
    if event.ends_at + LINK_GRACE < clock.now():
        raise AccessLinkExpired()
    return registration


async def rotate(registration: Registration) -> str:
    """A new token for the registration; the old link stops working (a link that leaked)."""
    registration.access_seed = secretbox.new_seed()
    await Registration.filter(id=registration.id).update(access_seed=registration.access_seed)
    return secretbox.current().capability(ACCESS_PURPOSE, registration.access_seed)


async def request_link(email: str, event_id: int | None = None, *, actor: str) -> int:
    """Someone asked for their link again ("lost my link"): one ``registration.link_requested`` fact for
    each active registration of that address (of ``event_id`` only, when given) whose event is not long
    over; notifications mail each its link. A registration already asked for ``LINK_REQUESTS_PER_HOUR``
    times in the last hour is passed over. Returns how many were recorded; a page must not show it
    (it would tell whether an address is registered); a malformed address is registered nowhere (0).
    """
    try:
        address = normalize_email(email)
    except InvalidInput:  # a malformed address is registered nowhere
        return 0
    if address is None:
        return 0
    now = clock.now()
    async with in_transaction() as conn:
        # The mail goes to the person's address: only where it is the one asked for (a Telegram user who
        # registered with another address is not mailed at an address nobody typed here).
        found = Registration.filter(
            email=address, person__email=address, status__in=ACTIVE_STATUSES, event__ends_at__gt=now - LINK_GRACE
        )
        if event_id is not None:
            found = found.filter(event_id=event_id)
        registrations = await found.order_by("id").using_db(conn)
        recorded = 0
        for registration in registrations:
            recent = (
                await Activity.filter(
                    kind=LINK_REQUESTED, registration_id=registration.id, created_at__gt=now - timedelta(hours=1)
                )
                .using_db(conn)
                .count()
            )
            if recent >= LINK_REQUESTS_PER_HOUR:
                continue
            await activity.record(
                LINK_REQUESTED,
                actor=actor,
                event_id=registration.event_id,
                registration_id=registration.id,
                person_id=registration.person_id,
                using_db=conn,
            )
            recorded += 1
    return recorded
