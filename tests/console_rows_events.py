"""The console's events and registrations pages (api/console/events.py) in the role × page matrix.

Each maker builds fresh objects of organization A with the services, so every user's call acts on an
object of its own (a publish or a cancel by the admin leaves nothing for the next user to find done).
"""

from __future__ import annotations

from typing import Any

from events.services import catalog
from tests.console_kit import ConsoleWorld, a_event
from tests.factories import make_registration
from tests.test_console_matrix import ANY, OWN, Call, Maker, Rows, fixed


def _event_form(title: str = "矩阵活动") -> dict[str, Any]:
    return {
        "title": title,
        "kind": "session",
        "series": "wuchuanghui",
        "venue": "光谷",
        "starts_at": "2031-05-01T14:00",
        "ends_at": "2031-05-01T17:00",
        "waitlist_enabled": "1",
    }


def _with_event(data: dict[str, Any] | None = None, *, publish: bool = True, **extra: Any) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        event = await a_event(w.a, publish=publish, title=f"矩阵 {w.next()}", **extra)
        form = dict(data or {})
        if "version" in form:
            form["version"] = event.updated_at.isoformat()
        return Call(path={"event_id": event.id}, data=form)

    return make


def _with_registration(data: dict[str, Any] | None = None, *, waitlisted: bool = False) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        event = await a_event(w.a, title=f"矩阵 {w.next()}", capacity=1 if waitlisted else None)
        if waitlisted:
            await make_registration(event, n=900_000 + w.next())
        reg = (await make_registration(event, n=900_000 + w.next())).registration
        form = dict(data or {})
        if "version" in form:
            form["version"] = reg.updated_at.isoformat()
        return Call(path={"event_id": event.id, "registration_id": reg.id}, data=form)

    return make


async def _draft(w: ConsoleWorld) -> Call:
    event = await a_event(w.a, publish=False, title=f"草稿 {w.next()}")
    return Call(path={"event_id": event.id})


ROWS: Rows = {
    ("GET", "/console/events"): (ANY, fixed()),
    ("GET", "/console/events/new"): (ANY, fixed()),
    ("POST", "/console/events/new"): (ANY, _with_event(_event_form())),
    ("GET", "/console/events/{event_id}"): (OWN, fixed(event_id=lambda w: w.draft.id)),
    ("GET", "/console/events/{event_id}/edit"): (OWN, fixed(event_id=lambda w: w.event.id)),
    ("POST", "/console/events/{event_id}/edit"): (OWN, _with_event(_event_form() | {"version": ""})),
    ("POST", "/console/events/{event_id}/publish"): (OWN, _draft),
    ("POST", "/console/events/{event_id}/cancel"): (OWN, _with_event({"message": "改期"})),
    ("POST", "/console/events/{event_id}/duplicate"): (OWN, _with_event({"shift_days": "7"})),
    ("GET", "/console/events/{event_id}/registrations"): (OWN, fixed(event_id=lambda w: w.event.id)),
    ("POST", "/console/events/{event_id}/registrations/bulk"): (
        OWN,
        _with_event({"action": "approve", "ids": "1"}),
    ),
    ("GET", "/console/events/{event_id}/registrations/{registration_id}"): (
        OWN,
        fixed(event_id=lambda w: w.event.id, registration_id=lambda w: w.reg.id),
    ),
    ("POST", "/console/events/{event_id}/registrations/{registration_id}"): (
        OWN,
        _with_registration({"name": "改名", "phone": "", "email": "", "organization": "", "version": ""}),
    ),
    ("POST", "/console/events/{event_id}/registrations/{registration_id}/promote"): (
        OWN,
        _with_registration(waitlisted=True),
    ),
    ("POST", "/console/events/{event_id}/registrations/{registration_id}/checkin"): (OWN, _with_registration()),
    ("POST", "/console/events/{event_id}/registrations/{registration_id}/checkin/undo"): (
        OWN,
        _with_registration(),
    ),
    ("POST", "/console/events/{event_id}/registrations/{registration_id}/resend"): (OWN, _with_registration()),
}

__all__ = ["ROWS", "catalog"]
