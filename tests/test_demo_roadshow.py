"""The roadshow demo through the services: twelve projects of the supply library with their presenters, ten
verified investors (one the demo's Telegram user), interest both ways, a held session with ratings and a
signed follow-up whose contract counts in the goals, a session to come with scheduled meetings, pending and
declined requests, matched pitches pushed (capped) — a funnel with every stage."""

from __future__ import annotations

import pytest

from events.models import (
    Activity,
    Event,
    Investor,
    MeetingRequest,
    MeetingStatus,
    OutboxMessage,
    Participant,
    ParticipantRole,
    Person,
    PitchStatus,
    Transfer,
)
from events.services import goals, organizations
from events.services.roadshows import lineup, outcomes
from notifications.producers import Limits, Producer
from tests.test_demo_supply import _programme_without_supply
from wuchuang.demo import TELEGRAM_PEOPLE, DemoSummary, load_demo
from wuchuang.demo_roadshow import TELEGRAM_INVESTOR, RoadshowSummary

pytestmark = pytest.mark.slow  # the supply library loads first


async def test_the_roadshow_demo_has_a_whole_funnel(db, frozen_clock):
    await _programme_without_supply()
    summary = await load_demo(competitions=False)  # the contests are tested on their own
    r = summary.roadshow
    assert r.event_id is not None and (r.projects, r.investors) == (12, 10)
    assert r.interest > 20 and r.mutual >= 1 and r.meetings >= 12 and r.pending >= 2 and r.declined == 1
    assert r.rated >= 1 and r.signed == 1 and r.matched_pitches >= 10

    event = await Event.get(id=r.event_id)
    assert event.kind == "roadshow" and "产医融合项目路演" in event.title
    projects = await Participant.filter(event_id=event.id, role=ParticipantRole.PROJECT).select_related("achievement")
    assert all(p.achievement is not None and p.achievement.created_by == "demo" for p in projects)
    assert len({p.person_id for p in projects}) == 12  # each with its presenter
    programme = await lineup.lineup(event.id)
    assert [p.position for p in programme] == list(range(1, 13)) and r.lineup == 12
    assert {p.project_id for p in programme} == {p.id for p in projects}
    assert all(p.status == PitchStatus.DONE and p.presenter_name for p in programme)
    starts = [p.starts_at for p in programme]
    assert all(s is not None for s in starts) and starts == sorted(starts)  # type: ignore[type-var]
    funds = await Investor.filter(meeting_participations__event_id=event.id).select_related("person")
    assert len(funds) == 10 and all(f.verified and f.stages and f.ticket_min_cny for f in funds)
    telegram_id = TELEGRAM_PEOPLE[1][0]
    assert any(f.person is not None and f.person.telegram_id == telegram_id for f in funds)

    funnel = await outcomes.funnel(event.id, organizations.EVERYTHING)
    assert funnel.interest > 0 and funnel.requests > funnel.meetings > funnel.held > 0
    assert funnel.rated > 0 and funnel.positive > 0 and funnel.signed == 1 and funnel.transfers == 1
    scheduled = await MeetingRequest.filter(session__event_id=event.id, origin="scheduler").count()
    assert scheduled >= 12
    assert await MeetingRequest.filter(session__event_id=event.id, status=MeetingStatus.PENDING).count() >= 2
    contract = await Transfer.get(meeting_outcomes__request__session__event_id=event.id)
    assert contract.amount_cny == 8_000_000 and contract.achievement_id in {p.achievement_id for p in projects}
    turnover = next(g for g in await goals.list_goals() if g.key == "contract_turnover")
    assert turnover.current >= 800  # 万元: the roadshow's contract is in it

    # The pitches that fit each verified investor are found and written for the pushes, which share the weekly
    # allowance with the library's matches (the two funds on Telegram have theirs used by those already).
    facts = await Activity.filter(kind="roadshow.pitches_matched", event_id=event.id)
    assert len(facts) == 10 and all(f.payload["pitches"] for f in facts)
    await Producer(limits=Limits(matches_per_week=5)).drain()
    for telegram in (telegram_id, TELEGRAM_INVESTOR[0]):
        person = await Person.get(telegram_id=telegram)
        assert await OutboxMessage.filter(person_id=person.id, dedup_key__startswith="matched:").count() == 5

    again = await load_demo(competitions=False)
    assert again == DemoSummary(events_created=0, registrations_created=0, already_loaded=True)
    assert (await load_demo(competitions=False)).roadshow == RoadshowSummary()
