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
    assert set(ticket) == {"code", "qr_png_url", "qr_svg_url", "card_png_url"}
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
    """SQLite: the registration with its event, then attendance + scan log + activity in one
    transaction. PostgreSQL: one statement judges and writes the entry, and reads nothing else."""
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
    original_admit = checkin.hot_path.admit_ticket

    async def admit(*args, **kwargs):  # PostgreSQL's one statement, on the pool's connection
        counted.append("hot_path.admit_tickets_sql")
        return await original_admit(*args, **kwargs)

    monkeypatch.setattr(checkin.hot_path, "admit_ticket", admit)
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
    # PostgreSQL: one statement judging and writing all three; SQLite: the read and three inserts.
    assert per_redeem == ([1, 1, 1] if db.dialect == "postgres" else [4, 4, 4]), counted


async def test_the_doors_one_statement_admits_exactly_what_the_judge_admits(db, frozen_clock):
    """PostgreSQL judges a plain entry inside its one statement (hot_path.admit_ticket): at each edge
    of every rule it must admit what ``checkin._judge`` says ok and nothing it refuses (a course
    session's entries, which write credits, are left to the full path)."""
    from events import localtime
    from events.models import Event, Registration
    from events.services import checkin, hot_path
    from events.services.organizations import default_organization_id

    if db.dialect != "postgres":
        pytest.skip("the door's one statement is PostgreSQL's")
    pool = hot_path.postgres_pool()
    event = await make_event(starts_in=timedelta(minutes=30), capacity=None)
    opens, closes = checkin.checkin_window(event)
    tiny = timedelta(microseconds=1)
    own = await default_organization_id()

    async def case(at, *, status=None, event_status=None, version_delta=0, organization_id=None, kind=None):
        target = event
        if kind is not None or event_status is not None:
            target = await make_event(starts_in=timedelta(minutes=30), capacity=None)
        registration = (await make_registration(target)).registration
        if kind is not None or event_status is not None:
            await Event.filter(id=target.id).update(**({"kind": kind} if kind else {"status": event_status}))
        if status is not None:
            await Registration.filter(id=registration.id).update(status=status)
        read = await Registration.get(id=registration.id).select_related("event")
        claims = TicketClaims(registration.id, target.id, read.ticket_version + version_delta)
        scan = checkin.Scan(code="-", event_id=target.id, scan_id=f"edge{registration.id}")
        judged = await checkin._judge(scan, claims, read, at=at, tz=localtime.zone())
        entry = hot_path.Entry(
            registration_id=registration.id,
            ticket_version=claims.version,
            event_id=target.id,
            organization_id=organization_id,
            day=at.date(),
            scanned_at=at,
            gate="A",
            scan_id=scan.scan_id,
            device=None,
            received_at=at,
            offline=False,
            code_digest="-",
            checker="t",
            actor="t",
        )
        admitted = await hot_path.admit_ticket(pool, entry)
        assert admitted is None or (admitted.id == registration.id and admitted.event.id == target.id)
        return str(judged.result), admitted is not None

    now = frozen_clock.now
    assert await case(now) == ("ok", True)
    assert await case(opens) == ("ok", True)
    assert await case(opens - tiny) == ("not_open_yet", False)
    assert await case(closes) == ("ok", True)
    assert await case(closes + tiny) == ("closed", False)
    assert await case(now, version_delta=-1) == ("revoked", False)
    assert await case(now, status="cancelled") == ("cancelled", False)
    assert await case(now, status="rejected") == ("cancelled", False)
    assert await case(now, status="waitlisted") == ("invalid", False)
    assert await case(now, status="pending") == ("invalid", False)
    assert await case(now, event_status="cancelled") == ("cancelled", False)
    assert await case(now, organization_id=own) == ("ok", True)
    assert await case(now, organization_id=own + 1000) == ("ok", False)  # the caller's scope: event_not_found
    assert await case(now, kind="training") == ("ok", False)
    assert await Attendance.filter().count() == 4


async def test_a_doors_rush_is_written_a_batch_per_statement_with_one_entry_each(db, frozen_clock, monkeypatch):
    """PostgreSQL's group commit at the door: concurrent entries go in shared statements; a replayed scan
    id is answered as the first time, a second scan of a ticket is already in, and each person has one
    attendance, each scan id one row, each entry one activity line."""
    from events.services import checkin

    if db.dialect != "postgres":
        pytest.skip("the door's group commit is PostgreSQL's")
    sizes: list[int] = []
    original = checkin.hot_path._write_entries

    async def spy(context, batch):
        sizes.append(len(batch))
        return await original(context, batch)

    monkeypatch.setattr(checkin.hot_path, "_write_entries", spy)
    event = await make_event(starts_in=timedelta(minutes=30), capacity=None)
    signer = tickets.signer_for(db.data_dir.resolve())
    codes = [tickets.ticket_code((await make_registration(event)).registration, signer) for _ in range(30)]
    scans = [checkin.Scan(code=code, event_id=event.id, scan_id=f"rush{n}") for n, code in enumerate(codes)]
    scans += [checkin.Scan(code=codes[n], event_id=event.id, scan_id=f"rush{n}") for n in range(5)]  # replays
    scans += [checkin.Scan(code=codes[n], event_id=event.id, scan_id=f"again{n}") for n in range(5, 8)]
    outcomes = await asyncio.gather(*(checkin.redeem(scan, signer=signer, actor="gate") for scan in scans))
    assert sum(sizes) >= len(scans) - 8 and max(sizes) > 1
    results = [outcome.result for outcome in outcomes]
    assert results[:30] == ["ok"] * 30
    assert results[30:35] == ["ok"] * 5 and all(outcome.replayed for outcome in outcomes[30:35])
    assert results[35:] == ["already_checked_in"] * 3
    assert await Attendance.filter(event_id=event.id).count() == 30
    assert await CheckinScan.filter(event_id=event.id).count() == 33  # 30 entries and the 3 second scans
    assert await Activity.filter(event_id=event.id, kind="checkin.ok").count() == 30


# --- a scan id means one scan; codes decode strictly --------------------------------------------------------------


@pytest.fixture
async def two_tickets(db, frozen_clock):
    """An open door, two confirmed people's codes, a second event, and the signer."""
    event = await make_event(starts_in=timedelta(minutes=30), capacity=None)
    other_event = await make_event(starts_in=timedelta(minutes=30), capacity=None)
    signer = tickets.signer_for(db.data_dir.resolve())
    first = (await make_registration(event, name="刘洋")).registration
    second = (await make_registration(event, name="马超")).registration
    return event, other_event, tickets.ticket_code(first, signer), tickets.ticket_code(second, signer), signer


async def test_a_scan_id_sent_with_another_scan_is_refused_and_the_same_scan_is_replayed(two_tickets, frozen_clock):
    from events.errors import ScanIdReused
    from events.models import Direction
    from events.services import checkin

    event, other_event, code, second_code, signer = two_tickets

    async def redeem(**fields):
        scan = {"code": code, "event_id": event.id, "scan_id": "dev-1", "gate": "东门", "device": "p1"} | fields
        return await checkin.redeem(checkin.Scan(**scan), signer=signer, actor="token:1:东门")

    first = await redeem()
    assert (first.result, first.registration.name) == ("ok", "刘洋")
    for other in (
        {"code": second_code},
        {"event_id": other_event.id},
        {"direction": Direction.EXIT},
        {"gate": "西门"},
        {"device": "p2"},
    ):
        with pytest.raises(ScanIdReused) as refused:
            await redeem(**other)
        assert (refused.value.code, refused.value.kind) == ("scan_id_reused", "conflict")
    # The second person was not taken for the first: their own scan, under its own id, admits them.
    assert (await redeem(code=second_code, scan_id="dev-2")).result == "ok"
    # The same scan again (an offline queue replaying it, with its time and flag) gets the first answer.
    replay = await redeem(offline=True, scanned_at=frozen_clock.now - timedelta(seconds=5), code=code + "\r\n")
    assert (replay.result, replay.replayed, replay.registration.name) == ("ok", True, "刘洋")
    assert await Attendance.all().count() == 2
    assert await CheckinScan.all().count() == 2


async def test_a_refused_scans_id_is_bound_too(two_tickets):
    from events.errors import ScanIdReused
    from events.services import checkin

    event, _, code, _, signer = two_tickets
    refused = await checkin.redeem(
        checkin.Scan(code="garbage", event_id=event.id, scan_id="x1"), signer=signer, actor="token:1:a"
    )
    assert refused.result == "invalid"
    with pytest.raises(ScanIdReused):  # a real ticket under a used id is not answered "invalid" from the log
        await checkin.redeem(checkin.Scan(code=code, event_id=event.id, scan_id="x1"), signer=signer, actor="token:1:a")
    assert await Attendance.all().count() == 0


async def test_scan_ids_of_two_checkers_never_collide(two_tickets):
    from events.services import checkin

    event, _, code, second_code, signer = two_tickets
    one = await checkin.redeem(
        checkin.Scan(code=code, event_id=event.id, scan_id="0001"), signer=signer, actor="token:1:东门"
    )
    two = await checkin.redeem(
        checkin.Scan(code=second_code, event_id=event.id, scan_id="0001"), signer=signer, actor="telegram:42"
    )
    assert (one.result, one.registration.name) == ("ok", "刘洋")
    assert (two.result, two.replayed, two.registration.name) == ("ok", False, "马超")
    assert sorted(await CheckinScan.all().values_list("checker", flat=True)) == ["telegram:42", "token:1:东门"]


async def test_scan_id_reused_over_the_api_is_409_in_the_callers_language(client, door, db):
    event, registration, code, token = door
    other = await make_registration(event, name="马超")
    other_code = tickets.ticket_code(other.registration, tickets.signer_for(db.data_dir.resolve()))
    assert (await scan(client, token, code, event.id, scan_id="phone-1"))["result"] == "ok"
    for lang, fragment in (("zh-CN", "扫码编号"), ("en", "scan id")):
        response = await client.post(
            "/api/v1/checkins",
            json={"code": other_code, "event_id": event.id, "scan_id": "phone-1"},
            headers=bearer(token) | {"accept-language": lang},
        )
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "scan_id_reused"
        assert fragment in response.json()["error"]["message"]
    # Another checker's token may use the same id for its own scan.
    second_token = await make_token(role="checker", name="西门")
    answer = await scan(client, second_token, other_code, event.id, scan_id="phone-1")
    assert (answer["result"], answer["replayed"], answer["registration"]["name"]) == ("ok", False, "马超")
    replay = await scan(client, token, code, event.id, scan_id="phone-1", offline=True)
    assert (replay["result"], replay["replayed"], replay["registration"]["name"]) == ("ok", True, "刘洋")
    assert await Attendance.filter(event_id=event.id).count() == 2


def test_codes_decode_strictly_in_the_url_safe_alphabet_without_padding(tmp_path):
    signer = tickets.signer_for(tmp_path)
    claims = TicketClaims(42, 7, 1)
    code = signer.sign(claims)
    body = code[4:]
    # One line ending from a keyboard-wedge scanner is trimmed.
    assert signer.verify(code + "\n") == claims
    assert signer.verify(code + "\r\n") == claims
    standard = "WC1." + base64.b64encode(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))).decode()
    for variant in (
        code + "\n\n",
        code + "\r\n\n",
        code + "\r",
        code + " ",
        code + "\t",
        " " + code,
        "\n" + code,
        code[:50] + " " + code[50:],
        code[:50] + "\n" + code[50:],
        code + "=",
        code + "==",
        code[:50] + "=" + code[50:],
        standard,  # the standard alphabet's '+' '/' (and padding)
        standard.rstrip("="),
        "WC1." + body.replace("-", "+").replace("_", "/"),
        code.replace("WC1.", "wc1."),
    ):
        if variant == code:  # a signature without '-' or '_' (about 1 in 25) reads the same in both alphabets
            continue
        assert signer.verify(variant) is None, repr(variant)
    # The body of a 75-byte code is 100 characters: no padding, no unused bits, one code per ticket.
    assert len(body) == 100 and "=" not in body


async def test_a_code_with_inner_whitespace_or_the_standard_alphabet_is_invalid_at_the_door(client, door):
    event, _, code, token = door
    # A signature without '-' or '_' (about 1 in 25) reads the same in both alphabets: then there is no
    # standard-alphabet variant to try, and the other variants still are.
    with_plus = "WC1." + code[4:].replace("-", "+").replace("_", "/")
    variants = [code[:40] + " " + code[40:], code + "=", code + " \n"] + ([with_plus] if with_plus != code else [])
    for bad in variants:
        assert (await scan(client, token, bad, event.id))["result"] == "invalid", repr(bad)
    assert (await scan(client, token, code + "\r\n", event.id, gate="东门"))["result"] == "ok"
