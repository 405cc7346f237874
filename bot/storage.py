"""The bot's flow state (aiogram FSM) in the platform's database, so a restart or a deploy in the
middle of /demand or a registration leaves every chat where it was. Redis, when configured, is used
instead (bot/app.py); memory storage would forget every flow on restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from tortoise.exceptions import IntegrityError

from events.models import BotState


class DatabaseStorage(BaseStorage):
    def __init__(self, key_builder: KeyBuilder | None = None) -> None:
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)[:200]

    async def _write(self, key: StorageKey, **values: Any) -> None:
        name = self._key(key)
        if await BotState.filter(key=name).update(**values):
            return
        try:
            await BotState.create(key=name, **values)
        except IntegrityError:  # written by a concurrent update of the same chat a moment ago
            await BotState.filter(key=name).update(**values)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)
        if value is None:
            await self._forget_if_empty(key)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await BotState.get_or_none(key=self._key(key))
        return row.state if row is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))
        if not data:
            await self._forget_if_empty(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await BotState.get_or_none(key=self._key(key))
        return dict(row.data or {}) if row is not None else {}

    async def _forget_if_empty(self, key: StorageKey) -> None:
        # A cleared flow leaves no row behind: the table holds only chats in the middle of something.
        row = await BotState.get_or_none(key=self._key(key))
        if row is not None and row.state is None and not row.data:
            await BotState.filter(key=row.key, state__isnull=True).delete()

    async def close(self) -> None:
        return None
