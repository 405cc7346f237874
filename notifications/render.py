"""Message texts from Jinja2 templates (Telegram HTML), translated through the gettext catalogue.

One environment per locale, each with its catalogue installed, so rendering never depends on a
global "current language". StrictUndefined: a missing variable is a bug, not an empty string.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from events.i18n import Locale, locale_of, translations

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=2)
def environment(locale: Locale) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=False,
        # The templates ship with the code (a change comes with a restart): no stat() of the file per
        # message, ten thousand of them for a broadcast.
        auto_reload=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def render(template: str, language: str | None, **context: Any) -> str:
    locale = locale_of(language)
    text = environment(locale).get_template(f"{template}.j2").render(locale=locale, **context)
    # Block tags leave blank lines behind; messages here never want one.
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())
