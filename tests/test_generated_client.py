"""A client generated from /openapi.json (openapi-python-client) calls the demo: the typed contract is
complete enough that a generator, not a person reading the docs, gets the bodies right.

The client is generated into a temporary folder, imported, and pointed at the app over httpx's ASGI
transport; it lists upcoming events, reads one, registers, reads the registration with its token,
checks a ticket in as door staff and reads the goals — every answer parsed into the generated models.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from events.settings import Settings
from tests.factories import make_token
from wuchuang.demo import load_demo

pytestmark = pytest.mark.slow

PACKAGE = "wuchuang_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("openapi_python_client", reason="the dev extra installs openapi-python-client")
    from events.settings import load_settings

    folder = tmp_path_factory.mktemp("client")
    spec_settings = load_settings(environment="test", database_url="sqlite://:memory:", data_dir=folder / "data")
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(create_app(spec_settings, manage_db=False).openapi()))
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec), "--meta", "none"]
        + ["--output-path", str(folder / PACKAGE), "--overwrite"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Only binary answers (PNG/SVG images) may be left out of the client; every JSON answer is typed.
    warnings = [line for line in done.stdout.splitlines() if line.startswith("WARNING parsing")]
    assert all(".png" in line or ".svg" in line for line in warnings), warnings
    assert "Unable to parse" not in done.stdout, done.stdout
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _operation(client_package: Any, tag: str, prefix: str) -> Any:
    """The generated module of one operation, found by its tag folder and the start of its name."""
    folder = Path(client_package.__file__).parent / "api" / tag
    (name,) = [p.stem for p in folder.glob(f"{prefix}*.py")]
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


async def test_a_generated_client_calls_the_demo(db: Settings, generated: Any):
    await load_demo(supply=False, competitions=False, roadshow=False)  # events and seats are enough
    app = create_app(db, manage_db=False)
    transport = httpx.ASGITransport(app=app)

    def client(token: str | None = None) -> Any:
        # The generated client sends what its httpx client carries: no Authorization when anonymous.
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        made = generated.AuthenticatedClient(
            base_url="http://testserver", token=token or "-", raise_on_unexpected_status=True
        )
        made.set_async_httpx_client(
            httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)
        )
        return made

    anonymous = client()
    listed = await _operation(generated, "events", "list_events").asyncio(client=anonymous, limit=50)
    assert listed is not None and listed.items, "the demo has upcoming events"
    open_ones = [e for e in listed.items if e.status == "published" and (e.seats_left is None or e.seats_left > 0)]
    event = await _operation(generated, "events", "get_event").asyncio(client=anonymous, event_id=open_ones[0].id)
    assert event.title == open_ones[0].title and event.starts_at.utcoffset() is not None

    body_model = _operation(generated, "registrations", "register").Applicant
    created = None
    for candidate in open_ones:  # the first may have closed its registration already
        response = await _operation(generated, "registrations", "register").asyncio_detailed(
            client=anonymous,
            event_id=candidate.id,
            body=body_model.from_dict({"name": "生成的客户端", "phone": "13912345678", "organization": "武汉大学"}),
        )
        if response.status_code == 201:
            created = response.parsed
            event = candidate
            break
    assert created is not None and created.status in ("confirmed", "waitlisted", "pending")

    own = client(created.access_token)
    read = await _operation(generated, "registrations", "get_registration").asyncio(
        client=own, registration_id=created.id
    )
    assert read.id == created.id and read.phone_display == "139 1234 5678"

    if created.status == "confirmed":
        door = client(await make_token(role="checker", name="生成的门岗"))
        scan_body = _operation(generated, "check_in", "redeem").CheckinBody
        answer = await _operation(generated, "check_in", "redeem").asyncio_detailed(
            client=door, body=scan_body.from_dict({"code": created.ticket.code, "event_id": event.id})
        )
        assert answer.status_code == 200 and answer.parsed.result.value in ("ok", "not_open_yet")

    goals = await _operation(generated, "goals", "goals").asyncio(client=anonymous)
    assert {g.key for g in goals.items} >= {"wuchuanghui_sessions", "brokers_trained"}
