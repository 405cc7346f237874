"""The programme office's dashboard: exact figures over a hand-built world, the forecast's arithmetic,
an organizer's scope, and bad input through HTTP."""

from __future__ import annotations

import pytest

from events.models import Role
from events.services import dashboard, tokens
from events.services.organizations import EVERYTHING, Scope
from tests.brief_world import AS_OF, at, build_world
from tests.factories import bearer

ELAPSED = (334 * 24 + 10) / (365 * 24)  # 1 Jan 00:00 → 1 Dec 10:00, Wuhan time, of 2026's 365 days


def _district(row: dashboard.DistrictRow) -> tuple[int, ...]:
    return (row.sessions_held, row.registrations, row.checked_in, row.demands, row.brokers)


def _targets(board: dashboard.Dashboard) -> dict[str, tuple[int, int, int, bool | None]]:
    return {t.key: (t.target, t.current, t.forecast, t.on_track) for t in board.targets}


async def test_the_office_sees_every_figure_of_the_year(db, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    board = await dashboard.dashboard(scope=EVERYTHING)
    assert board.year == 2026
    assert board.elapsed == pytest.approx(ELAPSED)
    assert _targets(board) == {
        "wuchuanghui_sessions": (60, 3, round(3 / ELAPSED), False),
        "brokers_trained": (1000, 3, 3, False),
        "demands_collected": (5000, 6, 7, False),
        "key_achievements": (1000, 2, 2, False),
        "major_transfers": (30, 2, 2, False),
        "contract_turnover": (27_000_000, 1150, round(1150 / ELAPSED), False),
        "investment_raised": (0, 0, 0, None),
    }
    rows = {r.code: r for r in board.districts}
    assert len(rows) == 17  # every district and zone, none for "no district": every record names one
    gaoxin, wuchang = rows["donghu_gaoxin"], rows["wuchang"]
    assert _district(gaoxin) == (2, 7, 6, 4, 2)
    assert gaoxin.checkin_rate == pytest.approx(6 / 7)
    assert _district(wuchang) == (1, 4, 2, 2, 1)  # with the course's session: its 2 enrollees expected, 1 came
    assert rows["jiangan"].checkin_rate is None and rows["jiangan"].registrations == 0
    months = {m.month: m for m in board.months}
    assert list(months) == [f"2026-{m:02d}" for m in range(1, 13)]
    nov = months["2026-11"]
    got = (nov.sessions, nov.registrations, nov.checkins, nov.demands, nov.connections, nov.transfers)
    assert got == (2, 9, 7, 5, 2, 2) and nov.brokers_certified == 2
    assert (months["2026-03"].sessions, months["2026-03"].registrations, months["2026-03"].checkins) == (1, 2, 1)
    assert (months["2026-02"].demands, months["2026-02"].brokers_certified, months["2026-04"].transfers) == (1, 1, 1)
    assert months["2026-12"].sessions == 0
    funnels = {f.key: [s.count for s in f.steps] for f in board.funnels}
    assert funnels == {"attendance": [11, 8], "demands": [6, 2, 2, 1]}


async def test_an_earlier_as_of_counts_only_what_had_happened(db, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    board = await dashboard.dashboard(as_of=at("2026-06-30"), scope=EVERYTHING)
    targets = _targets(board)
    assert targets["wuchuanghui_sessions"][1] == 1 and targets["demands_collected"][1] == 1
    assert [m.month for m in board.months][-1] == "2026-06"
    funnels = {f.key: [s.count for s in f.steps] for f in board.funnels}
    assert funnels == {"attendance": [2, 1], "demands": [1, 0, 0, 0]}


async def test_an_organizer_sees_only_its_organization(db, frozen_clock):
    frozen_clock.set(AS_OF)
    world = await build_world()
    board = await dashboard.dashboard(scope=Scope(world.org_a))
    current = {t.key: t.current for t in board.targets}
    assert (current["wuchuanghui_sessions"], current["brokers_trained"], current["demands_collected"]) == (2, 2, 4)
    assert (current["key_achievements"], current["major_transfers"], current["contract_turnover"]) == (1, 1, 350)
    gaoxin = next(r for r in board.districts if r.code == "donghu_gaoxin")
    assert (gaoxin.sessions_held, gaoxin.registrations, gaoxin.checked_in, gaoxin.demands) == (1, 4, 3, 2)
    funnels = {f.key: [s.count for s in f.steps] for f in board.funnels}
    assert funnels == {"attendance": [8, 5], "demands": [4, 2, 2, 1]}


async def test_dashboard_api_scopes_and_refuses_bad_input(client, frozen_clock):
    frozen_clock.set(AS_OF)
    world = await build_world()
    admin = bearer((await tokens.create_token(role=Role.ADMIN, name="office")).plaintext)
    org_b = bearer((await tokens.create_token(role=Role.ORGANIZER, name="b", organization_id=world.org_b)).plaintext)
    checker = bearer((await tokens.create_token(role=Role.CHECKER, name="c", organization_id=world.org_b)).plaintext)

    everything = (await client.get("/api/v1/dashboard", headers=admin)).json()
    assert everything["as_of"] == "2026-12-01T10:00:00+08:00"
    assert {t["key"]: t["current"] for t in everything["targets"]}["wuchuanghui_sessions"] == 3
    assert everything["targets"][0]["title"] == "已举办“武创荟”系列活动"

    mine = (await client.get("/api/v1/dashboard", headers=org_b | {"Accept-Language": "en"})).json()
    assert {t["key"]: t["current"] for t in mine["targets"]}["wuchuanghui_sessions"] == 1
    assert mine["targets"][0]["title"] == "武创荟 sessions held"
    row = next(r for r in mine["districts"] if r["code"] == "donghu_gaoxin")
    assert (row["registrations"], row["checked_in"], row["checkin_rate"], row["name"]) == (
        3,
        3,
        1.0,
        "East Lake High-tech Development Zone (Optics Valley)",
    )

    june = (await client.get("/api/v1/dashboard?as_of=2026-06-30T12:00:00%2B08:00", headers=admin)).json()
    assert june["months"][-1]["month"] == "2026-06"
    day = (await client.get("/api/v1/dashboard?as_of=2026-06-30", headers=admin)).json()
    assert day["as_of"] == "2026-06-30T23:59:59.999999+08:00"  # a date: the end of that local day

    bad = await client.get("/api/v1/dashboard?as_of=yesterday", headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    assert (await client.get("/api/v1/dashboard")).status_code == 401
    assert (await client.get("/api/v1/dashboard", headers=checker)).status_code == 403


async def test_the_pages_memo_holds_until_a_fact_is_recorded_or_a_minute_passes(db, frozen_clock, monkeypatch):
    from datetime import timedelta

    from tortoise.transactions import in_transaction

    from events.services import activity

    frozen_clock.set(AS_OF)
    await build_world()
    computed = []
    real = dashboard.dashboard

    async def counting(**kwargs):
        computed.append(kwargs)
        return await real(**kwargs)

    monkeypatch.setattr(dashboard, "dashboard", counting)
    dashboard._memo.clear()
    first = await dashboard.recent_dashboard(scope=EVERYTHING)
    assert await dashboard.recent_dashboard(scope=EVERYTHING) is first and len(computed) == 1
    async with in_transaction() as connection:
        await activity.record("test.fact", actor="test", using_db=connection)
    assert await dashboard.recent_dashboard(scope=EVERYTHING) is not first and len(computed) == 2
    await dashboard.recent_dashboard(scope=Scope(organization_id=-1))  # another scope: its own figures
    assert len(computed) == 3
    frozen_clock.set(AS_OF + timedelta(minutes=2))
    await dashboard.recent_dashboard(scope=EVERYTHING)
    assert len(computed) == 4
