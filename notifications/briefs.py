"""The monthly brief, made on the first of each month for the month before and sent to the office.

A pass runs every minute with the other schedules; it does work only while last month's brief is not
kept yet, so a restart or a pass after downtime still makes it (late), and exactly once: the stored
brief's period is unique and the announcements are written in the same transaction, so of two
processes racing, one keeps the brief and queues the messages and the other rolls back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_
from events.i18n import gettext, locale_of
from events.models import Category
from events.services import brief
from notifications.outbox import enqueue
from notifications.render import render
from reports.render import brief_docx
from reports.view import period_label

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BriefPass:
    period: str
    queued: int


async def produce_monthly_brief(*, public_url: str) -> BriefPass | None:
    """Make, keep and announce last month's brief unless it is kept already. None when nothing was done."""
    period = brief.previous_month(clock.now())
    if await brief.stored_brief(period) is not None:
        return None
    # The office's copy covers the whole programme, in Chinese (the office's working language).
    docx = await brief_docx(await brief.gather(period), "zh")
    members = await brief.office_members()
    try:
        async with in_transaction() as conn:
            stored = await brief.keep_brief(period, docx, using_db=conn)
            link = f"{public_url.rstrip('/')}/briefs/{brief.brief_token(stored)}"
            queued = 0
            for person in members:
                locale = locale_of(person.language)
                text = render("brief_ready", locale, period=period_label(period, locale))
                button = [
                    [{"text": gettext(locale, N_("Download the brief (Word)")), "url": f"{link}.docx"}],
                    [{"text": gettext(locale, N_("Read it on the web")), "url": f"{link}.html?lang={locale}"}],
                ]
                key = f"brief:{period.key}:person:{person.id}"
                queued += await enqueue(person, Category.BRIEF, dedup_key=key, text=text, buttons=button, using_db=conn)
    except IntegrityError:  # another process kept it first, and told the office
        return None
    log.info("brief %s kept; %d office members told", period.key, queued)
    return BriefPass(period.key, queued)
