"""No overbooking under concurrency, with controls that show the harness would catch a race."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from tortoise import connections

from events import clock
from events.db import close_db, init_db
from events.errors import DomainError
from events.models import Event, Registration, RegistrationStatus
from events.services import registration as reg
from events.settings import Settings, load_settings
from tests.conftest import ticking_clock
from tests.factories import make_event

CAPACITY = 100
ATTEMPTS = 300


async def _register_many(event_id: int, numbers: range) -> list[reg.RegistrationResult | DomainError]:
    async def one(n: int) -> reg.RegistrationResult | DomainError:
        try:
            return await reg.register(event_id, reg.Applicant(name=f"并发{n}", phone=f"137{n:08d}"), actor="race")
        except DomainError as exc:
            return exc

    return list(await asyncio.gather(*(one(n) for n in numbers)))


async def _counts(event_id: int) -> tuple[int, int]:
    confirmed = await Registration.filter(event_id=event_id, status=RegistrationStatus.CONFIRMED).count()
    waitlisted = await Registration.filter(event_id=event_id, status=RegistrationStatus.WAITLISTED).count()
    return confirmed, waitlisted


async def test_300_concurrent_registrations_for_100_seats(db):
    event = await make_event(capacity=CAPACITY)
    results = await _register_many(event.id, range(ATTEMPTS))
    assert not [r for r in results if isinstance(r, DomainError)]
    assert await _counts(event.id) == (100, 200)
    returned = sorted(r.waitlist_position for r in results if r.waitlist_position is not None)  # type: ignore[union-attr]
    assert returned == list(range(1, 201))
    assert sorted((await reg.waitlist_positions(event.id)).values()) == list(range(1, 201))
    stored = await Event.get(id=event.id)
    assert (stored.seats_taken, stored.waitlist_length) == (100, 200)


async def test_concurrent_cancellations_promote_exactly_once(db):
    event = await make_event(capacity=10)
    results = await _register_many(event.id, range(30))
    confirmed = [r.registration.id for r in results if r.registration.status == "confirmed"]  # type: ignore[union-attr]
    await asyncio.gather(*(reg.cancel_registration(rid, actor="race") for rid in confirmed[:5]))
    assert await _counts(event.id) == (10, 15)
    assert sorted((await reg.waitlist_positions(event.id)).values()) == list(range(1, 16))


async def test_double_tap_registers_once(db):
    event = await make_event(capacity=10)

    async def tap() -> str:
        try:
            return (
                await reg.register(event.id, reg.Applicant(name="双击", phone="13811112222"), actor="t")
            ).registration.status
        except DomainError as exc:
            return exc.code

    outcomes = await asyncio.gather(*(tap() for _ in range(10)))
    assert sorted(outcomes) == ["already_registered"] * 9 + ["confirmed"]


@asynccontextmanager
async def _no_transaction() -> AsyncIterator[object]:
    yield connections.get("default")


async def _unlocked(connection: object, event_id: int) -> Event:
    return await Event.get(id=event_id).using_db(connection)  # type: ignore[arg-type]


async def test_control_without_lock_and_transaction_the_same_harness_overbooks(db, monkeypatch):
    """If this control ever stops overbooking, the harness no longer produces real interleaving."""
    monkeypatch.setattr(reg.hot_path, "postgres_pool", lambda: None)  # the transaction's path
    monkeypatch.setattr(reg, "lock_event", _unlocked)
    monkeypatch.setattr(reg, "in_transaction", _no_transaction)
    event = await make_event(capacity=CAPACITY)
    await _register_many(event.id, range(ATTEMPTS))
    confirmed, _ = await _counts(event.id)
    assert confirmed > CAPACITY


async def test_control_postgres_without_row_lock_overbooks(db, monkeypatch):
    """On PostgreSQL the transaction alone (READ COMMITTED) does not serialise; the row lock does."""
    if db.dialect != "postgres":
        pytest.skip("SQLite serialises writers itself; the row lock matters on PostgreSQL")
    monkeypatch.setattr(reg.hot_path, "postgres_pool", lambda: None)  # the transaction's path
    monkeypatch.setattr(reg, "lock_event", _unlocked)
    event = await make_event(capacity=CAPACITY)
    await _register_many(event.id, range(ATTEMPTS))
    confirmed, _ = await _counts(event.id)
    assert confirmed > CAPACITY


def _postgres_only(db: Settings) -> None:
    if db.dialect != "postgres":
        pytest.skip("the one-statement registration is PostgreSQL's")


async def test_the_one_statement_path_is_the_one_taken_on_postgres(db, monkeypatch):
    """The races above run through the one statement on PostgreSQL (not the transaction's fallback)."""
    _postgres_only(db)
    taken: list[object] = []
    original = reg.hot_path.register

    async def spy(*args: object, **kwargs: object) -> object:
        taken.append(result := await original(*args, **kwargs))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr(reg.hot_path, "register", spy)
    event = await make_event(capacity=CAPACITY)
    await _register_many(event.id, range(10))
    assert len(taken) == 10 and all(taken)


async def _statement_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    original = reg.hot_path._write

    async def spy(pool: object, event: dict[str, object], batch: list[object]) -> object:
        sizes.append(len(batch))
        return await original(pool, event, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(reg.hot_path, "_write", spy)
    return sizes


async def test_a_rush_for_one_event_is_written_a_batch_per_statement(db, monkeypatch):
    """Group commit: registrations that arrive while the event's statement runs go together in the
    next; the seats and the waitlist come out as they do one by one (the 300-for-100 race above)."""
    _postgres_only(db)
    sizes = await _statement_sizes(monkeypatch)
    event = await make_event(capacity=CAPACITY)
    results = await _register_many(event.id, range(ATTEMPTS))
    assert not [r for r in results if isinstance(r, DomainError)]
    assert sum(sizes) == ATTEMPTS and max(sizes) > 1 and len(sizes) < ATTEMPTS
    assert await _counts(event.id) == (100, 200)
    returned = sorted(r.waitlist_position for r in results if r.waitlist_position is not None)  # type: ignore[union-attr]
    assert returned == list(range(1, 201))
    orders = sorted(r.registration.waitlist_order for r in results if r.waitlist_position is not None)  # type: ignore[union-attr]
    assert orders == list(range(1, 201))
    # Each asker got their own row: the name they sent, the registration the database holds under that id.
    for n, result in enumerate(results):
        stored = await Registration.get(id=result.registration.id)  # type: ignore[union-attr]
        assert (stored.name, stored.person_id, stored.status) == (
            f"并发{n}",
            result.registration.person_id,  # type: ignore[union-attr]
            result.registration.status,  # type: ignore[union-attr]
        )


async def test_a_batch_without_waitlist_fills_the_seats_and_refuses_the_rest(db, monkeypatch):
    _postgres_only(db)
    sizes = await _statement_sizes(monkeypatch)
    event = await make_event(capacity=5, waitlist_enabled=False)
    results = await _register_many(event.id, range(40))
    assert max(sizes) > 1
    assert sorted(r.code if isinstance(r, DomainError) else r.registration.status for r in results) == (
        ["confirmed"] * 5 + ["event_full"] * 35
    )
    assert await _counts(event.id) == (5, 0)


async def test_a_duplicate_in_a_batch_refuses_only_itself(db, monkeypatch):
    """The batch's statement fails whole on the duplicate; each is then sent alone."""
    _postgres_only(db)
    sizes = await _statement_sizes(monkeypatch)
    event = await make_event(capacity=CAPACITY)
    applicants = [reg.Applicant(name=f"同批{n}", phone=f"136{n:08d}") for n in range(20)]
    applicants.append(reg.Applicant(name="同批重复", phone="13600000007"))

    async def one(applicant: reg.Applicant) -> str:
        try:
            return (await reg.register(event.id, applicant, actor="race")).registration.status
        except DomainError as exc:
            return exc.code

    outcomes = await asyncio.gather(*(one(a) for a in applicants))
    assert max(sizes) > 1
    assert sorted(outcomes) == ["already_registered"] + ["confirmed"] * 20
    assert await _counts(event.id) == (20, 0)


async def test_control_one_statement_without_row_lock_overbooks(db, monkeypatch):
    """Without FOR UPDATE the statement decides on the counters of its snapshot: it overbooks."""
    _postgres_only(db)
    assert "FOR UPDATE" in reg.hot_path.REGISTER_SQL
    monkeypatch.setattr(reg.hot_path, "REGISTER_SQL", reg.hot_path.REGISTER_SQL.replace("FOR UPDATE", ""))
    # Each registration its own statement, all at once (grouped, one process would send them one by one).
    monkeypatch.setattr(reg.hot_path, "MAX_BATCH", 1)
    monkeypatch.setattr(reg.hot_path, "IN_FLIGHT", ATTEMPTS)
    event = await make_event(capacity=CAPACITY)
    await _register_many(event.id, range(ATTEMPTS))
    confirmed, _ = await _counts(event.id)
    assert confirmed > CAPACITY


async def test_control_one_statement_without_identity_index_registers_twice(db):
    """The double tap is refused by the partial unique index: without it the statement lets it in."""
    _postgres_only(db)
    client = connections.get("default")
    await client.execute_script("DROP INDEX uniq_registration_live_phone")
    try:
        event = await make_event(capacity=10)
        await asyncio.gather(
            *(reg.register(event.id, reg.Applicant(name="双击", phone="13811112222"), actor="t") for _ in range(10)),
            return_exceptions=True,
        )
        assert await Registration.filter(event_id=event.id).count() > 1
    finally:
        await Registration.all().delete()
        await client.execute_script(
            "CREATE UNIQUE INDEX uniq_registration_live_phone ON registration (event_id, phone) "
            "WHERE phone IS NOT NULL AND status IN ('confirmed', 'waitlisted', 'pending')"
        )


def _process_worker(database_url: str, data_dir: str, event_id: int, start: int, count: int, now: datetime) -> int:
    clock.set_clock(ticking_clock(now))  # the parent's controlled time, not this process's wall clock

    async def run() -> int:
        await init_db(load_settings(database_url=database_url, data_dir=data_dir))
        try:
            results = await _register_many(event_id, range(start, start + count))
            return sum(isinstance(r, DomainError) for r in results)
        finally:
            await close_db()

    return asyncio.run(run())


async def test_several_processes_on_one_database_do_not_overbook(db, tmp_path: Path):
    """Several worker processes (as when scaled out) share one database file or server."""
    event = await make_event(capacity=CAPACITY)
    url = db.database_url or ""
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    with context.Pool(3) as pool:
        pending = [
            pool.apply_async(_process_worker, (url, str(tmp_path), event.id, i * 100, 100, clock.now()))
            for i in range(3)
        ]
        errors = await loop.run_in_executor(None, lambda: [p.get(timeout=120) for p in pending])
    assert errors == [0, 0, 0]
    assert await _counts(event.id) == (100, 200)
    assert sorted((await reg.waitlist_positions(event.id)).values()) == list(range(1, 201))


async def test_a_group_left_by_a_loop_that_is_gone_holds_nobody_up(db):
    """A group commit's queue belongs to its event loop: one left mid-flight by a loop that has stopped
    (its runners never to run again) is replaced, not joined."""
    _postgres_only(db)
    event = await make_event(capacity=10)
    await reg.register(event.id, reg.Applicant(name="先来", phone="13500000001"), actor="t")
    cached = reg.hot_path._EVENTS[event.id]
    gone = asyncio.new_event_loop()
    gone.close()
    key = ("register", event.id, cached["kind"], cached["questions_json"])
    reg.hot_path._GROUPS[key] = reg.hot_path._Group((None, cached), gone, running=reg.hot_path.IN_FLIGHT)
    later = reg.register(event.id, reg.Applicant(name="后到", phone="13500000002"), actor="t")
    assert (await asyncio.wait_for(later, timeout=60)).registration.status == "confirmed"
