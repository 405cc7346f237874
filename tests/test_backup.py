"""`wuchuang backup` / `wuchuang restore` as an operator runs them: a ticket issued before the backup
verifies at the door of the restored deployment, on SQLite and (when configured) on PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tarfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from events import secretbox
from events.db import close_db, init_db
from events.models import CheckinResult, Registration, RegistrationStatus
from events.schema_version import script_heads
from events.services import checkin
from events.services.tickets import KEY_FILE, signer_for, ticket_code
from events.settings import Settings, load_settings
from tests.cli_helpers import run
from tests.conftest import POSTGRES_URL
from tests.factories import make_event, make_registration

BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


_made: list[str] = []  # databases a test made: dropped after it, so CI's server keeps none


def _admin_sql(*statements: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg", database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    admin.dispose()


def _database(name: str) -> str:
    """A PostgreSQL database of its own (beside the suite's), made empty; dropped after the test."""
    from sqlalchemy.engine import make_url

    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    target = f"{(base.database or 'wuchuang')[:40]}_{name}"
    _admin_sql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)', f'CREATE DATABASE "{target}"')
    _made.append(target)
    return base.set(database=target).render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")


@pytest.fixture(autouse=True)
def _drop_made_databases() -> Iterator[None]:
    yield
    while _made:
        _admin_sql(f'DROP DATABASE IF EXISTS "{_made.pop()}" WITH (FORCE)')


def _env(env: dict[str, str], data_dir: Path, database_url: str | None) -> dict[str, str]:
    out = env | {"WUCHUANG_DATA_DIR": str(data_dir)}
    if database_url:
        out["WUCHUANG_DATABASE_URL"] = database_url
    return out


def _settings(data_dir: Path, database_url: str | None) -> Settings:
    return load_settings(data_dir=data_dir, database_url=database_url, environment="test")


async def _connect(settings: Settings) -> None:
    EXECUTOR_CACHE.clear()  # Tortoise caches compiled queries by connection name, not dialect
    await init_db(settings)


async def _deployment_with_a_ticket(settings: Settings) -> tuple[int, int, str]:
    """An event starting now with one confirmed registration; its id, the event's and the ticket."""
    await _connect(settings)
    try:
        event = await make_event(capacity=10, starts_in=timedelta(minutes=10))
        registered = await make_registration(event)
        assert registered.registration.status == RegistrationStatus.CONFIRMED
        code = ticket_code(registered.registration, signer_for(settings.data_dir.resolve()))
        assert code is not None
        return registered.registration.id, event.id, code
    finally:
        await close_db()


async def _redeem(settings: Settings, code: str, event_id: int) -> CheckinResult:
    signer_for.cache_clear()  # read the key file as it is now
    await _connect(settings)
    try:
        outcome = await checkin.redeem(
            checkin.Scan(code=code, event_id=event_id), signer=signer_for(settings.data_dir.resolve()), actor="door"
        )
        return outcome.result
    finally:
        await close_db()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore not installed")
    return str(request.param)


async def test_a_restored_backup_keeps_registrations_and_tickets_verify(env, tmp_path, backend):
    source_url = _database("backup_src") if backend == "postgres" else None
    target_url = _database("backup_dst") if backend == "postgres" else None
    source, target = tmp_path / "source", tmp_path / "target"
    migrated = run("migrate", env=_env(env, source, source_url))
    assert migrated.returncode == 0, migrated.stderr
    registration_id, event_id, code = await _deployment_with_a_ticket(_settings(source, source_url))

    archive = tmp_path / "nightly.tar.gz"
    made = run("backup", "--output", str(archive), env=_env(env, source, source_url))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the keys
    with tarfile.open(archive) as packed:
        names = set(packed.getnames())
        manifest = json.load(packed.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert {"manifest.json", f"keys/{KEY_FILE}", f"keys/{secretbox.KEY_FILE}"} <= names
    assert ("database.pgdump" if backend == "postgres" else "database.sqlite3") in names
    assert manifest["database"] == backend
    assert manifest["alembic_revision"] == sorted(script_heads())

    restored = run("restore", str(archive), "--data-dir", str(target), env=_env(env, tmp_path / "unused", target_url))
    assert restored.returncode == 0, restored.stderr
    for key in (KEY_FILE, secretbox.KEY_FILE):
        assert stat.S_IMODE((target / key).stat().st_mode) == 0o600

    restored_settings = _settings(target, target_url)
    await _connect(restored_settings)
    try:
        registration = await Registration.get(id=registration_id)
        assert registration.status == RegistrationStatus.CONFIRMED
    finally:
        await close_db()
    # The control first: the same database beside another deployment's key refuses the ticket, so it
    # is the restored key that makes it verify below.
    restored_key = (target / KEY_FILE).read_bytes()
    (target / KEY_FILE).unlink()  # the signer makes a new key in its place
    assert await _redeem(restored_settings, code, event_id) == CheckinResult.INVALID
    (target / KEY_FILE).write_bytes(restored_key)
    assert await _redeem(restored_settings, code, event_id) == CheckinResult.OK

    if backend == "postgres":
        # The database now holds tables: another restore into it is refused, even into an empty data dir…
        again = tmp_path / "again"
        refused = run("restore", str(archive), "--data-dir", str(again), env=_env(env, again, target_url))
        assert refused.returncode == 1 and "already has" in refused.stderr and "Traceback" not in refused.stderr
        # …unless forced: pg_restore --clean replaces it (the check-in above is gone with it).
        forced = run("restore", str(archive), "--data-dir", str(again), "--force", env=_env(env, again, target_url))
        assert forced.returncode == 0, forced.stderr
        assert await _redeem(_settings(again, target_url), code, event_id) == CheckinResult.OK


def test_a_sqlite_backup_taken_while_the_server_writes_is_consistent(tmp_path):
    """The online backup API copies a consistent snapshot while another connection keeps writing
    (a plain file copy taken mid-transaction could tear pages)."""
    import sqlite3
    import threading

    from wuchuang.backup import backup

    settings = _settings(tmp_path / "live", None)
    settings.data_dir.mkdir()
    (settings.data_dir / secretbox.KEY_FILE).write_bytes(b"k" * 32)
    writer = sqlite3.connect(settings.sqlite_path, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE tick (id INTEGER PRIMARY KEY, pad TEXT NOT NULL)")
    writer.commit()
    stop = threading.Event()
    written = 0

    def write() -> None:
        nonlocal written
        while not stop.is_set():
            with writer:
                writer.executemany("INSERT INTO tick (pad) VALUES (?)", [("x" * 500,)] * 50)
            written += 50

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while written < 2_000:
            stop.wait(0.01)
        archives = [backup(settings, tmp_path / f"b{n}.tar.gz")[0] for n in range(3)]
    finally:
        stop.set()
        thread.join()
        writer.close()
    for archive in archives:
        with tarfile.open(archive) as packed:
            packed.extract("database.sqlite3", tmp_path / archive.stem, filter="data")
        copy = sqlite3.connect(tmp_path / archive.stem / "database.sqlite3")
        try:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            count = copy.execute("SELECT count(*) FROM tick").fetchone()[0]
            assert count >= 2_000 and count % 50 == 0  # whole transactions only
        finally:
            copy.close()


def test_restore_refuses_a_target_that_is_not_empty(env, tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    assert run("token", "create", "--role", "admin", "--name", "x", env=_env(env, source, None)).returncode == 0
    archive = tmp_path / "b.tar.gz"
    assert run("backup", "--output", str(archive), env=_env(env, source, None)).returncode == 0
    target.mkdir()
    (target / "notes.txt").write_text("somebody's data")

    refused = run("restore", str(archive), "--data-dir", str(target), env=env)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sorted(os.listdir(target)) == ["notes.txt"]  # nothing was touched

    forced = run("restore", str(archive), "--data-dir", str(target), "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert (target / "wuchuang.sqlite3").is_file()


def test_a_corrupt_or_foreign_archive_is_a_clear_error(env, tmp_path):
    source = tmp_path / "source"
    assert run("migrate", env=_env(env, source, None)).returncode == 0
    run("token", "create", "--role", "admin", "--name", "x", env=_env(env, source, None))
    archive = tmp_path / "b.tar.gz"
    assert run("backup", "--output", str(archive), env=_env(env, source, None)).returncode == 0
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"this is not an archive at all")
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as packed:
        packed.add(source / secretbox.KEY_FILE, arcname="some/other/file")

    for bad in (truncated, garbage, foreign, tmp_path / "missing.tar.gz"):
        answer = run("restore", str(bad), "--data-dir", str(tmp_path / f"t-{bad.stem}"), env=env)
        assert answer.returncode == 1, (bad, answer.stdout)
        assert "Traceback" not in answer.stderr, answer.stderr
        assert answer.stderr.startswith("wuchuang: "), answer.stderr
        assert not (tmp_path / f"t-{bad.stem}" / secretbox.KEY_FILE).exists()
