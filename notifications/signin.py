"""The one-time console sign-in link, queued for the person's channel (Telegram when linked, else e-mail).

``events.services.accounts.request_signin_link`` calls ``queue_signin_link`` inside the transaction
that makes the link, so the link and its message commit together. The row holds no working link: its
text has a marker where the link goes and its recipe names the link; ``materialize`` puts the link in
when the row is sent (the token is made from the link's seed with the at-rest key), and a link used
or expired before then is not sent at all.
"""

from __future__ import annotations

import copy

from tortoise.backends.base.client import BaseDBAsyncClient

from events.models import Category, OutboxMessage, Person, SigninLink
from events.services import accounts
from events.settings import get_settings
from notifications.outbox import enqueue
from notifications.render import render

SIGNIN_PATH = "/console/signin/"
MARKER = "WUCHUANG-SIGNIN-LINK"  # where the link goes; nothing to escape in it
RECIPE_KEY = "signin_link_id"


class LinkGone(LookupError):
    """The link was used or expired before its message went out."""


def signin_url(token: str) -> str:
    return f"{get_settings().base_url}{SIGNIN_PATH}{token}"


async def queue_signin_link(person: Person, token: str, link: SigninLink, conn: BaseDBAsyncClient) -> bool:
    """Queue the link for the person; False when no channel can carry it (no chat, no mailbox)."""
    text = render("signin_link", person.language, url=MARKER, minutes=int(accounts.LINK_TTL.total_seconds() // 60))
    return await enqueue(
        person,
        Category.SIGNIN,
        dedup_key=f"signin:{link.id}",
        text=text,
        mail={RECIPE_KEY: link.id},
        urgent=True,  # someone is waiting at the sign-in page, whatever the hour
        using_db=conn,
    )


async def materialize(row: OutboxMessage) -> OutboxMessage:
    """The row as it is sent: a sign-in row with its link in (a copy; the stored row is unchanged),
    any other row as it is. Raises ``LinkGone``."""
    link_id = (row.mail or {}).get(RECIPE_KEY)
    if row.category != Category.SIGNIN or not isinstance(link_id, int):
        return row
    found = await accounts.link_for_sending(link_id)
    if found is None:
        raise LinkGone("the sign-in link was used or expired before it was sent")
    sending = copy.copy(row)
    sending.text = row.text.replace(MARKER, signin_url(found[1]))
    return sending
