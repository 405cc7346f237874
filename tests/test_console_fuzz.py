"""Every console form, sent by a signed-in organizer with wrong, missing and huge values: a page with a
4xx or a redirect, never a server error (the console's side of tests/test_fuzz.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.console_kit import as_, build_console_world
from tests.test_console_matrix import console_client, gathered_rows  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("frozen_clock")

HUGE = "武" * 100_000
BAD_FORMS: list[dict[str, object]] = [
    {},
    {"name": HUGE, "title": HUGE, "text": HUGE, "q": HUGE, "reason": HUGE, "message": HUGE, "note": HUGE},
    {"ids": ["x", "-1", "99999999999"], "action": "explode", "status": "??", "cursor": "%%%", "version": "old"},
    {"starts_at": "2026-13-45T99:99", "ends_at": "yesterday", "capacity": "-5", "hours": "1e309", "days": "NaN"},
    {"phone": "not a phone", "email": "@@", "score": "🙂", "limit": "0", "k": "100000", "round": "../../etc"},
]


async def test_no_console_form_gives_a_server_error(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    w = await build_console_world()
    assert len(gathered_rows()) > 70  # every console route, from the matrix's rows
    failures = []
    for (method, path), (_profile, make) in gathered_rows().items():
        call = await make(w)
        url = path.format(**call.path)
        forms = BAD_FORMS if method == "POST" else [{}]
        for form in forms:
            data = dict(call.data or {}) | form if method == "POST" else None
            params = (
                {"q": HUGE[:2000], "cursor": "garbage", "status": "nope", "from": "2026-99-01"}
                if method == "GET"
                else None
            )
            response = await as_(console_client, w, "organizer_a", method, url, data=data, params=params)
            if response.status_code >= 500:
                failures.append(f"{method} {path} with {sorted(form)}: {response.status_code}")
        bad_id = path.replace("{", "").replace("}", "")
        if "{" in path:
            response = await as_(
                console_client, w, "organizer_a", method, bad_id, data={} if method == "POST" else None
            )
            if response.status_code >= 500:
                failures.append(f"{method} {bad_id}: {response.status_code}")
    assert not failures, "\n".join(failures)
