"""What the rendering process runs (``reports.worker``): a brief drawn as DOCX or HTML, charts included.

The server never imports matplotlib, numpy or python-docx: they load here, in the child. The display
zone is process state (``localtime.use`` at start-up), so each job carries the server's.
"""

from __future__ import annotations

from events import localtime
from events.i18n import Locale
from events.services.brief import Brief
from reports.docx_brief import render_docx
from reports.html_brief import render_html
from reports.view import build


def docx(brief: Brief, locale: Locale, zone: str) -> bytes:
    localtime.use(zone)
    return render_docx(build(brief, locale))


def html(brief: Brief, locale: Locale, zone: str, alternate: str | None, alternate_label: str | None) -> str:
    localtime.use(zone)
    return render_html(build(brief, locale), alternate=alternate, alternate_label=alternate_label)
