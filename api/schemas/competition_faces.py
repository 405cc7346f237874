"""What the competitions' faces answer in JSON: an entry's files, the entry on stage, the scoreboard."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events.models import Entry, EntryAttachment, Round
from events.services.competitions.public import Board, BoardRow


class AttachmentPublic(BaseModel):
    id: int
    entry_id: int
    kind: str = Field(description="business_plan | slides | other")
    filename: str
    content_type: str = Field(description="What the content was found to be, not what the client said.")
    size: int
    sha256: str
    uploaded_at: datetime
    url: str = Field(description="Where organizers and the entry's judges download it (with their token).")

    @classmethod
    def of(cls, show: Presenter, a: EntryAttachment, competition_id: int) -> AttachmentPublic:
        return cls(
            id=a.id,
            entry_id=a.entry_id,
            kind=a.kind,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            uploaded_at=a.uploaded_at.astimezone(show.tz),
            url=f"/api/v1/competitions/{competition_id}/entries/{a.entry_id}/attachments/{a.id}",
        )


class OnStage(BaseModel):
    round: str
    entry_id: int | None
    title: str | None
    since: datetime | None

    @classmethod
    def of(cls, show: Presenter, rnd: Round, entry: Entry | None) -> OnStage:
        return cls(
            round=rnd.code,
            entry_id=entry.id if entry else None,
            title=entry.title if entry else None,
            since=rnd.on_stage_at.astimezone(show.tz) if rnd.on_stage_at else None,
        )


class ScoreboardLink(BaseModel):
    round: str
    public: bool
    url: str = Field(description="The organizer's link: works whether or not the board is public.")
    public_url: str | None = Field(description="The address anyone may open, when the board is public.")


class BoardRowPublic(BaseModel):
    entry_id: int
    title: str
    track: str
    organization: str | None
    score: float | None = Field(description="Shown once every judge of the entry has submitted.")
    rank: int | None
    judges_done: int
    judges_total: int

    @classmethod
    def of(cls, row: BoardRow) -> BoardRowPublic:
        return cls(
            entry_id=row.entry_id,
            title=row.title,
            track=row.track,
            organization=row.organization,
            score=round(row.score, 2) if row.score is not None else None,
            rank=row.rank,
            judges_done=row.judges_done,
            judges_total=row.judges_total,
        )


class ScoreboardPublic(BaseModel):
    competition: str
    round: str
    status: str
    on_stage: BoardRowPublic | None
    items: list[BoardRowPublic]
    at: datetime

    @classmethod
    def of(cls, show: Presenter, board: Board) -> ScoreboardPublic:
        return cls(
            competition=board.competition,
            round=board.round,
            status=board.status.value,
            on_stage=BoardRowPublic.of(board.on_stage) if board.on_stage else None,
            items=[BoardRowPublic.of(r) for r in board.rows],
            at=board.at.astimezone(show.tz),
        )
