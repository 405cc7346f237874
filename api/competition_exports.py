"""A round's papers as files: score sheets per judge (to sign), per entry (how its score was made) and the
results, each as XLSX (one worksheet per sheet) or a printable HTML page (one A4 page per sheet).

Both come from one list of ``Sheet``: a title, a few caption lines, a table and the signature lines.
Texts are in the reader's language; numbers stay numbers in the spreadsheet.
"""

from __future__ import annotations

import asyncio
import io
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.exports import XLSX_MEDIA_TYPE, xlsx_cell
from api.pages import PAGE_HEADERS, asset_url, templates
from events import clock, localtime
from events.errors import N_
from events.i18n import Locale, gettext
from events.services.competitions import sheets

AGGREGATION_NAMES = {
    "mean": N_("mean of the judges' totals"),
    "trimmed_mean": N_("mean without the highest and the lowest total (from 5 scores)"),
    "zscore": N_("mean of the judges' totals standardised per judge"),
}
HOW_NAMES = {
    "rule": N_("by the rule"),
    "wildcard": N_("wildcard"),
    "moved_up": N_("moved up"),
}


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str
    caption: list[str]
    header: list[str]
    rows: list[list[Any]]
    signatures: list[str] = field(default_factory=list)


def _n(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _caption(locale: Locale, papers: sheets.Papers) -> list[str]:
    rnd = papers.round
    return [
        f"{papers.config.competition.title} · {rnd.name}",
        gettext(
            locale,
            N_("Aggregation: %(rule)s"),
            rule=gettext(locale, AGGREGATION_NAMES[str(papers.config.competition.aggregation)]),
        ),
        gettext(locale, N_("Printed %(at)s"), at=localtime.stamp(clock.now())),
    ]


def _track(papers: sheets.Papers, code: str) -> str:
    return next((t.name for t in papers.config.tracks if t.code == code), code)


def _criteria_header(locale: Locale, papers: sheets.Papers) -> list[str]:
    return [
        gettext(
            locale,
            N_("%(name)s (max %(max)s, weight %(weight)s)"),
            name=c.name,
            max=f"{c.max:g}",
            weight=f"{c.weight:g}",
        )
        for c in papers.criteria
    ]


def judge_sheets(locale: Locale, papers: sheets.Papers, found: list[sheets.JudgeSheet]) -> list[Sheet]:
    out = []
    for sheet in found:
        rows = []
        for line in sheet.lines:
            m = line.marked
            rows.append(
                [
                    line.entry_id,
                    line.title,
                    _track(papers, line.track),
                    *[m.values.get(c.key) if m else None for c in papers.criteria],
                    _n(m.total) if m else None,
                    m.comment if m else gettext(locale, N_("not submitted")),
                ]
            )
        out.append(
            Sheet(
                title=gettext(locale, N_("Score sheet: %(judge)s"), judge=sheet.judge_name),
                caption=[
                    *_caption(locale, papers),
                    gettext(locale, N_("Judge: %(judge)s"), judge=sheet.judge_name)
                    + (f" · {sheet.organization}" if sheet.organization else ""),
                ],
                header=[
                    gettext(locale, N_("Entry")),
                    gettext(locale, N_("Project")),
                    gettext(locale, N_("Track")),
                    *_criteria_header(locale, papers),
                    gettext(locale, N_("Total")),
                    gettext(locale, N_("Comment")),
                ],
                rows=rows,
                signatures=[gettext(locale, N_("Judge's signature")), gettext(locale, N_("Date"))],
            )
        )
    return out


def entry_sheets(locale: Locale, papers: sheets.Papers, found: list[sheets.EntrySheet]) -> list[Sheet]:
    out = []
    for sheet in found:
        rows = []
        for part in sheet.parts:
            m = part.marked
            rows.append(
                [
                    part.judge_name,
                    *[m.values.get(c.key) if m else None for c in papers.criteria],
                    _n(m.total) if m else None,
                    _n(part.counted),
                    gettext(locale, N_("dropped")) if part.dropped else "",
                    m.comment if m else gettext(locale, N_("not submitted")),
                ]
            )
        rank = gettext(
            locale,
            N_("Rank %(rank)s, in its track %(track_rank)s"),
            rank=sheet.rank or "—",
            track_rank=sheet.track_rank or "—",
        )
        score = gettext(locale, N_("Score: %(score)s"), score="—" if sheet.score is None else f"{sheet.score:.2f}")
        out.append(
            Sheet(
                title=gettext(locale, N_("Entry %(id)s: %(title)s"), id=sheet.entry_id, title=sheet.title),
                caption=[
                    *_caption(locale, papers),
                    " · ".join(x for x in (sheet.organization, _track(papers, sheet.track)) if x),
                    f"{score} · {rank}"
                    + (" · " + gettext(locale, N_("judges disagree: re-review")) if sheet.disagreement else ""),
                ],
                header=[
                    gettext(locale, N_("Judge")),
                    *_criteria_header(locale, papers),
                    gettext(locale, N_("Total")),
                    gettext(locale, N_("Counted")),
                    gettext(locale, N_("Dropped")),
                    gettext(locale, N_("Comment")),
                ],
                rows=rows,
                signatures=[gettext(locale, N_("Scorer's signature")), gettext(locale, N_("Supervisor's signature"))],
            )
        )
    return out


def results_sheet(locale: Locale, papers: sheets.Papers, lines: list[sheets.ResultLine]) -> list[Sheet]:
    tiers = {str(t["code"]): str(t["name"]) for t in papers.config.competition.award_tiers or []}
    rows = [
        [
            line.rank,
            line.track_rank,
            line.entry_id,
            line.title,
            line.organization or "",
            _track(papers, line.track),
            _n(line.score),
            line.scores_count,
            gettext(locale, HOW_NAMES[line.how.value]) if line.how else "",
            tiers.get(line.award_tier, line.award_tier) if line.award_tier else "",
            "!" if line.disagreement else "",
        ]
        for line in lines
    ]
    return [
        Sheet(
            title=gettext(locale, N_("Results: %(round)s"), round=papers.round.name),
            caption=_caption(locale, papers),
            header=[
                gettext(locale, N_("Rank")),
                gettext(locale, N_("Track rank")),
                gettext(locale, N_("Entry")),
                gettext(locale, N_("Project")),
                gettext(locale, N_("Organization")),
                gettext(locale, N_("Track")),
                gettext(locale, N_("Score")),
                gettext(locale, N_("Scores")),
                gettext(locale, N_("Through")),
                gettext(locale, N_("Award")),
                gettext(locale, N_("Disagreement")),
            ],
            rows=rows,
            signatures=[gettext(locale, N_("Organizer's signature")), gettext(locale, N_("Supervisor's signature"))],
        )
    ]


def xlsx_bytes(found: Sequence[Sheet], *, tz: zoneinfo.ZoneInfo) -> bytes:
    from openpyxl import Workbook  # heavy: only when a spreadsheet is written (see api/exports.py)
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    seen: set[str] = set()
    for number, sheet in enumerate(found, start=1):
        name = "".join(c for c in sheet.title if c not in "[]:*?/\\")[:27] or "Sheet"
        if name in seen:
            name = f"{name[:23]} ({number})"
        seen.add(name)
        ws = book.create_sheet(title=name)
        for line in sheet.caption:
            ws.append([xlsx_cell(ws, line, tz)])
        ws.append([])
        titles = []
        for title in sheet.header:
            cell = xlsx_cell(ws, title, tz)
            cell.font = bold
            titles.append(cell)
        ws.append(titles)
        for row in sheet.rows:
            ws.append([xlsx_cell(ws, v, tz) for v in row])
        ws.append([])
        for line in sheet.signatures:
            ws.append([xlsx_cell(ws, f"{line}: ", tz), None, xlsx_cell(ws, "_" * 24, tz)])
    if not found:
        book.create_sheet(title="Sheet")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def xlsx_response(filename: str, found: Sequence[Sheet], *, tz: zoneinfo.ZoneInfo) -> Response:
    body = await asyncio.to_thread(xlsx_bytes, found, tz=tz)
    return Response(
        body, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def html_response(request: Request, locale: Locale, title: str, found: Sequence[Sheet]) -> HTMLResponse:
    """One printable page per sheet (A4 landscape), with its signature lines."""
    context = {
        "lang": "en" if locale == "en" else "zh-CN",
        "title": title,
        "sheets": found,
        "empty": gettext(locale, N_("Nothing to print.")),
        "asset": lambda name: asset_url(request, name),
    }
    return templates.TemplateResponse(request, "competition_sheets.html", context, headers=PAGE_HEADERS)
