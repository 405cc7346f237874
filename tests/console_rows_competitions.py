"""The console's competition pages in the role × page matrix (api/console/competitions.py)."""

from __future__ import annotations

from typing import Any

from tests.competition_console_kit import Contest, make_contest
from tests.console_kit import ConsoleWorld
from tests.test_console_matrix import ANY, OWN, Call, Maker, Rows, fixed

# A refusal as a page of its own (the service said no): A's organizer and admin get its status.
STALE = ("signin", "409", "409", "404", "403")


async def _contest(w: ConsoleWorld) -> Contest:
    if "contest" not in w.cache:
        w.cache["contest"] = await make_contest(w.a)
    found: Contest = w.cache["contest"]
    return found


def on_contest(tail: str = "", data: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        c = await _contest(w)
        path = {"competition_id": c.cid, "entry_id": c.entries["光谷量子芯片"], "code": "r1", "attachment_id": 999}
        path |= {"objection_id": 999_999, "kind": "results", "judge_id": c.judges["刘评委"].id}
        return Call(path=path, data=data, params=params)

    return make


ROWS: Rows = {
    ("GET", "/console/competitions"): (ANY, fixed()),
    ("GET", "/console/competitions/{competition_id}"): (OWN, on_contest()),
    ("GET", "/console/competitions/{competition_id}/entries"): (OWN, on_contest(params={"status": "accepted"})),
    ("GET", "/console/competitions/{competition_id}/entries/{entry_id}"): (OWN, on_contest()),
    # A stale form (no "seen"): refused after the owner check, nothing done.
    ("POST", "/console/competitions/{competition_id}/entries/{entry_id}/review"): (
        STALE,
        on_contest(data={"decision": "accept"}),
    ),
    # Nothing selected: the list again with the error (422) for A; B never sees A's competition.
    ("POST", "/console/competitions/{competition_id}/entries/review"): (
        ("signin", "422", "422", "404", "403"),
        on_contest(data={"decision": "accept"}),
    ),
    ("GET", "/console/competitions/{competition_id}/entries/{entry_id}/attachments/{attachment_id}"): (
        ("signin", "404", "404", "404", "403"),
        on_contest(),
    ),
    ("GET", "/console/competitions/{competition_id}/judges"): (OWN, on_contest()),
    ("POST", "/console/competitions/{competition_id}/judges"): (
        ("signin", "422", "422", "404", "403"),
        on_contest(data={"name": "", "organization": "某大学"}),
    ),
    ("POST", "/console/competitions/{competition_id}/judges/{judge_id}/link"): (OWN, on_contest(data={})),
    ("GET", "/console/competitions/{competition_id}/rounds/{code}"): (OWN, on_contest()),
    ("POST", "/console/competitions/{competition_id}/rounds/{code}/assign"): (STALE, on_contest(data={"seen": "x"})),
    ("POST", "/console/competitions/{competition_id}/rounds/{code}/close"): (STALE, on_contest(data={"seen": "x"})),
    ("GET", "/console/competitions/{competition_id}/rounds/{code}/ranking"): (OWN, on_contest()),
    ("GET", "/console/competitions/{competition_id}/rounds/{code}/objections"): (OWN, on_contest()),
    ("POST", "/console/competitions/{competition_id}/objections/{objection_id}/decide"): (
        ("signin", "404", "404", "404", "403"),
        on_contest(data={"decision": "upheld", "reason": "查实", "round": "r1"}),
    ),
    ("POST", "/console/competitions/{competition_id}/rounds/{code}/finalize"): (
        STALE,
        on_contest(data={"seen": "x"}),
    ),
    ("GET", "/console/competitions/{competition_id}/rounds/{code}/exports/{kind}"): (OWN, on_contest()),
}
