"""`wuchuang` command line: serve, token, account, migrate, demo, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import pickle
import socket
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from events.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from events.services.staff import PersonRef
    from events.services.tokens import IssuedToken
    from wuchuang.demo import DemoSummary

T = TypeVar("T")
# `serve --workers N` tells its workers (wuchuang.runtime.app_from_environment) whether the bot takes
# updates by webhook. Here, not in runtime: the supervising process never imports the app (~130 MB).
SERVE_WEBHOOK_ENV = "WUCHUANG_SERVE_WEBHOOK"


class StartupError(Exception):
    """What stops a command before it can do its work (the database, the port); one line for stderr."""


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _database_label(settings: Settings) -> str:
    """The configured database as a person wrote it, with any password hidden."""
    if not settings.database_url:
        return f"the SQLite file {settings.sqlite_path}"
    parts = urlsplit(settings.database_url)
    if parts.password is not None:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return settings.database_url


def _database_reason(exc: BaseException) -> str:
    """The driver's reason on one line: psycopg's "connection failed: connection to server at …
    failed: FATAL:  database "x" does not exist" becomes 'database "x" does not exist'."""
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    if cause.__cause__ is not None and not str(cause).strip():
        cause = cause.__cause__
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()] or [type(cause).__name__]
    first = lines[0].rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
    hint = lines[1] if len(lines) > 1 and not lines[1].startswith("(Background") else ""
    if hint.endswith("?"):  # "Is the server running on that host and accepting TCP/IP connections?"
        first += f" ({hint[0].lower()}{hint[1:]})"
    return first


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[None]:
    """Turn "the database is not there" (no such database, server down or unreachable, wrong
    password, a data dir that cannot be written) into one line instead of a driver traceback."""
    import psycopg
    import sqlalchemy.exc
    from tortoise.exceptions import DBConnectionError

    connection_errors: tuple[type[BaseException], ...] = (
        psycopg.OperationalError,  # backup and restore ask PostgreSQL directly
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        DBConnectionError,
        OSError,
    )
    try:
        import asyncpg

        connection_errors += (asyncpg.PostgresConnectionError, asyncpg.InvalidCatalogNameError)
        connection_errors += (asyncpg.InvalidAuthorizationSpecificationError,)
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pass
    try:
        yield
    except connection_errors as exc:
        reason = _database_reason(exc)
        if "does not exist" in reason and settings.dialect == "postgres":
            reason += "; create it first (createdb) or set WUCHUANG_DATABASE_URL to another"
        raise StartupError(f"cannot use the database {_database_label(settings)}: {reason}") from None


def _with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    from events.db import close_db, init_db

    async def run() -> T:
        await init_db(settings)
        try:
            return await work()
        finally:
            await close_db()

    with _database(settings):
        return asyncio.run(run())


def _migrate(settings: Settings) -> None:
    from wuchuang.migrate import upgrade_to_head

    with _database(settings):
        upgrade_to_head(settings)


def _claim_port(host: str, port: int) -> socket.socket:
    """Bind HOST:PORT now, before anything is migrated, minted or loaded, and keep it for uvicorn:
    a port taken by another process is one line, and nobody can take it while the demo loads.
    (Bound, not listening: a client meanwhile is refused rather than left waiting.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use (another `wuchuang serve`?); "
                "stop it or choose another port with --port or WUCHUANG_PORT"
            ) from None
        if exc.errno == errno.EACCES:
            raise StartupError(f"not allowed to listen on port {port} (ports below 1024 need privileges)") from None
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


# What `serve --demo` suggests opening, after the API docs.
DEMO_PLACES: tuple[tuple[str, str], ...] = (
    ("/api/v1/events?limit=5", "the events (JSON)"),
    ("/api/v1/goals", "the programme's figures against its targets"),
    ("/calendar/series/wuchuanghui.ics", "the 武创荟 sessions as a calendar feed"),
    ("/scan", "the door scanner (sign in with a checker token)"),
)


def _competition_places(summary: DemoSummary) -> tuple[tuple[str, str], ...]:
    """The competitions' pages worth opening (when this load made them: the judge's link is new)."""
    c = summary.competitions
    places: list[tuple[str, str]] = []
    if c.hero_id is not None:
        places.append((f"/competitions/{c.hero_id}/results", "英雄杯 results: 复赛's 公示 open, objections taken"))
    if c.wuchuangyuan_id is not None:
        places.append((f"/competitions/{c.wuchuangyuan_id}/rounds/final/scoreboard", "武创源 final's live scoreboard"))
    if c.judge_token is not None:
        places.append((f"/judge?token={c.judge_token}", "a 武创源 final judge's page (in the bot: /score)"))
    if summary.roadshow.event_id is not None:
        places.append(
            (f"/api/v1/roadshows/{summary.roadshow.event_id}/funnel", "产医融合项目路演's funnel (admin token)")
        )
    return tuple(places)


def _demo_summary(summary: DemoSummary) -> str:
    """What the demo load did, as a person reads it."""
    s = summary.supply
    supply = (
        f"supply chain: {s.organizations} organizations, {s.achievements} achievements ({s.key_achievements} key), "
        f"{s.demands} demands ({s.near_duplicates} near-duplicates flagged), {s.investors} investors, "
        f"{s.claims} broker claims ({s.claims_refused} contested, refused), {s.connections} connections, "
        f"{s.contracts} contracts ({s.major_contracts} major)"
    )
    c = summary.competitions
    contests = (
        f"competitions: {c.competitions} (英雄杯, 武创源), {c.entries} entries, {c.judges} judges, "
        f"{c.conflicts} conflicts of interest logged ({c.conflict_cases} planted, each found by its rule), "
        f"{c.scores} scores, {c.objections} objections, {c.moved_up} moved up"
    )
    r = summary.roadshow
    roadshow = (
        f"roadshow: {r.projects} projects ({r.lineup} pitches in the line-up), {r.investors} investors (verified), "
        f"{r.interest} pairs with interest "
        f"({r.mutual} mutual), {r.meetings} meetings scheduled, {r.pending} requests pending, {r.declined} declined, "
        f"{r.rated} rated, {r.signed} signed, {r.matched_pitches} matched pitches for the investors"
    )
    if summary.already_loaded:
        added = [
            text for text, loaded in ((supply, s.demands), (contests, c.competitions), (roadshow, r.projects)) if loaded
        ]
        if added:
            return "demo programme: already loaded; " + "\n".join(added) + " added"
        return "demo programme: already loaded (nothing added)"
    return (
        f"demo programme loaded: {summary.events_created} events, {summary.registrations_created} registrations, "
        f"{summary.brokers_created} brokers, {summary.certifications} certificates\n{supply}\n{contests}\n{roadshow}"
    )


def _in_child(work: Callable[[], T]) -> T:
    """``work()`` in a forked child process, its result (or its ``StartupError``) handed back. What the
    work imports and leaves allocated — Alembic and SQLAlchemy for migrating (~20 MB), the demo load's
    objects and the matching stack its broker matches load (~60 MB) — stays out of the server's memory.
    Where there is no fork, in this process."""
    if not hasattr(os, "fork"):
        return work()
    sys.stdout.flush()
    sys.stderr.flush()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, report, leave without running the parent's exit handlers
        os.close(reader)
        try:
            outcome: tuple[str, object] = ("done", work())
        except StartupError as exc:
            outcome = ("startup", str(exc))
        except BaseException:
            outcome = ("failed", traceback.format_exc())
        try:
            with os.fdopen(writer, "wb") as report:
                pickle.dump(outcome, report)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as report:
        received = report.read()
    os.waitpid(pid, 0)
    if not received:
        raise StartupError("the preparation process ended without a word (killed?)")
    kind, value = pickle.loads(received)
    if kind == "startup":
        raise StartupError(str(value))
    if kind == "failed":
        print(value, file=sys.stderr, end="")
        raise StartupError("preparing the server failed (the traceback is above)")
    result: T = value
    return result


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(host=args.host, port=args.port, workers=args.workers)
    if settings.workers > 1 and settings.bot_token is not None and not args.webhook:
        # Telegram answers 409 to a second getUpdates: several processes cannot each poll.
        raise StartupError("several workers take the bot's updates by webhook only: add --webhook (see `wuchuang bot`)")
    listener = _claim_port(settings.host, settings.port)
    url = f"http://{settings.host}:{settings.port}"

    def prepare() -> tuple[DemoSummary, str, str | None] | None:
        _migrate(settings)
        if not args.demo:
            return None
        from events.services.tokens import create_token
        from wuchuang.demo import load_demo

        async def load() -> tuple[DemoSummary, str, str | None]:
            from wuchuang.demo import demo_console_link

            summary = await load_demo()
            issued = await create_token(role="admin", name="demo admin")
            return summary, issued.plaintext, await demo_console_link(str(settings.base_url))

        return _with_db(settings, load)

    prepared = _in_child(prepare)
    if prepared is not None:
        summary, token, console_link = prepared
        print(_demo_summary(summary))
        print(f"admin token: {token}")
        if console_link:
            print(f"console: {console_link}  (the programme office's one-time sign-in link, 15 minutes)")
        print(f"open {url}/docs and click Authorize with the admin token; also:")
        for path, what in DEMO_PLACES + _competition_places(summary):
            print(f"  {url + path:<{len(url) + 34}} {what}")
        print(f"in a shell: TOKEN={token}, then the examples in README.md")
    print(f"wuchuang listening on {url}  (API docs: {url}/docs)", flush=True)
    if settings.bot_token is None:
        print("bot: off (WUCHUANG_BOT_TOKEN is not set)", flush=True)
    else:
        print(f"bot: {'webhook' if args.webhook else 'long polling'} via {settings.telegram_api_url}", flush=True)
    if settings.workers > 1:
        _serve_workers(settings, args, listener)
        return 0
    from wuchuang.runtime import build_app

    app = build_app(settings, webhook=args.webhook)
    # proxy_headers off: the app itself trusts X-Forwarded-For from WUCHUANG_FORWARDED_ALLOW_IPS only
    # (uvicorn's default would trust 127.0.0.1, or anything listed in FORWARDED_ALLOW_IPS).
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        log_config=_uvicorn_log_config(settings, args.log_level),
        access_log=settings.access_log,
        proxy_headers=False,
        forwarded_allow_ips=list(settings.forwarded_allow_ips),
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


def _uvicorn_log_config(settings: Settings, level: str) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    from api.logs import log_config

    return log_config("json", level) if settings.log_format == "json" else LOGGING_CONFIG


def _serve_workers(settings: Settings, args: argparse.Namespace, listener: socket.socket) -> None:
    """``settings.workers`` uvicorn worker processes on the one listening socket, each building its app
    from the environment (``wuchuang.runtime.app_from_environment``); the parent restarts a worker that
    dies. What must be one across them is elected (the outbox sender and the scheduler by advisory
    locks, or a file lock on SQLite); what they share goes through the database or, with REDIS_URL,
    Redis (rate limits, the bot's flows, the calendar's change counter); /metrics sums every worker."""
    import shutil
    import tempfile

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if settings.redis_url is None:
        print(
            "wuchuang: several workers without WUCHUANG_REDIS_URL: each counts the rate limits for itself, "
            "and a calendar change made through one is seen by the others within 2 s",
            file=sys.stderr,
            flush=True,
        )
    # The workers read their settings from the environment: hand them what the command line chose.
    os.environ.update(
        {
            "WUCHUANG_HOST": settings.host,
            "WUCHUANG_PORT": str(settings.port),
            "WUCHUANG_WORKERS": str(settings.workers),
            SERVE_WEBHOOK_ENV: "1" if args.webhook else "0",
        }
    )
    # prometheus-client's multiprocess mode: each worker writes its figures to files here, /metrics sums
    # them. It must be empty at start (old files would be summed too) and set before any worker starts.
    made = os.environ.get("PROMETHEUS_MULTIPROC_DIR") is None
    metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="wuchuang-metrics-"))
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    config = uvicorn.Config(
        "wuchuang.runtime:app_from_environment",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        log_config=_uvicorn_log_config(settings, args.log_level),
        access_log=settings.access_log,
        proxy_headers=False,
        forwarded_allow_ips=list(settings.forwarded_allow_ips),
    )
    try:
        Multiprocess(config, sockets=[listener]).run()
    finally:
        if made:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def cmd_bot(args: argparse.Namespace) -> int:
    from wuchuang.runtime import WEBHOOK_PATH, register_webhook

    settings = _settings()
    if settings.bot_token is None:
        print("wuchuang: set WUCHUANG_BOT_TOKEN first", file=sys.stderr)
        return 2
    if not args.webhook.startswith("https://"):
        print("wuchuang: Telegram delivers webhooks only to https:// URLs", file=sys.stderr)
        return 2
    asyncio.run(register_webhook(settings, args.webhook))
    print(f"webhook set to {args.webhook.rstrip('/')}{WEBHOOK_PATH}; run `wuchuang serve --webhook` behind it")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    _migrate(settings)
    print("database is at the newest schema")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from wuchuang.demo import load_demo

    settings = _settings()
    _migrate(settings)
    print(_demo_summary(_with_db(settings, load_demo)))
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.i18n import gettext
    from events.services import brief
    from reports.render import brief_docx, brief_html

    settings = _settings()
    try:
        period = brief.parse_period(args.period)
    except DomainError as exc:
        print(f"wuchuang: {gettext(args.lang, exc.message)}", file=sys.stderr)
        return 2
    _migrate(settings)

    async def make() -> bytes:
        gathered = await brief.gather(period)
        if args.format == "html":
            return (await brief_html(gathered, args.lang)).encode()
        return await brief_docx(gathered, args.lang)

    body = _with_db(settings, make)
    output = Path(args.output or f"brief-{period.key}.{args.format}")
    output.write_bytes(body)
    print(output)
    return 0


def cmd_matching_rebuild(args: argparse.Namespace) -> int:
    from events.services import matching

    stats = _with_db(_settings(), matching.rebuild)
    print(
        f"matching index: {stats.achievements} achievements, {stats.demands} open demands, "
        f"{stats.features} features, {stats.latent_dims} latent dimensions, built in {stats.seconds:.1f} s"
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from wuchuang.backup import BackupError, backup

    settings = _settings()
    try:
        with _database(settings):
            output, manifest = backup(settings, args.output)
    except BackupError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 1
    revision = ",".join(manifest.alembic_revision) or "none"
    print(f"backup written to {output} ({manifest.database}, revision {revision}); keep it as secret as the data dir")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from wuchuang.backup import BackupError, restore

    settings = _settings(data_dir=args.data_dir)
    try:
        with _database(settings):
            manifest = restore(args.file, settings, force=args.force)
    except BackupError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored the {manifest.database} backup of {manifest.created_at} into {_database_label(settings)} "
        f"and {settings.data_dir}; the database is at the newest schema"
    )
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.services.organizations import resolve_organization
    from events.services.tokens import create_token

    settings = _settings()
    _migrate(settings)

    async def create() -> IssuedToken:
        organization_id = None
        if args.org is not None:
            organization_id = (await resolve_organization(args.org, create=True)).id
        return await create_token(role=args.role, name=args.name, event_ids=args.event, organization_id=organization_id)

    try:
        issued = _with_db(settings, create)
    except DomainError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 2
    print(issued.plaintext)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from events.services.tokens import list_tokens

    settings = _settings()
    _migrate(settings)
    for token in _with_db(settings, list_tokens):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        organization = token.organization.name if token.organization else "-"
        print(f"{token.id}\t{token.role}\t{token.name}\t{state}\t{organization}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from events.services.tokens import revoke_token

    settings = _settings()
    _migrate(settings)
    if not _with_db(settings, lambda: revoke_token(args.id)):
        print(f"wuchuang: no active token with id {args.id}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def _password_from_stdin(args: argparse.Namespace) -> str | None:
    if not args.password_stdin:
        return None
    return sys.stdin.readline().rstrip("\r\n")


def cmd_account_create(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.services import accounts
    from events.services.organizations import resolve_organization

    settings = _settings()
    _migrate(settings)
    password = _password_from_stdin(args)

    async def create() -> str:
        person = await accounts.find_person(person_id=args.person_id, telegram_id=args.telegram_id, email=args.email)
        organization_id = (await resolve_organization(args.org)).id if args.org is not None else None
        account = await accounts.create_account(
            person, actor="cli", password=password, login=args.login, organization_id=organization_id
        )
        return f"account {account.id} for {person.name}: sign in as {account.login}"

    try:
        print(_with_db(settings, create))
    except DomainError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_account_password(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.services import accounts

    settings = _settings()
    _migrate(settings)
    password = _password_from_stdin(args) or ""

    async def change() -> str:
        account = await accounts.account_by_login(args.login)
        await accounts.set_password(account, password, actor="cli")
        return f"password of {account.login} set (and the account unlocked)"

    try:
        print(_with_db(settings, change))
    except DomainError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 2
    return 0


def _person_ref(args: argparse.Namespace) -> PersonRef:
    from events.services.staff import PersonRef

    return PersonRef(person_id=args.person_id, telegram_id=args.telegram_id, phone=args.phone)


def cmd_role_grant(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.services import staff
    from events.services.organizations import resolve_organization

    settings = _settings()
    _migrate(settings)

    async def grant() -> str:
        person = await staff.find_person(_person_ref(args))
        organization_id = None
        if args.org is not None:
            organization_id = (await resolve_organization(args.org, create=True)).id
        held = await staff.grant_role(
            person, role=args.role, event_ids=args.event, actor="cli", organization_id=organization_id
        )
        events = ",".join(map(str, held.event_ids)) if held.event_ids else "all events"
        return f"{person.name} (person {person.id}) is now {held.role} of organization {held.organization_id}, {events}"

    try:
        print(_with_db(settings, grant))
    except DomainError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_role_revoke(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.services import staff
    from events.services.organizations import resolve_organization

    settings = _settings()
    _migrate(settings)

    async def revoke() -> int:
        person = await staff.find_person(_person_ref(args))
        organization_id = None
        if args.org is not None:
            organization_id = (await resolve_organization(args.org)).id
        return await staff.revoke_role(person, role=args.role, actor="cli", organization_id=organization_id)

    try:
        revoked = _with_db(settings, revoke)
    except DomainError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 1
    print(f"{args.role} role revoked ({revoked} grant{'s' if revoked != 1 else ''})")
    return 0


def cmd_role_list(args: argparse.Namespace) -> int:
    from events.services import staff

    settings = _settings()
    _migrate(settings)
    for held in _with_db(settings, staff.list_roles):
        events = ",".join(map(str, held.event_ids)) if held.event_ids else "all events"
        organization = held.organization.name if held.organization else "-"
        telegram = held.person.telegram_id or "-"
        print(f"{held.person.id}\t{held.person.name}\t{telegram}\t{held.role}\t{organization}\t{events}")
    return 0


def cmd_privacy_purge(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from events.services import privacy

    settings = _settings()
    days = args.days if args.days is not None else settings.retention_days
    if days <= 0:
        print("retention is off (WUCHUANG_RETENTION_DAYS=0): nothing purged")
        return 0
    _migrate(settings)
    result = _with_db(settings, lambda: privacy.purge_finished(timedelta(days=days), actor="cli", dry_run=args.dry_run))
    verb = "would remove" if result.dry_run else "removed"
    print(
        f"events ended before {result.cutoff:%Y-%m-%d %H:%M} UTC ({days} days): {result.events}; {verb} the details of "
        f"{result.registrations} registrations and the texts of {result.messages} messages"
    )
    return 0


def cmd_privacy_export(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.services import privacy

    settings = _settings()
    _migrate(settings)
    try:
        found = _with_db(settings, lambda: privacy.export_person(args.person_id))
    except DomainError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 1
    print(found.model_dump_json(indent=2))
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    from events.errors import DomainError
    from events.services import privacy

    settings = _settings()
    _migrate(settings)
    try:
        done = _with_db(settings, lambda: privacy.erase_person(args.person_id, actor="cli"))
    except DomainError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 1
    state = "already erased" if done.already_erased else "erased"
    print(
        f"person {done.person_id} {state}, now {done.pseudonym}: {done.registrations_cancelled} registrations "
        f"cancelled, {done.registrations_anonymised} anonymised, {done.messages_cancelled} messages not sent"
    )
    return 0


def _add_person_args(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--telegram-id", type=int, metavar="N", help="the person's Telegram user id")
    who.add_argument("--phone", help="the person's phone number")
    who.add_argument("--person-id", type=int, metavar="ID", help="the person's id")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wuchuang",
        description="Operations platform for 武创荟 sessions, competitions, roadshows and broker training. "
        "Configuration comes from WUCHUANG_* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="apply migrations and serve the API (and pages) on HOST:PORT")
    serve.add_argument("--demo", action="store_true", help="load the demo programme (once) and print an admin token")
    serve.add_argument("--host", help="address to listen on (default WUCHUANG_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default WUCHUANG_PORT or 8000)")
    serve.add_argument(
        "--webhook",
        action="store_true",
        help="receive bot updates on /telegram/webhook instead of long polling (see `wuchuang bot`)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes sharing the port (default WUCHUANG_WORKERS or 1); more than one wants "
        "PostgreSQL and WUCHUANG_REDIS_URL, and --webhook when a bot token is set",
    )
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=cmd_serve)

    bot = sub.add_parser("bot", help="register the Telegram webhook that `serve --webhook` answers")
    bot.add_argument("--webhook", required=True, metavar="URL", help="public https base URL of this deployment")
    bot.set_defaults(func=cmd_bot)

    migrate = sub.add_parser("migrate", help="bring the database to the newest schema (alembic upgrade head)")
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load the demo programme into the database (idempotent)")
    demo.set_defaults(func=cmd_demo)

    backup = sub.add_parser(
        "backup",
        help="write the database, the signing keys and attachments to one archive (safe while serving)",
        description="SQLite is copied with its online backup API, PostgreSQL with pg_dump --format=custom "
        "(needs the PostgreSQL client tools). The archive holds the keys: keep it as secret as the data dir.",
    )
    backup.add_argument("--output", type=Path, metavar="FILE", help="default: ./wuchuang-backup-<time>.tar.gz")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore",
        help="restore a backup into an empty data dir and database, then migrate to the newest schema",
        description="The target is WUCHUANG_DATA_DIR (or --data-dir) and WUCHUANG_DATABASE_URL; for PostgreSQL "
        "create the database first (createdb). A target that holds anything is refused unless --force.",
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="an archive written by `wuchuang backup`")
    restore.add_argument("--data-dir", type=Path, metavar="DIR", help="restore into this data dir")
    restore.add_argument("--force", action="store_true", help="overwrite a data dir or database that is not empty")
    restore.set_defaults(func=cmd_restore)

    brief_cmd = sub.add_parser(
        "brief", help="write the programme office's brief for a month (2026-11), half-year (2026-H1) or year (2026)"
    )
    brief_cmd.add_argument("period", help="2026-11, 2026-H1, 2026-H2 or 2026")
    brief_cmd.add_argument("--format", choices=["docx", "html"], default="docx")
    brief_cmd.add_argument("--output", help="the file to write (default: brief-PERIOD.FORMAT here)")
    brief_cmd.add_argument("--lang", choices=["zh", "en"], default="zh")
    brief_cmd.set_defaults(func=cmd_brief)

    matching = sub.add_parser("matching", help="the matching index (demands ↔ achievements, brokers, investors)")
    matching_sub = matching.add_subparsers(dest="matching_command", required=True, metavar="ACTION")
    rebuild = matching_sub.add_parser(
        "rebuild", help="build the index from the database and print its size (a server builds its own on first use)"
    )
    rebuild.set_defaults(func=cmd_matching_rebuild)

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="create a token and print it (one line, shown only once)")
    create.add_argument("--role", required=True, choices=["admin", "organizer", "checker", "judge"])
    create.add_argument("--name", required=True, help="who or what the token is for")
    create.add_argument(
        "--event",
        type=int,
        action="append",
        metavar="ID",
        help="limit a checker token to this event (repeatable); default: every event",
    )
    create.add_argument(
        "--org",
        metavar="ORG",
        help="the organization the token acts for: its id, or its name (made if new); an organizer or checker "
        "reads and changes only that organization's events, courses, broadcasts, registrations and exports; "
        "default: the default organization (an admin token without --org acts for every organization)",
    )
    create.set_defaults(func=cmd_token_create)
    listing = token_sub.add_parser("list", help="list tokens (id, role, name, state, organization); never their text")
    listing.set_defaults(func=cmd_token_list)
    revoke = token_sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=cmd_token_revoke)

    role = sub.add_parser(
        "role",
        help="manage people's roles in the bot (door staff who /scan, organizers who /broadcast)",
        description="A person (someone who has started the bot) acts in the bot for one organization: "
        "a checker scans its events (or only --event ones) with /scan, an organizer also sends /broadcast.",
    )
    role_sub = role.add_subparsers(dest="role_command", required=True, metavar="ACTION")
    grant = role_sub.add_parser("grant", help="give a person a role (replacing the same role for that organization)")
    _add_person_args(grant)
    grant.add_argument("--role", required=True, choices=["admin", "organizer", "checker"])
    grant.add_argument(
        "--event",
        type=int,
        action="append",
        metavar="ID",
        help="limit a checker to this event (repeatable; the role then acts for the events' organization)",
    )
    grant.add_argument("--org", metavar="ORG", help="organization id or name (made if new); default: the default one")
    grant.set_defaults(func=cmd_role_grant)
    take = role_sub.add_parser("revoke", help="take a role away (for --org only, or for every organization)")
    _add_person_args(take)
    take.add_argument("--role", required=True, choices=["admin", "organizer", "checker"])
    take.add_argument("--org", metavar="ORG", help="organization id or name; default: every organization")
    take.set_defaults(func=cmd_role_revoke)
    roles = role_sub.add_parser("list", help="list roles (person id, name, Telegram id, role, organization, events)")
    roles.set_defaults(func=cmd_role_list)

    account = sub.add_parser(
        "account",
        help="console accounts (sign-in for people with an organizer, admin or judge role)",
        description="An account is how a person who holds a role signs in to /console; the role decides what "
        "they may do. The password is read from the first line of stdin, never from the command line.",
    )
    account_sub = account.add_subparsers(dest="account_command", required=True, metavar="ACTION")
    account_create = account_sub.add_parser("create", help="make an account for a person who holds a role")
    who = account_create.add_mutually_exclusive_group(required=True)
    who.add_argument("--person-id", type=int, metavar="ID")
    who.add_argument("--telegram-id", type=int, metavar="ID")
    who.add_argument("--email", metavar="ADDRESS")
    account_create.add_argument(
        "--login", help="the sign-in name (e-mail or phone); default: the person's e-mail, else phone"
    )
    account_create.add_argument("--org", metavar="ORG", help="organization id or name the account acts for")
    account_create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin; without it: sign-in links only"
    )
    account_create.set_defaults(func=cmd_account_create)
    account_password = account_sub.add_parser("password", help="set an account's password (and unlock it)")
    account_password.add_argument("--login", required=True)
    account_password.add_argument("--password-stdin", action="store_true", required=True)
    account_password.set_defaults(func=cmd_account_password)

    privacy = sub.add_parser("privacy", help="people's data under PIPL: retention, a person's export and erasure")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    purge = privacy_sub.add_parser(
        "purge",
        help="remove the registrants' details of events that ended more than WUCHUANG_RETENTION_DAYS ago",
    )
    purge.add_argument("--dry-run", action="store_true", help="count what would be removed; change nothing")
    purge.add_argument("--days", type=int, metavar="N", help="the retention period in days (default: the setting)")
    purge.set_defaults(func=cmd_privacy_purge)
    export = privacy_sub.add_parser("export", help="print everything held about a person (JSON)")
    export.add_argument("--person-id", type=int, required=True, metavar="ID")
    export.set_defaults(func=cmd_privacy_export)
    erase = privacy_sub.add_parser("erase", help="erase a person's data at their request (pseudonymised; idempotent)")
    erase.add_argument("--person-id", type=int, required=True, metavar="ID")
    erase.set_defaults(func=cmd_privacy_erase)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except StartupError as exc:
        print(f"wuchuang: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
