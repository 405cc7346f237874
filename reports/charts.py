"""The brief's charts as PNG, drawn on the server with matplotlib (Agg: no display, no browser).

Chinese labels need a font with CJK glyphs (``events.services.fonts``). Without one, matplotlib would draw
empty boxes silently; instead the charts fall back to English labels and say so in the log once.
"""

from __future__ import annotations

import io
import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from events.errors import N_
from events.i18n import Locale, gettext
from events.services import fonts

if TYPE_CHECKING:
    from events.services.brief import Brief

log = logging.getLogger(__name__)
# pyplot keeps global state; the figures here are built with the object API, but font setup and
# drawing still touch matplotlib's shared caches, so one chart is drawn at a time.
_lock = threading.Lock()
BLUE, ORANGE, GREY, GREEN = "#2f6fb0", "#e08a2e", "#b8c2cc", "#3a9a5b"


@lru_cache(maxsize=1)
def _setup() -> str | None:
    """Load matplotlib with the Agg backend and register the CJK font; its family name, or None."""
    import matplotlib  # heavy (≈0.3 s): imported on first use, not when the app starts

    matplotlib.use("Agg")
    from matplotlib import font_manager

    path = fonts.cjk_font_path()
    if path is None:
        log.warning("no font with Chinese glyphs found (install fonts-noto-cjk): the brief's charts use English labels")
        return None
    font_manager.fontManager.addfont(path)
    name: str = font_manager.FontProperties(fname=path).get_name()
    return name


def chart_locale(locale: Locale) -> tuple[Locale, dict[str, Any]]:
    """The language the charts can be labelled in and the font settings for it."""
    family = _setup()
    if family is None:
        return "en", {"font.family": "DejaVu Sans"}
    return locale, {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=150, bbox_inches="tight")
    return out.getvalue()


def months_chart(brief: Brief, locale: Locale) -> bytes:
    """Registrations and check-ins per month (bars) with sessions held (line), the year so far."""
    lang, style = chart_locale(locale)
    t = lambda msgid: gettext(lang, msgid)  # noqa: E731
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    months = brief.months
    names = [f"{int(m.month[5:])}月" if lang == "zh" else m.month[5:] for m in months]
    with _lock, rc_context(style):  # type: ignore[arg-type]
        figure = Figure(figsize=(7.2, 3.2))
        axes = figure.subplots()
        xs = range(len(months))
        axes.bar([x - 0.2 for x in xs], [m.registrations for m in months], 0.4, color=BLUE, label=t(N_("Registered")))
        axes.bar([x + 0.2 for x in xs], [m.checkins for m in months], 0.4, color=ORANGE, label=t(N_("Checked in")))
        axes.set_xticks(list(xs), names)
        axes.set_ylabel(t(N_("People")))
        twin = axes.twinx()
        twin.plot(list(xs), [m.sessions for m in months], color=GREEN, marker="o", label=t(N_("Sessions held")))
        twin.set_ylabel(t(N_("Sessions held")))
        twin.set_ylim(bottom=0, top=max([1, *(m.sessions for m in months)]) * 1.3)
        for side in ("top",):
            axes.spines[side].set_visible(False)
            twin.spines[side].set_visible(False)
        handles, names_ = axes.get_legend_handles_labels()
        more, more_names = twin.get_legend_handles_labels()
        axes.legend(handles + more, names_ + more_names, loc="upper left", frameon=False, fontsize=8)
        return _png(figure)


def targets_chart(brief: Brief, locale: Locale) -> bytes:
    """Each target's year-to-date figure and forecast as a share of the plan (horizontal bars)."""
    lang, style = chart_locale(locale)
    t = lambda msgid: gettext(lang, msgid)  # noqa: E731
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    rows = [k for k in brief.kpis if k.target]
    with _lock, rc_context(style):  # type: ignore[arg-type]
        figure = Figure(figsize=(7.2, 0.5 + 0.5 * len(rows)))
        axes = figure.subplots()
        ys = list(range(len(rows)))[::-1]
        share = [min(1.5, k.year_to_date / k.target) * 100 for k in rows]
        ahead = [min(1.5, k.forecast / k.target) * 100 for k in rows]
        axes.barh(ys, ahead, 0.6, color=GREY, label=t(N_("Forecast for the year")))
        axes.barh(ys, share, 0.6, color=BLUE, label=t(N_("Year to date")))
        axes.axvline(100, color="#c0392b", linewidth=1)
        axes.set_yticks(ys, [t(k.title) for k in rows], fontsize=8)
        axes.set_xlabel("%")
        for y, value in zip(ys, share, strict=True):
            axes.text(value + 1, y, f"{value:.0f}%", va="center", fontsize=7)
        axes.spines["top"].set_visible(False)
        axes.spines["right"].set_visible(False)
        axes.legend(loc="lower right", frameon=False, fontsize=8)
        return _png(figure)
