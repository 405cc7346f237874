"""Building the bot and its dispatcher from settings; the runtime (wuchuang/) starts them."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BotCommand, BotCommandScopeDefault

from bot.i18n import translator
from bot.middlewares import CallbackAnswerMiddleware, LeaveFlowMiddleware, PersonMiddleware
from bot.routers import (
    credits,
    demand,
    enter,
    errors,
    events,
    fallback,
    investor,
    matches,
    meetings,
    membership,
    menu,
    my,
    organizer,
    pitch,
    prefs,
    privacy,
    register,
    scan,
    score,
    start,
)
from bot.storage import DatabaseStorage
from events.errors import N_
from events.i18n import Locale
from events.services.tickets import TicketSigner
from events.settings import Settings

COMMANDS = (
    ("start", N_("Start and main menu")),
    ("events", N_("Upcoming events")),
    ("my", N_("My registrations and tickets")),
    ("credits", N_("My training credits")),
    ("matches", N_("My matches and connections")),
    ("meetings", N_("My 1:1 meetings at roadshows")),
    ("demand", N_("Post a demand")),
    ("mydemands", N_("My demands")),
    ("investor", N_("My investor profile")),
    ("prefs", N_("Invitations I want")),
    ("lang", N_("Language")),
    ("mydata", N_("Download my data")),
    ("delete", N_("Delete my data")),
    ("enter", N_("Enter a competition")),
    ("score", N_("Judges: score the entry on stage")),
    ("pitch", N_("Roadshows: the pitch on stage now")),
    ("scan", N_("Door staff: scan tickets")),
    ("broadcast", N_("Organizers: announce to registrants")),
    ("help", N_("Help")),
    ("cancel", N_("Cancel what I am doing")),
)


def build_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


def build_storage(settings: Settings) -> BaseStorage:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url)
    return DatabaseStorage()


def build_dispatcher(settings: Settings, signer: TicketSigner) -> Dispatcher:
    dp = Dispatcher(storage=build_storage(settings), settings=settings, signer=signer)
    dp.update.outer_middleware(PersonMiddleware())
    leave_flow = LeaveFlowMiddleware()
    dp.message.outer_middleware(leave_flow)
    dp.callback_query.outer_middleware(leave_flow)
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    # Fresh routers for each dispatcher: a router joins one parent only. Order matters: leaving a
    # flow (menu) comes before the flows' steps, and the hints for anything else (fallback) last.
    dp.include_routers(
        membership.make_router(),
        menu.make_router(),
        start.make_router(),
        events.make_router(),
        register.make_router(),
        my.make_router(),
        credits.make_router(),
        prefs.make_router(),
        privacy.make_router(),
        matches.make_router(),
        meetings.make_router(),
        demand.make_router(),
        investor.make_router(),
        scan.make_router(),
        organizer.make_router(),
        enter.make_router(),
        score.make_router(),
        pitch.make_router(),
        fallback.make_router(),
        errors.make_router(),
    )
    return dp


async def set_commands(bot: Bot) -> None:
    """The menu in both languages: Chinese by default, English for English-speaking clients."""
    menus: tuple[tuple[str | None, Locale], ...] = ((None, "zh"), ("en", "en"))
    for language, locale in menus:
        t = translator(locale)
        await bot.set_my_commands(
            [BotCommand(command=c, description=t(d)) for c, d in COMMANDS],
            scope=BotCommandScopeDefault(),
            language_code=language,
        )
