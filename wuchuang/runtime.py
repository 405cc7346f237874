"""Wiring the API and the bot into one process: polling in the app's lifespan, or the webhook route."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from tortoise.exceptions import IntegrityError

from api.app import create_app
from events import metrics
from events.models import TelegramUpdate
from events.settings import Settings
from notifications.channels import Channel, ConsoleChannel
from notifications.worker import run_worker

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


def app_from_environment() -> FastAPI:
    """The app of one of `serve --workers N`'s processes (uvicorn imports this by name in each worker);
    the settings come from the environment the parent prepared."""
    from events.settings import load_settings
    from wuchuang.cli import SERVE_WEBHOOK_ENV

    return build_app(load_settings(), webhook=os.environ.get(SERVE_WEBHOOK_ENV) == "1")


def webhook_secret(settings: Settings) -> str:
    """Derived from the bot token, so the process that registers the webhook and the one serving it agree."""
    assert settings.bot_token is not None
    return hashlib.sha256(b"wuchuang-webhook:" + settings.bot_token.get_secret_value().encode()).hexdigest()[:48]


def build_app(settings: Settings, *, webhook: bool = False, manage_db: bool = True) -> FastAPI:
    """The API, the notification worker, and the bot when a token is set (long polling, or with
    ``webhook`` an update route). Without a token, messages go to the console channel.
    """
    app = create_app(settings, manage_db=manage_db)
    if settings.bot_token is None:
        if settings.notifications:
            _run_worker_in_lifespan(app, settings, ConsoleChannel())
        return app
    # aiogram is imported only when there is a bot to run (it costs ~160 MB of memory).
    from bot.app import build_bot, build_dispatcher, set_commands
    from notifications.telegram import TelegramChannel

    bot = build_bot(settings)
    dp = build_dispatcher(settings, app.state.signer)
    app.state.bot, app.state.dispatcher = bot, dp
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            polling: asyncio.Task[None] | None = None
            try:
                if settings.bot_username is None:
                    application.state.bot_username = (await bot.get_me()).username
                await set_commands(bot)
                if not webhook:
                    # A webhook left from an earlier deployment would make getUpdates fail.
                    await bot.delete_webhook(drop_pending_updates=False)
                    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))
            except Exception:  # Telegram unreachable at start: the API still serves; say why
                log.exception("the bot could not start; the API keeps running")
            try:
                yield state
            finally:
                if polling is not None:
                    with contextlib.suppress(RuntimeError):
                        await dp.stop_polling()
                    polling.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await polling
                await bot.session.close()

    app.router.lifespan_context = lifespan
    if settings.notifications:
        _run_worker_in_lifespan(app, settings, TelegramChannel(bot))
    if webhook:
        _mount_webhook(app, bot, dp, webhook_secret(settings))
    return app


def _run_worker_in_lifespan(app: FastAPI, settings: Settings, channel: Channel) -> None:
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            stop = asyncio.Event()
            worker = asyncio.create_task(
                run_worker(
                    settings, channel, stop, bot_username=lambda: getattr(application.state, "bot_username", None)
                )
            )
            # /ready reports the sender stopped once this task ends (it ends only on a crash or at stop).
            application.state.outbox_sender = worker
            metrics.SENDER_ALIVE.set(1)
            worker.add_done_callback(lambda _: metrics.SENDER_ALIVE.set(0))
            try:
                yield state
            finally:
                stop.set()
                try:
                    await asyncio.wait_for(worker, 40)  # sends in flight finish; claimed rows go back
                except (TimeoutError, Exception):  # shutting down: report, never block the exit
                    log.exception("notification worker did not stop cleanly")

    app.router.lifespan_context = lifespan


def _mount_webhook(app: FastAPI, bot: Any, dp: Any, secret: str) -> None:
    from aiogram.types import Update

    background: set[asyncio.Task[Any]] = set()

    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if request.headers.get("x-telegram-bot-api-secret-token") != secret:
            return JSONResponse({"error": {"code": "forbidden", "message": "bad secret"}}, status_code=403)
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except ValueError:
            return JSONResponse({"error": {"code": "invalid_update", "message": "not an update"}}, status_code=400)
        try:
            # Telegram re-delivers when an answer is slow or lost; each update is handled once.
            await TelegramUpdate.create(update_id=update.update_id)
        except IntegrityError:
            return Response(status_code=200)
        # Answer at once; the handlers run on their own.
        task = asyncio.create_task(dp.feed_update(bot, update))
        background.add(task)
        task.add_done_callback(background.discard)
        return Response(status_code=200)


async def register_webhook(settings: Settings, url: str) -> None:
    from bot.app import build_bot, set_commands

    bot = build_bot(settings)
    try:
        await bot.set_webhook(
            url.rstrip("/") + WEBHOOK_PATH,
            secret_token=webhook_secret(settings),
            allowed_updates=["message", "callback_query"],
            drop_pending_updates=False,
        )
        await set_commands(bot)
    finally:
        await bot.session.close()
