"""The fake Telegram Bot API, proven with a real aiogram Bot and Dispatcher pointed at it."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from PIL import Image

from tests.fake_telegram import FakeTelegram, fake_telegram_fixture, parse_html  # noqa: F401

USER = 4242


def png(width: int = 320, height: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = fake_telegram.make_bot(default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield bot
    await bot.session.close()


async def polling(dp: Dispatcher, bot: Bot, tg: FakeTelegram) -> Callable[[], Awaitable[None]]:
    """Start dp polling in the background; returns the coroutine function that stops it."""
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))

    async def stop() -> None:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)

    await tg.wait_for(lambda: tg.calls_to("getUpdates"))
    return stop


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


# --- lifecycle, getMe, sendMessage ------------------------------------------------------------------------------


async def test_starts_and_stops_quickly_on_a_free_local_port() -> None:
    began = time.perf_counter()
    async with FakeTelegram() as one, FakeTelegram() as two:
        started = time.perf_counter()
        assert one.base_url.startswith("http://127.0.0.1:")
        assert one.base_url != two.base_url
    assert started - began < 0.1
    assert time.perf_counter() - started < 0.2


async def test_get_me(bot: Bot, fake_telegram: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.id == 123456 and me.is_bot and me.username == "wuchuang_test_bot"
    assert fake_telegram.calls == [("getMe", {})]


async def test_send_message_round_trip(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER, first_name="小明")
    markup = keyboard(InlineKeyboardButton(text="报名", callback_data="reg:7"))
    first = await bot.send_message(USER, "<b>武创荟</b> &amp; 路演", reply_markup=markup)
    second = await bot.send_message(USER, "第二条")

    assert isinstance(first, Message)
    assert first.text == "武创荟 & 路演"  # what the user sees: tags stripped, entities decoded
    assert first.chat.id == USER and first.chat.type == "private" and first.chat.first_name == "小明"
    assert first.from_user is not None and first.from_user.id == 123456
    assert first.reply_markup is not None and first.reply_markup.model_dump() == markup.model_dump()
    assert (first.message_id, second.message_id) == (1, 2)

    [record, _] = fake_telegram.sent_messages(USER)
    assert record["raw_text"] == "<b>武创荟</b> &amp; 路演" and record["parse_mode"] == "HTML"
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "reg:7"
    method, params = fake_telegram.calls[0]
    assert method == "sendMessage" and params["chat_id"] == USER  # form strings read back as Telegram does


async def test_json_bodies_are_accepted_and_wrong_tokens_are_unauthorized(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    base = fake_telegram.base_url
    async with httpx.AsyncClient() as client:
        sent = await client.post(
            f"{base}/bot{fake_telegram.token}/sendMessage",
            json={"chat_id": USER, "text": "json", "reply_markup": {"remove_keyboard": True}},
        )
        wrong = await client.post(f"{base}/bot123456:WRONG/getMe")
    assert sent.status_code == 200 and sent.json()["result"]["text"] == "json"
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    stranger = fake_telegram.make_bot(token="654321:OTHER-token")
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await stranger.session.close()


# --- rejections -------------------------------------------------------------------------------------------------


async def test_telegram_rejections(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    cases: list[tuple[Awaitable[Any], str]] = [
        (bot.send_message(USER, "x" * 4097), "Bad Request: message is too long"),
        (bot.send_message(USER, "   "), "Bad Request: message text is empty"),
        (
            bot.send_message(USER, "hi", reply_markup=keyboard(InlineKeyboardButton(text="b", callback_data="é" * 33))),
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            bot.send_message(USER, "hi", reply_markup=keyboard(InlineKeyboardButton(text="just text"))),
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ),
        (
            bot.send_message(USER, "<b>bold"),
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            bot.send_message(USER, "a <script> b"),
            'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 2',
        ),
        (
            bot.send_message(USER, "<i>x</b>"),
            'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</i>", found "</b>"',
        ),
        (
            bot.send_message(USER, "1 < 2"),
            'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
        ),
        (
            bot.send_message(USER, "R&D"),
            'Bad Request: can\'t parse entities: Unescaped "&" at byte offset 1 '
            "(the fake Bot API is strict here: write &amp;)",
        ),
        (bot.send_message(999, "who?"), "Bad Request: chat not found"),
        (
            bot.send_message(
                USER,
                "hi",
                reply_markup=keyboard(
                    InlineKeyboardButton(text="open", web_app=WebAppInfo(url="http://127.0.0.1:8000/app"))
                ),
            ),
            "Bad Request: inline keyboard button Web App URL 'http://127.0.0.1:8000/app' is invalid: "
            "Only HTTPS links are allowed",
        ),
        (
            bot.send_photo(USER, BufferedInputFile(png(), "p.png"), caption="c" * 1025),
            "Bad Request: message caption is too long",
        ),
        (bot.send_photo(USER, BufferedInputFile(b"not an image", "p.png")), "Bad Request: IMAGE_PROCESS_FAILED"),
        (bot.edit_message_text("new", chat_id=USER, message_id=77), "Bad Request: message to edit not found"),
        (
            bot.answer_callback_query("nope"),
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        ),
        (
            bot.set_my_commands([BotCommand(command="start", description="开始")], language_code="zh-hans"),
            "Bad Request: invalid language code specified",
        ),
        (bot.set_my_commands([BotCommand(command="Start", description="开始")]), "Bad Request: BOT_COMMAND_INVALID"),
        (bot.send_chat_action(USER, "dancing"), "Bad Request: wrong parameter action in request"),
        (bot.get_file("no-such-file"), "Bad Request: invalid file_id"),
    ]
    for request, description in cases:
        with pytest.raises(TelegramBadRequest) as exc:
            await request
        assert exc.value.message == description
    assert fake_telegram.sent_messages() == []
    assert all(call.status == 400 for call in fake_telegram.calls)


async def test_html_accepted_like_telegram(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>"
        '<span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler><a href="https://x.org/?a=1&b=2">l</a>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code><pre><code class="language-py">'
        "x = 1 &lt; 2</code></pre><blockquote expandable>引用</blockquote> &quot;ok&quot; &#8364;"
    )
    message = await bot.send_message(USER, html)
    assert message.text == 'bsieunskdpql👍cx = 1 < 2引用 "ok" €'
    assert len((await bot.send_message(USER, "<b>" + "字" * 4096 + "</b>")).text or "") == 4096


def test_html_parser_matches_tdlib_errors() -> None:
    cases = {
        "🏟 🏟&lt;<abacaba": "Unclosed start tag at byte offset 13",
        "🏟 🏟&lt;<abac aba>": 'Unsupported start tag "abac" at byte offset 13',
        "🏟 🏟&lt;<i   =aba>": 'Empty attribute name in the tag "i" at byte offset 13',
        "🏟 🏟&lt;<i    aba>": 'Can\'t find end tag corresponding to start tag "i"',
        "🏟 🏟&lt;<i    aba  =  ": 'Unclosed start tag "i" at byte offset 13',
        "🏟 🏟&lt;<i    aba  =  190azAz-.,": "Unexpected end of name token at byte offset 27",
        '🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>': "Unclosed start tag at byte offset 13",
        "🏟 🏟&lt;</": "Unexpected end tag at byte offset 13",
        "🏟 🏟&lt;<b></b></": "Unexpected end tag at byte offset 20",
        "🏟 🏟&lt;<i>a</i   ": "Unclosed end tag at byte offset 17",
        "🏟 🏟&lt;<i>a</em   >": 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        '<span class="x">a</span>': 'Tag "span" must have class "tg-spoiler" at byte offset 0',
    }
    for markup, error in cases.items():
        with pytest.raises(ValueError, match="^" + error.replace("(", r"\(").replace(")", r"\)") + "$"):
            parse_html(markup)
    assert parse_html("&ge;&lt;&gt;&amp;&quot;&laquo;&#12345678;") == '&ge;<>&"&laquo;&#12345678;'
    assert parse_html("🏟 🏟&lt;<i    aba  =  190azAz-.   >a</i>") == "🏟 🏟<a"
    assert parse_html("🏟 🏟&lt;<i>🏟 🏟&lt;</>") == "🏟 🏟<🏟 🏟<"
    assert parse_html("a > b & c") == "a > b & c"  # Telegram lets these through; strict mode does not
    with pytest.raises(ValueError, match="Unescaped"):
        parse_html("a > b", strict=True)


async def test_unknown_methods_are_not_found(bot: Bot, fake_telegram: FakeTelegram) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{fake_telegram.base_url}/bot{fake_telegram.token}/sendCarrierPigeon", data={"chat_id": "1"}
        )
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    class SendCarrierPigeon(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendCarrierPigeon"
        chat_id: int

    with pytest.raises(TelegramNotFound):
        await bot(SendCarrierPigeon(chat_id=1))
    assert [c.method for c in fake_telegram.calls] == ["sendCarrierPigeon", "sendCarrierPigeon"]


async def test_web_app_buttons_over_http_can_be_allowed_for_local_tests(
    bot: Bot,
    fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.add_user(USER)
    menu = MenuButtonWebApp(text="报名", web_app=WebAppInfo(url="http://127.0.0.1:8000/app"))
    with pytest.raises(TelegramBadRequest, match="menu button web app URL .* Only HTTPS links are allowed"):
        await bot.set_chat_menu_button(menu_button=menu)
    fake_telegram.allow_http_web_app = True
    assert await bot.set_chat_menu_button(menu_button=menu)
    reply = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="打开", web_app=WebAppInfo(url="http://127.0.0.1/a"))]])
    await bot.send_message(USER, "keyboard", reply_markup=reply)
    assert fake_telegram.menu_buttons[None]["web_app"]["url"] == "http://127.0.0.1:8000/app"
    [record] = fake_telegram.sent_messages(USER)
    assert record["reply_markup"]["keyboard"][0][0]["text"] == "打开"
    assert "reply_markup" not in record["message"]  # Telegram echoes only inline keyboards


# --- commands, edits, files ---------------------------------------------------------------------------------


async def test_commands_per_scope_and_language(bot: Bot, fake_telegram: FakeTelegram) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="开始")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Start")], language_code="en", scope=BotCommandScopeAllPrivateChats()
    )
    assert [c.description for c in await bot.get_my_commands()] == ["开始"]
    assert [
        c.description for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="en")
    ] == ["Start"]
    assert await bot.get_my_commands(language_code="en") == []
    assert fake_telegram.my_commands({"type": "all_private_chats"}, "en") == [
        {"command": "start", "description": "Start"}
    ]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == []


async def test_photo_document_edit_delete(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    image = png()
    photo = await bot.send_photo(
        USER,
        BufferedInputFile(image, "qr.png"),
        caption="<b>票</b>",
        reply_markup=keyboard(InlineKeyboardButton(text="x", callback_data="x")),
    )
    assert photo.photo and photo.photo[-1].width == 320 and photo.caption == "票"
    again = await bot.send_photo(USER, photo.photo[-1].file_id)  # re-sending by file_id
    assert again.photo and again.photo[-1].file_id == photo.photo[-1].file_id
    document = await bot.send_document(USER, BufferedInputFile(b"BEGIN:VCALENDAR", "event.ics"))
    assert document.document and document.document.file_name == "event.ics"
    assert document.document.mime_type == "text/calendar"

    edited = await bot.edit_message_caption(chat_id=USER, message_id=photo.message_id, caption="新")
    assert isinstance(edited, Message) and edited.caption == "新" and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_caption(chat_id=USER, message_id=photo.message_id, caption="新")
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("t", chat_id=USER, message_id=photo.message_id)
    assert await bot.delete_message(USER, again.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, again.message_id)

    records = fake_telegram.sent_messages(USER)
    assert [r["method"] for r in records] == ["sendPhoto", "sendDocument"]
    assert records[0]["photo"] and records[0]["edited"] and records[0]["file"].content == image
    assert records[1]["file"].filename == "event.ics"


async def test_get_file_and_download(bot: Bot, fake_telegram: FakeTelegram) -> None:
    image = png(64, 64)
    file_id = fake_telegram.add_file(image)
    file = await bot.get_file(file_id)
    assert file.file_path and file.file_size == len(image)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == image
    assert fake_telegram.downloads == [file.file_path]


# --- updates: polling and webhooks ----------------------------------------------------------------------------


async def test_polling_dispatcher_receives_and_answers(bot: Bot, fake_telegram: FakeTelegram) -> None:
    dp = Dispatcher()

    @dp.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo
        data = await bot.download(message.photo[-1])
        assert data is not None
        await message.answer(f"{len(data.read())} bytes")

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(
            f"echo: {message.text} ({message.from_user and message.from_user.language_code})",
            reply_markup=keyboard(InlineKeyboardButton(text="再来", callback_data="again")),
        )

    @dp.callback_query(F.data == "again")
    async def again(query: CallbackQuery) -> None:
        await query.answer("好的")
        assert isinstance(query.message, Message)
        await query.message.edit_text("edited")

    stop = await polling(dp, bot, fake_telegram)
    try:
        await fake_telegram.user_message(USER, "你好")
        [reply] = await fake_telegram.wait_for_message(USER)
        assert reply["text"] == "echo: 你好 (zh-hans)"

        await fake_telegram.user_press(USER, "再来")
        await fake_telegram.wait_for(lambda: fake_telegram.callback_answers)
        [answer] = fake_telegram.callback_answers.values()
        assert answer["text"] == "好的"
        await fake_telegram.wait_for(lambda: fake_telegram.last_message(USER)["edited"])  # type: ignore[index]
        assert fake_telegram.last_message(USER)["text"] == "edited"  # type: ignore[index]
        with pytest.raises(ValueError, match="no inline button"):  # the edit removed the keyboard
            await fake_telegram.user_callback(USER, "again")

        image = png(100, 50)
        await fake_telegram.user_photo(USER, image)
        [reply] = await fake_telegram.wait_for_message(USER)
        assert reply["text"] == f"{len(image)} bytes"
    finally:
        await stop()
    assert fake_telegram.pending_updates == []  # all confirmed by the offset
    gets = fake_telegram.calls_to("getUpdates")
    assert gets and all(call.params.get("timeout") == 10 for call in gets)


async def test_get_updates_long_polls_and_confirms_by_offset(bot: Bot, fake_telegram: FakeTelegram) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await fake_telegram.wait_for(lambda: fake_telegram.calls_to("getUpdates"))
    first = await fake_telegram.user_command(USER, "start", "ev-7", language_code="en", first_name="Ann")
    [update] = await asyncio.wait_for(waiting, 1)
    assert update.update_id == first["update_id"]
    assert update.message and update.message.text == "/start ev-7"
    assert update.message.entities and update.message.entities[0].type == "bot_command"
    assert update.message.from_user and update.message.from_user.first_name == "Ann"

    await fake_telegram.user_contact(USER, "+8613800000000")
    updates = await bot.get_updates(offset=update.update_id + 1)
    assert [u.message.contact.phone_number for u in updates if u.message and u.message.contact] == ["+8613800000000"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    assert fake_telegram.pending_updates == []


async def test_webhook_posts_updates_with_the_secret(bot: Bot, fake_telegram: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner, url = await serve(app)
    try:
        await fake_telegram.user_message(USER, "queued before the webhook")
        assert await bot.set_webhook(f"{url}/hook", secret_token="s3cr3t-Token_1")
        await fake_telegram.wait_for(lambda: len(received) == 1)  # pending updates are flushed to the webhook
        info = await bot.get_webhook_info()
        assert info.url == f"{url}/hook" and info.pending_update_count == 0
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()

        update = await fake_telegram.user_message(USER, "hello hook")
        assert received[-1] == ("s3cr3t-Token_1", update)
        assert fake_telegram.webhook_deliveries[-1].ok
        assert fake_telegram.webhook["secret_token"] == "s3cr3t-Token_1"

        assert await bot.delete_webhook()
        await fake_telegram.user_message(USER, "back to polling")
        assert len(received) == 2 and len(await bot.get_updates()) == 1
    finally:
        await runner.cleanup()


async def test_webhook_into_an_aiogram_dispatcher(bot: Bot, fake_telegram: FakeTelegram) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"hook: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="right").register(app, path="/tg")
    runner, url = await serve(app)
    try:
        await bot.set_webhook(f"{url}/tg", secret_token="wrong")
        await fake_telegram.user_message(USER, "rejected")
        assert fake_telegram.webhook_deliveries[-1].status == 401  # aiogram checked the secret header
        assert (await bot.get_webhook_info()).last_error_message

        await bot.set_webhook(f"{url}/tg", secret_token="right")
        await fake_telegram.user_message(USER, "accepted")
        [reply] = await fake_telegram.wait_for_message(USER)
        assert reply["text"] == "hook: accepted"
    finally:
        await runner.cleanup()


async def test_webhook_reply_in_the_response_body_is_executed(bot: Bot, fake_telegram: FakeTelegram) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> Any:
        return message.answer("from the response body")

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False).register(app, path="/tg")
    runner, url = await serve(app)
    try:
        await bot.set_webhook(f"{url}/tg")
        await fake_telegram.user_message(USER, "hi")
        [reply] = await fake_telegram.wait_for_message(USER)
        assert reply["text"] == "from the response body"
        assert fake_telegram.calls[-1].source == "webhook-reply"
    finally:
        await runner.cleanup()


# --- limits and faults -----------------------------------------------------------------------------------------


async def test_rate_limit_per_chat_and_overall(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.strict_chats = False
    fake_telegram.rate_limit(global_per_s=30, per_chat_per_s=1)
    await bot.send_message(1, "first")
    with pytest.raises(TelegramRetryAfter) as exc:
        await bot.send_message(1, "second, too soon")
    assert exc.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in exc.value.message

    results = await asyncio.gather(*(bot.send_message(chat, "burst") for chat in range(2, 40)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(results) - len(refused) == 29 and len(refused) == 9  # 30 per second, one already used
    assert fake_telegram.too_many_requests == 10
    assert len(fake_telegram.sent_messages()) == 30

    fake_telegram.rate_limit(None, None)
    await bot.send_message(1, "no limit now")


async def test_rate_limit_window_slides(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    fake_telegram.rate_limit(global_per_s=None, per_chat_per_s=1, window=0.05)
    await bot.send_message(USER, "one")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "two")
    await asyncio.sleep(0.06)
    await bot.send_message(USER, "three")
    assert [m["text"] for m in fake_telegram.sent_messages(USER)] == ["one", "three"]


async def test_blocked_users_and_injected_failures(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    fake_telegram.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    fake_telegram.unblock(USER)

    fake_telegram.fail_next("sendMessage", 500)
    with pytest.raises(TelegramServerError):
        await bot.send_message(USER, "boom")
    fake_telegram.fail_next("sendMessage", 429, retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as exc:
            await bot.send_message(USER, "later")
        assert exc.value.retry_after == 7
    fake_telegram.fail_next("*", 403, chat_id=USER)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(USER, "typing")
    await bot.send_message(USER, "finally")
    assert [m["text"] for m in fake_telegram.sent_messages(USER)] == ["finally"]
    assert [c.status for c in fake_telegram.calls_to("sendMessage")] == [403, 500, 429, 429, 200]


async def test_hanging_requests(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    bot = fake_telegram.make_bot(session_timeout=0.2)
    fake_telegram.hang("sendMessage", times=1)
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(USER, "lost")
    await fake_telegram.wait_for(lambda: fake_telegram.calls[-1].cancelled)
    assert fake_telegram.sent_messages() == []  # the bot gave up before Telegram did anything

    fake_telegram.hang("sendMessage", 5, times=1, after_processing=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "sent, but the answer was lost")
    assert [m["text"] for m in fake_telegram.sent_messages()] == ["sent, but the answer was lost"]
    await bot.send_message(USER, "normal again")
    await bot.session.close()


async def test_hung_requests_do_not_delay_shutdown() -> None:
    async with FakeTelegram() as tg:
        tg.hang("getMe")
        bot = tg.make_bot()
        pending = asyncio.create_task(bot.get_me())
        await tg.wait_for(lambda: tg.calls)
        began = time.perf_counter()
    assert time.perf_counter() - began < 0.5
    with pytest.raises((TelegramServerError, TelegramNetworkError)):
        await pending
    await bot.session.close()


async def test_blocking_sends_a_my_chat_member_update(bot: Bot, fake_telegram: FakeTelegram) -> None:
    await fake_telegram.user_blocks_bot(USER)
    [update] = await bot.get_updates()
    assert update.my_chat_member and update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER, "still there?")


async def test_web_app_init_data_and_answer_web_app_query(bot: Bot, fake_telegram: FakeTelegram) -> None:
    init_data = fake_telegram.web_app_init_data(USER, query_id="AAHquery1", first_name="小红")
    parsed = safe_parse_webapp_init_data(fake_telegram.token, init_data)
    assert parsed.user and parsed.user.id == USER and parsed.query_id == "AAHquery1"

    result = InlineQueryResultArticle(
        id="1", title="报名成功", input_message_content=InputTextMessageContent(message_text="<b>已报名</b>")
    )
    sent = await bot.answer_web_app_query("AAHquery1", result)
    assert sent.inline_message_id
    assert fake_telegram.web_app_answers["AAHquery1"]["title"] == "报名成功"
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_web_app_query("AAHquery1", result)

    await fake_telegram.user_web_app_data(USER, '{"event": 7}', button_text="报名")
    [update] = await bot.get_updates()
    assert update.message and update.message.web_app_data and update.message.web_app_data.data == '{"event": 7}'


async def test_a_second_long_poll_terminates_the_first(bot: Bot, fake_telegram: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake_telegram.wait_for(lambda: fake_telegram.calls_to("getUpdates"))
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 1)
    await fake_telegram.user_message(USER, "to the survivor")
    [update] = await asyncio.wait_for(second, 1)
    assert update.message and update.message.text == "to the survivor"
