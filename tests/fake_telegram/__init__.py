"""A fake Telegram Bot API for end-to-end tests of the bot and the notifications.

    from tests.fake_telegram import fake_telegram_fixture  # noqa: F401  (provides the fixture "fake_telegram")

    async def test_start(fake_telegram: FakeTelegram):
        bot = fake_telegram.make_bot()   # or build the app's bot with telegram_api_url=fake_telegram.base_url
        ...

or register the module once as a plugin, in tests/conftest.py: ``pytest_plugins = ["tests.fake_telegram"]``.
(``from tests.fake_telegram import fake_telegram`` works too, but ruff then reports F811 on every test that takes
the fixture as a parameter.) See ``server.FakeTelegram`` for the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .limits import RateLimiter, TelegramError, parse_html
from .server import DEFAULT_TOKEN, Call, FakeTelegram, StoredFile, UploadedFile, WebhookDelivery

__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "FakeTelegram",
    "RateLimiter",
    "StoredFile",
    "TelegramError",
    "UploadedFile",
    "WebhookDelivery",
    "fake_telegram",
    "fake_telegram_fixture",
    "parse_html",
]


@pytest_asyncio.fixture(name="fake_telegram")
async def fake_telegram_fixture() -> AsyncIterator[FakeTelegram]:
    """A started FakeTelegram with the default token, stopped after the test."""
    async with FakeTelegram() as tg:
        yield tg


fake_telegram = fake_telegram_fixture
