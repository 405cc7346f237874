"""A bot that never traps: commands, menu labels and 取消 leave any flow; anything else gets a hint.

Through the fake Bot API, like tests/test_bot.py: each command and each main-menu label typed in the
middle of each registration step, the Cancel button of each step, free text outside a flow, and a
second tap on 报名 when the person is registered already.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PIL import Image

from bot.app import build_dispatcher
from bot.i18n import translator
from events.errors import N_
from events.labels import status as status_label
from events.models import Person, Registration
from events.services import tickets
from events.settings import Settings
from tests import test_bot as bot_tests
from tests.factories import make_event, make_registration
from tests.test_bot import ALICE, BOB, press, say, texts

world = bot_tests.world
zh, en = translator("zh"), translator("en")
STEPS = ("name", "organization", "phone", "answer", "confirm")
QUESTION = {"key": "need", "label": "技术需求", "label_en": "Your technology need"}


@dataclass(frozen=True)
class Interrupt:
    """Something typed in the middle of a step, and what its reply must show."""

    text: str
    shows: Callable[[Callable[..., str]], str]
    replies: int = 1
    lang: str = "zh-hans"

    @property
    def t(self) -> Callable[..., str]:
        return en if self.lang == "en" else zh


NOT_A_BROKER = N_(
    "Credit hours are kept for technology brokers in training. Enroll in a training course: "
    "each session you attend and each module you complete counts toward certification."
)
COMMANDS = [
    Interrupt("/start", lambda t: t(N_("Start and main menu")) and "武创荟"),
    Interrupt("/events", lambda t: t(N_("Upcoming events (page %(page)s):"), page=1)),
    Interrupt("/my", lambda t: t(N_("You have no upcoming registrations."))),
    Interrupt("/credits", lambda t: t(NOT_A_BROKER)),
    Interrupt("/prefs", lambda t: t(N_("What would you like to hear about?"))),
    Interrupt("/lang", lambda t: t(N_("Choose your language:"))),
    Interrupt("/scan", lambda t: t(N_("Scanning is for door staff. Ask the organizer to add you."))),
    Interrupt("/broadcast", lambda t: t(N_("Announcements are for organizers."))),
    Interrupt("/help", lambda t: "/events"),
    Interrupt("/cancel", lambda t: t(N_("Cancelled.")), replies=2),
]
MENU_SHOWS: dict[str, Callable[[Callable[..., str]], str]] = {
    "Upcoming events": lambda t: t(N_("Upcoming events (page %(page)s):"), page=1),
    "By kind": lambda t: t(N_("Choose:")),
    "By series": lambda t: t(N_("Choose:")),
    "Search": lambda t: t(N_("Send a keyword, e.g. 人工智能 or 光谷:")),
    "By district": lambda t: t(N_("Choose:")),
    "My registrations": lambda t: t(N_("You have no upcoming registrations.")),
    "My calendar": lambda t: "webcal://",
    "My training credits": lambda t: t(NOT_A_BROKER),
    "Preferences": lambda t: t(N_("What would you like to hear about?")),
}
MENU_LABELS = [Interrupt(zh(label), shows) for label, shows in MENU_SHOWS.items()]
ENGLISH = [
    Interrupt("/my", COMMANDS[2].shows, lang="en"),
    Interrupt("/cancel", COMMANDS[-1].shows, replies=2, lang="en"),
    Interrupt("My calendar", MENU_SHOWS["My calendar"], lang="en"),
    Interrupt(
        "🎓 My training credits", MENU_SHOWS["My training credits"], lang="en"
    ),  # with its icon, as on the button
    Interrupt("取消", COMMANDS[-1].shows, replies=2, lang="en"),  # either language's word works
]


async def into_step(tg, step: str, *, lang: str = "zh-hans", user: int = ALICE) -> None:
    """Open an event's card and walk its registration up to ``step``."""
    t = en if lang == "en" else zh
    event = await make_event(questions=[QUESTION])
    await say(tg, user, f"/start ev_{event.public_id}", lang=lang)
    known = step in ("answer", "confirm")  # a known phone skips to the event's questions
    await Person.filter(telegram_id=user).update(phone="13800001234" if known else None, name="测试")
    asked = await press(tg, user, t(N_("Register")))
    if step in ("name", "answer"):
        return
    if step == "confirm":
        await say(tg, user, "光刻胶", lang=lang)
        return
    await say(tg, user, "李明", lang=lang)
    if step == "organization":
        return
    await say(tg, user, "华中科技大学", lang=lang)
    assert asked


async def outside_any_flow(tg, lang: str = "zh-hans", user: int = ALICE) -> None:
    """Free text now gets the hint: no step is waiting for it."""
    t = en if lang == "en" else zh
    hint = await say(tg, user, "李明", lang=lang)
    assert t(N_("I did not understand that. Choose from the menu below, or send /help.")) in texts(hint)


@pytest.mark.parametrize("typed", COMMANDS + MENU_LABELS + ENGLISH, ids=lambda i: f"{i.lang[:2]}:{i.text}")
async def test_a_command_or_menu_label_leaves_each_registration_step(world, typed: Interrupt):
    tg = world.tg
    for step in STEPS:
        await into_step(tg, step, lang=typed.lang)
        reply = await say(tg, ALICE, typed.text, count=typed.replies, lang=typed.lang)
        assert typed.shows(typed.t) in texts(reply), (step, texts(reply))
        person = await Person.get(telegram_id=ALICE)
        assert typed.text not in (person.name, person.organization), step  # not taken for an answer
        if typed.text.endswith(zh(N_("Search"))) or typed.text == en(N_("Search")):
            continue  # searching is a step of its own
        await outside_any_flow(tg, typed.lang)
    assert await Registration.filter(telegram_id=ALICE).count() == 0


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
async def test_every_registration_step_has_a_cancel_button(world, step: str, lang: str):
    tg = world.tg
    t = en if lang == "en" else zh
    await into_step(tg, step, lang=lang)
    prompt = tg.last_message(ALICE)
    if step == "phone":  # the step's keyboard is Telegram's reply keyboard: its Cancel sends the word
        keyboard = [b["text"] for row in prompt["reply_markup"]["keyboard"] for b in row]
        assert "✖️ " + t(N_("Cancel")) in keyboard
        done = await say(tg, ALICE, "✖️ " + t(N_("Cancel")), count=2, lang=lang)
        assert done[0]["reply_markup"] == {"remove_keyboard": True}
    else:
        done = await press(tg, ALICE, t(N_("Cancel")))
    assert t(N_("Cancelled.")) in texts(done)
    assert any(t(N_("My registrations")) in b["text"] for b in tg.inline_buttons(done[-1]))  # the menu
    await outside_any_flow(tg, lang)
    assert await Registration.filter(telegram_id=ALICE).count() == 0


async def test_free_text_and_other_messages_outside_a_flow_get_a_hint_and_the_menu(world):
    tg = world.tg
    for user, lang, t in ((ALICE, "zh-hans", zh), (BOB, "en", en)):
        for text in ("你好", "hello", "/nonsense"):
            reply = await say(tg, user, text, lang=lang)
            assert texts(reply) == t(N_("I did not understand that. Choose from the menu below, or send /help."))
            assert any(t(N_("Upcoming events")) in b["text"] for b in tg.inline_buttons(reply[-1]))
    await tg.user_document(BOB, b"%PDF-1.4", "plan.pdf")
    assert en(N_("I did not understand that. Choose from the menu below, or send /help.")) in texts(
        await tg.wait_for_message(BOB)
    )
    nothing = await say(tg, BOB, "/cancel", count=2, lang="en")
    assert en(N_("Nothing to cancel.")) in texts(nothing)


async def test_a_step_that_wants_a_button_says_so_with_a_way_out(world):
    tg = world.tg
    await into_step(tg, "confirm")
    await tg.user_document(ALICE, b"%PDF-1.4", "plan.pdf")
    reply = await tg.wait_for_message(ALICE)
    assert zh(N_("Please answer with text, or tap a button above. /cancel to leave.")) in texts(reply)
    assert [b["text"] for b in tg.inline_buttons(reply[-1])] == ["✖️ " + zh(N_("Cancel"))]


async def test_a_button_of_a_flow_that_was_left_answers_instead_of_spinning(world):
    tg = world.tg
    event = await make_event(questions=[{"key": "type", "label": "单位性质", "choices": ["企业", "高校"]}])
    await say(tg, ALICE, f"/start ev_{event.public_id}")
    await Person.filter(telegram_id=ALICE).update(phone="13800001234")
    await press(tg, ALICE, zh(N_("Register")))
    question = tg.last_message(ALICE)
    await say(tg, ALICE, "/cancel", count=2)
    before = len(tg.callback_answers)
    await tg.user_callback(ALICE, tg.inline_buttons(question)[0]["callback_data"], question)
    await tg.wait_for(lambda: len(tg.callback_answers) > before)
    answer = list(tg.callback_answers.values())[-1]
    assert answer.get("show_alert") and "/start" in answer["text"]
    assert not tg.calls_to("answerCallbackQuery", ok=False)  # every press answered once, none twice
    assert await Registration.filter(event_id=event.id).count() == 0


async def test_a_button_on_a_message_the_bot_can_no_longer_see_gets_a_toast(world):
    tg = world.tg
    menu = (await say(tg, ALICE, "/start"))[-1]
    button = next(b for b in tg.inline_buttons(menu) if zh(N_("My calendar")) in b["text"])
    await tg.user_callback(ALICE, button["callback_data"], menu, inaccessible=True)
    await tg.wait_for(lambda: tg.callback_answers)
    (answer,) = tg.callback_answers.values()
    assert answer == {"text": zh(N_("This button has expired; send /start for the menu.")), "show_alert": True}


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
async def test_tapping_register_again_says_where_the_registration_stands(world, lang: str):
    tg = world.tg
    t = en if lang == "en" else zh
    event = await make_event(capacity=5, title="氢能专场")
    await Person.create(name="王五", telegram_id=ALICE, phone="13700000001", language=lang[:2])
    card = (await say(tg, ALICE, f"/start ev_{event.public_id}", lang=lang))[-1]
    await press(tg, ALICE, t(N_("Register")))
    ticket = await press(tg, ALICE, t(N_("Confirm")))
    assert ticket[-1]["photo"]
    register = next(b for b in tg.inline_buttons(card) if t(N_("Register")) in b["text"])
    await tg.user_callback(ALICE, register["callback_data"], card)  # the card from before
    again = await tg.wait_for_message(ALICE)
    assert t(N_("You are already registered for this event.")) in texts(again)
    assert status_label("confirmed", "en" if lang == "en" else "zh", capitalized=True) in texts(again)
    assert "氢能专场" in texts(again)
    labels = [b["text"] for b in tg.inline_buttons(again[-1])]
    assert any(t(N_("Send my ticket again")) in label for label in labels)
    assert any(t(N_("My registrations")) in label for label in labels)
    await outside_any_flow(tg, lang)  # no flow was started
    resent = await press(tg, ALICE, t(N_("Send my ticket again")))
    assert resent[-1]["photo"]


async def test_tapping_join_the_waitlist_again_tells_the_position(world):
    tg = world.tg
    full = await make_event(capacity=1)
    await make_registration(full)
    await Person.create(name="王五", telegram_id=ALICE, phone="13700000001")
    await make_registration(full, name="王五", phone="13700000001", telegram_id=ALICE)
    await say(tg, ALICE, f"/start ev_{full.public_id}")
    card = tg.last_message(ALICE)
    assert not any(zh(N_("Join the waitlist")) in b["text"] for b in tg.inline_buttons(card))  # the card knows
    stale = await make_event(capacity=1)
    await make_registration(stale)
    await say(tg, ALICE, f"/start ev_{stale.public_id}")
    old_card = tg.last_message(ALICE)
    await make_registration(stale, name="王五", phone="13700000001", telegram_id=ALICE)
    join = next(b for b in tg.inline_buttons(old_card) if zh(N_("Join the waitlist")) in b["text"])
    await tg.user_callback(ALICE, join["callback_data"], old_card)
    again = await tg.wait_for_message(ALICE)
    assert zh(N_("Waitlist position %(position)s"), position=1) in texts(again)


async def test_broadcast_steps_can_be_left_and_cancelled(world):
    from events.services import staff

    tg = world.tg
    event = await make_event(title="合成生物专场")
    await make_registration(event)
    await say(tg, ALICE, "/start")
    await staff.grant_role(await Person.get(telegram_id=ALICE), role="organizer", event_ids=None, actor="test")
    choose = await say(tg, ALICE, "/broadcast")
    assert any(zh(N_("Cancel")) in b["text"] for b in tg.inline_buttons(choose[-1]))
    asked = await press(tg, ALICE, "合成生物专场")
    assert any(zh(N_("Cancel")) in b["text"] for b in tg.inline_buttons(asked[-1]))
    mine = await say(tg, ALICE, "/my")  # not taken for the announcement
    assert zh(N_("You have no upcoming registrations.")) in texts(mine)
    await outside_any_flow(tg)
    await say(tg, ALICE, "/broadcast")
    await press(tg, ALICE, "合成生物专场")
    preview = await say(tg, ALICE, "明天见")
    assert any(zh(N_("Cancel")) in b["text"] for b in tg.inline_buttons(preview[-1]))
    assert zh(N_("Cancelled.")) in texts(await press(tg, ALICE, zh(N_("Cancel"))))
    from events.models import Broadcast

    assert await Broadcast.all().count() == 0


async def test_scanning_can_be_stopped(world):
    from datetime import timedelta

    from events.services import staff

    tg = world.tg
    event = await make_event(starts_in=timedelta(minutes=20), title="量子科技专场")
    await say(tg, BOB, "/start", lang="en")
    await staff.grant_role(await Person.get(telegram_id=BOB), role="checker", event_ids=[event.id], actor="test")
    choose = await say(tg, BOB, "/scan", lang="en")
    assert any(en(N_("Cancel")) in b["text"] for b in tg.inline_buttons(choose[-1]))
    await press(tg, BOB, "量子科技专场")
    stopped = await press(tg, BOB, en(N_("Stop scanning")))
    assert en(N_("Cancelled.")) in texts(stopped)
    blank = io.BytesIO()
    Image.new("RGB", (120, 120), "white").save(blank, format="PNG")
    await tg.user_photo(BOB, blank.getvalue())
    assert "/scan" in texts(await tg.wait_for_message(BOB))  # no longer scanning for that event


def test_every_menu_button_is_tried():
    from bot.views import MENU

    assert set(MENU_SHOWS) == {item.label for item in MENU}


async def test_each_dispatcher_gets_fresh_routers(db: Settings):
    signer = tickets.signer_for(db.data_dir.resolve())
    first, second = build_dispatcher(db, signer), build_dispatcher(db, signer)
    names = [router.name for router in first.sub_routers]
    assert names == [router.name for router in second.sub_routers] and "register" in names and "fallback" in names
    assert all(router.parent_router is first for router in first.sub_routers)  # the second took none away
    assert not {id(r) for r in first.sub_routers} & {id(r) for r in second.sub_routers}
