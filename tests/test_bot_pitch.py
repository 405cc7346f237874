"""During a roadshow, through the fake Bot API: a pitch goes on stage and its investors get the 感兴趣 / 约谈 /
评分 buttons (delivered by the dispatcher), a tap tells the project's person, whose "Interested too" connects
them at once; a tap on a pitch no longer on stage shows the one on stage now; /pitch; the line-up under the
event's card."""

from __future__ import annotations

from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot.callbacks import PitchBack, PitchTap
from bot.i18n import translator
from events.errors import N_
from events.models import Achievement, Connection, Person, PitchReaction
from events.services import investors, organizations
from events.services.roadshows import lineup, sessions
from notifications.channels import TelegramChannel
from notifications.dispatcher import Dispatcher
from notifications.producers import Producer
from notifications.roadshows import back_data, tap_data
from tests import test_bot as bot_tests
from tests.factories import make_event
from tests.fake_telegram import FakeTelegram
from tests.test_bot import ALICE, BOB, press, say, texts

world = bot_tests.world
zh, en = translator("zh"), translator("en")
EVERYTHING = organizations.EVERYTHING


async def deliver(tg: FakeTelegram) -> None:
    await Producer().drain()
    bot = tg.make_bot(default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        await Dispatcher(TelegramChannel(bot), idle_interval=0.05).drain(timeout=10)
    finally:
        await bot.session.close()


async def roadshow(tg: FakeTelegram):
    """ALICE an investor (zh), BOB the representative of two projects' first (en)."""
    await say(tg, ALICE, "/start")
    await say(tg, BOB, "/start", lang="en")
    alice, bob = await Person.get(telegram_id=ALICE), await Person.get(telegram_id=BOB)
    event = await make_event(kind="roadshow", title="光谷路演日")
    profile = await investors.create_investor(
        investors.InvestorInput(name="光谷天使基金", person_id=alice.id), organization_id=event.organization_id,
        actor="t",
    )  # fmt: skip
    fund = await sessions.add_participant(
        event.id, sessions.ParticipantInput(investor_id=profile.id), scope=EVERYTHING, actor="t"
    )
    pitches = []
    for n, contact in enumerate((bob, await Person.create(name="另一位负责人"))):
        made = await Achievement.create(
            title=f"固态电池{n}", contact_id=contact.id, managed_by_id=event.organization_id, created_by="t"
        )
        data = lineup.PitchInput(achievement_id=made.id, presenter_name=f"主讲{n}")
        pitches.append(await lineup.add_pitch(event.id, data, scope=EVERYTHING, actor="t"))
    return event, fund, pitches


def test_the_outbox_packs_the_buttons_as_the_bot_reads_them():
    assert PitchTap.unpack(tap_data("score", 12, 4)) == PitchTap(kind="s", pitch_id=12, score=4)
    assert PitchTap.unpack(tap_data("meet", 12)) == PitchTap(kind="m", pitch_id=12, score=0)
    assert PitchBack.unpack(back_data(12, 34)) == PitchBack(pitch_id=12, investor_id=34)


async def test_taps_during_a_pitch_reach_the_project_and_yes_back_connects(world):
    tg = world.tg
    event, fund, (first, second) = await roadshow(tg)
    await lineup.set_on_stage(event.id, first.id, scope=EVERYTHING, actor="t")
    mark = tg.mark()
    await deliver(tg)
    push = next(m for m in await tg.wait_for_message(ALICE, since=mark) if "🎤" in m["text"])  # (and invitations)
    assert "正在路演" in push["text"] and "固态电池0" in push["text"]
    labels = [b["text"] for b in FakeTelegram.inline_buttons(push)]
    assert labels == ["👍 感兴趣", "🤝 约谈", "⭐1", "2", "3", "4", "5"]

    # 约谈, then a score of 4: each answered on the button.
    mark = tg.mark()
    await tg.user_callback(ALICE, tap_data("meet", first.id), push)
    await tg.user_callback(ALICE, tap_data("score", first.id, 4), push)
    answers = await tg.wait_for_call("answerCallbackQuery", count=2, since=mark)
    said = [c.params.get("text") for c in answers]
    assert zh(N_("Noted: we told the project you would like to meet.")) in said
    assert zh(N_("Score %(score)s noted."), score=4) in said
    assert await PitchReaction.filter(pitch_id=first.id).count() == 2

    # The project's person hears of it (in English) and says yes back: connected at once.
    mark = tg.mark()
    await deliver(tg)
    told = next(m for m in await tg.wait_for_message(BOB, since=mark) if "👀" in m["text"])
    assert "An investor asks to meet you" in told["text"] and "光谷天使基金" in told["text"]
    (reply,) = await press(tg, BOB, "Interested too")
    assert reply["text"] == en(N_("You both said yes: you are connected, and the organizers will follow it up."))
    (connection,) = await Connection.all()
    assert connection.investor_id == fund.investor_id and connection.origin == "pitch"
    mark = tg.mark()
    await deliver(tg)
    mutual = await tg.wait_for_message(ALICE, since=mark)
    assert "你们互相感兴趣" in texts(mutual) and "固态电池0" in texts(mutual)

    # The next pitch goes on stage; the old buttons answer with the pitch on stage now.
    await lineup.set_on_stage(event.id, second.id, scope=EVERYTHING, actor="t")
    mark = tg.mark()
    await tg.user_callback(ALICE, tap_data("interest", first.id), push)
    (now,) = await tg.wait_for_message(ALICE, since=mark)
    assert "固态电池1" in now["text"] and FakeTelegram.inline_buttons(now)
    stale = await tg.wait_for_call("answerCallbackQuery", since=mark)
    assert stale[0].params.get("text") == zh(N_("That pitch is no longer on stage."))

    # /pitch: the investor gets the buttons, the project's person (not an investor) only the pitch.
    (shown,) = await say(tg, ALICE, "/pitch")
    assert "固态电池1" in shown["text"] and FakeTelegram.inline_buttons(shown)
    (plain,) = await say(tg, BOB, "/pitch", lang="en")
    assert "固态电池1" in plain["text"] and not FakeTelegram.inline_buttons(plain)


async def test_the_event_card_shows_the_line_up(world):
    tg = world.tg
    event, _, _ = await roadshow(tg)
    await lineup.move_pitch(event.id, (await lineup.lineup(event.id))[1].id, 1, recompute_times=True,
                            scope=EVERYTHING, actor="t")  # fmt: skip
    await say(tg, ALICE, "/events")
    (card,) = await press(tg, ALICE, "光谷路演日")
    assert "路演议程" in card["text"]
    assert card["text"].index("1. ") < card["text"].index("固态电池1") < card["text"].index("固态电池0")
