"""Tortoise configuration and start-up. SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient

from events.models import MODEL_MODULES
from events.settings import Settings


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": settings.tortoise_url},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(settings: Settings) -> None:
    """Connect Tortoise. The schema is Alembic's job; this never creates tables."""
    if settings.dialect == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Global fallback: ASGI servers run the lifespan and the requests in different tasks.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


def conn() -> BaseDBAsyncClient:
    return connections.get("default")


def dialect_of(connection: BaseDBAsyncClient) -> str:
    return "sqlite" if connection.capabilities.dialect == "sqlite" else "postgres"
