"""Roles people hold in the bot: door staff who scan tickets in the Mini App, organizers who announce.

A role is held for one organization: an organizer acts for its events, a checker scans its events
(or only some of them). Admins grant any role; an organizer grants and revokes checker roles for their
own organization's events only. Every grant and revocation is written to the activity log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, EventNotFound, InvalidInput, PersonNotFound, RoleNotGrantable, RoleNotHeld
from events.models import Event, EventStatus, Person, PersonRole, Role
from events.services import activity, broadcasts, organizations, paging
from events.services.organizations import Scope
from events.services.people import normalize_phone

MAX_EVENTS = 1000


@dataclass(frozen=True, slots=True)
class PersonRef:
    """How a grant names a person: by id, Telegram id or phone (exactly one)."""

    person_id: int | None = None
    telegram_id: int | None = None
    phone: str | None = None


async def find_person(ref: PersonRef) -> Person:
    """Raises ``person_not_found``, ``invalid_input`` (not exactly one way of naming the person)."""
    given = [v for v in (ref.person_id, ref.telegram_id, ref.phone) if v is not None]
    if len(given) != 1:
        raise InvalidInput(N_("Name the person by one of: id, Telegram id, phone."), field="person")
    if ref.person_id is not None:
        person = await Person.get_or_none(id=ref.person_id)
    elif ref.telegram_id is not None:
        person = await Person.get_or_none(telegram_id=ref.telegram_id)
    else:
        phone = normalize_phone(ref.phone)
        person = await Person.filter(phone=phone).order_by("id").first() if phone else None
    if person is None:
        raise PersonNotFound()
    return person


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(N_("Unknown role %(role)s."), field="role", role=str(role)[:20]) from None


async def _events_organization(event_ids: list[int], scope: Scope) -> int:
    """The one organization that owns all these events. Raises ``event_not_found`` (also for an event
    out of ``scope``), ``invalid_input`` (events of several organizations).
    """
    owners: dict[int, int] = dict(await Event.filter(id__in=event_ids).values_list("id", "organization_id"))
    if len(owners) != len(event_ids) or not all(scope.covers(o) for o in owners.values()):
        raise EventNotFound()
    if len(set(owners.values())) != 1:
        raise InvalidInput(N_("A checker role covers the events of one organization."), field="event_ids")
    return next(iter(owners.values()))


async def grant_role(
    person: Person,
    *,
    role: Role | str,
    event_ids: list[int] | None,
    actor: str,
    organization_id: int | None = None,
    granter: Scope = organizations.EVERYTHING,
) -> PersonRole:
    """Give (or replace) a person's role for one organization; checkers may be limited to events (the
    organization is then theirs). ``granter`` is the scope of whoever grants: an organizer's scope may
    grant only checker roles for its own organization. Raises ``invalid_input``, ``role_not_grantable``,
    ``event_not_found``, ``organization_not_found``.
    """
    role = _role(role)
    if not granter.everything and role != Role.CHECKER:
        raise RoleNotGrantable()
    if event_ids is not None:
        if role != Role.CHECKER:
            raise InvalidInput(N_("Only checker roles can be limited to events."), field="event_ids")
        if not event_ids or len(event_ids) > MAX_EVENTS or any(i < 1 or i >= 2**31 for i in event_ids):
            raise InvalidInput(N_("List one or more event ids."), field="event_ids")
        event_ids = sorted(set(event_ids))
        owner = await _events_organization(event_ids, granter)
        if organization_id is not None and organization_id != owner:
            raise InvalidInput(N_("A checker role covers the events of one organization."), field="event_ids")
        organization_id = owner
    if organization_id is None:
        organization_id = granter.organization_id or await organizations.default_organization_id()
    if not granter.covers(organization_id):
        raise RoleNotGrantable()
    await organizations.get_organization(organization_id)
    async with in_transaction() as conn:
        await PersonRole.filter(person_id=person.id, role=role, organization_id=organization_id).using_db(conn).delete()
        held = await PersonRole.create(
            person_id=person.id,
            role=role,
            event_ids=event_ids,
            organization_id=organization_id,
            granted_by=actor[:100],
            using_db=conn,
        )
        await activity.record(
            "role.granted",
            actor=actor,
            person_id=person.id,
            using_db=conn,
            role=str(role),
            organization_id=organization_id,
            event_ids=event_ids,
        )
    return held


async def revoke_role(
    person: Person,
    *,
    role: Role | str,
    actor: str,
    organization_id: int | None = None,
    granter: Scope = organizations.EVERYTHING,
) -> int:
    """Take a role away (for one organization, or for every organization ``granter`` reaches);
    returns how many grants ended. Raises ``role_not_held``, ``role_not_grantable``, ``invalid_input``.
    """
    role = _role(role)
    if not granter.everything:
        if role != Role.CHECKER:
            raise RoleNotGrantable()
        if organization_id is not None and organization_id != granter.organization_id:
            raise RoleNotHeld()
        organization_id = granter.organization_id
    qs = PersonRole.filter(person_id=person.id, role=role)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    # Read first, outside the transaction: on SQLite a transaction that reads and then writes cannot
    # wait for another writer (it fails at once with "database is locked"); one that writes first waits.
    held = await qs
    if not held:
        raise RoleNotHeld()
    async with in_transaction() as conn:
        gone = await PersonRole.filter(id__in=[h.id for h in held]).using_db(conn).delete()
        if not gone:  # revoked meanwhile by someone else
            raise RoleNotHeld()
        for grant in held:
            await activity.record(
                "role.revoked",
                actor=actor,
                person_id=person.id,
                using_db=conn,
                role=str(role),
                organization_id=grant.organization_id,
                event_ids=grant.event_ids,
            )
    return len(held)


async def list_roles(*, person_id: int | None = None, scope: Scope = organizations.EVERYTHING) -> list[PersonRole]:
    """Roles held (of one person, or everyone's), those of ``scope``'s organization only, oldest first."""
    qs = PersonRole.all().select_related("person", "organization")
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if not scope.everything:
        qs = qs.filter(organization_id=scope.organization_id)
    return await qs.order_by("id")


_ROLE_ORDER = ("id",)


async def role_page(
    *, person_id: int | None = None, scope: Scope = organizations.EVERYTHING, limit: int, cursor: str | None = None
) -> paging.Page[PersonRole]:
    """``list_roles`` one keyset page at a time, oldest grant first, with the total. Raises
    ``invalid_input`` (field ``cursor``) for a cursor not made for this list (one person's roles
    are another list than everyone's)."""
    qs = PersonRole.all()
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if not scope.everything:
        qs = qs.filter(organization_id=scope.organization_id)
    list_name = "roles" if person_id is None else f"roles:{person_id}"
    after = paging.after(qs, list_name, _ROLE_ORDER, cursor)
    total = await qs.count()
    rows = await after.select_related("person", "organization").order_by(*_ROLE_ORDER).limit(limit + 1)
    return paging.page(rows, list_name, _ROLE_ORDER, limit, total=total)


def _covers(held: PersonRole, event: Event) -> bool:
    if held.role == Role.ADMIN:
        return True
    organization_id = held.organization_id
    if organization_id is not None and organization_id != event.organization_id:
        return False
    if held.role == Role.ORGANIZER:
        return True
    return held.role == Role.CHECKER and (held.event_ids is None or event.id in held.event_ids)


async def _roles(person: Person) -> list[PersonRole]:
    roles = await PersonRole.filter(person_id=person.id)
    default_id: int | None = None
    for held in roles:
        # A role granted before organizations existed acts for the default organization.
        if held.organization_id is None and held.role != Role.ADMIN:
            default_id = default_id or await organizations.default_organization_id()
            held.organization_id = default_id
    return roles


async def may_check_in(person: Person, event_id: int) -> bool:
    """Door staff for this event: a checker role covering it, or an organizer of its organization, or an admin."""
    event = await Event.get_or_none(id=event_id)
    if event is None:
        return False
    return any(_covers(held, event) for held in await _roles(person))


async def may_broadcast(person: Person, event_id: int) -> bool:
    """An organizer of the event's organization, or an admin."""
    event = await Event.get_or_none(id=event_id)
    if event is None:
        return False
    return any(h.role in (Role.ADMIN, Role.ORGANIZER) and _covers(h, event) for h in await _roles(person))


def _door_window() -> Q:
    now = clock.now()
    return Q(
        status=EventStatus.PUBLISHED, ends_at__gt=now - timedelta(hours=12), starts_at__lt=now + timedelta(days=14)
    )


async def scannable_events(scope: Scope, *, event_ids: list[int] | None = None) -> list[Event]:
    """Events of ``scope`` (limited to ``event_ids`` when given) whose door is open now or within two weeks."""
    qs = Event.filter(_door_window())
    if not scope.everything:
        qs = qs.filter(organization_id=scope.organization_id)
    if event_ids is not None:
        qs = qs.filter(id__in=event_ids)
    return await qs.order_by("starts_at")


async def scannable_events_of(person: Person) -> list[Event]:
    """The events a person may scan whose door is open now or within two weeks (the bot's /scan)."""
    roles = await _roles(person)
    return [e for e in await Event.filter(_door_window()).order_by("starts_at") if any(_covers(h, e) for h in roles)]


async def broadcastable_events(person: Person, *, limit: int = 20) -> list[Event]:
    """The events a person may announce to now (the bot's /broadcast; the window is broadcasts')."""
    roles = [h for h in await _roles(person) if h.role in (Role.ADMIN, Role.ORGANIZER)]
    if not roles:
        return []
    qs = Event.filter(broadcasts.window())
    if not any(h.role == Role.ADMIN for h in roles):
        qs = qs.filter(organization_id__in=[h.organization_id for h in roles])
    return await qs.order_by("starts_at").limit(limit)


async def is_door_staff(person: Person) -> bool:
    return await PersonRole.filter(person_id=person.id, role__in=[Role.CHECKER, Role.ORGANIZER, Role.ADMIN]).exists()


async def is_organizer(person: Person) -> bool:
    return await PersonRole.filter(person_id=person.id, role__in=[Role.ORGANIZER, Role.ADMIN]).exists()
