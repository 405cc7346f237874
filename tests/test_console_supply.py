"""Demands and achievements in the console: lists and filters, keyset pages, review, a broker, matches
and connections through the services, stale forms and bad input (issue 17, item 2)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx
import pytest

from events.models import AchievementTier, Connection, ConnectionStatus, Demand, DemandStatus
from events.services import achievements, brokers, demands
from tests.console_kit import as_, build_console_world
from tests.console_rows_supply import a_demand, an_achievement
from tests.test_console_matrix import console_client

__all__ = ["console_client"]
pytestmark = pytest.mark.usefixtures("frozen_clock")


def _ids(html: str, kind: str) -> list[int]:
    return [int(x) for x in re.findall(rf'<tr data-{kind}="(\d+)">', html)]


async def test_the_demand_list_filters_and_pages(console_client: httpx.AsyncClient, frozen_clock):
    w = await build_console_world()
    laser = await a_demand(w, district="donghu_gaoxin", field="optoelectronics")
    other = await a_demand(w, district="wuchang")
    b_demand = await demands.create_demand(
        demands.DemandInput(kind="talent", title="B 的人才需求"),  # type: ignore[arg-type]
        actor="test",
        managed_by=w.b,
    )
    later = await a_demand(w, district="wuchang")
    await Demand.filter(id=later.id).update(created_at=frozen_clock.now + timedelta(days=3))  # entered later

    everything = (await as_(console_client, w, "organizer_a", "GET", "/console/demands")).text
    assert _ids(everything, "demand") == [later.id, other.id, laser.id]  # newest first, A's only
    assert b_demand.id not in _ids(everything, "demand")
    admin = (await as_(console_client, w, "admin", "GET", "/console/demands")).text
    assert b_demand.id in _ids(admin, "demand")

    async def ids(**params: str) -> list[int]:
        page = await as_(console_client, w, "organizer_a", "GET", "/console/demands", params=params)
        assert page.status_code == 200
        return _ids(page.text, "demand")

    assert await ids(district="wuchang") == [later.id, other.id]
    assert await ids(field="optoelectronics") == [laser.id]
    assert await ids(q=laser.title[-3:]) == [laser.id]
    assert await ids(status="open", kind="technology") == [later.id, other.id, laser.id]
    assert await ids(status="contracted") == []
    day = (frozen_clock.now + timedelta(days=3)).date().isoformat()
    assert await ids(**{"from": day}) == [later.id]
    assert await ids(**{"to": (frozen_clock.now + timedelta(days=2)).date().isoformat()}) == [other.id, laser.id]
    # Unknown filter values are ignored, a bad date is said and the whole list shown.
    assert await ids(status="nonsense", district="atlantis") == [later.id, other.id, laser.id]
    bad = await as_(console_client, w, "organizer_a", "GET", "/console/demands", params={"from": "2026-02-30"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.text

    for _ in range(50):
        await a_demand(w)
    first = (await as_(console_client, w, "organizer_a", "GET", "/console/demands")).text
    assert len(_ids(first, "demand")) == 50
    next_href = unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))
    second = (
        await console_client.get(next_href, headers={"cookie": f"wc_console={w.sessions['organizer_a'][0]}"})
    ).text
    assert set(_ids(second, "demand")).isdisjoint(_ids(first, "demand"))
    assert len(_ids(first, "demand")) + len(_ids(second, "demand")) == 53
    forged = await as_(console_client, w, "organizer_a", "GET", "/console/demands", params={"cursor": "nonsense"})
    assert forged.status_code == 200 and len(_ids(forged.text, "demand")) == 50  # the cursor refused, said


async def test_reviewing_a_demand_moves_its_status_and_refuses_a_stale_form(console_client, frozen_clock):
    w = await build_console_world()
    demand = await a_demand(w)
    page = await as_(console_client, w, "organizer_a", "GET", f"/console/demands/{demand.id}")
    assert page.status_code == 200
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)

    moved = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/status",
        data={"to": "matched", "version": version},
    )  # fmt: skip
    assert moved.status_code == 303 and "done=status" in moved.headers["location"]
    assert (await Demand.get(id=demand.id)).status == DemandStatus.MATCHED

    # The same form again: the demand changed since it was opened.
    stale = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/status",
        data={"to": "closed", "note": "重复", "version": version},
    )  # fmt: skip
    assert stale.status_code == 409 and 'id="stale"' in stale.text
    assert (await Demand.get(id=demand.id)).status == DemandStatus.MATCHED

    fresh = re.search(r'name="version" value="([^"]+)"', stale.text).group(1)
    no_note = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/status",
        data={"to": "closed", "version": fresh},
    )  # fmt: skip
    assert no_note.status_code == 422 and 'value="closed" selected' in no_note.text
    backwards = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/status",
        data={"to": "open", "version": fresh},
    )  # fmt: skip
    assert backwards.status_code == 409
    junk = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/status",
        data={"to": "<script>", "version": fresh},
    )  # fmt: skip
    assert junk.status_code == 422 and "<script>" not in junk.text
    closed = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/status",
        data={"to": "closed", "note": "企业自行解决", "version": fresh},
    )  # fmt: skip
    assert closed.status_code == 303
    assert (await Demand.get(id=demand.id)).status == DemandStatus.CLOSED
    timeline = (await as_(console_client, w, "organizer_a", "GET", f"/console/demands/{demand.id}")).text
    assert "企业自行解决" in timeline


async def test_a_broker_is_assigned_and_released(console_client, frozen_clock):
    w = await build_console_world()
    demand = await a_demand(w, description="高功率激光器散热")
    data = brokers.BrokerInput(name="激光经理人", phone="13500019999", specialties=["激光", "散热"])
    broker = await brokers.create_broker(data, actor="test", organization_id=w.a)
    version = demand.updated_at.isoformat()
    plain = (await as_(console_client, w, "organizer_a", "GET", f"/console/demands/{demand.id}")).text
    assert 'id="suggest-brokers"' in plain and 'data-match="b' not in plain  # suggested on request only
    asked = await as_(console_client, w, "organizer_a", "GET", f"/console/demands/{demand.id}", params={"brokers": "1"})
    assert f'data-match="b{broker.id}"' in asked.text
    nobody = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/broker",
        data={"broker_id": "abc", "version": version},
    )  # fmt: skip
    assert nobody.status_code == 422
    missing = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/broker",
        data={"broker_id": "999999", "version": version},
    )  # fmt: skip
    assert missing.status_code == 404 and 'value="999999"' in missing.text  # the form kept what was typed
    assigned = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/broker",
        data={"broker_id": str(broker.id), "version": version},
    )  # fmt: skip
    assert assigned.status_code == 303
    claimed = await Demand.get(id=demand.id)
    assert claimed.broker_id == broker.id and claimed.follow_up_due is not None
    page = (await as_(console_client, w, "organizer_a", "GET", f"/console/demands/{demand.id}?done=broker")).text
    assert 'id="demand-broker"' in page and "经理人" in page
    released = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/release",
        data={"version": claimed.updated_at.isoformat()},
    )  # fmt: skip
    assert released.status_code == 303 and (await Demand.get(id=demand.id)).broker_id is None


async def test_connections_open_from_a_match_and_move_on_to_a_contract(console_client, frozen_clock):
    w = await build_console_world()
    demand = await a_demand(w, description="需要高功率激光器的散热方案")
    achievement = await an_achievement(w)

    page = (await as_(console_client, w, "organizer_a", "GET", f"/console/demands/{demand.id}")).text
    assert f'data-match="a{achievement.id}"' in page  # the matcher finds the achievement

    opened = await as_(
        console_client, w, "organizer_a", "POST", f"/console/demands/{demand.id}/connections",
        data={"achievement_id": str(achievement.id)},
    )  # fmt: skip
    assert opened.status_code == 303
    connection = await Connection.get(demand_id=demand.id, achievement_id=achievement.id)
    assert connection.status == ConnectionStatus.OPEN
    assert (await Demand.get(id=demand.id)).status == DemandStatus.MATCHED

    for to in ("in_talks", "contracted"):
        current = await Connection.get(id=connection.id)
        moved = await as_(
            console_client, w, "organizer_a", "POST", f"/console/connections/{connection.id}/status",
            data={"to": to, "back": f"a{achievement.id}", "version": current.updated_at.isoformat()},
        )  # fmt: skip
        assert moved.status_code == 303 and moved.headers["location"].startswith(
            f"/console/achievements/{achievement.id}"
        )
    assert (await Connection.get(id=connection.id)).status == ConnectionStatus.CONTRACTED
    assert (await Demand.get(id=demand.id)).status == DemandStatus.IN_TALKS

    done = await Connection.get(id=connection.id)
    again = await as_(
        console_client, w, "organizer_a", "POST", f"/console/connections/{connection.id}/status",
        data={"to": "closed", "back": f"d{demand.id}", "version": done.updated_at.isoformat()},
    )  # fmt: skip
    assert again.status_code == 409  # contracted is final
    foreign = await as_(
        console_client, w, "organizer_b", "POST", f"/console/connections/{connection.id}/status",
        data={"to": "closed", "back": f"d{demand.id}", "version": done.updated_at.isoformat()},
    )  # fmt: skip
    assert foreign.status_code == 404
    shown = (await as_(console_client, w, "organizer_a", "GET", f"/console/demands/{demand.id}")).text
    assert f'data-connection="{connection.id}"' in shown


async def test_an_achievement_is_reviewed_and_flagged_key(console_client, frozen_clock):
    w = await build_console_world()
    achievement = await an_achievement(w)
    listed = (await as_(console_client, w, "organizer_a", "GET", "/console/achievements")).text
    assert achievement.id in _ids(listed, "achievement")
    assert _ids((await as_(console_client, w, "organizer_b", "GET", "/console/achievements")).text, "achievement") == []

    reviewed = await as_(
        console_client, w, "organizer_a", "POST", f"/console/achievements/{achievement.id}/review",
        data={"status": "negotiating", "key": "1", "version": achievement.updated_at.isoformat()},
    )  # fmt: skip
    assert reviewed.status_code == 303
    saved = await achievements.get_achievement(achievement.id, achievements.organizations.EVERYTHING)
    assert (saved.status, saved.tier) == ("negotiating", AchievementTier.KEY)
    key_only = await as_(console_client, w, "organizer_a", "GET", "/console/achievements", params={"tier": "key"})
    assert _ids(key_only.text, "achievement") == [achievement.id]

    stale = await as_(
        console_client, w, "organizer_a", "POST", f"/console/achievements/{achievement.id}/review",
        data={"status": "withdrawn", "version": achievement.updated_at.isoformat()},
    )  # fmt: skip
    assert stale.status_code == 409 and 'id="stale"' in stale.text
    unflag = await as_(
        console_client, w, "organizer_a", "POST", f"/console/achievements/{achievement.id}/review",
        data={"status": "available", "version": saved.updated_at.isoformat()},
    )  # fmt: skip
    assert unflag.status_code == 303
    assert (await achievements.get_achievement(achievement.id, achievements.organizations.EVERYTHING)).tier == "general"

    bad = await as_(
        console_client, w, "organizer_a", "POST", f"/console/achievements/{achievement.id}/connections",
        data={"demand_id": "0"},
    )  # fmt: skip
    assert bad.status_code == 422
    not_a_page = await as_(console_client, w, "organizer_a", "GET", "/console/achievements/abc")
    assert not_a_page.status_code == 404
    no_csrf = await as_(
        console_client, w, "organizer_a", "POST", f"/console/achievements/{achievement.id}/review",
        data={"status": "withdrawn"}, csrf=False,
    )  # fmt: skip
    assert no_csrf.status_code == 403


async def test_the_lists_filter_by_the_day_entered(db, frozen_clock):
    """``created_since`` / ``created_before`` of the demand and achievement queries (the dashboard links)."""
    w_a = (await achievements.organizations.find_or_create_organization("东湖高新区管委会")).id
    early = await demands.create_demand(
        demands.DemandInput(kind="technology", title="早的需求"),  # type: ignore[arg-type]
        actor="test",
        managed_by=w_a,
    )
    frozen_clock.set(frozen_clock.now + timedelta(days=10))
    late = await demands.create_demand(
        demands.DemandInput(kind="technology", title="晚的需求"),  # type: ignore[arg-type]
        actor="test",
        managed_by=w_a,
    )
    middle = frozen_clock.now - timedelta(days=5)
    since = await demands.list_demands(demands.DemandQuery(created_since=middle))
    before = await demands.list_demands(demands.DemandQuery(created_before=middle))
    assert [d.id for d in since.items] == [late.id] and since.total == 1
    assert [d.id for d in before.items] == [early.id]
    made = await achievements.create_achievement(
        achievements.AchievementInput(title="新成果"), organization_id=w_a, actor="test"
    )
    everything = achievements.organizations.EVERYTHING
    found = await achievements.list_achievements(achievements.AchievementQuery(created_since=middle), scope=everything)
    assert [a.id for a in found.items] == [made.id]
    none = await achievements.list_achievements(achievements.AchievementQuery(created_before=middle), scope=everything)
    assert none.items == []
