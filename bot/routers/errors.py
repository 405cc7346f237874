"""Domain errors become a short reply in the person's language, with the menu as a way on."""

from __future__ import annotations

import contextlib
import logging
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.i18n import translator
from bot.views import main_menu
from events import labels
from events.errors import N_, DomainError
from events.i18n import Locale, locale_of
from events.models import Person

log = logging.getLogger(__name__)


async def _reply(event: ErrorEvent, text: str, locale: Locale) -> None:
    t = translator(locale)
    update = event.update
    if update.callback_query is not None:
        with contextlib.suppress(TelegramBadRequest):  # the handler may have answered the button already
            await update.callback_query.answer(text[:200], show_alert=True)
        if update.callback_query.message is not None:
            await update.callback_query.message.answer(text, reply_markup=main_menu(t))
    elif update.message is not None:
        await update.message.answer(text, reply_markup=main_menu(t))


def _locale_of(event: ErrorEvent, person: Person | None) -> Locale:
    if person is not None:
        return locale_of(person.language)
    user = event.update.message or event.update.callback_query
    return locale_of(getattr(getattr(user, "from_user", None), "language_code", None))


async def domain_error(event: ErrorEvent, person: Person | None = None) -> None:
    error = event.exception
    assert isinstance(error, DomainError)
    locale = _locale_of(event, person)
    shown = labels.params_for(locale, error.params)
    await _reply(event, translator(locale)(error.message, **{k: escape(str(v)) for k, v in shown.items()}), locale)


async def unexpected(event: ErrorEvent, person: Person | None = None) -> None:
    log.exception("bot update failed", exc_info=event.exception)
    locale = _locale_of(event, person)
    t = translator(locale)
    try:
        await _reply(event, t(N_("Something went wrong on our side; please try again.")), locale)
    except Exception:  # the reply itself may be what failed (network, blocked); nothing more to do
        log.warning("could not tell the user about the failure", exc_info=True)


def make_router() -> Router:
    router = Router(name="errors")
    router.error.register(domain_error, ExceptionTypeFilter(DomainError))
    router.error.register(unexpected)
    return router
