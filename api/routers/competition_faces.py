"""Competitions' faces in the API: an entry's files, the entry on stage in a final, the hall's scoreboard.

Files are added by the competition's organizer or by the entrant, whose bearer text is the entry's key
(shown by the web form and the bot when the entry is submitted); they are read by the organizer and the
judges assigned to the entry (never a conflicted one).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, current_caller
from api.deps import Id, presenter, settings
from api.routers.competitions import RoundCode, require_organizer, require_organizer_or_judge
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors, media
from api.schemas.competition_faces import AttachmentPublic, OnStage, ScoreboardLink, ScoreboardPublic
from events.errors import Unauthorized
from events.models import AttachmentKind, Entry, Judge, Role
from events.services import tokens
from events.services.competitions import attachments, judges, public
from events.services.competitions.config import load_config
from events.services.competitions.storage import ALLOWED, storage_for
from events.services.organizations import Scope
from events.settings import Settings

router = APIRouter(prefix="/api/v1/competitions", tags=["competitions"])

FILE_TYPES = tuple(t.content_type for t in ALLOWED.values())


def _uploader(caller: Caller) -> attachments.Uploader:
    """An organizer by token, or the entrant by the entry's key as the bearer text."""
    if caller.token is not None:
        tokens.require_role(caller.token, Role.ORGANIZER)
        return attachments.Uploader(actor=caller.actor, scope=caller.reach)
    if caller.other_secret is None:
        raise Unauthorized()
    if attachments.entry_id_of_key(caller.other_secret) is None:
        raise Unauthorized()
    return attachments.Uploader(actor="entrant", key=caller.other_secret)


@router.post(
    "/{competition_id}/entries/{entry_id}/attachments",
    status_code=201,
    response_model=AttachmentPublic,
    responses=AUTHED_WRITE,
    summary="Add a file to an entry",
    description="Multipart ``file`` (and an optional ``kind``: business_plan | slides | other). PDF, PPTX, PPT, "
    "DOCX or DOC, decided from the bytes: a name that claims another type is ``422 attachment_type_mismatch``, "
    "anything else ``422 attachment_type_not_allowed``, over the size limit ``413 attachment_too_large``. The "
    "caller is the competition's organizer, or the entrant with the entry's key as the bearer token.",
)
async def add_attachment(
    competition_id: Id,
    entry_id: Id,
    file: Annotated[UploadFile, File(description="The document.")],
    kind: Annotated[AttachmentKind | None, Form()] = None,
    caller: Caller = Depends(current_caller),
    config: Settings = Depends(settings),
    show: Presenter = Depends(presenter),
) -> Response:
    who = _uploader(caller)
    data = await file.read()
    added = await attachments.add_attachment(
        competition_id,
        entry_id,
        filename=file.filename,
        data=data,
        kind=kind,
        who=who,
        storage=storage_for(config.data_dir),
        max_bytes=config.attachment_max_bytes,
    )
    body = AttachmentPublic.of(show, added, competition_id)
    location = body.url
    return Response(
        body.model_dump_json(), status_code=201, media_type="application/json", headers={"Location": location}
    )


async def _reader(caller: Caller, competition_id: int) -> tuple[Scope | None, Judge | None]:
    """An organizer reads by scope, a judge as the judge of this competition their token stands for."""
    if caller.has(Role.ORGANIZER):
        return caller.reach, None
    assert caller.token is not None
    return None, await judges.judge_of_token(caller.token, competition_id)


@router.get(
    "/{competition_id}/entries/{entry_id}/attachments",
    response_model=Page[AttachmentPublic],
    responses=AUTHED,
    summary="An entry's files",
    description="For the competition's organizers and the judges assigned to the entry (a judge with a conflict "
    "or a recusal logged gets ``403 conflict_of_interest``; another judge ``403 not_assigned``). One page.",
)
async def list_attachments(
    competition_id: Id,
    entry_id: Id,
    caller: Caller = Depends(require_organizer_or_judge),
    show: Presenter = Depends(presenter),
) -> Page[AttachmentPublic]:
    scope, judge = await _reader(caller, competition_id)
    found = await attachments.list_attachments(competition_id, entry_id, scope=scope, judge=judge)
    items = [AttachmentPublic.of(show, a, competition_id) for a in found]
    return Page[AttachmentPublic](items=items, next_cursor=None, total=len(items))


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (Chinese file names survive)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/{competition_id}/entries/{entry_id}/attachments/{attachment_id}",
    response_class=Response,
    responses=media(200, "The file as it was uploaded.", *FILE_TYPES) | AUTHED,
    summary="Download an entry's file",
    description="The bytes with the type found on upload, as a download. Same readers as the list.",
)
async def get_attachment(
    competition_id: Id,
    entry_id: Id,
    attachment_id: Id,
    caller: Caller = Depends(require_organizer_or_judge),
    config: Settings = Depends(settings),
) -> Response:
    scope, judge = await _reader(caller, competition_id)
    found, data = await attachments.read_attachment(
        competition_id,
        entry_id,
        attachment_id,
        storage=storage_for(config.data_dir),
        scope=scope,
        judge=judge,
    )
    headers = {
        "Content-Disposition": content_disposition(found.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type=found.content_type, headers=headers)


class StageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = Field(
        description="The entry presenting now; null: nobody on stage."
    )


@router.post(
    "/{competition_id}/rounds/{round}/current-entry",
    response_model=OnStage,
    responses=AUTHED_WRITE,
    summary="Set the entry on stage",
    description="During an on-site final: the entry presenting now. A judge's ``/score`` in the bot opens it "
    "and the scoreboard highlights it. ``404 entry_not_found`` for an entry not in the round.",
)
async def set_current_entry(
    competition_id: Id,
    round: RoundCode,
    body: StageBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> OnStage:
    rnd, entry = await public.set_on_stage(competition_id, round, body.entry_id, scope=caller.reach, actor=caller.actor)
    return OnStage.of(show, rnd, entry)


@router.get(
    "/{competition_id}/rounds/{round}/current-entry",
    response_model=OnStage,
    responses=AUTHED,
    summary="The entry on stage",
    description="For the competition's organizers and judges.",
)
async def get_current_entry(
    competition_id: Id,
    round: RoundCode,
    caller: Caller = Depends(require_organizer_or_judge),
    show: Presenter = Depends(presenter),
) -> OnStage:
    scope = caller.reach if caller.has(Role.ORGANIZER) else None
    if scope is None:
        assert caller.token is not None
        await judges.judge_of_token(caller.token, competition_id)
    config = await load_config(competition_id, scope)
    rnd = config.round(round)
    entry = await Entry.get_or_none(id=rnd.on_stage_entry_id) if rnd.on_stage_entry_id else None
    return OnStage.of(show, rnd, entry)


class ScoreboardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public: bool = Field(description="True: anyone with the address sees the board; false: only the link.")


def _links(request: Request, competition_id: int, rnd_code: str, round_id: int, public_now: bool) -> ScoreboardLink:
    base = request.app.state.settings.base_url.rstrip("/")
    path = f"/competitions/{competition_id}/rounds/{rnd_code}/scoreboard"
    return ScoreboardLink(
        round=rnd_code,
        public=public_now,
        url=f"{base}{path}?key={public.scoreboard_key(round_id)}",
        public_url=f"{base}{path}" if public_now else None,
    )


@router.post(
    "/{competition_id}/rounds/{round}/scoreboard",
    response_model=ScoreboardLink,
    responses=AUTHED_WRITE,
    summary="Publish or hide the round's scoreboard",
    description="The big-screen page for the hall. Public or not, the answer's ``url`` (the organizer's link) "
    "opens it.",
)
async def set_scoreboard(
    competition_id: Id,
    round: RoundCode,
    body: ScoreboardBody,
    request: Request,
    caller: Caller = Depends(require_organizer),
) -> ScoreboardLink:
    rnd = await public.set_scoreboard(competition_id, round, public=body.public, scope=caller.reach, actor=caller.actor)
    return _links(request, competition_id, rnd.code, rnd.id, rnd.scoreboard_public)


@router.get(
    "/{competition_id}/rounds/{round}/scoreboard",
    response_model=ScoreboardPublic,
    responses=errors(*COMMON, 404),
    summary="The round's scoreboard (JSON)",
    description="What the hall's screen shows: an entry's score once every judge assigned to it has submitted, "
    "the entry on stage. Public when the organizer made it so, else with the organizer's ``key``; otherwise "
    "``404 round_not_found``. Cheap to poll: cached for two seconds, with an ETag.",
)
async def scoreboard_json(
    competition_id: Id,
    round: RoundCode,
    request: Request,
    key: Annotated[str | None, Query(max_length=100)] = None,
    show: Presenter = Depends(presenter),
) -> Response:
    from api.competition_pages import board_json

    return await board_json(request, competition_id, round, key, show)
