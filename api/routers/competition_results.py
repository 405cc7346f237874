"""Competitions after the scoring: closing a round, wildcards, the public notice (公示) and its objections,
final results and award tiers, the public results, and the round's papers (score sheets, results).

Organizer routes reach the caller's organization's competitions (another's → 404). Filing an objection
and reading the published results need no token (an objection is rate-limited per client address).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api import competition_exports as papers
from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter, rate_limit
from api.ratelimit import PublicRateLimit
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, PUBLIC_WRITE, READ, Items, Page, errors, media
from api.schemas.competition_results import (
    DecisionPublic,
    ObjectionFiled,
    ObjectionPublic,
    PublicResultsPublic,
    RoundClosed,
    RoundFinal,
    WildcardPublic,
)
from events.i18n import Locale, locale_of
from events.models import ObjectionStatus
from events.services.competitions import closing, sheets

router = APIRouter(prefix="/api/v1/competitions", tags=["competitions"])

RoundCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=500)]
Format = Annotated[str, Query(pattern="^(xlsx|html)$", description="xlsx (a worksheet per sheet) or html (to print)")]
Lang = Annotated[str | None, Query(max_length=10, description="zh or en; else Accept-Language")]
OptionalId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]

PAPERS = media(200, "The sheets: XLSX or a printable HTML page.", papers.XLSX_MEDIA_TYPE, "text/html") | errors(
    *COMMON, 401, 403, 404
)


def _locale(request: Request, lang: str | None) -> Locale:
    return locale_of(lang, accept_language=request.headers.get("accept-language"))


@router.post(
    "/{competition_id}/rounds/{round}/close",
    response_model=RoundClosed,
    responses=AUTHED_WRITE,
    summary="Close a round",
    description="Ends the scoring (a score arriving meanwhile is either counted or refused with "
    "``round_closed``), promotes by the round's ``advance`` rule (``top``, ``top_per_track``, ``min_score``) and "
    "the wildcards named before, eliminates the other entries in play, and opens the public notice (公示) for "
    "``notice_days`` whole local days after today (``notice.ends_at`` is the local midnight ending it). "
    "``409 unscored_entries`` (with ``unscored``: each entry and the judges who owe it) while an active "
    "assignment has no submitted score, unless ``force`` with a ``reason`` (kept). ``409 round_not_open`` once "
    "closed; ``409 previous_round_not_final`` before the earlier round's results are final. Entrants are told.",
)
async def close_round(
    competition_id: Id,
    round: RoundCode,
    body: Annotated[closing.CloseInput | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> RoundClosed:
    result = await closing.close_round(
        competition_id, round, body or closing.CloseInput(), scope=caller.reach, actor=caller.actor
    )
    return RoundClosed.of(show, result)


@router.post(
    "/{competition_id}/rounds/{round}/wildcards",
    status_code=201,
    response_model=WildcardPublic,
    responses=AUTHED_WRITE,
    summary="Name a wildcard",
    description="The organizer takes an entry in play in the round through at its close beside the rule "
    "(外卡), with a reason; naming it again replaces the reason. Only before the close (``409 round_not_open``); "
    "an entry not in play in this round: ``409 invalid_transition``.",
)
async def add_wildcard(
    competition_id: Id,
    round: RoundCode,
    data: closing.WildcardInput,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    wildcard = await closing.add_wildcard(competition_id, round, data, scope=caller.reach, actor=caller.actor)
    return JSONResponse(WildcardPublic.of(show, wildcard).model_dump(mode="json"), status_code=201)


@router.get(
    "/{competition_id}/rounds/{round}/wildcards",
    response_model=Items[WildcardPublic],
    responses=AUTHED,
    summary="The round's wildcards",
    description="In the order they were named (a round has a handful).",
)
async def list_wildcards(
    competition_id: Id,
    round: RoundCode,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> Items[WildcardPublic]:
    found = await closing.wildcards_of(competition_id, round, scope=caller.reach)
    return Items[WildcardPublic](items=[WildcardPublic.of(show, w) for w in found])


@router.post(
    "/{competition_id}/rounds/{round}/finalize",
    response_model=RoundFinal,
    responses=AUTHED_WRITE,
    summary="Make a round's results final",
    description="After the notice (``409 notice_open`` before it ends) and with every objection decided "
    "(``409 objections_pending``). For the last round the award tiers go to the entries through it in rank "
    "order (equal scores at a tier's line share the better tier) and the competition is finished. "
    "``409 round_not_in_notice`` for a round not under notice. Winners are told.",
)
async def finalize_round(
    competition_id: Id,
    round: RoundCode,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> RoundFinal:
    result = await closing.finalize_round(competition_id, round, scope=caller.reach, actor=caller.actor)
    return RoundFinal.of(show, result)


@router.post(
    "/{competition_id}/entries/{entry_id}/objections",
    status_code=201,
    response_model=ObjectionFiled,
    responses=PUBLIC_WRITE,
    summary="Object to an entry's result",
    description="Anyone, by real name with a contact (a phone number or an e-mail address), a reason and evidence "
    "(text or addresses of documents), while the public notice of a round the entry was ranked in is open; "
    "after it: ``409 notice_closed``. Rate-limited per client address like anonymous registration.",
)
async def file_objection(
    competition_id: Id,
    entry_id: Id,
    data: closing.ObjectionInput,
    request: Request,
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
    limiter: PublicRateLimit = Depends(rate_limit),
) -> JSONResponse:
    if caller.token is None:
        await limiter.check(request, "objections")
    objection = await closing.file_objection(competition_id, entry_id, data, actor=caller.actor)
    await objection.fetch_related("round")
    return JSONResponse(
        ObjectionFiled.of(show, objection, objection.round.code).model_dump(mode="json"), status_code=201
    )


@router.get(
    "/{competition_id}/objections",
    response_model=Page[ObjectionPublic],
    responses=AUTHED,
    summary="List objections",
    description="The competition's objections in the order they came, with the objector's contact; filtered "
    "by status and round.",
)
async def list_objections(
    competition_id: Id,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    status: ObjectionStatus | None = None,
    round: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ObjectionPublic]:
    page = await closing.objection_page(
        competition_id, scope=caller.reach, status=status, round_code=round or None, limit=limit, cursor=cursor
    )
    return Page[ObjectionPublic].of(page, [ObjectionPublic.of(show, o) for o in page.items])


@router.post(
    "/{competition_id}/objections/{objection_id}/decision",
    response_model=DecisionPublic,
    responses=AUTHED_WRITE,
    summary="Decide an objection",
    description="``upheld`` or ``dismissed``, with a reason. Upheld against an entry that went through the "
    "round: it is removed and the next-ranked eliminated entry moves up (依序递补; from the same track when the "
    "seat was a per-track one), recorded with the reason. ``409 objection_decided`` a second time. The "
    "objector, the entrant and whoever moved up are told.",
)
async def decide_objection(
    competition_id: Id,
    objection_id: Id,
    data: closing.DecisionInput,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> DecisionPublic:
    decision = await closing.decide_objection(
        competition_id, objection_id, data, scope=caller.reach, actor=caller.actor
    )
    await decision.objection.fetch_related("entry", "round")
    return DecisionPublic.of(show, decision)


@router.get(
    "/{competition_id}/results",
    response_model=PublicResultsPublic,
    responses=READ,
    summary="Published results",
    description="Public: for each round under notice or final, the entries through it with title, organization, "
    "track, rank and score, how each went through (rule, wildcard, moved up), the notice period and whether "
    "objections are taken; award tiers once the last round is final. Nothing unpublished.",
)
async def public_results(competition_id: Id, show: Presenter = Depends(presenter)) -> PublicResultsPublic:
    return PublicResultsPublic.of(show, await closing.public_results(competition_id))


@router.get(
    "/{competition_id}/rounds/{round}/exports/judge-sheets",
    response_class=Response,
    responses=PAPERS,
    summary="Score sheets per judge",
    description="One sheet per judge of the round (or ``judge_id``): their entries, each criterion's value, the "
    "total and the comment, and a line to sign. ``format=xlsx`` (a worksheet per judge) or ``html`` (a page per "
    "judge, to print).",
)
async def judge_sheets(
    competition_id: Id,
    round: RoundCode,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    format: Format = "xlsx",
    judge_id: OptionalId = None,
    lang: Lang = None,
) -> Response:
    locale = _locale(request, lang)
    made, found = await sheets.judge_sheets(competition_id, round, scope=caller.reach, judge_id=judge_id)
    return await _papers(
        request,
        locale,
        show,
        f"judge-sheets-{competition_id}-{round}",
        papers.judge_sheets(locale, made, found),
        format,
    )


@router.get(
    "/{competition_id}/rounds/{round}/exports/entry-sheets",
    response_class=Response,
    responses=PAPERS,
    summary="Score sheets per entry",
    description="One sheet per entry of the round (or ``entry_id``), best first: each judge's values and total, "
    "what the aggregation counted (rescaled for ``zscore``) and dropped (``trimmed_mean``), the score and ranks, "
    "and lines to sign. ``format=xlsx`` or ``html``.",
)
async def entry_sheets(
    competition_id: Id,
    round: RoundCode,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    format: Format = "xlsx",
    entry_id: OptionalId = None,
    lang: Lang = None,
) -> Response:
    locale = _locale(request, lang)
    made, found = await sheets.entry_sheets(competition_id, round, scope=caller.reach, entry_id=entry_id)
    return await _papers(
        request,
        locale,
        show,
        f"entry-sheets-{competition_id}-{round}",
        papers.entry_sheets(locale, made, found),
        format,
    )


@router.get(
    "/{competition_id}/rounds/{round}/exports/results",
    response_class=Response,
    responses=PAPERS,
    summary="The round's results",
    description="Every entry of the round by rank: track rank, score, number of scores, how it went through, "
    "award tier, disagreement flag (before the close: the rule's preview). ``format=xlsx`` or ``html``.",
)
async def results_sheet(
    competition_id: Id,
    round: RoundCode,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    format: Format = "xlsx",
    lang: Lang = None,
) -> Response:
    locale = _locale(request, lang)
    made, lines = await sheets.round_results(competition_id, round, scope=caller.reach)
    return await _papers(
        request, locale, show, f"results-{competition_id}-{round}", papers.results_sheet(locale, made, lines), format
    )


async def _papers(
    request: Request, locale: Locale, show: Presenter, name: str, found: list[papers.Sheet], format: str
) -> Response:
    if format == "html":
        title = found[0].title if len(found) == 1 else name
        response: Response = papers.html_response(request, locale, title, found)
        return response
    return await papers.xlsx_response(f"{name}.xlsx", found, tz=show.tz)
