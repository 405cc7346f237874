"""The one-time console sign-in link, queued for the person's channel (Telegram when linked, else e-mail).

``events.services.accounts.request_signin_link`` calls ``queue_signin_link`` inside the transaction
that makes the link, so the link and its message commit together. The row's text holds the link
until it is sent; the link itself is spent on first use and dead after 15 minutes, so a row read
later opens nothing.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from events.models import Category, Person, SigninLink
from events.services.accounts import LINK_TTL
from events.settings import get_settings
from notifications.outbox import enqueue
from notifications.render import render

SIGNIN_PATH = "/console/signin/"


def signin_url(token: str) -> str:
    return f"{get_settings().base_url}{SIGNIN_PATH}{token}"


async def queue_signin_link(person: Person, token: str, link: SigninLink, conn: BaseDBAsyncClient) -> bool:
    """Queue the link for the person; False when no channel can carry it (no chat, no mailbox)."""
    url = signin_url(token)
    text = render("signin_link", person.language, url=url, minutes=int(LINK_TTL.total_seconds() // 60))
    return await enqueue(
        person,
        Category.SIGNIN,
        dedup_key=f"signin:{link.id}",
        text=text,
        urgent=True,  # someone is waiting at the sign-in page, whatever the hour
        using_db=conn,
    )
