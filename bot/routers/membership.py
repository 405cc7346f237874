"""A person blocking or unblocking the bot (my_chat_member updates)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import ChatMemberUpdated

from events.services.people import set_telegram_blocked


async def membership_changed(update: ChatMemberUpdated) -> None:
    if update.chat.type != "private":
        return
    status = update.new_chat_member.status
    await set_telegram_blocked(update.chat.id, blocked=status in ("kicked", "left"))


def make_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.register(membership_changed)
    return router
