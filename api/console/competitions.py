"""The console's competitions (issue 17, item 2): the organization's competitions, a competition at a
glance (tracks, rounds and their state, counts), a round's entries with search and status filters and
their eligibility review, an entry's file (attachments, scores, conflicts), the judges (add one, their
conflicts), a round's assignment (run, re-run, each judge's load, the entries short of judges), its
ranking (the competition's aggregation or another to compare, the disagreement flag), the close
(promotion by the rule, then 公示), the objections and their decisions, finalizing, and the papers.

Every rule is a service's (``events.services.competitions``): the same functions the API calls, with
the page's scope and actor. Forms that change a round or an entry carry what the page showed (the
round's status, the entry's ``updated_at``): a form opened before someone else changed it is refused
with the "stale" text over the current state (409), nothing done.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.competition_exports import entry_sheets as entry_papers
from api.competition_exports import html_response, xlsx_response
from api.competition_exports import judge_sheets as judge_papers
from api.competition_exports import results_sheet as results_papers
from api.console.common import (
    Page,
    error_page,
    field_ids,
    field_text,
    message_of,
    not_found,
    owned,
    parse_id,
    posted,
    redirect,
    render,
    signed_in,
    stamp,
    status_of,
    texts,
    with_lang,
)
from api.routers.competition_faces import content_disposition
from events import clock, labels, localtime
from events.errors import N_, DomainError, InvalidInput
from events.i18n import Locale, gettext
from events.models import Aggregation, EntryStatus, ObjectionStatus, RoundStatus
from events.services.competitions import (
    assignment,
    attachments,
    closing,
    config,
    entries,
    judges,
    overview,
    ranking,
    sheets,
)
from events.services.competitions.storage import storage_for

router = APIRouter(include_in_schema=False)

BASE = "/console/competitions"
ROUND_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
PER_PAGE = 50

LABELS: dict[str, str] = {
    "competitions": N_("Competitions"),
    "competitions_text": N_("Your organization's competitions, newest first."),
    "no_competitions": N_("No competitions yet. They are created through the API (POST /api/v1/competitions)."),
    "title": N_("Title"),
    "series": N_("Series"),
    "status": N_("Status"),
    "rounds": N_("Rounds"),
    "tracks": N_("Tracks"),
    "criteria": N_("Criteria"),
    "entries": N_("Entries"),
    "judges": N_("Judges"),
    "overview": N_("Overview"),
    "round": N_("Round"),
    "in_play": N_("Being judged"),
    "assignments": N_("Assignments"),
    "scored": N_("Scored"),
    "judges_per_entry": N_("Judges per entry"),
    "window": N_("Scoring window"),
    "advance_rule": N_("Advance rule"),
    "rule_top": N_("the best {n}"),
    "rule_top_per_track": N_("the best {n} of each track"),
    "rule_min_score": N_("a score of at least {n}"),
    "rule_none": N_("nobody by rule"),
    "aggregation": N_("Aggregation"),
    "agg_mean": N_("Mean"),
    "agg_trimmed_mean": N_("Trimmed mean"),
    "agg_zscore": N_("Z-score"),
    "agg_own": N_("the competition's"),
    "weight_max": N_("weight {weight}, out of {max}"),
    "entries_by_status": N_("Entries by status"),
    "objections": N_("Objections"),
    "pending_objections": N_("pending objections"),
    "open_round": N_("Open the round"),
    "search_entries": N_("Title, leader or organization"),
    "track": N_("Track"),
    "leader": N_("Leader"),
    "organization": N_("Organization"),
    "submitted_at": N_("Submitted"),
    "review": N_("Eligibility"),
    "accept": N_("Accept"),
    "reject": N_("Reject"),
    "reason": N_("Reason"),
    "reject_reason": N_("Reason (needed to reject)"),
    "reviewed": N_("The entry's eligibility is decided."),
    "reviewed_many": N_("Eligibility decided for {count} entries."),
    "select": N_("Select"),
    "accept_selected": N_("Accept the selected"),
    "reject_selected": N_("Reject the selected"),
    "bulk_text": N_("All of them or none: if one of the selected cannot be decided so, nothing is done."),
    "summary": N_("Summary"),
    "team": N_("Team"),
    "contact": N_("Contact"),
    "declared_ties": N_("Declared ties"),
    "files": N_("Files"),
    "no_files": N_("No files uploaded."),
    "download": N_("Download"),
    "scores": N_("Scores"),
    "judges_scores": N_("The judges' scores"),
    "judge": N_("Judge"),
    "total": N_("Weighted total"),
    "comment": N_("Comment"),
    "not_scored": N_("not scored yet"),
    "conflicts": N_("Conflicts of interest"),
    "no_conflicts": N_("No conflicts found."),
    "rule": N_("Rule"),
    "detail": N_("What matched"),
    "add_judge": N_("Add a judge"),
    "name": N_("Name"),
    "email": N_("E-mail"),
    "phone": N_("Mobile phone"),
    "expertise": N_("Expertise"),
    "expertise_hint": N_("Fields of technology or track codes, separated by commas."),
    "ties": N_("Declared ties"),
    "ties_hint": N_("Organizations the judge has ties to (former employer, shares, relatives), one a line."),
    "judge_added": N_("The judge is added. Send them this link to score; it is shown only this once."),
    "new_link": N_("New link"),
    "new_link_text": N_("A new scoring link for {name}: the old one no longer works. It is shown only this once."),
    "inactive": N_("inactive"),
    "load": N_("Load"),
    "assign_title": N_("Assignment"),
    "assign_text": N_(
        "Gives each entry being judged {k} judges, never one with a conflict, loads balanced and expertise "
        "preferred. Assignments already made are kept: running it again fills the gaps."
    ),
    "run_assign": N_("Assign judges"),
    "rerun_assign": N_("Run the assignment again"),
    "assigned": N_("Assignment done: {created} new, {kept} kept."),
    "assigned_short": N_("{count} entries could not get enough judges without a conflict."),
    "short_title": N_("Entries short of judges"),
    "short_by": N_("short by"),
    "none_short": N_("Every entry being judged has its judges."),
    "per_judge": N_("Each judge's load"),
    "plan": N_("The plan"),
    "no_manual": N_(
        "A single assignment is changed by the judge stepping aside (回避) on their page: a free judge without "
        "a conflict takes the entry over."
    ),
    "ranking": N_("Ranking"),
    "ranking_of": N_("Rank by"),
    "compare_note": N_(
        "A comparison: the close ranks by the competition's own aggregation ({own}). This view changes nothing."
    ),
    "rank": N_("Rank"),
    "track_rank": N_("In track"),
    "score": N_("Score"),
    "count": N_("Scores"),
    "spread": N_("Spread"),
    "disagreement": N_("Judges disagree"),
    "advances": N_("Goes through"),
    "preview_note": N_('The round is open: "goes through" is what the rule would decide now.'),
    "dropped": N_("dropped"),
    "how_rule": N_("by the rule"),
    "how_wildcard": N_("wildcard"),
    "how_moved_up": N_("moved up"),
    "close_title": N_("Close the round"),
    "close_text": N_(
        "Scoring ends. The advance rule decides who goes through; the others are eliminated. Then the results "
        "are under public notice (公示) for the days below, and objections are taken."
    ),
    "notice_days": N_("Days of public notice"),
    "force": N_("Close although judges still owe scores"),
    "force_reason": N_("Why (needed to close by force)"),
    "close": N_("Close the round"),
    "closed": N_("The round is closed: {advanced} through, {eliminated} eliminated. Public notice until {until}."),
    "owing": N_("Judges still owe scores for these entries"),
    "notice_title": N_("Public notice and objections"),
    "notice_until": N_("Public notice until"),
    "notice_over": N_("The notice period is over."),
    "objector": N_("Objector"),
    "entry": N_("Competition entry"),
    "found": N_("{n} found"),
    "all_tracks": N_("All tracks"),
    "evidence": N_("Evidence"),
    "decision": N_("Decision"),
    "uphold": N_("Uphold"),
    "dismiss": N_("Dismiss"),
    "decided": N_("The objection is decided."),
    "decide_reason": N_("Reason for the decision"),
    "no_objections": N_("No objections."),
    "finalize_title": N_("Make the results final"),
    "finalize_text": N_(
        "After the notice period, with every objection decided. For the last round the award tiers are given "
        "and the competition is finished."
    ),
    "finalize": N_("Make final"),
    "finalized": N_("The round's results are final."),
    "exports": N_("Papers"),
    "judge_sheets": N_("Score sheets per judge"),
    "entry_sheets": N_("Score sheets per entry"),
    "results": N_("Results"),
    "closed_at": N_("Closed"),
    "finalized_at": N_("Final since"),
    "forced": N_("Closed by force"),
}
# A round's own words: "open" is scoring here, not a demand open for matching.
ROUND_STATUSES = {
    "open": N_("scoring"),
    "closed": N_("scoring ended"),
    "notice": N_("under public notice"),
    "final": N_("results final"),
}
AGGREGATIONS = ("mean", "trimmed_mean", "zscore")
EXPORTS = {"judge-sheets": "judge_sheets", "entry-sheets": "entry_sheets", "results": "results"}


def _t(locale: Locale) -> dict[str, str]:
    return texts(locale, LABELS)


def _status(value: Any, locale: Locale) -> str:
    return labels.status(str(value), locale)


def _round_code(code: str) -> str | None:
    return code if ROUND_CODE.match(code) else None


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _advance_text(t: dict[str, str], advance: dict[str, Any] | None) -> str:
    rule = advance or {}
    parts = [
        t[f"rule_{key}"].format(n=_number(float(rule[key])))
        for key in ("top", "top_per_track", "min_score")
        if rule.get(key) is not None
    ]
    return " · ".join(parts) or t["rule_none"]


def _round_view(locale: Locale, t: dict[str, str], rnd: Any) -> dict[str, Any]:
    return {
        "code": rnd.code,
        "name": rnd.name,
        "status": str(rnd.status),
        "status_text": gettext(locale, ROUND_STATUSES[str(rnd.status)]),
        "k": rnd.judges_per_entry,
        "window": " – ".join(x for x in (stamp(rnd.opens_at), stamp(rnd.closes_at)) if x),
        "advance": _advance_text(t, rnd.advance),
        "notice_until": stamp(rnd.notice_ends_at),
        "closed_at": stamp(rnd.closed_at),
        "finalized_at": stamp(rnd.finalized_at),
        "forced": rnd.forced_reason or "",
        "gap": _number(rnd.disagreement_gap),
    }


def _competition_view(locale: Locale, made: config.Config) -> dict[str, Any]:
    c = made.competition
    return {
        "id": c.id,
        "title": c.title,
        "series": labels.series(c.series, locale) if c.series else "",
        "status": str(c.status),
        "status_text": _status(c.status, locale),
        "aggregation": str(c.aggregation),
    }


# ---- the list and one competition ----------------------------------------------------------------


@router.get(BASE, response_class=HTMLResponse)
async def competition_list(request: Request, cursor: str = "") -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    try:
        found = await config.competition_page(scope=page.scope, limit=PER_PAGE, cursor=cursor[:500] or None)
    except DomainError as error:
        return error_page(request, page, error)
    made = await config.configs_of(found.items)
    rows = [
        _competition_view(page.locale, c)
        | {
            "rounds": [(r.name, gettext(page.locale, ROUND_STATUSES[str(r.status)])) for r in c.rounds],
            "tracks": len(c.tracks),
        }
        for c in made
    ]
    more = with_lang(BASE, page.locale, cursor=found.next_cursor) if found.next_cursor else None
    return render(
        request,
        page,
        "console/competitions_list.html",
        LABELS,
        rows=rows,
        total=found.total,
        more=more,
        first=bool(cursor),
    )


async def _owned(request: Request, page: Page, competition_id: str) -> config.Config | Response:
    return await owned(request, page, competition_id, config.load_config)


@router.get(BASE + "/{competition_id}", response_class=HTMLResponse)
async def competition_page(request: Request, competition_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    cid = parse_id(competition_id)
    if cid is None:
        return not_found(request, page)
    try:
        seen = await overview.overview(cid, scope=page.scope)
    except DomainError as error:
        return error_page(request, page, error)
    t = _t(page.locale)
    made = seen.config
    rounds = [
        _round_view(page.locale, t, rc.round)
        | {"in_play": rc.in_play, "assignments": rc.assignments, "scored": rc.scored, "pending": rc.pending_objections}
        for rc in seen.rounds
    ]
    return render(
        request,
        page,
        "console/competitions_one.html",
        LABELS,
        c=_competition_view(page.locale, made),
        description=made.competition.description,
        tracks=[{"code": tr.code, "name": tr.name} for tr in made.tracks],
        criteria=[
            {"name": k.name, "note": t["weight_max"].format(weight=_number(k.weight), max=_number(k.max))}
            for k in made.criteria
        ],
        rounds=rounds,
        statuses=[(s, _status(s, page.locale), n) for s, n in seen.entries_by_status.items()],
        entries=seen.entries,
        judges=seen.judges,
        aggregation=t[f"agg_{made.competition.aggregation}"],
    )


# ---- entries -------------------------------------------------------------------------------------


@router.get(BASE + "/{competition_id}/entries", response_class=HTMLResponse)
async def entry_list(
    request: Request, competition_id: str, round: str = "", status: str = "", q: str = "", cursor: str = ""
) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    made = await _owned(request, page, competition_id)
    if isinstance(made, Response):
        return made
    return await _entries_page(request, page, made, round=round, status=status, q=q, cursor=cursor)


async def _entries_page(
    request: Request,
    page: Page,
    made: config.Config,
    *,
    round: str = "",
    status: str = "",
    q: str = "",
    cursor: str = "",
    status_code: int = 200,
    error: str = "",
) -> Response:
    chosen = EntryStatus(status) if status in {s.value for s in EntryStatus} else None
    code = _round_code(round) if round else None
    if round and (code is None or code not in {r.code for r in made.rounds}):
        return not_found(request, page)
    try:
        found = await entries.entry_page(
            made.competition.id,
            scope=page.scope,
            status=chosen,
            round_code=code,
            search=q[:100] or None,
            limit=PER_PAGE,
            cursor=cursor[:500] or None,
        )
    except DomainError as failure:
        return error_page(request, page, failure)
    base = f"{BASE}/{made.competition.id}/entries"
    rows = [
        {
            "id": e.id,
            "title": e.title,
            "track": e.track.name,
            "leader": e.leader_name,
            "organization": e.organization.name if e.organization else "",
            "status": str(e.status),
            "status_text": _status(e.status, page.locale),
            "round": e.current_round.name if e.current_round else "",
            "submitted": stamp(e.created_at),
            "href": with_lang(f"{base}/{e.id}", page.locale),
            "seen": e.updated_at.isoformat(),
            "may_accept": e.status in (EntryStatus.SUBMITTED, EntryStatus.REJECTED),
            "may_reject": e.status in (EntryStatus.SUBMITTED, EntryStatus.ACCEPTED),
        }
        for e in found.items
    ]
    more = with_lang(base, page.locale, round=code, status=status, q=q, cursor=found.next_cursor)
    query = request.query_params
    return render(
        request,
        page,
        "console/competitions_entries.html",
        LABELS,
        status_code=status_code,
        c=_competition_view(page.locale, made),
        rows=rows,
        total=found.total,
        more=more if found.next_cursor else None,
        rounds=[(r.code, r.name) for r in made.rounds],
        statuses=[(s.value, _status(s.value, page.locale)) for s in EntryStatus],
        chosen={"round": code or "", "status": chosen.value if chosen else "", "q": q[:100]},
        done=query.get("done", "") if request.method == "GET" else "",
        count=_int(query.get("count")),
        error=error,
        reviewable=any(r["may_accept"] or r["may_reject"] for r in rows),
    )


@router.post(BASE + "/{competition_id}/entries/review", response_class=HTMLResponse)
async def review_many(request: Request, competition_id: str) -> Response:
    """The checked entries' eligibility at once (all of them or none: ``entries.review_entries``)."""
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    made = await _owned(request, page, competition_id)
    if isinstance(made, Response):
        return made
    decision = field_text(form, "decision", limit=10)
    reason = field_text(form, "reason", limit=2000)
    back = {k: field_text(form, k, limit=100) for k in ("round", "status", "q")}
    try:
        ids = field_ids(form, "entry_id")
        if decision not in ("accept", "reject"):
            raise InvalidInput(N_("Choose accept or reject."), field="decision")
        if not ids:
            raise InvalidInput(N_("Select at least one entry."), field="entry_id")
        done = await entries.review_entries(
            made.competition.id,
            [entries.Review(i, decision == "accept", reason or None) for i in ids],
            scope=page.scope,
            actor=page.actor,
        )
    except DomainError as error:
        return await _entries_page(
            request, page, made, **back, status_code=status_of(error), error=message_of(page.locale, error)
        )
    return redirect(f"{BASE}/{made.competition.id}/entries", page.locale, done="reviewed", count=done, **back)


async def _entry_page(
    request: Request,
    page: Page,
    cid: int,
    eid: int,
    *,
    status_code: int = 200,
    error: str = "",
    typed: dict[str, str] | None = None,
    stale: bool = False,
) -> Response:
    try:
        found = await overview.entry_file(cid, eid, scope=page.scope)
        files = await attachments.list_attachments(cid, eid, scope=page.scope)
    except DomainError as failure:
        return error_page(request, page, failure)
    e = found.entry
    t = _t(page.locale)
    criteria = {k.key: k.name for k in found.config.criteria}
    base = f"{BASE}/{cid}/entries/{eid}"
    return render(
        request,
        page,
        "console/competitions_entry.html",
        LABELS,
        status_code=status_code,
        c=_competition_view(page.locale, found.config),
        e={
            "id": e.id,
            "title": e.title,
            "summary": e.summary,
            "track": e.track.name,
            "leader": e.leader_name,
            "organization": e.organization.name if e.organization else "",
            "team": ", ".join(str(m.get("name", "")) for m in e.team),
            "contact": " · ".join(x for x in (e.contact_email, e.contact_phone) if x),
            "ties": ", ".join(e.declared_ties),
            "status": str(e.status),
            "status_text": _status(e.status, page.locale),
            "reason": e.review_reason or "",
            "round": e.current_round.name if e.current_round else "",
            "submitted": stamp(e.created_at),
            "seen": e.updated_at.isoformat(),
            "may_accept": e.status in (EntryStatus.SUBMITTED, EntryStatus.REJECTED),
            "may_reject": e.status in (EntryStatus.SUBMITTED, EntryStatus.ACCEPTED),
        },
        files=[
            {
                "name": f.filename,
                "kind": f.kind,
                "size": f"{max(1, round(f.size / 1024))} KB",
                "at": stamp(f.uploaded_at),
                "href": with_lang(f"{base}/attachments/{f.id}", page.locale),
            }
            for f in files
        ],
        scores=[
            {
                "round": s.round.name,
                "judge": s.judge,
                "status": _status(s.status, page.locale) if s.status != "active" else "",
                "marks": " · ".join(f"{criteria.get(k, k)} {_number(v)}" for k, v in (s.scores or {}).items()),
                "total": _number(s.total) if s.total is not None else t["not_scored"],
                "comment": s.comment,
            }
            for s in found.scores
        ],
        conflicts=[
            {"judge": c.judge, "rule": labels.conflict_rule(c.rule, page.locale), "detail": c.detail}
            for c in found.conflicts
        ],
        error=error,
        typed=typed or {},
        stale=stale,
    )


@router.get(BASE + "/{competition_id}/entries/{entry_id}", response_class=HTMLResponse)
async def entry_page(request: Request, competition_id: str, entry_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    cid, eid = parse_id(competition_id), parse_id(entry_id)
    if cid is None or eid is None:
        return not_found(request, page)
    return await _entry_page(request, page, cid, eid)


@router.post(BASE + "/{competition_id}/entries/{entry_id}/review", response_class=HTMLResponse)
async def review(request: Request, competition_id: str, entry_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    cid, eid = parse_id(competition_id), parse_id(entry_id)
    if cid is None or eid is None:
        return not_found(request, page)
    decision = field_text(form, "decision", limit=10)
    reason = field_text(form, "reason", limit=2000)
    back = field_text(form, "back", limit=20)
    if decision not in ("accept", "reject"):
        error = InvalidInput(N_("Choose accept or reject."), field="decision")
        return await _entry_page(
            request, page, cid, eid, status_code=422, error=message_of(page.locale, error), typed={"reason": reason}
        )
    try:
        current = await entries.get_entry(cid, eid, page.scope)
    except DomainError as error:
        return error_page(request, page, error)
    if field_text(form, "seen", limit=100) != current.updated_at.isoformat():
        return await _entry_page(request, page, cid, eid, status_code=409, stale=True)
    try:
        await entries.review_entry(
            cid, eid, accept=decision == "accept", reason=reason or None, scope=page.scope, actor=page.actor
        )
    except DomainError as error:
        return await _entry_page(
            request,
            page,
            cid,
            eid,
            status_code=status_of(error),
            error=message_of(page.locale, error),
            typed={"reason": reason},
        )
    if back == "list":
        return redirect(f"{BASE}/{cid}/entries", page.locale, done="reviewed")
    return redirect(f"{BASE}/{cid}/entries/{eid}", page.locale, done="reviewed")


@router.get(BASE + "/{competition_id}/entries/{entry_id}/attachments/{attachment_id}")
async def attachment(request: Request, competition_id: str, entry_id: str, attachment_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    cid, eid, aid = parse_id(competition_id), parse_id(entry_id), parse_id(attachment_id)
    if cid is None or eid is None or aid is None:
        return not_found(request, page)
    try:
        found, data = await attachments.read_attachment(
            cid, eid, aid, storage=storage_for(request.app.state.settings.data_dir), scope=page.scope
        )
    except DomainError as error:
        return error_page(request, page, error)
    headers = {
        "Content-Disposition": content_disposition(found.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type=found.content_type, headers=headers)


# ---- judges --------------------------------------------------------------------------------------


def _lines(text: str, *, commas: bool) -> list[str]:
    parts = re.split(r"[,，、\n]" if commas else r"\n", text)
    return [p.strip() for p in parts if p.strip()]


async def _judges_page(
    request: Request,
    page: Page,
    made: config.Config,
    *,
    cursor: str = "",
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    link: str = "",
    linked: str = "",
) -> Response:
    cid = made.competition.id
    try:
        found = await judges.judge_page(cid, scope=page.scope, limit=PER_PAGE, cursor=cursor[:500] or None)
        conflicts = await overview.judge_conflicts(cid, [j.id for j in found.items], scope=page.scope)
    except DomainError as error:
        return error_page(request, page, error)
    base = f"{BASE}/{cid}/entries"
    rows = [
        {
            "id": j.id,
            "name": j.name,
            "organization": j.organization.name if j.organization else "",
            "email": j.email or "",
            "expertise": ", ".join(j.expertise),
            "ties": ", ".join(j.conflicts),
            "active": j.active,
            "conflicts": [
                {
                    "entry": title,
                    "href": with_lang(f"{base}/{entry_id}", page.locale),
                    "rule": labels.conflict_rule(rule, page.locale),
                    "detail": detail,
                }
                for entry_id, title, rule, detail in conflicts.get(j.id, [])
            ],
        }
        for j in found.items
    ]
    more = with_lang(f"{BASE}/{cid}/judges", page.locale, cursor=found.next_cursor) if found.next_cursor else None
    return render(
        request,
        page,
        "console/competitions_judges.html",
        LABELS,
        status_code=status_code,
        c=_competition_view(page.locale, made),
        rows=rows,
        total=found.total,
        more=more,
        errors=errors or {},
        typed=typed or {},
        link=link,
        linked=linked,
    )


@router.get(BASE + "/{competition_id}/judges", response_class=HTMLResponse)
async def judge_list(request: Request, competition_id: str, cursor: str = "") -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    made = await _owned(request, page, competition_id)
    if isinstance(made, Response):
        return made
    return await _judges_page(request, page, made, cursor=cursor)


@router.post(BASE + "/{competition_id}/judges", response_class=HTMLResponse)
async def add_judge(request: Request, competition_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    made = await _owned(request, page, competition_id)
    if isinstance(made, Response):
        return made
    names = ("name", "organization", "email", "phone", "expertise", "ties")
    typed = {n: field_text(form, n, limit=4000) for n in names}
    data: dict[str, Any] = {
        "name": typed["name"],
        "organization": typed["organization"],
        "email": typed["email"] or None,
        "phone": typed["phone"] or None,
        "expertise": _lines(typed["expertise"], commas=True),
        "conflicts": _lines(typed["ties"], commas=False),
    }
    try:
        issued = await judges.add_judge(
            made.competition.id, judges.JudgeInput(**data), scope=page.scope, actor=page.actor
        )
    except ValidationError as invalid:
        where = str(invalid.errors()[0]["loc"][0]) if invalid.errors() else "name"
        field = {"conflicts": "ties"}.get(where, where)
        text = gettext(page.locale, N_("Check this field."))
        return await _judges_page(request, page, made, status_code=422, errors={field: text}, typed=typed)
    except DomainError as error:
        field = str(error.params.get("field") or "name")
        return await _judges_page(
            request,
            page,
            made,
            status_code=status_of(error),
            errors={field: message_of(page.locale, error)},
            typed=typed,
        )
    settings = request.app.state.settings
    origin = str(settings.base_url).rstrip("/")
    return await _judges_page(request, page, made, status_code=201, link=f"{origin}/judge?token={issued.token}")


@router.post(BASE + "/{competition_id}/judges/{judge_id}/link", response_class=HTMLResponse)
async def new_judge_link(request: Request, competition_id: str, judge_id: str) -> Response:
    """A judge lost their link: the old one stops working, the new one is shown once."""
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, _ = answer
    made = await _owned(request, page, competition_id)
    if isinstance(made, Response):
        return made
    jid = parse_id(judge_id)
    if jid is None:
        return not_found(request, page)
    try:
        issued = await judges.rotate_judge_token(made.competition.id, jid, scope=page.scope, actor=page.actor)
    except DomainError as error:
        return error_page(request, page, error)
    origin = str(request.app.state.settings.base_url).rstrip("/")
    return await _judges_page(
        request, page, made, link=f"{origin}/judge?token={issued.token}", linked=issued.judge.name
    )


# ---- a round: assignment, close ------------------------------------------------------------------


async def _round_of(request: Request, page: Page, competition_id: str, code: str) -> tuple[int, str] | Response:
    cid, rc = parse_id(competition_id), _round_code(code)
    if cid is None or rc is None:
        return not_found(request, page)
    return cid, rc


async def _round_page(
    request: Request,
    page: Page,
    cid: int,
    code: str,
    *,
    status_code: int = 200,
    close_error: str = "",
    owing: list[dict[str, Any]] | None = None,
    typed: dict[str, str] | None = None,
    stale: bool = False,
) -> Response:
    try:
        seen = await overview.coverage(cid, code, scope=page.scope)
    except DomainError as error:
        return error_page(request, page, error)
    t = _t(page.locale)
    rnd = seen.round
    base = f"{BASE}/{cid}"
    names = seen.names
    loads = [
        {
            "name": ld.name,
            "organization": ld.organization,
            "active": ld.active,
            "scored": ld.scored,
            "conflicts": ld.conflicts,
        }
        for ld in seen.loads
    ]
    plan = [
        {
            "title": e.title,
            "track": e.track,
            "href": with_lang(f"{base}/entries/{e.entry_id}", page.locale),
            "judges": [{"name": names.get(j, str(j)), "scored": s} for j, s in e.judges],
            "short": e.short,
        }
        for e in seen.entries
    ]
    query = request.query_params
    done = query.get("done", "")
    notice = ""
    if done == "assigned":
        notice = t["assigned"].format(created=_int(query.get("created")), kept=_int(query.get("kept")))
    elif done == "closed":
        notice = t["closed"].format(
            advanced=_int(query.get("advanced")),
            eliminated=_int(query.get("eliminated")),
            until=stamp(rnd.notice_ends_at),
        )
    elif done == "finalized":
        notice = t["finalized"]
    exports = [
        {
            "text": t[label],
            "xlsx": with_lang(f"{base}/rounds/{code}/exports/{kind}", page.locale),
            "html": with_lang(f"{base}/rounds/{code}/exports/{kind}", page.locale, format="html"),
        }
        for kind, label in EXPORTS.items()
    ]
    return render(
        request,
        page,
        "console/competitions_round.html",
        LABELS,
        status_code=status_code,
        c=_competition_view(page.locale, seen.config),
        r=_round_view(page.locale, t, rnd),
        loads=loads,
        plan=plan,
        short=[p for p in plan if p["short"]],
        assign_text=t["assign_text"].format(k=rnd.judges_per_entry),
        assigned_any=any(ld.active for ld in seen.loads),
        is_open=rnd.status == RoundStatus.OPEN,
        notice=notice,
        close_error=close_error,
        owing=owing or [],
        typed=typed or {"notice_days": str(rnd.notice_days)},
        exports=exports,
        ranking=with_lang(f"{base}/rounds/{code}/ranking", page.locale),
        objections=with_lang(f"{base}/rounds/{code}/objections", page.locale),
        stale=stale,
    )


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) <= 9 else 0


@router.get(BASE + "/{competition_id}/rounds/{code}", response_class=HTMLResponse)
async def round_page(request: Request, competition_id: str, code: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    found = await _round_of(request, page, competition_id, code)
    if isinstance(found, Response):
        return found
    return await _round_page(request, page, *found)


async def _check_round(
    request: Request, page: Page, cid: int, code: str, seen: str, *, objections: bool = False
) -> Response | None:
    """A 404 page for a round not the organizer's; for a form opened before the round's status moved,
    the round as it is now with the "stale" text (409), nothing done."""
    try:
        made = await config.load_config(cid, page.scope)
        rnd = made.round(code)
    except DomainError as error:
        return error_page(request, page, error)
    if seen != str(rnd.status):
        if objections:
            return await _objections_page(request, page, cid, code, status_code=409, stale=True)
        return await _round_page(request, page, cid, code, status_code=409, stale=True)
    return None


@router.post(BASE + "/{competition_id}/rounds/{code}/assign", response_class=HTMLResponse)
async def run_assignment(request: Request, competition_id: str, code: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    found = await _round_of(request, page, competition_id, code)
    if isinstance(found, Response):
        return found
    cid, rc = found
    if (refused := await _check_round(request, page, cid, rc, field_text(form, "seen", limit=20))) is not None:
        return refused
    try:
        report = await assignment.assign_round(cid, rc, scope=page.scope, actor=page.actor)
    except DomainError as error:
        return error_page(request, page, error)
    return redirect(f"{BASE}/{cid}/rounds/{rc}", page.locale, done="assigned", created=report.created, kept=report.kept)


@router.post(BASE + "/{competition_id}/rounds/{code}/close", response_class=HTMLResponse)
async def close_round(request: Request, competition_id: str, code: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    found = await _round_of(request, page, competition_id, code)
    if isinstance(found, Response):
        return found
    cid, rc = found
    if (refused := await _check_round(request, page, cid, rc, field_text(form, "seen", limit=20))) is not None:
        return refused
    typed = {
        "notice_days": field_text(form, "notice_days", limit=10),
        "reason": field_text(form, "reason", limit=2000),
        "force": "1" if field_text(form, "force", limit=5) else "",
    }
    try:
        data = closing.CloseInput(
            force=bool(typed["force"]),
            reason=typed["reason"] or None,
            notice_days=int(typed["notice_days"]) if typed["notice_days"] else None,
        )
    except (ValueError, ValidationError):
        error = InvalidInput(N_("Between 0 and 60 days."), field="notice_days")
        return await _round_page(
            request, page, cid, rc, status_code=422, close_error=message_of(page.locale, error), typed=typed
        )
    try:
        result = await closing.close_round(cid, rc, data, scope=page.scope, actor=page.actor)
    except DomainError as error:
        owing = [
            {"entry_id": u.get("entry_id"), "judges": len(u.get("judge_ids") or [])}
            for u in error.params.get("unscored", [])
        ][:200]
        return await _round_page(
            request,
            page,
            cid,
            rc,
            status_code=status_of(error),
            close_error=message_of(page.locale, error),
            owing=owing,
            typed=typed,
        )
    return redirect(
        f"{BASE}/{cid}/rounds/{rc}",
        page.locale,
        done="closed",
        advanced=len(result.advanced),
        eliminated=len(result.eliminated),
    )


# ---- ranking -------------------------------------------------------------------------------------


@router.get(BASE + "/{competition_id}/rounds/{code}/ranking", response_class=HTMLResponse)
async def ranking_page(
    request: Request, competition_id: str, code: str, aggregation: str = "", track: str = ""
) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    found = await _round_of(request, page, competition_id, code)
    if isinstance(found, Response):
        return found
    cid, rc = found
    chosen = Aggregation(aggregation) if aggregation in AGGREGATIONS else None
    try:
        result = await ranking.round_ranking(cid, rc, scope=page.scope, aggregation=chosen)
    except DomainError as error:
        return error_page(request, page, error)
    t = _t(page.locale)
    own = str(result.config.competition.aggregation)
    tracks = {tr.code: tr.name for tr in result.config.tracks}
    how = {"rule": t["how_rule"], "wildcard": t["how_wildcard"], "moved_up": t["how_moved_up"]}
    rows = [
        {
            "rank": r.rank or "",
            "track_rank": r.track_rank or "",
            "title": result.titles.get(r.entry_id, ""),
            "href": with_lang(f"{BASE}/{cid}/entries/{r.entry_id}", page.locale),
            "track": tracks.get(r.track, r.track),
            "score": _number(r.score),
            "count": r.scores_count,
            "spread": _number(r.spread),
            "disagreement": r.disagreement,
            "advances": how[result.advanced[r.entry_id].value] if r.entry_id in result.advanced else "",
            "parts": [
                {
                    "judge": result.judges.get(p.judge_id, ""),
                    "total": _number(p.total),
                    "counted": _number(p.counted) if p.counted != p.total else "",
                    "dropped": p.dropped,
                }
                for p in r.parts
            ],
        }
        for r in result.items
        if not track or r.track == track
    ]
    choices = [
        {
            "value": a,
            "text": t[f"agg_{a}"] + (f" ({t['agg_own']})" if a == own else ""),
            "href": with_lang(request.url.path, page.locale, aggregation=a if a != own else None, track=track[:32]),
            "current": a == (chosen.value if chosen else own),
        }
        for a in AGGREGATIONS
    ]
    return render(
        request,
        page,
        "console/competitions_ranking.html",
        LABELS,
        c=_competition_view(page.locale, result.config),
        r=_round_view(page.locale, t, result.round),
        rows=rows,
        choices=choices,
        comparing=chosen is not None and chosen.value != own,
        compare_note=t["compare_note"].format(own=t[f"agg_{own}"]),
        tracks=[(tr.code, tr.name) for tr in result.config.tracks],
        track=track[:32],
        aggregation=chosen.value if chosen else "",
        found=t["found"].format(n=len(rows)),
        preview=result.preview,
        round_href=with_lang(f"{BASE}/{cid}/rounds/{rc}", page.locale),
    )


# ---- the notice: objections, finalize -------------------------------------------------------------


async def _objections_page(
    request: Request,
    page: Page,
    cid: int,
    code: str,
    *,
    cursor: str = "",
    status_code: int = 200,
    error: str = "",
    error_for: int | None = None,
    stale: bool = False,
) -> Response:
    try:
        made = await config.load_config(cid, page.scope)
        rnd = made.round(code)
        found = await closing.objection_page(
            cid, scope=page.scope, round_code=code, limit=PER_PAGE, cursor=cursor or None
        )
    except DomainError as failure:
        return error_page(request, page, failure)
    t = _t(page.locale)
    rows = [
        {
            "id": o.id,
            "entry": o.entry.title,
            "href": with_lang(f"{BASE}/{cid}/entries/{o.entry_id}", page.locale),
            "objector": o.objector_name,
            "contact": o.objector_contact,
            "reason": o.reason,
            "evidence": o.evidence,
            "at": stamp(o.created_at),
            "pending": o.status == ObjectionStatus.PENDING,
            "status_text": _status(o.status, page.locale),
            "decided_reason": o.decided_reason or "",
            "decided_at": stamp(o.decided_at),
        }
        for o in found.items
    ]
    more = (
        with_lang(f"{BASE}/{cid}/rounds/{code}/objections", page.locale, cursor=found.next_cursor)
        if found.next_cursor
        else None
    )
    done = request.query_params.get("done", "")
    return render(
        request,
        page,
        "console/competitions_objections.html",
        LABELS,
        status_code=status_code,
        c=_competition_view(page.locale, made),
        r=_round_view(page.locale, t, rnd),
        rows=rows,
        more=more,
        total=found.total,
        in_notice=rnd.status == RoundStatus.NOTICE,
        notice_over=rnd.notice_ends_at is not None and clock.now() >= rnd.notice_ends_at,
        error=error,
        error_for=error_for,
        notice={"decided": t["decided"], "finalized": t["finalized"]}.get(done, ""),
        round_href=with_lang(f"{BASE}/{cid}/rounds/{code}", page.locale),
        stale=stale,
    )


@router.get(BASE + "/{competition_id}/rounds/{code}/objections", response_class=HTMLResponse)
async def objections(request: Request, competition_id: str, code: str, cursor: str = "") -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    found = await _round_of(request, page, competition_id, code)
    if isinstance(found, Response):
        return found
    return await _objections_page(request, page, *found, cursor=cursor[:500])


@router.post(BASE + "/{competition_id}/objections/{objection_id}/decide", response_class=HTMLResponse)
async def decide(request: Request, competition_id: str, objection_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    cid, oid = parse_id(competition_id), parse_id(objection_id)
    if cid is None or oid is None:
        return not_found(request, page)
    code = _round_code(field_text(form, "round", limit=40)) or ""
    decision = field_text(form, "decision", limit=20)
    reason = field_text(form, "reason", limit=2000)
    try:
        data = closing.DecisionInput.model_validate({"decision": decision, "reason": reason})
    except ValidationError:
        error = InvalidInput(N_("Choose a decision and give a reason."), field="reason")
        if not code:
            return error_page(request, page, error)
        return await _objections_page(
            request, page, cid, code, status_code=422, error=message_of(page.locale, error), error_for=oid
        )
    try:
        await closing.decide_objection(cid, oid, data, scope=page.scope, actor=page.actor)
    except DomainError as error:
        if not code or error.kind == "not_found":
            return error_page(request, page, error)
        return await _objections_page(
            request, page, cid, code, status_code=status_of(error), error=message_of(page.locale, error), error_for=oid
        )
    return redirect(f"{BASE}/{cid}/rounds/{code}/objections", page.locale, done="decided")


@router.post(BASE + "/{competition_id}/rounds/{code}/finalize", response_class=HTMLResponse)
async def finalize(request: Request, competition_id: str, code: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    found = await _round_of(request, page, competition_id, code)
    if isinstance(found, Response):
        return found
    cid, rc = found
    seen = field_text(form, "seen", limit=20)
    if (refused := await _check_round(request, page, cid, rc, seen, objections=True)) is not None:
        return refused
    try:
        await closing.finalize_round(cid, rc, scope=page.scope, actor=page.actor)
    except DomainError as error:
        return await _objections_page(
            request, page, cid, rc, status_code=status_of(error), error=message_of(page.locale, error)
        )
    return redirect(f"{BASE}/{cid}/rounds/{rc}/objections", page.locale, done="finalized")


# ---- papers --------------------------------------------------------------------------------------


@router.get(BASE + "/{competition_id}/rounds/{code}/exports/{kind}")
async def export(request: Request, competition_id: str, code: str, kind: str, format: str = "xlsx") -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    found = await _round_of(request, page, competition_id, code)
    if isinstance(found, Response):
        return found
    cid, rc = found
    if kind not in EXPORTS or format not in ("xlsx", "html"):
        return not_found(request, page)
    locale = page.locale
    try:
        if kind == "judge-sheets":
            made, by_judge = await sheets.judge_sheets(cid, rc, scope=page.scope, judge_id=None)
            papers = judge_papers(locale, made, by_judge)
        elif kind == "entry-sheets":
            made, by_entry = await sheets.entry_sheets(cid, rc, scope=page.scope, entry_id=None)
            papers = entry_papers(locale, made, by_entry)
        else:
            made, lines = await sheets.round_results(cid, rc, scope=page.scope)
            papers = results_papers(locale, made, lines)
    except DomainError as error:
        return error_page(request, page, error)
    name = f"{kind}-{cid}-{rc}"
    if format == "html":
        return html_response(request, locale, papers[0].title if len(papers) == 1 else name, papers)
    response = await xlsx_response(f"{name}.xlsx", papers, tz=localtime.zone())
    response.headers["Cache-Control"] = "private, no-store"
    return response
