"""Roles people hold in the bot, e.g. door staff who scan tickets in the Mini App."""

from __future__ import annotations

from events.errors import N_, InvalidInput
from events.models import Person, PersonRole, Role


async def grant_role(person: Person, *, role: Role | str, event_ids: list[int] | None, actor: str) -> PersonRole:
    """Give (or replace) a role; checkers may be limited to events. Raises ``invalid_input``."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(N_("Unknown role %(role)s."), field="role", role=str(role)) from None
    if event_ids is not None and (not event_ids or any(i < 1 for i in event_ids)):
        raise InvalidInput(N_("List one or more event ids."), field="event_ids")
    await PersonRole.filter(person_id=person.id, role=role).delete()
    return await PersonRole.create(person_id=person.id, role=role, event_ids=event_ids, granted_by=actor)


async def may_check_in(person: Person, event_id: int) -> bool:
    """Door staff for this event (a checker role covering it), or an organizer/admin."""
    for held in await PersonRole.filter(person_id=person.id):
        if held.role in (Role.ADMIN, Role.ORGANIZER):
            return True
        if held.role == Role.CHECKER and (held.event_ids is None or event_id in held.event_ids):
            return True
    return False


async def is_door_staff(person: Person) -> bool:
    return await PersonRole.filter(person_id=person.id, role__in=[Role.CHECKER, Role.ORGANIZER, Role.ADMIN]).exists()


async def is_organizer(person: Person) -> bool:
    return await PersonRole.filter(person_id=person.id, role__in=[Role.ORGANIZER, Role.ADMIN]).exists()
