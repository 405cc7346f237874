"""A roadshow's line-up and the taps during a pitch, through the services: positions stay 1..n however the
pitches are added, moved (also at once) and removed; one pitch on stage at a time; investors' 感兴趣 / 约谈 /
评分 feed the scheduler's interest and reach the project; mutual interest connects the pair exactly once,
also when both sides say yes at the same moment; the calendar lists the line-up; the bad input of the issue."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from events.errors import (
    AlreadyInLineup,
    InvalidInput,
    NotAnInvestor,
    NotARoadshow,
    NotTheProject,
    PitchNotOnStage,
)
from events.models import (
    Achievement,
    Activity,
    Connection,
    MeetingInterest,
    OutboxMessage,
    Person,
    Pitch,
    PitchReaction,
    PitchReactionKind,
    PitchStatus,
)
from events.services import investors, organizations
from events.services.roadshows import lineup, pitch_interest, sessions
from notifications.producers import Producer
from tests.factories import make_event

EVERYTHING = organizations.EVERYTHING


async def roadshow(projects: int = 3, investors_n: int = 2) -> tuple[Any, list[Pitch], list[Any]]:
    """A published roadshow with ``projects`` pitches (achievements, made participants on the fly) and
    ``investors_n`` investor participants with Telegram."""
    event = await make_event(kind="roadshow", title="光谷路演日")
    pitches = []
    for n in range(projects):
        person = await Person.create(name=f"项目负责人{n}", telegram_id=7000 + n)
        achievement = await Achievement.create(
            title=f"成果{n}", contact_id=person.id, managed_by_id=event.organization_id, created_by="t"
        )
        data = lineup.PitchInput(achievement_id=achievement.id, presenter_name=f"主讲{n}", minutes=10)
        pitches.append(await lineup.add_pitch(event.id, data, scope=EVERYTHING, actor="test"))
    funds = []
    for n in range(investors_n):
        person = await Person.create(name=f"投资人{n}", telegram_id=8000 + n)
        profile = await investors.create_investor(
            investors.InvestorInput(name=f"光谷基金{n}", person_id=person.id), organization_id=event.organization_id,
            actor="test",
        )  # fmt: skip
        data = sessions.ParticipantInput(investor_id=profile.id)
        funds.append(await sessions.add_participant(event.id, data, scope=EVERYTHING, actor="test"))
    return event, pitches, funds


async def positions(event_id: int) -> list[tuple[int, int]]:
    return [(p.position, p.id) for p in await lineup.lineup(event_id)]


def contiguous(found: list[tuple[int, int]]) -> bool:
    return [p for p, _ in found] == list(range(1, len(found) + 1))


async def test_the_line_up_keeps_positions_one_to_n(db):
    event, (a, b, c), _ = await roadshow()
    assert await positions(event.id) == [(1, a.id), (2, b.id), (3, c.id)]
    assert a.project.role == "project" and a.project.achievement_id is not None
    # Inserted first: the others move down.
    person = await Person.create(name="公司代表")
    d = await lineup.add_pitch(
        event.id, lineup.PitchInput(organization="光谷量子科技有限公司", person_id=person.id, position=1),
        scope=EVERYTHING, actor="t",
    )  # fmt: skip
    assert await positions(event.id) == [(1, d.id), (2, a.id), (3, b.id), (4, c.id)]
    await lineup.move_pitch(event.id, d.id, 3, scope=EVERYTHING, actor="t")
    assert await positions(event.id) == [(1, a.id), (2, b.id), (3, d.id), (4, c.id)]
    await lineup.move_pitch(event.id, a.id, 99, scope=EVERYTHING, actor="t")  # clamped to the end
    assert await positions(event.id) == [(1, b.id), (2, d.id), (3, c.id), (4, a.id)]
    await lineup.remove_pitch(event.id, d.id, scope=EVERYTHING, actor="t")
    assert await positions(event.id) == [(1, b.id), (2, c.id), (3, a.id)]
    # The same project twice, and a line-up on a plain event.
    with pytest.raises(AlreadyInLineup):
        await lineup.add_pitch(event.id, lineup.PitchInput(participant_id=b.project_id), scope=EVERYTHING, actor="t")
    plain = await make_event()
    with pytest.raises(NotARoadshow):
        await lineup.add_pitch(plain.id, lineup.PitchInput(organization="某公司"), scope=EVERYTHING, actor="t")
    with pytest.raises(InvalidInput):  # two projects named
        await lineup.add_pitch(
            event.id, lineup.PitchInput(organization="某公司", participant_id=b.project_id), scope=EVERYTHING,
            actor="t",
        )  # fmt: skip


async def test_recomputed_times_follow_the_order_from_the_event_start(db):
    event, (a, b, c), _ = await roadshow()
    await lineup.update_pitch(event.id, b.id, lineup.PitchUpdate(minutes=20), scope=EVERYTHING, actor="t")
    await lineup.update_pitch(event.id, c.id, lineup.PitchUpdate(status=PitchStatus.SKIPPED), scope=EVERYTHING,
                              actor="t")  # fmt: skip
    pitches = await lineup.move_pitch(event.id, b.id, 1, recompute_times=True, scope=EVERYTHING, actor="t")
    assert [p.id for p in pitches] == [b.id, a.id, c.id]
    assert pitches[0].starts_at == event.starts_at
    assert pitches[1].starts_at == event.starts_at + timedelta(minutes=20)
    assert pitches[2].starts_at is None  # skipped: no time
    assert lineup.describe(pitches[0]).startswith("1. ")


async def test_concurrent_moves_keep_the_order_consistent(db):
    event, pitches, _ = await roadshow(projects=6, investors_n=0)
    moves = [(p.id, (i * 5) % 6 + 1) for i, p in enumerate(pitches)] * 2
    await asyncio.gather(*(lineup.move_pitch(event.id, pid, at, scope=EVERYTHING, actor="t") for pid, at in moves))
    found = await positions(event.id)
    assert contiguous(found) and sorted(pid for _, pid in found) == sorted(p.id for p in pitches)


async def test_only_one_pitch_is_on_stage_and_the_last_one_is_done(db):
    event, (a, b, c), _ = await roadshow()
    await lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t")
    change = await lineup.set_on_stage(event.id, b.id, scope=EVERYTHING, actor="t")
    assert change.previous is not None and change.previous.id == a.id
    assert {p.id: p.status for p in await lineup.lineup(event.id)} == {
        a.id: PitchStatus.DONE,
        b.id: PitchStatus.ON_STAGE,
        c.id: PitchStatus.PLANNED,
    }
    await asyncio.gather(
        lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t"),
        lineup.set_on_stage(event.id, c.id, scope=EVERYTHING, actor="t"),
    )
    assert await Pitch.filter(event_id=event.id, status=PitchStatus.ON_STAGE).count() == 1
    with pytest.raises(InvalidInput):
        await lineup.update_pitch(event.id, a.id, lineup.PitchUpdate(status=PitchStatus.ON_STAGE), scope=EVERYTHING,
                                  actor="t")  # fmt: skip


async def test_an_investors_taps_feed_interest_and_tell_the_project(db):
    event, (a, b, _), (fund, _) = await roadshow()
    await lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t")
    investor_person = fund.person_id
    first = await pitch_interest.react(
        a.id, person_id=investor_person, kind=PitchReactionKind.INTEREST, origin="bot", actor="t"
    )
    again = await pitch_interest.react(
        a.id, person_id=investor_person, kind=PitchReactionKind.INTEREST, origin="bot", actor="t"
    )
    assert first.created and not again.created and not first.mutual
    meet = await pitch_interest.react(a.id, person_id=investor_person, kind=PitchReactionKind.MEET, origin="bot",
                                      actor="t")  # fmt: skip
    assert meet.created
    interest = await MeetingInterest.get(source_id=fund.id, target_id=a.project_id)
    assert interest.origin == "pitch" and interest.strength == "meet"
    # A score, changed; out of range refused.
    await pitch_interest.react(a.id, person_id=investor_person, kind=PitchReactionKind.SCORE, score=3, origin="bot",
                               actor="t")  # fmt: skip
    await pitch_interest.react(a.id, person_id=investor_person, kind=PitchReactionKind.SCORE, score=5, origin="bot",
                               actor="t")  # fmt: skip
    for bad in (0, 6, None):
        with pytest.raises(InvalidInput) as error:
            await pitch_interest.react(a.id, person_id=investor_person, kind=PitchReactionKind.SCORE, score=bad,
                                       origin="bot", actor="t")  # fmt: skip
        assert error.value.params["field"] == "score"
    assert await PitchReaction.filter(pitch_id=a.id).count() == 3
    tally = await pitch_interest.interest_in(event.id, a.id, EVERYTHING)
    assert (tally.interested, tally.meet, tally.scores, tally.average_score) == (1, 1, 1, 5.0)
    # The project's person hears of it (once per kind), with the button to say yes back.
    await Producer().drain()
    told = await OutboxMessage.filter(person_id=a.project.person_id, dedup_key__startswith="pitch:interest:")
    assert len(told) == 2 and told[0].buttons and told[0].buttons[0][0]["callback_data"].startswith("pb:")
    # Bad input: a pitch not on stage (with the one on stage named), a non-investor.
    with pytest.raises(PitchNotOnStage) as stale:
        await pitch_interest.react(b.id, person_id=investor_person, kind=PitchReactionKind.INTEREST, origin="bot",
                                   actor="t")  # fmt: skip
    assert stale.value.params["current"] == a.id
    with pytest.raises(NotAnInvestor):
        await pitch_interest.react(a.id, person_id=a.project.person_id, kind=PitchReactionKind.INTEREST, origin="bot",
                                   actor="t")  # fmt: skip


async def test_going_on_stage_pushes_the_buttons_to_the_investors(db):
    event, (a, _, _), funds = await roadshow()
    await lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t")
    await Producer().drain()
    pushed = await OutboxMessage.filter(dedup_key__startswith="pitch:on_stage:").order_by("person_id")
    assert [m.person_id for m in pushed] == sorted(f.person_id for f in funds)
    assert pushed[0].urgent and pushed[0].buttons is not None
    data = [b["callback_data"] for row in pushed[0].buttons for b in row]
    assert data[:2] == [f"pk:i:{a.id}:0", f"pk:m:{a.id}:0"] and data[-1] == f"pk:s:{a.id}:5"
    assert "成果0" in pushed[0].text


async def test_mutual_interest_connects_the_pair_once_and_tells_both(db):
    event, (a, _, _), (fund, _) = await roadshow()
    await lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t")
    await pitch_interest.react(a.id, person_id=fund.person_id, kind=PitchReactionKind.INTEREST, origin="bot",
                               actor="t")  # fmt: skip
    with pytest.raises(NotTheProject):
        await pitch_interest.answer_interest(a.id, fund.id, person_id=fund.person_id, origin="bot", actor="t")
    with pytest.raises(InvalidInput):  # not an investor
        await pitch_interest.answer_interest(a.id, a.project_id, person_id=a.project.person_id, origin="bot", actor="t")
    answer = await pitch_interest.answer_interest(a.id, fund.id, person_id=a.project.person_id, origin="bot",
                                                  actor="t")  # fmt: skip
    assert answer.mutual and answer.connection_id is not None
    again = await pitch_interest.answer_interest(a.id, fund.id, person_id=a.project.person_id, origin="bot",
                                                 actor="t")  # fmt: skip
    assert not again.created and again.connection_id == answer.connection_id
    connection = await Connection.get(id=answer.connection_id)
    assert (connection.achievement_id, connection.investor_id) == (a.project.achievement_id, fund.investor_id)
    assert connection.origin == "pitch"
    await Producer().drain()
    told = {m.person_id for m in await OutboxMessage.filter(dedup_key__startswith="pitch:mutual:")}
    assert told == {a.project.person_id, fund.person_id}
    # No generic "someone wants to connect" notice on top of it.
    assert not await OutboxMessage.filter(dedup_key__contains=f"connection:{connection.id}").exists()


@pytest.mark.parametrize("rounds", [4])
async def test_both_sides_saying_yes_at_once_connect_exactly_once(db, rounds):
    event, pitches, funds = await roadshow(projects=rounds, investors_n=2)
    for pitch in pitches:
        await lineup.set_on_stage(event.id, pitch.id, scope=EVERYTHING, actor="t")
        calls = []
        for fund in funds:
            calls.append(pitch_interest.react(pitch.id, person_id=fund.person_id, kind=PitchReactionKind.MEET,
                                              origin="bot", actor="t"))  # fmt: skip
            calls.append(pitch_interest.answer_interest(pitch.id, fund.id, person_id=pitch.project.person_id,
                                                        origin="bot", actor="t"))  # fmt: skip
        await asyncio.gather(*calls)
    assert await Connection.filter(origin="pitch").count() == rounds * len(funds)
    # Every pair was found mutual exactly once (the fact that tells both sides).
    assert await Activity.filter(kind="pitch.mutual").count() == rounds * len(funds)


async def test_the_calendar_entry_lists_the_line_up(db):
    from events.services.calendar import FeedRenderer, scope_for_event

    event, (a, b, _), _ = await roadshow()
    await lineup.move_pitch(event.id, b.id, 1, recompute_times=True, scope=EVERYTHING, actor="t")
    renderer = FeedRenderer(base_url="https://wuchuang.example", timezone="Asia/Shanghai")
    feed = (await renderer.public_feed(await scope_for_event(event.id))).body.decode()
    unfolded = feed.replace("\r\n ", "")
    assert "路演项目 Line-up:" in unfolded
    assert unfolded.index("1. ") < unfolded.index("成果1") < unfolded.index("成果0")
    local = event.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert f"1. {local:%H:%M}" in unfolded


async def test_the_api_edits_the_line_up_and_tells_interest(client, db):
    from tests.factories import bearer, make_token

    headers = bearer(await make_token(role="admin"))
    event, (a, b, c), (fund, _) = await roadshow()
    base = f"/api/v1/roadshows/{event.id}/lineup"
    person = await Person.create(name="路演人")
    made = await client.post(
        base, json={"organization": "光谷微纳有限公司", "person_id": person.id, "position": 2, "minutes": 15},
        headers=headers | {"Idempotency-Key": "pitch-1"},
    )  # fmt: skip
    assert made.status_code == 201 and made.json()["position"] == 2
    assert made.json()["project"]["title"] == "光谷微纳有限公司"
    replay = await client.post(
        base, json={"organization": "光谷微纳有限公司", "person_id": person.id, "position": 2, "minutes": 15},
        headers=headers | {"Idempotency-Key": "pitch-1"},
    )  # fmt: skip
    assert replay.status_code == 201 and replay.json()["id"] == made.json()["id"]
    twice = await client.post(base, json={"participant_id": a.project_id}, headers=headers)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_in_lineup"
    first = await client.get(base, params={"limit": 2}, headers=headers)
    assert [p["position"] for p in first.json()["items"]] == [1, 2] and first.json()["next_cursor"]
    rest = await client.get(base, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=headers)
    assert [p["position"] for p in rest.json()["items"]] == [3, 4] and rest.json()["next_cursor"] is None
    moved = await client.post(f"{base}/{c.id}/move", json={"position": 1, "recompute_times": True}, headers=headers)
    assert [p["id"] for p in moved.json()["items"]][:1] == [c.id]
    assert moved.json()["items"][1]["starts_at"] == moved.json()["items"][0]["ends_at"]
    assert moved.json()["items"][0]["starts_at"].endswith("+08:00")  # local time, as events show theirs
    patched = await client.patch(f"{base}/{b.id}", json={"presenter_name": "李博士"}, headers=headers)
    assert patched.status_code == 200 and patched.json()["presenter_name"] == "李博士"
    assert (await client.delete(f"{base}/{made.json()['id']}", headers=headers)).status_code == 204
    assert [p["position"] for p in (await client.get(base, headers=headers)).json()["items"]] == [1, 2, 3]
    # On stage, an investor's tap, the tally, and the project's yes back.
    stage = await client.post(f"{base}/{a.id}/on-stage", headers=headers)
    assert stage.status_code == 200 and stage.json()["pitch"]["status"] == "on_stage"
    await pitch_interest.react(a.id, person_id=fund.person_id, kind=PitchReactionKind.INTEREST, origin="bot",
                               actor="t")  # fmt: skip
    tally = await client.get(f"{base}/{a.id}/interest", headers=headers)
    assert tally.json()["interested"] == 1 and tally.json()["investors"][0]["mutual"] is False
    yes = await client.post(f"{base}/{a.id}/interest-back", json={"investor_id": fund.id}, headers=headers)
    assert yes.status_code == 200 and yes.json()["mutual"] and yes.json()["connection_id"]
    assert (await client.get(f"{base}/{a.id}/interest", headers=headers)).json()["investors"][0]["mutual"]
    # Bad input: a minutes of 0, a pitch of another event, the project as "investor".
    assert (await client.patch(f"{base}/{b.id}", json={"minutes": 0}, headers=headers)).status_code == 422
    other, _, _ = await roadshow(projects=0, investors_n=0)
    missing = await client.get(f"/api/v1/roadshows/{other.id}/lineup/{a.id}", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "pitch_not_found"
    wrong = await client.post(f"{base}/{a.id}/interest-back", json={"investor_id": b.project_id}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "investor_id"
    # The public page lists it in order, at local time.
    page = await client.get(f"/events/{event.id}/lineup")
    assert page.status_code == 200 and page.text.index("成果2") < page.text.index("成果0") < page.text.index("成果1")
    assert "正在路演" in page.text


async def test_the_mini_app_taps_with_signed_init_data(db, frozen_clock):
    import httpx
    from pydantic import SecretStr

    from api.app import create_app
    from events import clock
    from tests.fake_telegram import FakeTelegram

    event, (a, b, _), (fund, _) = await roadshow()
    investor = await Person.get(id=fund.person_id)
    await lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t")
    async with FakeTelegram(token="42:TEST") as tg:
        settings = db.model_copy(update={"bot_token": SecretStr("42:TEST")})
        app = create_app(settings, manage_db=False)
        now = int(clock.now().timestamp())
        signed = tg.web_app_init_data(investor.telegram_id, auth_date=now)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            shown = await http.post("/api/v1/webapp/pitch", json={"init_data": signed})
            assert shown.status_code == 200
            assert [(i["pitch_id"], i["investor"]) for i in shown.json()["items"]] == [(a.id, True)]
            tap = {"init_data": signed, "pitch_id": a.id, "kind": "score", "score": 4}
            assert (await http.post("/api/v1/webapp/pitch-taps", json=tap)).status_code == 200
            bad = await http.post("/api/v1/webapp/pitch-taps", json=tap | {"score": 9})
            assert bad.status_code == 422 and bad.json()["error"]["field"] == "score"
            stale = await http.post("/api/v1/webapp/pitch-taps", json=tap | {"pitch_id": b.id})
            assert stale.status_code == 409 and stale.json()["error"]["code"] == "pitch_not_on_stage"
            assert stale.json()["error"]["current"] == a.id
            outsider = tg.web_app_init_data(a.project.person.telegram_id, auth_date=now)
            refused = await http.post("/api/v1/webapp/pitch-taps", json=tap | {"init_data": outsider})
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_an_investor"
            forged = await http.post("/api/v1/webapp/pitch-taps", json=tap | {"init_data": signed + "0"})
            assert forged.status_code == 401
            page = await http.get("/pitch/telegram")
            assert "/api/v1/webapp/pitch-taps" in page.text
    assert (await PitchReaction.get(pitch_id=a.id, kind=PitchReactionKind.SCORE)).score == 4


async def test_at_a_scored_roadshow_its_judges_score_but_do_not_show_interest(db):
    from events.models import Competition, Judge

    event, (a, _, _), (fund, _) = await roadshow()
    competition = await Competition.create(
        title="英雄杯决赛", final_event_id=event.id, managed_by_id=event.organization_id, created_by="t"
    )
    judge = await Person.create(name="评委甲", telegram_id=9100)
    await Judge.create(competition_id=competition.id, person_id=judge.id, name="评委甲", created_by="t")
    await lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t")
    await Producer().drain()
    pushed = await OutboxMessage.get(dedup_key__startswith="pitch:on_stage:", person_id=judge.id)
    assert pushed.buttons is not None and [b["callback_data"] for b in pushed.buttons[0]][0] == f"pk:s:{a.id}:1"
    assert len(pushed.buttons) == 1  # scores only
    await pitch_interest.react(a.id, person_id=judge.id, kind=PitchReactionKind.SCORE, score=2, origin="bot",
                               actor="t")  # fmt: skip
    await pitch_interest.react(a.id, person_id=fund.person_id, kind=PitchReactionKind.SCORE, score=4, origin="bot",
                               actor="t")  # fmt: skip
    with pytest.raises(NotAnInvestor):
        await pitch_interest.react(a.id, person_id=judge.id, kind=PitchReactionKind.INTEREST, origin="bot", actor="t")
    tally = await pitch_interest.interest_in(event.id, a.id, EVERYTHING)
    assert (tally.scores, tally.average_score, tally.judge_scores, tally.judge_average) == (1, 4.0, 1, 2.0)
    assert [p.id for p in await pitch_interest.on_stage_for(judge.id)] == [a.id]
    assert not await MeetingInterest.filter(target_id=a.project_id).exists()


@pytest.mark.parametrize("locked", [True, False])
async def test_the_control_without_the_lock_misses_a_mutual_yes(db, monkeypatch, locked):
    """The control of the race test above: both sides' writes are held until both have inserted their
    interest. With the project's row lock the second waits for the first and finds the interest mutual; without
    it (PostgreSQL, where the two really run at once) neither sees the other's uncommitted row and the pair is
    never connected — which is what the lock is for."""
    import contextlib

    if not locked and not str(db.database_url).startswith("postgres"):
        pytest.skip("SQLite runs one write transaction at a time: there is no race to show")
    event, (a,), (fund,) = await roadshow(projects=1, investors_n=1)
    await lineup.set_on_stage(event.id, a.id, scope=EVERYTHING, actor="t")
    real = pitch_interest._interest
    arrived: list[bool] = []
    both = asyncio.Event()

    async def held(*args: Any, **kwargs: Any) -> bool:
        made = await real(*args, **kwargs)
        arrived.append(made)
        if len(arrived) == 2:
            both.set()
        # With the lock the second is blocked until the first commits, so the first can only wait briefly;
        # without it nothing blocks the second, so the first waits for it however slow the machine is.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 0.5 if locked else 60)
        return made

    async def no_lock(*_: Any) -> None:
        return None

    # Without the lock, each also waits after reading whether the other side said yes until both have
    # read: on a loaded machine one could otherwise commit before the other reads, and the race would
    # not happen (the control would show nothing).
    checked: list[bool] = []
    both_checked = asyncio.Event()

    class Reads:
        def __init__(self, query: Any) -> None:
            self.query = query

        def using_db(self, conn: Any) -> Reads:
            return Reads(self.query.using_db(conn))

        async def exists(self) -> bool:
            found = bool(await self.query.exists())
            checked.append(found)
            if len(checked) == 2:
                both_checked.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both_checked.wait(), 60)
            return found

    class HeldInterest:
        """``MeetingInterest`` for the service, its ``filter(...).exists()`` held as above."""

        get_or_none = MeetingInterest.get_or_none
        create = MeetingInterest.create

        @staticmethod
        def filter(*args: Any, **kwargs: Any) -> Reads:
            return Reads(MeetingInterest.filter(*args, **kwargs))

    monkeypatch.setattr(pitch_interest, "_interest", held)
    if not locked:
        monkeypatch.setattr(pitch_interest, "_lock_participant", no_lock)
        monkeypatch.setattr(pitch_interest, "MeetingInterest", HeldInterest)
    await asyncio.gather(
        pitch_interest.react(a.id, person_id=fund.person_id, kind=PitchReactionKind.MEET, origin="bot", actor="t"),
        pitch_interest.answer_interest(a.id, fund.id, person_id=a.project.person_id, origin="bot", actor="t"),
    )
    assert await MeetingInterest.filter(target_id=a.project_id).count() == 1  # both wrote their side
    assert locked or (both.is_set() and both_checked.is_set())  # without the lock the two really overlapped
    assert await Activity.filter(kind="pitch.mutual").count() == (1 if locked else 0)
    assert await Connection.filter(origin="pitch").count() == (1 if locked else 0)
