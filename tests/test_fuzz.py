"""Fuzzing the whole OpenAPI document (issue 11, point 5): schemathesis makes valid and invalid
requests for every operation; on SQLite and on PostgreSQL, anonymously and with an admin token, no
answer may be a server error (schemathesis' ``not_a_server_error``), and every answer must match
what the document declares for its status (``response_schema_conformance``,
``content_type_conformance``): the contract a generated client relies on.

The cases are generated once (they do not depend on the database) with a bounded number of examples
per operation, then sent to the app through httpx's ASGI transport on the test's own event loop, so
the database connections of the ``db`` fixture serve them.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, response_schema_conformance
from schemathesis.core.failures import FailureGroup

from api.app import create_app
from events.db import conn
from events.schema_version import script_heads
from events.settings import Settings
from tests.factories import bearer, make_event, make_registration, make_token
from tests.test_api_training import enroll, new_broker, new_course

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("frozen_clock")]

# Examples per operation and generation mode; WUCHUANG_FUZZ_EXAMPLES raises it for a longer hunt.
EXAMPLES = int(os.environ.get("WUCHUANG_FUZZ_EXAMPLES", "5"))
SEED = 20261130


def _sweep(schema: Any, operation: Any, baseline: Any) -> list[Any]:
    """Deterministic variants of one valid case: U+0000 in each string parameter and top-level body
    string, and a 300-character value in each string path parameter. Random generation finds these
    only now and then (a negative case usually breaks something else first)."""
    variants: list[Any] = []

    def variant(**changes: Any) -> None:
        fields = {
            "path_parameters": dict(baseline.path_parameters or {}),
            "query": dict(baseline.query or {}),
            "body": baseline.body,
            "media_type": baseline.media_type,
        } | changes
        variants.append(schema.make_case(operation=operation, **fields))

    for parameter in operation.path_parameters:
        if parameter.definition.get("schema", {}).get("type") == "string":
            for value in ("\x00", "a\x00b", "x" * 300):
                variant(path_parameters=dict(baseline.path_parameters or {}, **{parameter.name: value}))
    for parameter in operation.query:
        if "string" in json.dumps(parameter.definition.get("schema", {})):
            variant(query=dict(baseline.query or {}, **{parameter.name: "a\x00"}))
    if isinstance(baseline.body, dict):
        for name, value in baseline.body.items():
            if isinstance(value, str):
                variant(body=dict(baseline.body, **{name: value + "\x00"}))
    return variants


@cache
def _cases(spec_app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", spec_app)
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            first = len(cases)

            @hypothesis.seed(SEED)
            @hypothesis.settings(
                max_examples=EXAMPLES,
                database=None,
                deadline=None,
                derandomize=False,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(mode))
            def collect(case: Any) -> None:
                cases.append(case)

            try:
                collect()
            except hypothesis.errors.Unsatisfiable:
                continue
            if mode is GenerationMode.POSITIVE and len(cases) > first:
                cases.extend(_sweep(schema, operation, cases[first]))
    return cases


_spec_app: Any = None


def _all_cases(settings: Settings) -> list[Any]:
    global _spec_app
    if _spec_app is None:  # one app object, so the cache holds across both databases
        _spec_app = create_app(settings, manage_db=False)
    return _cases(_spec_app)


async def _seed(client: httpx.AsyncClient, org: dict[str, str]) -> None:
    """A little of everything, so that small ids find rows and not only 404s."""
    for n in range(3):
        event = await make_event(capacity=2, starts_in=timedelta(days=n + 1))
        for _ in range(3):
            await make_registration(event)
    broker = await new_broker(client, org)
    await enroll(client, org, await new_course(client, org), broker)


def _request(case: Any, headers: dict[str, str]) -> dict[str, Any] | None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    kwargs.pop("cookies", None)
    # Control characters in a path parameter travel percent-encoded, as a real client sends them.
    kwargs["url"] = "".join(c if c.isprintable() else quote(c) for c in kwargs["url"])
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    for name in ("Connection", "Accept-Encoding"):
        kwargs["headers"].pop(name, None)
    if kwargs.get("files"):  # a generated "file" may be a number: a real client sends its text
        kwargs["files"] = [(name, _sendable(part)) for name, part in _parts(kwargs["files"])]
    return kwargs


def _parts(files: Any) -> list[tuple[str, Any]]:
    return list(files.items()) if isinstance(files, dict) else list(files)


def _sendable(part: Any) -> Any:
    if isinstance(part, tuple):
        return (part[0], _sendable(part[1]), *part[2:])
    return part if isinstance(part, bytes | str) or hasattr(part, "read") else json.dumps(part)


@pytest.fixture
async def stamped_at_head(db: Settings) -> AsyncIterator[None]:
    """The schema stamped at head as `wuchuang migrate` leaves it (the test schema is generated, not
    migrated), so /ready answers 200 rather than its documented 503."""
    (head,) = script_heads()
    await conn().execute_script("DROP TABLE IF EXISTS alembic_version")
    await conn().execute_script(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);"
        f"INSERT INTO alembic_version (version_num) VALUES ('{head}')"
    )
    try:
        yield
    finally:
        await conn().execute_script("DROP TABLE IF EXISTS alembic_version")


async def test_fuzzing_every_operation_gives_no_server_error(db: Settings, stamped_at_head: None):
    app = create_app(db, manage_db=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    server_errors: list[str] = []
    nonconforming: list[str] = []
    sent = 0
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        org = bearer(await make_token(name="fuzz organizer"))
        await _seed(client, org)
        cases = _all_cases(db)
        assert len({case.operation.label for case in cases}) >= 50
        for case in cases:
            # Each case as an admin (re-minted: a fuzzed revoke may take the last one) and anonymously.
            admin = {"Authorization": f"Bearer {await make_token(role='admin', name='fuzz')}"}
            for identity in (admin, {}):
                kwargs = _request(case, identity)
                if kwargs is None:
                    continue
                if not identity:
                    kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
                try:
                    response = await client.request(**kwargs)
                except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError, ValueError):
                    continue  # not sendable over HTTP at all (e.g. a header with a newline)
                sent += 1
                who = "admin" if identity else "anonymous"
                if response.status_code >= 500:
                    server_errors.append(
                        f"{case.operation.label} {who} → {response.status_code}\n"
                        f"  {case.as_curl_command(headers=identity)}\n  {response.text[:300]}"
                    )
                    continue
                try:
                    response.request.content  # noqa: B018
                except httpx.RequestNotRead:  # a multipart upload streams; the checks read the request again
                    response.request.read()
                try:
                    case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])
                except FailureGroup as failure:
                    kinds = sorted({type(f).__name__ for f in failure.exceptions})
                    nonconforming.append(
                        f"{case.operation.label} {who} → {response.status_code}: {', '.join(kinds)}\n"
                        f"  {str(failure.exceptions[0])[:300]}\n  {response.text[:200]}"
                    )
    assert sent > len(cases)
    assert server_errors == [], f"{len(server_errors)} server errors:\n" + "\n".join(server_errors[:30])
    assert nonconforming == [], f"{len(nonconforming)} answers not as declared:\n" + "\n".join(nonconforming[:30])
