"""Entry points: a brief rendered as DOCX or HTML, the drawing done off the event loop."""

from __future__ import annotations

import asyncio

from events.i18n import Locale
from events.services.brief import Brief
from reports.docx_brief import render_docx
from reports.html_brief import render_html
from reports.view import build


async def brief_docx(brief: Brief, locale: Locale = "zh") -> bytes:
    # Charts and the document take a few hundred milliseconds of CPU: not on the loop that serves requests.
    return await asyncio.to_thread(lambda: render_docx(build(brief, locale)))


async def brief_html(
    brief: Brief, locale: Locale = "zh", *, alternate: str | None = None, alternate_label: str | None = None
) -> str:
    return await asyncio.to_thread(
        lambda: render_html(build(brief, locale), alternate=alternate, alternate_label=alternate_label)
    )
