"""`wuchuang backup` and `wuchuang restore`: the database and the data dir's keys in one archive.

A backup is a tar.gz holding

- ``manifest.json``: format, wuchuang's version, the database's Alembic revision, the time (from
  ``events.clock``) and the database kind;
- ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the server writes) or
  ``database.pgdump`` (``pg_dump --format=custom``);
- ``keys/``: the ticket signing key and the at-rest key. Without them a restored database is of
  little use: tickets issued before would no longer verify, sealed replies and capability links
  (calendar feeds, transcripts) would no longer open. The archive is therefore as secret as the
  data dir itself: it is written 0600;
- ``attachments/``: competition entries' files, which rows of the database point to.

Restoring refuses a target that holds anything (a non-empty data dir, a database with tables)
unless ``force``, writes the keys 0600, and migrates the restored database to this code's head.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from events import clock, secretbox
from events.services import tickets
from events.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PGDUMP_MEMBER = "database.pgdump"
KEY_FILES = (tickets.KEY_FILE, secretbox.KEY_FILE)
ATTACHMENTS = "attachments"


class BackupError(Exception):
    """What stops a backup or a restore; one line for stderr."""


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    version: str
    alembic_revision: list[str]
    created_at: str
    database: str  # "sqlite" | "postgres"

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": self.format,
                "version": self.version,
                "alembic_revision": self.alembic_revision,
                "created_at": self.created_at,
                "database": self.database,
            },
            indent=2,
        ).encode()


def _version() -> str:
    try:
        return metadata.version("wuchuang")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout without installing
        return "unknown"


# --- PostgreSQL tools ---------------------------------------------------------------------------------


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database as a libpq URL without its password, and the environment that carries it
    (PGPASSWORD: a password on the command line would be visible to every user in ``ps``)."""
    from sqlalchemy.engine import make_url

    assert settings.database_url is not None
    url = make_url(settings.database_url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # Options the server code understands but libpq does not (pool sizes) are left out.
    url = url.set(password=None, query={k: v for k, v in url.query.items() if k in ("sslmode", "sslrootcert")})
    return url.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed or not on PATH; it is needed for a PostgreSQL database "
            "(Debian/Ubuntu: apt install postgresql-client, of the server's major version or newer)"
        )
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {reason[-1] if reason else f'exit status {done.returncode}'}")


def _pg_connect(settings: Settings) -> Any:
    import psycopg

    url, env = _libpq(settings)
    return psycopg.connect(url, password=env.get("PGPASSWORD"), autocommit=True)


def _pg_revision(settings: Settings) -> list[str]:
    with _pg_connect(settings) as connection:
        if connection.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is None:
            return []
        return sorted(row[0] for row in connection.execute("SELECT version_num FROM alembic_version"))


def _pg_tables(settings: Settings) -> int:
    with _pg_connect(settings) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
        ).fetchone()
        return int(row[0])


# --- SQLite ---------------------------------------------------------------------------------------------


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API (readers and writers may go on)."""
    src = sqlite3.connect(source)
    try:
        fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_revision(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        tables = connection.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'")
        if tables.fetchone() is None:
            return []
        return sorted(row[0] for row in connection.execute("SELECT version_num FROM alembic_version"))
    finally:
        connection.close()


# --- backup ---------------------------------------------------------------------------------------------


def default_name() -> str:
    return f"wuchuang-backup-{clock.now():%Y%m%dT%H%M%SZ}.tar.gz"


def backup(settings: Settings, output: Path | None = None) -> tuple[Path, Manifest]:
    """Write the settings' database, keys and attachments to ``output`` (default: a dated file in
    the current directory). Raises BackupError."""
    output = Path(output or default_name())
    data_dir = settings.data_dir.resolve()
    if settings.dialect == "postgres":
        pg_dump = _tool("pg_dump")
        revision = _with_pg_errors(lambda: _pg_revision(settings))  # the server is there before anything is written
    keys = [data_dir / name for name in KEY_FILES if (data_dir / name).is_file()]
    if not keys:
        raise BackupError(f"no signing keys in {data_dir}: is WUCHUANG_DATA_DIR the server's data dir?")
    with tempfile.TemporaryDirectory(prefix="wuchuang-backup-") as scratch:
        if settings.dialect == "sqlite":
            source = settings.sqlite_file
            if source is None or not source.is_file():
                raise BackupError(f"no SQLite database at {source or settings.database_url}")
            dump, member = Path(scratch) / SQLITE_MEMBER, SQLITE_MEMBER
            try:
                _sqlite_copy(source, dump)
                revision = _sqlite_revision(dump)
            except sqlite3.Error as exc:
                raise BackupError(f"cannot copy the SQLite database {source}: {exc}") from None
        else:
            dump, member = Path(scratch) / PGDUMP_MEMBER, PGDUMP_MEMBER
            url, env = _libpq(settings)
            _run(
                [pg_dump, "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump), url], env, "pg_dump"
            )
        manifest = Manifest(
            format=FORMAT,
            version=_version(),
            alembic_revision=revision,
            created_at=clock.now().isoformat(),
            database=settings.dialect,
        )
        partial = output.with_name(output.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                _add_bytes(archive, MANIFEST, manifest.to_json())
                archive.add(dump, arcname=member)
                for key in keys:
                    archive.add(key, arcname=f"keys/{key.name}")
                attachments = data_dir / ATTACHMENTS
                if attachments.is_dir():
                    archive.add(attachments, arcname=ATTACHMENTS)
            os.replace(partial, output)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
    return output, manifest


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(clock.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


def _with_pg_errors(work: Any) -> Any:
    import psycopg

    try:
        return work()
    except psycopg.OperationalError:
        raise  # the server is not there: the command line says so in its own words (cli._database)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackupError(f"cannot use the PostgreSQL database: {first}") from None


# --- restore --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[Path, Manifest]]:
    """The archive unpacked in a private scratch dir, and its manifest; BackupError when it is not
    a readable wuchuang backup (truncated, corrupt, another kind of file)."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="wuchuang-restore-") as scratch:
        root = Path(scratch)
        try:
            with tarfile.open(path, mode="r:gz") as archive:
                for member in archive.getmembers():
                    name = PurePosixPath(member.name)
                    if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                        raise BackupError(f"{path}: unexpected entry {member.name!r}; not a wuchuang backup")
                archive.extractall(root, filter="data")
            manifest = _read_manifest(root / MANIFEST)
        except BackupError:
            raise
        except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{path} is not a readable wuchuang backup (corrupt or truncated?): {exc}") from None
        yield root, manifest


def _read_manifest(path: Path) -> Manifest:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("format") != FORMAT:
        raise BackupError(f"backup format {raw.get('format')!r} is not one this version reads ({FORMAT})")
    if raw.get("database") not in ("sqlite", "postgres"):
        raise ValueError(f"unknown database kind {raw.get('database')!r}")
    return Manifest(
        format=int(raw["format"]),
        version=str(raw["version"]),
        alembic_revision=[str(r) for r in raw["alembic_revision"]],
        created_at=str(raw["created_at"]),
        database=str(raw["database"]),
    )


def _write_secret(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())
    os.chmod(target, 0o600)  # an existing file keeps its mode through O_CREAT


def restore(archive: Path, settings: Settings, *, force: bool = False) -> Manifest:
    """Restore ``archive`` into the settings' data dir and database, then migrate to head.
    Raises BackupError (a non-empty target without ``force``, a corrupt archive, a database kind
    that differs from the target's, a missing pg_restore)."""
    data_dir = settings.data_dir.resolve()
    with _opened(archive) as (root, manifest):
        if manifest.database != settings.dialect:
            raise BackupError(
                f"this backup holds a {manifest.database} database and the target is {settings.dialect} "
                "(set WUCHUANG_DATABASE_URL to a database of the backup's kind)"
            )
        if data_dir.exists() and any(data_dir.iterdir()) and not force:
            raise BackupError(f"{data_dir} is not empty; restore into an empty data dir, or pass --force to overwrite")
        target_file = settings.sqlite_file if settings.dialect == "sqlite" else None
        if target_file is not None and target_file.is_file() and target_file.stat().st_size and not force:
            raise BackupError(f"{target_file} already holds a database; pass --force to overwrite it")
        if settings.dialect == "postgres":
            _tool("pg_restore")
            tables = _with_pg_errors(lambda: _pg_tables(settings))
            if tables and not force:
                raise BackupError(
                    f"the database already has {tables} tables; restore into a freshly created database "
                    "(createdb), or pass --force to replace what is there"
                )
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        if settings.dialect == "sqlite":
            target = settings.sqlite_file
            if target is None:
                raise BackupError("the target SQLite database must be a file (not :memory:)")
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
                stale.unlink(missing_ok=True)
            try:
                _sqlite_copy(root / SQLITE_MEMBER, target)
            except sqlite3.Error as exc:
                raise BackupError(f"the backup's SQLite database cannot be read: {exc}") from None
        else:
            url, env = _libpq(settings)
            command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", url]
            if force:
                command[1:1] = ["--clean", "--if-exists"]
            _run([*command, str(root / PGDUMP_MEMBER)], env, "pg_restore")
        for name in KEY_FILES:
            if (root / "keys" / name).is_file():
                _write_secret(root / "keys" / name, data_dir / name)
        if (root / ATTACHMENTS).is_dir():
            shutil.rmtree(data_dir / ATTACHMENTS, ignore_errors=True)
            shutil.copytree(root / ATTACHMENTS, data_dir / ATTACHMENTS)
    from wuchuang.migrate import upgrade_to_head

    upgrade_to_head(settings)
    return manifest
