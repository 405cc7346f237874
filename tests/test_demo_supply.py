"""The supply-chain demo, loaded through the services: the goals live, matches with reasons, near-duplicates
flagged by the demands service, a contested claim refused, connections and contracts, and a second load
that adds nothing.

The whole programme (events, registrations, training) takes a while; here the supply chain is loaded the
way a database loaded before it was part of the demo gets it: the demo's events and brokers are there,
its demands are not, and ``load_demo`` adds only the supply chain.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from events import clock, localtime
from events.models import (
    Achievement,
    Activity,
    Connection,
    Demand,
    DemandStatus,
    Investor,
    MeetingOutcome,
    Organization,
    Person,
    Transfer,
)
from events.services import brokers, catalog, demand_status, goals, matching
from wuchuang import demo_supply_data as supply
from wuchuang.demo import TELEGRAM_PEOPLE, DemoSummary, load_demo
from wuchuang.demo_roadshow import CONTRACT_CNY
from wuchuang.demo_supply import SupplySummary

DEMO = supply.build()


async def _programme_without_supply(count: int = 12) -> list[int]:
    """What an earlier demo left: an event and brokers made by ``demo`` (the first on Telegram)."""
    now = clock.now()
    await catalog.create_event(
        catalog.EventInput(
            title="武创荟·人工智能专场",
            kind="session",
            series="wuchuanghui",
            district="hongshan",
            starts_at=now + timedelta(days=10),
            ends_at=now + timedelta(days=10, hours=2),
            venue="光谷科技会展中心",
        ),
        actor="demo",
    )
    telegram_id, name, *_ = TELEGRAM_PEOPLE[0]
    made = [
        await brokers.create_broker(
            brokers.BrokerInput(name=name, phone="17000000000", telegram_id=telegram_id, district="hongshan"),
            actor="demo",
        )
    ]
    for n in range(1, count):
        made.append(
            await brokers.create_broker(
                brokers.BrokerInput(name=f"经理人{n}", phone=f"139{n:08d}", district="wuchang", specialties=["新材料"]),
                actor="demo",
            )
        )
    return [b.id for b in made]


async def _by_external(index: int) -> Demand:
    return await Demand.get(external_id=DEMO.demands[index].external_id)


@pytest.mark.slow
async def test_the_supply_chain_loads_through_the_services(db, frozen_clock):
    broker_ids = await _programme_without_supply()
    now = clock.now()
    summary = await load_demo()
    assert clock.now() == now  # the test's clock is back

    s = summary.supply
    assert summary.already_loaded and summary.events_created == 0  # the programme was there: only the supply
    assert s == SupplySummary(
        organizations=len(DEMO.organizations),
        achievements=len(DEMO.achievements),
        key_achievements=sum(a.tier == "key" for a in DEMO.achievements),
        demands=len(DEMO.demands),
        near_duplicates=len(supply.DUPLICATE_PAIRS),
        investors=len(DEMO.investors),
        claims=len(DEMO.claims),
        claims_refused=len(DEMO.contested_claims),
        connections=len(DEMO.connections),
        contracts=len(DEMO.contracts),
        major_contracts=3,
    )

    # The goals are live and read these records.
    found = {g.key: g for g in await goals.list_goals()}
    assert found["demands_collected"].current == 100
    assert found["key_achievements"].current == s.key_achievements >= 50
    assert found["major_transfers"].current == 3
    turnover = sum(c.amount_cny for c in DEMO.contracts) + CONTRACT_CNY * summary.roadshow.signed  # and the roadshow's
    assert found["contract_turnover"].current == turnover // 10_000 > 0
    assert all(found[k].tracked for k in ("demands_collected", "key_achievements", "major_transfers"))

    # Organizations with their codes and domains, through the directory's rules.
    fund = await Organization.get(name=DEMO.organizations[-1].name)
    assert fund.credit_code == DEMO.organizations[-1].credit_code and fund.email_domains
    assert await Investor.all().count() == len(DEMO.investors) + summary.roadshow.investors

    # Demands were posted on their day (the clock moved back), from every source.
    for index in (0, len(DEMO.demands) // 2, len(DEMO.demands) - 1):
        demand = await _by_external(index)
        posted = localtime.local(demand.created_at).date()
        assert posted == localtime.local(now).date() - timedelta(days=DEMO.demands[index].created_days_ago)
    assert set(await Demand.all().values_list("source", flat=True)) == {"api", "bot", "import", "collected"}
    collectors = await Demand.filter(source="collected").values_list("collected_by_id", flat=True)
    assert collectors and all(c is not None for c in collectors)

    # The demands service flagged each restated demand with the one it restates, and nothing else.
    flagged = dict(await Demand.filter(duplicate_of_id__isnull=False).values_list("external_id", "duplicate_of_id"))
    expected = {
        d.external_id: (await _by_external(d.duplicate_of)).id for d in DEMO.demands if d.duplicate_of is not None
    }
    assert flagged == expected and len(expected) == 4

    # Claims: every scripted one holds; the contested ones were refused and the first broker kept the demand.
    assert await Activity.filter(kind="demand.claimed").count() == len(DEMO.claims)
    for claim in DEMO.contested_claims:
        held = next(c for c in DEMO.claims if c.demand == claim.demand)
        demand = await _by_external(claim.demand)
        assert demand.broker_id == broker_ids[held.broker % len(broker_ids)]
        assert broker_ids[claim.broker % len(broker_ids)] != demand.broker_id
    held = Demand.filter(broker_id__isnull=False, status__in=list(demand_status.ACTIVE))
    assert await held.filter(follow_up_due__lt=now).count() == 2  # the others reported lately
    assert await held.filter(follow_up_due__gt=now).count() >= 5

    # Connections and contracts; a contracted demand's timeline ends in contracted.
    statuses = Counter(await Connection.all().values_list("status", flat=True))
    assert statuses == Counter(c.status for c in DEMO.connections)
    from_meetings = set(await MeetingOutcome.filter(transfer_id__not_isnull=True).values_list("transfer_id", flat=True))
    transfers = [t for t in await Transfer.all() if t.id not in from_meetings]  # not the roadshow's
    assert len(transfers) == len(DEMO.contracts) and sum(t.major for t in transfers) == 3
    for transfer in transfers:
        assert transfer.demand_id is not None and transfer.signed_on <= localtime.local(now).date()
        demand = await Demand.get(id=transfer.demand_id)
        assert demand.status == DemandStatus.CONTRACTED
        steps = await demand_status.timeline(demand.id)
        assert [step.to_status for step in steps][-1] == DemandStatus.CONTRACTED
        assert steps[0].at < steps[-1].at
    in_talks = await Demand.filter(status=DemandStatus.IN_TALKS).count()
    assert in_talks >= 5

    # A demand written against an achievement finds it, with reasons that name what they share.
    close = [i for i, d in enumerate(DEMO.demands) if d.close_to is not None]
    shown = 0
    for index in close:
        demand = await _by_external(index)
        if demand.status not in (DemandStatus.OPEN, DemandStatus.MATCHED, DemandStatus.IN_TALKS):
            continue
        target = DEMO.achievements[DEMO.demands[index].close_to or 0]
        matches = await matching.for_demand(demand.id, type="achievement", limit=5)
        top = [m.external_id for m in matches[:3]]
        assert target.external_id in top, (demand.title, top)
        best = matches[0]
        keywords = set((await Achievement.get(id=best.id)).keywords)
        assert any(k in reason for reason in best.reasons for k in keywords), best.reasons
        shown += 1
    assert shown >= 4

    # The Telegram people speak for records: pushes and /matches have something to show in the bot.
    chen_yu = await Person.get(telegram_id=TELEGRAM_PEOPLE[1][0])
    huang_li = await Person.get(telegram_id=TELEGRAM_PEOPLE[2][0])
    assert await Achievement.filter(contact_id=chen_yu.id).count() == 2
    assert await Demand.filter(contact_id=huang_li.id, source="bot").count() == 2

    # A second load adds nothing.
    models = (Organization, Achievement, Demand, Connection, Transfer, Activity)
    counts = [await m.all().count() for m in models]
    assert await load_demo() == DemoSummary(events_created=0, registrations_created=0, already_loaded=True)
    assert [await m.all().count() for m in models] == counts
