"""Organizations own their objects; people's roles are granted and revoked per organization, with an audit line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from events import clock
from events.errors import EventNotFound, RoleNotGrantable, RoleNotHeld
from events.models import Activity, Role
from events.services import catalog, organizations, staff, tokens
from events.services.people import person_for_telegram
from tests.cli_helpers import run
from tests.factories import bearer, make_event


async def _org(name: str) -> int:
    return (await organizations.find_or_create_organization(name)).id


async def _event_of(organization_id: int, **extra: Any) -> Any:
    start = clock.now() + timedelta(minutes=30)
    data = {
        "title": "专场",
        "kind": "session",
        "venue": "光谷",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
    }
    event = await catalog.create_event(
        catalog.EventInput(**data | extra), actor="test", organization_id=organization_id
    )
    return await catalog.publish_event(event.id, actor="test")


async def _token(role: Role, organization_id: int | None) -> dict[str, str]:
    issued = await tokens.create_token(role=role, name="t", organization_id=organization_id)
    return bearer(issued.plaintext)


async def test_organization_names_are_one_organization_however_spelled(db):
    first = await organizations.find_or_create_organization("武汉大学 科技处", kind="university")
    again = await organizations.find_or_create_organization("  武汉大学　科技处 ")  # a full-width space
    assert again.id == first.id
    assert (await organizations.resolve_organization(str(first.id))).id == first.id
    assert (await organizations.default_organization()).id == (await organizations.default_organization()).id


async def test_events_belong_to_the_token_organization_and_lists_filter_to_it(client):
    a, b = await _org("A 单位"), await _org("B 单位")
    org_a, org_b = await _token(Role.ORGANIZER, a), await _token(Role.ORGANIZER, b)
    start = clock.now() + timedelta(days=3)
    body = {"title": "A 草稿", "kind": "session", "venue": "光谷", "starts_at": start.isoformat()}
    body["ends_at"] = (start + timedelta(hours=1)).isoformat()
    created = await client.post("/api/v1/events", json=body, headers=org_a)
    assert created.status_code == 201
    assert created.json()["organization_id"] == a
    draft_id = created.json()["id"]
    # B does not see A's draft in its list or by id, and cannot change it: as if it did not exist.
    listed = await client.get("/api/v1/events", headers=org_b)
    assert draft_id not in [e["id"] for e in listed.json()["items"]]
    assert draft_id in [e["id"] for e in (await client.get("/api/v1/events", headers=org_a)).json()["items"]]
    missing = await client.patch(f"/api/v1/events/{draft_id}", json={"venue": "x"}, headers=org_b)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "event_not_found"
    # A token made without an organization belongs to the default one, and sees none of A's.
    default = await _token(Role.ORGANIZER, None)
    assert (await client.get(f"/api/v1/events/{draft_id}/registrations", headers=default)).status_code == 404


async def test_a_checker_token_scans_only_its_organizations_events(client):
    a, b = await _org("A 单位"), await _org("B 单位")
    event_a, event_b = await _event_of(a), await _event_of(b)
    door_a = await _token(Role.CHECKER, a)
    scan = await client.post("/api/v1/checkins", json={"code": "WC1.x", "event_id": event_b.id}, headers=door_a)
    assert scan.status_code == 404
    assert scan.json()["error"]["code"] == "event_not_found"
    assert (
        await client.post("/api/v1/checkins", json={"code": "x", "event_id": event_a.id}, headers=door_a)
    ).status_code == 200
    listed = await client.get("/api/v1/checkins/events", headers=door_a)
    assert [e["id"] for e in listed.json()["items"]] == [event_a.id]


async def test_an_organizer_grants_only_checker_roles_for_own_events(db):
    a, b = await _org("A 单位"), await _org("B 单位")
    event_a, event_b = await _event_of(a), await _event_of(b)
    person = await person_for_telegram(telegram_id=7001, name="门岗", language_code="zh")
    scope_a = organizations.Scope(a)
    with pytest.raises(RoleNotGrantable):
        await staff.grant_role(person, role="organizer", event_ids=None, actor="token:1", granter=scope_a)
    with pytest.raises(EventNotFound):
        await staff.grant_role(person, role="checker", event_ids=[event_b.id], actor="token:1", granter=scope_a)
    held = await staff.grant_role(person, role="checker", event_ids=[event_a.id], actor="token:1", granter=scope_a)
    assert held.organization_id == a
    assert await staff.may_check_in(person, event_a.id)
    assert not await staff.may_check_in(person, event_b.id)
    with pytest.raises(RoleNotHeld):
        await staff.revoke_role(person, role="checker", actor="token:2", granter=organizations.Scope(b))
    assert await staff.revoke_role(person, role="checker", actor="token:1", granter=scope_a) == 1
    assert not await staff.may_check_in(person, event_a.id)
    lines = await Activity.filter(kind__in=["role.granted", "role.revoked"]).order_by("id")
    assert [
        (x.kind, x.actor, x.payload["role"], x.payload["organization_id"], x.payload["event_ids"]) for x in lines
    ] == [
        ("role.granted", "token:1", "checker", a, [event_a.id]),
        ("role.revoked", "token:1", "checker", a, [event_a.id]),
    ]


async def test_a_persons_organizer_role_acts_for_that_organization_in_the_bot(db):
    a, b = await _org("A 单位"), await _org("B 单位")
    event_a, event_b = await _event_of(a), await _event_of(b)
    person = await person_for_telegram(telegram_id=7002, name="组织者", language_code="zh")
    organization = await organizations.get_organization(a)
    await staff.grant_role(person, role="organizer", event_ids=None, actor="cli", organization_id=organization.id)
    assert [e.id for e in await staff.broadcastable_events(person)] == [event_a.id]
    assert [e.id for e in await staff.scannable_events_of(person)] == [event_a.id]
    assert await staff.may_broadcast(person, event_a.id)
    assert not await staff.may_broadcast(person, event_b.id)
    # Door staff for two organizations at once: one grant each.
    await staff.grant_role(person, role="checker", event_ids=[event_b.id], actor="cli")
    assert {e.id for e in await staff.scannable_events_of(person)} == {event_a.id, event_b.id}


async def test_roles_through_the_api(client):
    a, b = await _org("A 单位"), await _org("B 单位")
    event_a = await _event_of(a)
    admin, org_a, org_b = (
        await _token(Role.ADMIN, None),
        await _token(Role.ORGANIZER, a),
        await _token(Role.ORGANIZER, b),
    )
    person = await person_for_telegram(telegram_id=7003, name="王五", language_code="zh")
    found = await client.get("/api/v1/people", params={"telegram_id": 7003}, headers=org_a)
    assert found.json()["items"] == [{"id": person.id, "name": "王五", "telegram_id": 7003}]
    url = f"/api/v1/people/{person.id}/roles"
    refused = await client.post(url, json={"role": "organizer"}, headers=org_a)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "role_not_grantable")
    other = await client.post(url, json={"role": "checker", "event_ids": [event_a.id]}, headers=org_b)
    assert (other.status_code, other.json()["error"]["code"]) == (404, "event_not_found")
    granted = await client.post(url, json={"role": "checker", "event_ids": [event_a.id]}, headers=org_a)
    assert granted.status_code == 201, granted.text
    assert granted.json() | {"id": 0, "created_at": None} == {
        "id": 0,
        "person_id": person.id,
        "role": "checker",
        "organization_id": a,
        "event_ids": [event_a.id],
        "granted_by": granted.json()["granted_by"],
        "created_at": None,
    }
    made = await client.post(url, json={"role": "organizer", "organization": "C 单位"}, headers=admin)
    assert made.status_code == 404  # admins name an existing organization here
    made = await client.post(url, json={"role": "organizer", "organization": b}, headers=admin)
    assert made.status_code == 201
    assert [g["role"] for g in (await client.get(url, headers=org_a)).json()["items"]] == ["checker"]
    assert [g["role"] for g in (await client.get(url, headers=admin)).json()["items"]] == ["checker", "organizer"]
    assert (await client.delete(f"{url}/checker", headers=org_b)).status_code == 404
    assert (await client.delete(f"{url}/organizer", headers=org_a)).status_code == 403
    assert (await client.delete(f"{url}/checker", headers=org_a)).json()["revoked"] == 1
    assert (await client.get("/api/v1/people", params={"telegram_id": 1}, headers=org_a)).status_code == 404


async def test_an_old_role_without_an_organization_acts_for_the_default_one(db):
    event = await make_event(starts_in=timedelta(minutes=30))
    person = await person_for_telegram(telegram_id=7004, name="老门岗", language_code="zh")
    held = await staff.grant_role(person, role="checker", event_ids=None, actor="test")
    await type(held).filter(id=held.id).update(organization_id=None)  # as the migration found it
    assert await staff.may_check_in(person, event.id)


def test_token_and_role_commands(tmp_path: Path, env: dict[str, str]) -> None:
    created = run("token", "create", "--role", "organizer", "--name", "ops", "--org", "武汉大学", env=env)
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.splitlines()) == 1
    assert "\t武汉大学" in run("token", "list", env=env).stdout
    # Nobody has started the bot yet: the person is not found.
    missing = run("role", "grant", "--telegram-id", "42", "--role", "checker", env=env)
    assert missing.returncode == 2
    assert "No such person" in missing.stderr

    from events.db import close_db, init_db
    from events.settings import load_settings

    async def add_person() -> None:
        await init_db(load_settings(data_dir=tmp_path))
        try:
            await person_for_telegram(telegram_id=42, name="门岗", language_code="zh")
        finally:
            await close_db()

    import asyncio

    asyncio.run(add_person())
    granted = run("role", "grant", "--telegram-id", "42", "--role", "organizer", "--org", "武汉大学", env=env)
    assert granted.returncode == 0, granted.stderr
    assert "organizer" in granted.stdout
    listed = run("role", "list", env=env).stdout
    assert "\t42\torganizer\t武汉大学\tall events" in listed
    revoked = run("role", "revoke", "--telegram-id", "42", "--role", "organizer", env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert "organizer" not in run("role", "list", env=env).stdout
