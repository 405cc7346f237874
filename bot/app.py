"""Building the bot and its dispatcher from settings; the runtime (wuchuang/) starts them."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, BotCommandScopeDefault

from bot.i18n import translator
from bot.middlewares import PersonMiddleware
from bot.routers import credits, errors, events, membership, my, organizer, prefs, register, scan, start
from events.errors import N_
from events.services.tickets import TicketSigner
from events.settings import Settings

COMMANDS = (
    ("start", N_("Start and main menu")),
    ("events", N_("Upcoming events")),
    ("my", N_("My registrations and tickets")),
    ("credits", N_("My training credits")),
    ("prefs", N_("Invitations I want")),
    ("lang", N_("Language")),
    ("scan", N_("Door staff: scan tickets")),
    ("broadcast", N_("Organizers: announce to registrants")),
    ("help", N_("Help")),
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
    return MemoryStorage()


def build_dispatcher(settings: Settings, signer: TicketSigner) -> Dispatcher:
    dp = Dispatcher(storage=build_storage(settings), settings=settings, signer=signer)
    dp.update.outer_middleware(PersonMiddleware())
    routers = (
        membership.router,
        start.router,
        events.router,
        register.router,
        my.router,
        credits.router,
        prefs.router,
        scan.router,
        organizer.router,
        errors.router,
    )
    for router in routers:
        # Routers are module-level and attach to one parent; a later dispatcher in the same
        # process (tests, a rebuilt app) takes them over from the earlier one.
        previous = router.parent_router
        if previous is not None:
            previous.sub_routers.remove(router)
            router._parent_router = None
    dp.include_routers(*routers)
    return dp


async def set_commands(bot: Bot) -> None:
    """The menu in both languages: Chinese by default, English for English-speaking clients."""
    for language, locale in ((None, "zh"), ("en", "en")):
        t = translator(locale)  # type: ignore[arg-type]
        await bot.set_my_commands(
            [BotCommand(command=c, description=t(d)) for c, d in COMMANDS],
            scope=BotCommandScopeDefault(),
            language_code=language,
        )
