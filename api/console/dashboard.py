"""The programme office's dashboard in the console: ``/console/dashboard`` (``?as_of=YYYY-MM-DD``).

The figures are ``events.services.dashboard``'s, the same as ``GET /api/v1/dashboard``, with the same
scope: an admin sees the whole programme, an organizer their organization's records (the events it
runs, the demands and achievements it manages, the brokers it trains) — the service counts per scope,
so a district office's dashboard is its own part of the plan. Every figure is a link to the records it
counts (events, demands, achievements, brokers lists with the matching filters); the tables carry every
figure without JavaScript, and ``console_dashboard.js`` draws the charts (vendored ECharts) from the
JSON embedded in the page (``<script type="application/json">``: data, never run, so the CSP holds).

Where the links land: sessions and registrations → ``/console/events`` (series, district, from, to: the
events that started in the span; the count held is those over by ``as_of``, not cancelled or draft);
demands → ``/console/demands`` (district, from, to: entered in the span, exact); key achievements →
``/console/achievements?tier=key`` (from, to); brokers → ``/console/brokers?certified=1`` (district);
contracts and turnover → the contracted demands (transfers have no console list yet); a funnel's
matched / connected / contracted step → the demands of the span now in that status (the funnel counts
those that ever reached it). Figures with no list to filter (connections per month, records naming no
district) stand unlinked.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console.common import Page, refusal, render, signed_in, with_lang
from events import districts, localtime
from events.errors import N_
from events.i18n import Locale, gettext
from events.services import dashboard

router = APIRouter(include_in_schema=False)

LABELS: dict[str, str] = {
    "title": N_("Programme office dashboard"),
    "as_of": N_("As of"),
    "show": N_("Show"),
    "scope_all": N_("The whole programme: every organization's records."),
    "scope_own": N_("Your organization's records: the events it runs, the demands and achievements it manages."),
    "year_elapsed": N_("Share of the year gone by"),
    "targets": N_("The plan's targets"),
    "target": N_("Target"),
    "current": N_("So far"),
    "progress": N_("Progress"),
    "forecast": N_("Forecast at this pace"),
    "on_track": N_("On track"),
    "behind": N_("Behind"),
    "no_target": N_("No target set"),
    "districts": N_("Districts and zones"),
    "district": N_("District"),
    "sessions_held": N_("Sessions held"),
    "registrations": N_("Registrations"),
    "checked_in": N_("Checked in"),
    "checkin_rate": N_("Check-in rate"),
    "demands": N_("Demands"),
    "brokers": N_("Brokers trained"),
    "months": N_("Month by month"),
    "month": N_("Month"),
    "sessions": N_("Sessions"),
    "checkins": N_("Check-ins"),
    "connections": N_("Connections"),
    "transfers": N_("Contracts"),
    "brokers_certified": N_("Brokers certified"),
    "funnels": N_("Funnels"),
    "step": N_("Step"),
    "count": N_("Count"),
    "of_previous": N_("Of the step before"),
    "total": N_("Total"),
    "bad_date": N_("Give the date as YYYY-MM-DD."),
    "chart_targets": N_("Progress and forecast, percent of the target"),
    "chart_months": N_("The year month by month"),
    "chart_districts": N_("Sessions and demands by district"),
    "briefs_link": N_("Monthly brief"),
}


@dataclass(frozen=True, slots=True)
class Cell:
    """A figure and the list of the records it counts ("" when no console page lists them)."""

    value: int
    href: str = ""


def _day(moment: datetime) -> str:
    return localtime.local(moment).date().isoformat()


def target_links(board: dashboard.Dashboard, locale: Locale) -> dict[str, str]:
    """Where each target's records are listed, over the programme year up to ``as_of``."""
    since, until = f"{board.year}-01-01", _day(board.as_of)
    return {
        "wuchuanghui_sessions": with_lang(
            "/console/events", locale, series="wuchuanghui", **{"from": since, "to": until}
        ),
        "brokers_trained": with_lang("/console/brokers", locale, certified="1"),
        "demands_collected": with_lang("/console/demands", locale, **{"from": since, "to": until}),
        "key_achievements": with_lang("/console/achievements", locale, tier="key", **{"from": since, "to": until}),
        "major_transfers": with_lang("/console/demands", locale, status="contracted"),
        "contract_turnover": with_lang("/console/demands", locale, status="contracted"),
    }


def _month_bounds(month: str) -> tuple[str, str]:
    year, number = (int(part) for part in month.split("-"))
    return f"{month}-01", f"{month}-{monthrange(year, number)[1]:02d}"


def view(board: dashboard.Dashboard, locale: Locale) -> dict[str, Any]:
    """The page's rows, each figure with its link, and the charts' data (the same figures)."""
    since, until = f"{board.year}-01-01", _day(board.as_of)
    span = {"from": since, "to": until}
    links = target_links(board, locale)
    targets = [
        {
            "key": t.key,
            "title": gettext(locale, t.title),
            "unit": gettext(locale, t.unit),
            "target": t.target,
            "current": Cell(t.current, links.get(t.key, "")),
            "forecast": t.forecast,
            "share": min(t.current / t.target, 1.0) if t.target else None,
            "percent": round(100 * t.current / t.target, 1) if t.target else None,
            "forecast_percent": round(100 * t.forecast / t.target, 1) if t.target else None,
            "on_track": t.on_track,
        }
        for t in board.targets
    ]
    rows: list[dict[str, Any]] = []
    for r in board.districts:
        name = districts.label(r.code, locale) if r.code else gettext(locale, dashboard.NO_DISTRICT)
        # Records that name no district have no filter to list them by: their figures stand unlinked.
        place = {"district": r.code} if r.code else None
        held = with_lang("/console/events", locale, series="wuchuanghui", **place, **span) if place else ""
        events = with_lang("/console/events", locale, **place, **span) if place else ""
        asked = with_lang("/console/demands", locale, **place, **span) if place else ""
        trained = with_lang("/console/brokers", locale, certified="1", **place) if place else ""
        rows.append(
            {
                "code": r.code,
                "name": name,
                "sessions_held": Cell(r.sessions_held, held),
                "registrations": Cell(r.registrations, events),
                "checked_in": Cell(r.checked_in, events),
                "checkin_rate": r.checkin_rate,
                "demands": Cell(r.demands, asked),
                "brokers": Cell(r.brokers, trained),
            }
        )
    months = []
    for m in board.months:
        first, last = _month_bounds(m.month)
        window = {"from": first, "to": last}
        months.append(
            {
                "month": m.month,
                "sessions": Cell(
                    m.sessions,
                    with_lang("/console/events", locale, series="wuchuanghui", **window),
                ),
                "registrations": Cell(m.registrations, with_lang("/console/events", locale, **window)),
                "checkins": Cell(m.checkins, with_lang("/console/events", locale, **window)),
                "demands": Cell(m.demands, with_lang("/console/demands", locale, **window)),
                "connections": Cell(m.connections),
                "transfers": Cell(m.transfers, with_lang("/console/demands", locale, status="contracted")),
                "brokers_certified": Cell(m.brokers_certified, with_lang("/console/brokers", locale, certified="1")),
            }
        )
    step_links = {
        "registered": with_lang("/console/events", locale, **span),
        "checked_in": with_lang("/console/events", locale, **span),
        "demands": with_lang("/console/demands", locale, **span),
        "matched": with_lang("/console/demands", locale, status="matched", **span),
        "connected": with_lang("/console/demands", locale, status="in_talks", **span),
        "contracted": with_lang("/console/demands", locale, status="contracted", **span),
    }
    funnels: list[dict[str, Any]] = []
    for f in board.funnels:
        steps = []
        previous: int | None = None
        for s in f.steps:
            steps.append(
                {
                    "key": s.key,
                    "label": gettext(locale, s.label),
                    "count": Cell(s.count, step_links.get(s.key, "")),
                    "of_previous": (s.count / previous if previous else None) if previous is not None else None,
                }
            )
            previous = s.count
        funnels.append({"key": f.key, "title": gettext(locale, f.title), "steps": steps})
    charts = {
        "targets": [
            {"name": t["title"], "percent": t["percent"], "forecast": t["forecast_percent"]}
            for t in targets
            if t["percent"] is not None
        ],
        "months": [
            {
                "month": m.month,
                "sessions": m.sessions,
                "registrations": m.registrations,
                "checkins": m.checkins,
                "demands": m.demands,
                "connections": m.connections,
                "transfers": m.transfers,
                "brokers": m.brokers_certified,
            }
            for m in board.months
        ],
        "districts": [
            {"name": r["name"], "sessions": r["sessions_held"].value, "demands": r["demands"].value} for r in rows
        ],
        "funnels": [
            {"title": f["title"], "steps": [{"name": s["label"], "value": s["count"].value} for s in f["steps"]]}
            for f in funnels
        ],
    }
    totals = {
        key: sum(r[key].value for r in rows) for key in ("sessions_held", "registrations", "checked_in", "demands")
    } | {"brokers": sum(r["brokers"].value for r in rows)}
    total_rate = totals["checked_in"] / totals["registrations"] if totals["registrations"] else None
    return {
        "targets": targets,
        "rows": rows,
        "totals": totals,
        "total_rate": total_rate,
        "months": months,
        "funnels": funnels,
        "charts": charts,
        "elapsed": board.elapsed,
        "as_of_day": until,
        "year": board.year,
    }


def parse_day(text: str | None) -> date | None:
    """``YYYY-MM-DD`` or nothing; raises ValueError for anything else."""
    if not text:
        return None
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


@router.get("/console/dashboard")
async def dashboard_page(request: Request, as_of: str | None = None) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    try:
        day = parse_day(as_of)
    except ValueError:
        return refusal(request, page.locale, gettext(page.locale, LABELS["bad_date"]), status_code=422, page=page)
    moment = dashboard.end_of_day(day) if day is not None else None
    board = await dashboard.dashboard(as_of=moment, scope=page.scope)
    return _render(request, page, board)


def _render(request: Request, page: Page, board: dashboard.Dashboard) -> Response:
    shown = view(board, page.locale)
    labels = {key: gettext(page.locale, value) for key, value in LABELS.items() if key.startswith("chart_")} | {
        key: gettext(page.locale, LABELS[key])
        for key in (
            "sessions",
            "registrations",
            "checkins",
            "demands",
            "connections",
            "transfers",
            "brokers_certified",
            "progress",
            "forecast",
        )
    }
    return render(
        request,
        page,
        "console/dashboard_page.html",
        LABELS,
        everything=page.scope.everything,
        chart_data={"labels": labels, **shown["charts"]},
        **shown,
    )
