"""Demands, achievements and connections: their rows of the console's role × page matrix.

Each POST row makes a fresh record of organization A with the services, so every user's try acts on
a record in the same state (B's try is 404, the judge's 403, an anonymous post 403 without a token).
"""

from __future__ import annotations

from typing import Any

from events.services import achievements, brokers, connections, demands
from tests.console_kit import ConsoleWorld
from tests.test_console_matrix import ANY, OWN, Call, Maker, Rows, fixed


async def a_demand(w: ConsoleWorld, **extra: Any) -> Any:
    data = demands.DemandInput(kind="technology", title=f"激光器散热技术需求{w.next()}", **extra)  # type: ignore[arg-type]
    made = await demands.create_demand(data, actor="test", managed_by=w.a)
    return await demands.get_demand(made.id)


async def an_achievement(w: ConsoleWorld) -> Any:
    data = achievements.AchievementInput(title=f"高功率激光器散热模组{w.next()}", keywords=["激光", "散热"])
    made = await achievements.create_achievement(data, organization_id=w.a, actor="test")
    return await achievements.get_achievement(made.id, achievements.organizations.EVERYTHING)


async def a_broker(w: ConsoleWorld) -> Any:
    n = w.next()
    data = brokers.BrokerInput(name=f"经理人{n}", phone=f"1350001{n:04d}")
    return await brokers.create_broker(data, actor="test", organization_id=w.a)


async def a_connection(w: ConsoleWorld) -> Any:
    demand, achievement = await a_demand(w), await an_achievement(w)
    opened = await connections.open_connection(
        demand_id=demand.id, achievement_id=achievement.id, requested_by=None, origin="organizer", actor="test"
    )
    return await connections.owned_connection(opened.connection.id, achievements.organizations.EVERYTHING)


def _demand_form(form: Any) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        demand = await a_demand(w)
        data = await form(w, demand) if callable(form) else dict(form)
        return Call(path={"demand_id": demand.id}, data={"version": demand.updated_at.isoformat()} | data)

    return make


async def _with_broker(w: ConsoleWorld, demand: Any) -> dict[str, Any]:
    return {"broker_id": (await a_broker(w)).id}


async def _with_achievement(w: ConsoleWorld, demand: Any) -> dict[str, Any]:
    return {"achievement_id": (await an_achievement(w)).id}


async def _claimed(w: ConsoleWorld) -> Call:
    demand, broker = await a_demand(w), await a_broker(w)
    await demands.claim_demand(demand.id, broker.id, actor="test")
    demand = await demands.get_demand(demand.id)
    return Call(path={"demand_id": demand.id}, data={"version": demand.updated_at.isoformat()})


async def _connection(w: ConsoleWorld) -> Call:
    c = await a_connection(w)
    return Call(
        path={"connection_id": c.id},
        data={"to": "in_talks", "back": f"d{c.demand_id}", "version": c.updated_at.isoformat()},
    )


async def _achievement_review(w: ConsoleWorld) -> Call:
    a = await an_achievement(w)
    return Call(
        path={"achievement_id": a.id}, data={"status": "negotiating", "key": "1", "version": a.updated_at.isoformat()}
    )


async def _achievement_connect(w: ConsoleWorld) -> Call:
    a, d = await an_achievement(w), await a_demand(w)
    return Call(path={"achievement_id": a.id}, data={"demand_id": d.id})


async def _demand_id(w: ConsoleWorld) -> Call:
    return Call(path={"demand_id": (await a_demand(w)).id})


async def _achievement_id(w: ConsoleWorld) -> Call:
    return Call(path={"achievement_id": (await an_achievement(w)).id})


ROWS: Rows = {
    ("GET", "/console/demands"): (ANY, fixed()),
    ("GET", "/console/demands/{demand_id}"): (OWN, _demand_id),
    ("POST", "/console/demands/{demand_id}/status"): (OWN, _demand_form({"to": "matched"})),
    ("POST", "/console/demands/{demand_id}/broker"): (OWN, _demand_form(_with_broker)),
    ("POST", "/console/demands/{demand_id}/release"): (OWN, _claimed),
    ("POST", "/console/demands/{demand_id}/connections"): (OWN, _demand_form(_with_achievement)),
    ("POST", "/console/connections/{connection_id}/status"): (OWN, _connection),
    ("GET", "/console/achievements"): (ANY, fixed()),
    ("GET", "/console/achievements/{achievement_id}"): (OWN, _achievement_id),
    ("POST", "/console/achievements/{achievement_id}/review"): (OWN, _achievement_review),
    ("POST", "/console/achievements/{achievement_id}/connections"): (OWN, _achievement_connect),
}
