"""Tickets (signed codes, QR images) and redeeming them at the door."""

from __future__ import annotations

import asyncio
import base64
import io
from datetime import timedelta

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from tortoise import connections

from events.models import Activity, Attendance, CheckinScan
from events.services import tickets
from events.services.tickets import TicketClaims, TicketSigner
from tests.factories import bearer, make_event, make_registration, make_token


@pytest.fixture
async def door(client, db, frozen_clock):
    """An event whose door is open now, one confirmed registration, and a checker's token."""
    event = await make_event(starts_in=timedelta(minutes=30), capacity=2)
    result = await make_registration(event, name="刘洋")
    token = await make_token(role="checker", name="东门")
    signer = tickets.signer_for(db.data_dir.resolve())
    return event, result.registration, tickets.ticket_code(result.registration, signer), token


async def scan(client, token, code, event_id, **extra):
    response = await client.post(
        "/api/v1/checkins", json={"code": code, "event_id": event_id} | extra, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_codes_round_trip_and_refuse_tampering(tmp_path):
    signer = tickets.signer_for(tmp_path)
    code = signer.sign(TicketClaims(42, 7, 1))
    assert code.startswith("WC1.") and len(code) < 120
    assert signer.verify(code) == TicketClaims(42, 7, 1)
    other = TicketSigner(Ed25519PrivateKey.generate())
    assert other.verify(code) is None
    raw = bytearray(base64.urlsafe_b64decode(code[4:] + "=="))
    raw[3] ^= 1  # another registration id under the same signature
    assert signer.verify("WC1." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")) is None
    for garbage in (
        "",
        "WC1.",
        code[:-5],
        code + "AA",
        "hello",
        "WC1.!!!!",
        "x" * 10_000,
        code.replace("WC1.", "WC2."),
    ):
        assert signer.verify(garbage) is None
    # The key pair survives a restart: the same data dir gives the same key.
    tickets.signer_for.cache_clear()
    assert tickets.signer_for(tmp_path).verify(code) == TicketClaims(42, 7, 1)


async def test_confirmed_registration_gets_a_ticket_whose_qr_decodes_to_the_code(client, frozen_clock):
    event = await make_event(capacity=1)
    created = (await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "何平"})).json()
    ticket = created["ticket"]
    assert set(ticket) == {"code", "qr_png_url", "qr_svg_url"}
    png = await client.get(ticket["qr_png_url"].replace("http://127.0.0.1:8000", ""))
    assert png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [d.text for d in decoded] == [ticket["code"]]  # the QR holds the code and nothing else
    svg = await client.get(ticket["qr_svg_url"].replace("http://127.0.0.1:8000", ""))
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert (await client.get("/api/v1/tickets/WC1.forged.png")).status_code == 404
    key = (await client.get("/api/v1/tickets/public-key")).json()
    assert key["algorithm"] == "Ed25519" and len(base64.urlsafe_b64decode(key["public_key"] + "=")) == 32


async def test_waitlisted_and_pending_get_their_ticket_when_promoted_or_approved(client, frozen_clock):
    event = await make_event(capacity=1)
    first = (await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "a"})).json()
    second = (await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "b"})).json()
    assert second["ticket"] is None
    await client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=bearer(first["access_token"]))
    promoted = await client.get(f"/api/v1/registrations/{second['id']}", headers=bearer(second["access_token"]))
    assert promoted.json()["ticket"]["code"].startswith("WC1.")
    approval = await make_event(requires_approval=True)
    pending = (await client.post(f"/api/v1/events/{approval.id}/registrations", json={"name": "c"})).json()
    assert pending["ticket"] is None
    approved = await client.post(f"/api/v1/registrations/{pending['id']}/approve", headers=bearer(await make_token()))
    assert approved.json()["ticket"] is not None


async def test_ok_then_already_checked_in_with_first_time_and_gate(client, door):
    event, registration, code, token = door
    first = await scan(client, token, code, event.id, gate="东门")
    assert first["result"] == "ok" and first["registration"]["name"] == "刘洋"
    again = await scan(client, token, code, event.id, gate="西门")
    assert again["result"] == "already_checked_in"
    assert again["first_checked_in_at"] == first["first_checked_in_at"] and again["first_gate"] == "东门"
    assert "东门" in again["reason"]
    assert await Attendance.filter(registration_id=registration.id).count() == 1
    assert await Activity.filter(kind="checkin.ok").count() == 1
    stats = (await client.get(f"/api/v1/events/{event.id}/stats", headers=bearer(token))).json()
    assert (stats["confirmed"], stats["checked_in"], stats["no_show"]) == (1, 1, None)
    assert sum(b["count"] for b in stats["arrivals"]) == 1


async def test_replayed_scan_id_returns_the_same_answer_and_changes_nothing(client, door):
    event, _, code, token = door
    first = await scan(
        client,
        token,
        code,
        event.id,
        scan_id="dev1-0001",
        offline=True,
        scanned_at=(door[0].starts_at - timedelta(minutes=20)).isoformat(),
    )
    replay = await scan(client, token, code, event.id, scan_id="dev1-0001")
    assert first["result"] == replay["result"] == "ok" and replay["replayed"] is True
    assert replay["first_checked_in_at"] == first["first_checked_in_at"]
    refused = await scan(client, token, "garbage", event.id, scan_id="dev1-0002")
    assert (await scan(client, token, "garbage", event.id, scan_id="dev1-0002"))["result"] == refused["result"]
    assert await CheckinScan.filter(event_id=event.id).count() == 2
    assert await CheckinScan.filter(offline=True).count() == 1


@pytest.mark.parametrize("bad", ["", "WC1.", "WC1.AAAA", "not a ticket", "x" * 10_240, "WC1." + "A" * 100])
async def test_unreadable_codes_are_invalid_and_logged(client, door, bad):
    event, _, _, token = door
    answer = await scan(client, token, bad, event.id)
    assert answer["result"] == "invalid" and answer["reason"]
    assert await CheckinScan.filter(result="invalid").count() == 1


async def test_code_signed_by_another_key_is_invalid(client, door):
    event, registration, _, token = door
    forged = TicketSigner(Ed25519PrivateKey.generate()).sign(TicketClaims(registration.id, event.id, 1))
    assert (await scan(client, token, forged, event.id))["result"] == "invalid"


async def test_wrong_event_cancelled_and_revoked(client, db, door, frozen_clock):
    event, registration, code, token = door
    other = await make_event(starts_in=timedelta(minutes=10))
    wrong = await scan(client, token, code, other.id)
    assert wrong["result"] == "wrong_event" and event.title in wrong["reason"]
    reissued = (
        await client.post(f"/api/v1/registrations/{registration.id}/ticket", headers=bearer(await make_token()))
    ).json()
    assert reissued["ticket"]["code"] != code
    assert (await scan(client, token, code, event.id))["result"] == "revoked"
    assert (await scan(client, token, reissued["ticket"]["code"], event.id))["result"] == "ok"
    second = await make_registration(event, name="马超")
    second_code = tickets.ticket_code(second.registration, tickets.signer_for(db.data_dir.resolve()))
    await client.post(f"/api/v1/registrations/{second.registration.id}/cancel", headers=bearer(await make_token()))
    assert (await scan(client, token, second_code, event.id))["result"] == "cancelled"


async def test_window_not_open_yet_and_closed(client, door, frozen_clock):
    event, _, code, token = door
    frozen_clock.set(event.starts_at - timedelta(minutes=61))
    early = await scan(client, token, code, event.id)
    assert early["result"] == "not_open_yet" and early["reason"]
    frozen_clock.set(event.ends_at + timedelta(minutes=1))
    assert (await scan(client, token, code, event.id))["result"] == "closed"
    # An offline scan made inside the window and delivered late still counts.
    late = await scan(
        client,
        token,
        code,
        event.id,
        scan_id="q-1",
        offline=True,
        scanned_at=(event.ends_at - timedelta(minutes=5)).isoformat(),
    )
    assert late["result"] == "ok"
    stats = (await client.get(f"/api/v1/events/{event.id}/stats", headers=bearer(token))).json()
    assert stats["no_show"] == 0


async def test_multi_day_event_checks_in_once_per_day(client, db, frozen_clock):
    event = await make_event(starts_in=timedelta(minutes=30), ends_at=frozen_clock.now + timedelta(days=2, hours=8))
    registration = (await make_registration(event)).registration
    code = tickets.ticket_code(registration, tickets.signer_for(db.data_dir.resolve()))
    token = await make_token(role="checker")
    assert (await scan(client, token, code, event.id))["result"] == "ok"
    assert (await scan(client, token, code, event.id))["result"] == "already_checked_in"
    frozen_clock.set(frozen_clock.now + timedelta(days=1))
    assert (await scan(client, token, code, event.id))["result"] == "ok"
    stats = (await client.get(f"/api/v1/events/{event.id}/stats", headers=bearer(token))).json()
    assert stats["checked_in"] == 1 and sum(b["count"] for b in stats["arrivals"]) == 2


async def test_two_gates_at_the_same_instant_give_exactly_one_ok(client, door):
    event, _, code, token = door
    answers = await asyncio.gather(*(scan(client, token, code, event.id, gate=f"gate{i}") for i in range(8)))
    results = sorted(a["result"] for a in answers)
    assert results == ["already_checked_in"] * 7 + ["ok"]


async def test_checker_scope_and_roles(client, door):
    event, _, code, _ = door
    other = await make_event()
    admin = await make_token(role="admin")
    scoped = (
        await client.post(
            "/api/v1/tokens",
            json={"role": "checker", "name": "只管一场", "event_ids": [other.id]},
            headers=bearer(admin),
        )
    ).json()["token"]
    refused = await client.post("/api/v1/checkins", json={"code": code, "event_id": event.id}, headers=bearer(scoped))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "event_out_of_scope")
    assert (await client.get(f"/api/v1/events/{event.id}/stats", headers=bearer(scoped))).status_code == 403
    assert (await client.get(f"/api/v1/events/{other.id}/stats", headers=bearer(scoped))).status_code == 200
    listed = (await client.get("/api/v1/checkins/events", headers=bearer(scoped))).json()["items"]
    assert [e["id"] for e in listed] == [other.id]
    # A checker can do nothing else.
    assert (await client.post("/api/v1/events", json={}, headers=bearer(scoped))).status_code in (403, 422)
    assert (await client.get(f"/api/v1/events/{event.id}/registrations", headers=bearer(scoped))).status_code == 403
    assert (await client.post("/api/v1/checkins", json={"code": code, "event_id": event.id})).status_code == 401
    judge = await make_token(role="judge")
    assert (
        await client.post("/api/v1/checkins", json={"code": code, "event_id": event.id}, headers=bearer(judge))
    ).status_code == 403


async def test_bad_checkin_bodies(client, door):
    event, _, code, token = door
    for body in (
        {"event_id": event.id},
        {"code": code},
        {"code": code, "event_id": "x"},
        {"code": code, "event_id": event.id, "direction": "sideways"},
        {"code": code, "event_id": event.id, "scanned_at": "noon"},
        {"code": code, "event_id": event.id, "scan_id": "s" * 65},
    ):
        response = await client.post("/api/v1/checkins", json=body, headers=bearer(token))
        assert response.status_code == 422, body
    missing = await client.post(
        "/api/v1/checkins", json={"code": code, "event_id": 999_999}, headers=bearer(await make_token(role="organizer"))
    )
    assert missing.status_code == 404


async def test_offline_list_carries_versions_and_who_is_in(client, door):
    event, registration, code, token = door
    await scan(client, token, code, event.id)
    listing = (await client.get(f"/api/v1/events/{event.id}/checkin-list", headers=bearer(token))).json()
    assert listing["registrations"] == [
        {
            "id": registration.id,
            "name": "刘洋",
            "organization": None,
            "status": "confirmed",
            "ticket_version": 1,
            "checked_in": True,
        }
    ]


async def test_redeem_uses_a_small_fixed_number_of_queries(db, frozen_clock, monkeypatch):
    """The registration with its event, then attendance + scan log + activity in one transaction."""
    from events.services import checkin

    event = await make_event(starts_in=timedelta(minutes=30), capacity=None)
    registration = (await make_registration(event)).registration
    signer = tickets.signer_for(db.data_dir.resolve())
    connection = connections.get("default")
    counted: list[str] = []
    for name in ("execute_query", "execute_insert", "execute_query_dict"):
        original = getattr(type(connection), name)

        def wrapper(self, query, *args, __original=original, **kwargs):
            counted.append(query)
            return __original(self, query, *args, **kwargs)

        monkeypatch.setattr(type(connection), name, wrapper)
    per_redeem = []
    for n in range(3):
        other = registration if n == 0 else (await make_registration(event)).registration
        counted.clear()
        outcome = await checkin.redeem(
            checkin.Scan(code=tickets.ticket_code(other, signer), event_id=event.id, scan_id=f"q{n}"),
            signer=signer,
            actor="t",
        )
        assert outcome.result == "ok"
        per_redeem.append(len(counted))
    assert per_redeem == [4, 4, 4], counted
