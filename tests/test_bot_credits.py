"""/credits through the fake Bot API: a broker's hours, level and progress, in Chinese and English."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.i18n import translator
from bot.routers.credits import MAX_TEXT, credits_text
from events import clock
from events.errors import N_
from events.models import Broker, Certification, Course, CreditEntry, Person
from events.services import brokers, certification, courses, credits, transcripts
from events.settings import LevelRule
from tests import test_bot as bot_tests
from tests import test_training_service as training
from tests.test_bot import ALICE, BOB, press, say, texts

world = bot_tests.world
rules = training.rules  # junior: 10 h and course JR-1, valid a year; intermediate: 20 h
zh, en = translator("zh"), translator("en")


def url_buttons(message: dict) -> list[str]:
    return [b["url"] for row in message["reply_markup"]["inline_keyboard"] for b in row if "url" in b]


async def test_a_broker_in_training_sees_hours_progress_courses_and_ledger_in_chinese(world, rules):
    tg = world.tg
    broker = await training.make_broker(1, telegram_id=ALICE)
    course, sessions = await training.make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    await credits.grant(broker.id, hours=2, reason="线下讲座补录", actor="admin")
    await credits.complete_module(course.id, "M1", broker_id=broker.id, external_id="m1", completed_at=None, actor="x")
    await training.scan_at(world.settings, enrollment, sessions[0].id)

    (reply,) = await say(tg, ALICE, "/credits")
    text = reply["text"]
    assert zh(N_("My training credits")) in text
    assert zh(N_("Total: %(total)s hours"), total="9") in text and zh(N_("this year: %(hours)s"), hours="9") in text
    assert zh(N_("Level: %(level)s · %(status)s"), level="—", status=zh(N_("in training"))) in text
    assert zh(N_("Toward %(level)s:"), level=zh(N_("Junior"))) in text
    assert "░░░░░░░░░░ 0%" in text  # 9 of 10 hours, but the required course is not done yet
    assert zh(N_("Hours: %(have)s / %(need)s"), have="9", need="10") in text
    assert zh(N_("Required courses done: %(done)s / %(all)s"), done=0, all=1) in text and "▫️ JR-1" in text
    assert "▫️ 技术经理人初级班 — " + zh(N_("%(have)s / %(offered)s hours"), have="7", offered="10") in text
    latest = text.split(zh(N_("Latest entries")))[1]
    assert latest.index(sessions[0].title) < latest.index("政策法规在线课") < latest.index("线下讲座补录")
    assert f"2026-06-01  +3 · {sessions[0].title}" in latest
    assert url_buttons(reply) == [f"https://wuchuang.test/transcripts/{brokers.transcript_token(broker)}"]
    listing = await press(tg, ALICE, zh(N_("Training courses")))
    assert "技术经理人初级班（报名）" in texts(listing)


async def test_a_certified_broker_in_english_from_the_main_menu(world, rules, frozen_clock):
    tg = world.tg
    broker = await training.make_broker(2, telegram_id=BOB)
    await Person.filter(id=broker.person_id).update(language="en")
    course, sessions = await training.make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    await credits.complete_module(course.id, "M1", broker_id=broker.id, external_id="m1", completed_at=None, actor="x")
    await training.scan_at(world.settings, enrollment, sessions[0].id)
    frozen_clock.set(sessions[1].starts_at - timedelta(minutes=5))
    await training.scan_at(world.settings, enrollment, sessions[1].id)
    granted = await credits.grant(broker.id, hours="2.5", reason="Provincial workshop", actor="admin")
    await credits.correct(broker.id, entry_id=granted.entry.id, hours=-1, reason="typo", actor="admin")
    assert await Certification.filter(broker_id=broker.id).count() == 1

    await say(tg, BOB, "/start", lang="en")
    (reply,) = await press(tg, BOB, "My training credits")
    text = reply["text"]
    assert "Total: 11.5 hours · this year: 11.5" in text
    assert "Level: Junior · certified until 8 Jun 2027" in text
    assert "Toward Intermediate:" in text and "Hours: 11.5 / 20" in text and "▓▓▓▓▓░░░░░ 57%" in text
    assert "✅ 技术经理人初级班 — 10 / 10 hours" in text
    assert "2026-06-08  -1 · Correction: typo\n2026-06-08  +2.5 · Granted: Provincial workshop" in text
    assert len(reply["raw_text"]) < MAX_TEXT and "<b>" in reply["raw_text"]
    assert url_buttons(reply) == [f"https://wuchuang.test/transcripts/{brokers.transcript_token(broker)}"]
    commands = {c["command"]: c["description"] for c in tg.my_commands(language_code="en")}
    assert commands["credits"] == "My training credits" and "credits" in {
        c["command"] for c in tg.my_commands(language_code="")
    }


async def test_someone_who_is_not_a_broker_is_shown_the_way_to_a_course(world, rules):
    tg = world.tg
    course, _ = await training.make_course()
    (reply,) = await say(tg, BOB, "/credits", lang="en")
    assert "technology brokers in training" in reply["text"] and not url_buttons(reply)
    assert await Broker.all().count() == 0
    listing = await press(tg, BOB, "Training courses")
    assert "技术经理人初级班（报名）" in texts(listing)
    (zh_reply,) = await say(tg, ALICE, "/credits")
    assert zh_reply["text"] == zh(
        N_(
            "Credit hours are kept for technology brokers in training. Enroll in a training course: "
            "each session you attend and each module you complete counts toward certification."
        )
    )


async def test_a_long_record_stays_within_one_telegram_message(db, frozen_clock):
    broker = await training.make_broker(1)
    record = await transcripts.transcript(broker.id)
    long_title = "很长的课程名称" * 40
    standings = [
        transcripts.CourseStanding(
            Course(id=i, code=f"C{i}", title=long_title), "waitlisted", Decimal(3), Decimal(9), False
        )
        for i in range(40)
    ]
    entries = [
        CreditEntry(
            id=i, hours_tenths=15, source="grant", reason="理由" * 300, earned_at=clock.now(), item=None, course=None
        )
        for i in range(40)
    ]
    assessment = certification.assess([], [], set(), certification.current_rules(), clock.now())
    long_record = transcripts.Transcript(
        record.broker, entries, record.balances, assessment, [], standings, record.generated_at
    )
    for t, locale in ((zh, "zh"), (en, "en")):
        text = credits_text(long_record, t, locale)
        assert len(text) <= MAX_TEXT and "…" in text


async def test_a_lapsed_certification_shows_what_renewing_takes(db, frozen_clock):
    certification.use_rules([LevelRule(level="junior", hours=10, valid_years=1, renewal_hours=4)])
    try:
        broker = await training.make_broker(1)
        await credits.grant(broker.id, hours=10, reason="初始学时", actor="admin")
        frozen_clock.set(frozen_clock.now + timedelta(days=400))
        await credits.grant(broker.id, hours=1, reason="继续教育", actor="admin")
        text = credits_text(await transcripts.transcript(broker.id), en, "en")
    finally:
        certification.use_rules(None)
    assert "Level: Junior · expired on 1 Jun 2027" in text
    assert "Toward renewing Junior:\n▓▓░░░░░░░░ 25%\nHours since certification: 1 / 4" in text


async def test_course_and_session_cards_tell_what_they_are_worth_and_how_to_get_in(world, rules):
    tg = world.tg
    course, sessions = await training.make_course()
    await say(tg, ALICE, "/start", lang="en")
    (card,) = await say(tg, ALICE, f"/start ev_{sessions[0].public_id}", lang="en")
    assert "Session of the course 技术经理人初级班 · 3 credit hours." in card["text"]
    assert "Enroll in the course to earn its hours; your course ticket is the pass." in card["text"]
    (course_card,) = await press(tg, ALICE, "🎓 The course")
    assert "Broker training course JR-1: 10 credit hours (2 sessions, 1 online modules)." in course_card["text"]

    broker = await training.make_broker(3, telegram_id=ALICE)
    await courses.enroll(course.id, broker.id, actor="test")
    (card,) = await say(tg, ALICE, f"/start ev_{sessions[1].public_id}", lang="en")
    assert "You are enrolled: your course ticket is your pass." in card["text"]
    assert "🎓 The course" not in str(card["reply_markup"])


async def test_credits_show_each_certificate_with_its_number_and_a_suspension(db, frozen_clock):
    certification.use_rules([LevelRule(level="junior", hours=40)])
    try:
        broker = await training.make_broker(1)
        granted = await credits.grant(broker.id, hours=40, reason="补录", actor="admin")
        number = granted.certified[0].number
        valid = credits_text(await transcripts.transcript(broker.id), en, "en")
        await credits.correct(broker.id, entry_id=granted.entry.id, hours=-36, reason="重复录入", actor="admin")
        record = await transcripts.transcript(broker.id)
        suspended_en, suspended_zh = credits_text(record, en, "en"), credits_text(record, zh, "zh")
    finally:
        certification.use_rules(None)
    assert f"Junior · <code>{number}</code> · valid until 1 Jun 2029" in valid
    assert "Level: Junior · suspended" in suspended_en
    assert f"Junior · <code>{number}</code> · suspended" in suspended_en
    assert "Toward Junior:" in suspended_en and "Hours: 4 / 40" in suspended_en
    assert f"初级 · <code>{number}</code> · 已暂停" in suspended_zh
