"""Entry points: a brief rendered as DOCX or HTML, drawn in the rendering process (``reports.worker``)
so that neither the drawing's CPU nor its libraries' memory land in the process serving requests."""

from __future__ import annotations

import asyncio

from events import localtime
from events.i18n import Locale
from events.services.brief import Brief
from reports import draw
from reports.worker import Worker

worker = Worker()


async def brief_docx(brief: Brief, locale: Locale = "zh") -> bytes:
    """The brief as a Word document; ``RenderFailed`` when the rendering process fails or dies."""
    return await asyncio.to_thread(worker.call, draw.docx, brief, locale, localtime.zone().key)


async def brief_html(
    brief: Brief, locale: Locale = "zh", *, alternate: str | None = None, alternate_label: str | None = None
) -> str:
    """The printable page; ``RenderFailed`` as above."""
    return await asyncio.to_thread(
        worker.call, draw.html, brief, locale, localtime.zone().key, alternate, alternate_label
    )
