"""No secret at rest (issue 11, point 4): after every route that mints a bearer secret, no column of
any table holds it; capability tokens are derived, constant-time checked and rotatable; the data
dir and the SQLite file are private to the user.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from events import secretbox
from events.db import close_db, conn, init_db
from events.services.tickets import signer_for
from events.settings import load_settings
from tests.factories import bearer, make_event, make_token
from tests.test_api_training import enroll, new_broker, new_course

pytestmark = pytest.mark.usefixtures("frozen_clock")


async def _every_stored_value() -> list[tuple[str, str, Any]]:
    """(table, column, value) for every value of every column of every table."""
    found = []
    for model in Tortoise.apps.get_models_iterable():  # type: ignore[union-attr]
        table = model._meta.db_table
        for row in await conn().execute_query_dict(f'SELECT * FROM "{table}"'):
            found += [(table, column, value) for column, value in row.items()]
    return found


def _holds(value: Any, secret: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return secret.encode() in raw or secret.encode("utf-16-le") in raw
    if isinstance(value, dict | list):
        return secret in json.dumps(value, ensure_ascii=False)
    return secret in str(value)


async def test_no_route_leaves_a_secret_readable_in_the_database(client, db):
    admin = bearer(await make_token(role="admin", name="管理员"))
    org = bearer(await make_token(name="教务"))
    secrets_seen: dict[str, str] = {}

    def key(n: str) -> dict[str, str]:
        return {"Idempotency-Key": f"walk-{n}"}

    async def post(url: str, headers: dict[str, str], json_body: Any = None, ok: int = 200) -> dict[str, Any]:
        response = await client.post(url, json=json_body, headers=headers)
        assert response.status_code == ok, response.text
        # The replay (same key, same caller) answers the same, from the sealed record.
        again = await client.post(url, json=json_body, headers=headers)
        assert again.status_code == ok and again.headers.get("idempotent-replayed") == "true", again.text
        return response.json()

    # An API token (admin).
    created = await post("/api/v1/tokens", admin | key("token"), {"role": "organizer", "name": "新组织者"}, 201)
    secrets_seen["api token"] = created["token"]
    assert created["token"].startswith("wch_")

    # An anonymous registration: its access token and its ticket.
    event = await make_event(capacity=10)
    reg = await post(
        f"/api/v1/events/{event.id}/registrations",
        key("reg"),
        {"name": "张伟", "phone": "13800000001", "organization": "武汉光电"},
        201,
    )
    secrets_seen["registration secret"] = reg["access_token"]
    secrets_seen["ticket"] = reg["ticket"]["code"]
    registrant = bearer(reg["access_token"])

    # Its personal calendar feed: shown, then rotated.
    shown = await client.get(f"/api/v1/registrations/{reg['id']}/calendar", headers=registrant)
    assert shown.status_code == 200, shown.text
    secrets_seen["first feed"] = shown.json()["url"].rsplit("/", 1)[1].removesuffix(".ics")
    rotated = await post(f"/api/v1/registrations/{reg['id']}/calendar/rotate", registrant | key("rotate"))
    feed = rotated["url"].rsplit("/", 1)[1].removesuffix(".ics")
    secrets_seen["rotated feed"] = feed
    assert (await client.get(f"/calendar/me/{feed}.ics")).status_code == 200
    assert (await client.get(f"/calendar/me/{secrets_seen['first feed']}.ics")).status_code == 404
    again = await client.get(f"/api/v1/registrations/{reg['id']}/calendar", headers=registrant)
    assert again.json()["url"] == rotated["url"]  # shown again unchanged, though never stored

    # The one-time Telegram link that attaches the registration to a chat (needs a bot).
    from api.app import create_app

    with_bot = create_app(db.model_copy(update={"bot_username": "wuchuang_test_bot"}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=with_bot), base_url="http://testserver") as bot_http:
        linked = await bot_http.post(f"/api/v1/registrations/{reg['id']}/telegram-link", headers=registrant)
        assert linked.status_code == 200, linked.text
        secrets_seen["telegram link"] = linked.json()["telegram_link"].rsplit("start=", 1)[1]

    # A broker's transcript address, shown and rotated; an enrollment's pass.
    broker = await new_broker(client, org)
    link = await post(f"/api/v1/brokers/{broker['id']}/transcript-link", org | key("link"))
    secrets_seen["transcript"] = link["url"].rsplit("/", 1)[1]
    rotated_link = await post(
        f"/api/v1/brokers/{broker['id']}/transcript-link", org | key("link-rotate"), {"rotate": True}
    )
    transcript = rotated_link["url"].rsplit("/", 1)[1]
    secrets_seen["rotated transcript"] = transcript
    assert (await client.get(f"/transcripts/{transcript}")).status_code == 200
    assert (await client.get(f"/transcripts/{secrets_seen['transcript']}")).status_code == 404
    course = await new_course(client, org)
    enrolled = await enroll(client, org | key("enroll"), course, broker)
    if enrolled.get("ticket"):
        secrets_seen["pass"] = enrolled["ticket"]["code"]

    values = await _every_stored_value()
    assert any(table == "idempotency_record" for table, _, _ in values)  # the replies were kept …
    leaks = [
        (what, table, column)
        for what, secret in secrets_seen.items()
        for table, column, v in values
        if _holds(v, secret)
    ]
    assert leaks == []  # … but nothing readable in them, nor anywhere else


async def test_capability_tokens_are_checked_whole(client):
    event = await make_event()
    reg = (await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "李雷"})).json()
    feed = (
        (await client.get(f"/api/v1/registrations/{reg['id']}/calendar", headers=bearer(reg["access_token"])))
        .json()["url"]
        .rsplit("/", 1)[1]
        .removesuffix(".ics")
    )
    assert (await client.get(f"/calendar/me/{feed}.ics")).status_code == 200
    seed = feed[: secretbox.SEED_LENGTH]
    flipped = feed[:-1] + ("A" if feed[-1] != "A" else "B")
    for forged in (seed, flipped, feed + "x", feed[:-1], "x" * 300, "%00"):
        assert (await client.get(f"/calendar/me/{forged}.ics")).status_code in (404, 422), forged
    # Another purpose's MAC of the same seed is not the feed token.
    transcript_style = secretbox.current().capability("transcript", seed)
    assert (await client.get(f"/calendar/me/{transcript_style}.ics")).status_code == 404


async def test_stored_replies_are_sealed_to_their_row(db):
    box = secretbox.current()
    sealed = box.seal(b'{"token": "wch_x"}', context="idempotency_record:1")
    assert b"wch_x" not in sealed
    assert box.unseal(sealed, context="idempotency_record:1") == b'{"token": "wch_x"}'
    assert box.unseal(sealed, context="idempotency_record:2") is None
    other = secretbox.SecretBox(os.urandom(32))
    assert other.unseal(sealed, context="idempotency_record:1") is None


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_data_dir_sqlite_file_and_keys_are_private(tmp_path):
    data_dir = tmp_path / "fresh" / "data"
    settings = load_settings(data_dir=data_dir, environment="test")
    await init_db(settings)
    try:
        assert _mode(data_dir) == 0o700
        assert _mode(settings.sqlite_path) == 0o600
        assert _mode(data_dir / secretbox.KEY_FILE) == 0o600
    finally:
        await close_db()
    signer_for(tmp_path / "other")
    assert _mode(tmp_path / "other") == 0o700

    # An explicit SQLite URL, and a file left readable by an earlier version, are made private too.
    loose = tmp_path / "loose.sqlite3"
    loose.write_bytes(b"")
    loose.chmod(0o644)
    await init_db(load_settings(database_url=f"sqlite://{loose}", data_dir=tmp_path / "d2", environment="test"))
    await close_db()
    assert _mode(loose) == 0o600


def test_migrating_creates_a_private_sqlite_file(tmp_path):
    from wuchuang.migrate import database_url

    settings = load_settings(data_dir=tmp_path / "m", environment="test")
    database_url(settings)
    assert _mode(tmp_path / "m") == 0o700 and _mode(settings.sqlite_path) == 0o600


async def test_a_replay_is_sealed_for_the_next_process_too(client, db):
    """The key lives in DATA_DIR: a process starting on the same data dir replays what another stored."""
    admin = bearer(await make_token(role="admin"))
    headers = admin | {"Idempotency-Key": "restart"}
    body = {"role": "checker", "name": "东门"}
    first = await client.post("/api/v1/tokens", json=body, headers=headers)
    secretbox.box_for.cache_clear()
    secretbox.use(db.data_dir)
    from api.app import create_app

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(db, manage_db=False)), base_url="http://t"
    ) as other:
        replay = await other.post("/api/v1/tokens", json=body, headers=headers)
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
