"""Response bodies of the roadshow meeting routes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from api.schemas.common import LocalTime
from events.models import MeetingOutcome, MeetingRequest, MeetingSession, Participant, Pitch
from events.services.roadshows import outcomes, pitch_interest, scheduling, sessions


class SlotPublic(BaseModel):
    id: int
    number: int
    starts_at: LocalTime
    ends_at: LocalTime
    meetings: int = Field(description="Accepted meetings in this slot.")
    pending: int = Field(description="Pending requests holding a table in this slot.")
    tables_free: int

    @classmethod
    def of(cls, load: sessions.SlotLoad) -> SlotPublic:
        s = load.slot
        return cls(
            id=s.id, number=s.number, starts_at=s.starts_at, ends_at=s.ends_at, meetings=load.meetings,
            pending=load.pending, tables_free=load.tables_free,
        )  # fmt: skip


class SessionPublic(BaseModel):
    id: int
    event_id: int
    title: str
    starts_at: LocalTime
    ends_at: LocalTime
    slot_minutes: int
    tables: int
    request_expiry_hours: int
    follow_up_days: int
    reminder_minutes: int
    slots: list[SlotPublic]

    @classmethod
    def of(cls, session: MeetingSession, loads: list[sessions.SlotLoad]) -> SessionPublic:
        return cls(
            id=session.id, event_id=session.event_id, title=session.title, starts_at=session.starts_at,
            ends_at=session.ends_at, slot_minutes=session.slot_minutes, tables=session.tables,
            request_expiry_hours=session.request_expiry_hours, follow_up_days=session.follow_up_days,
            reminder_minutes=session.reminder_minutes, slots=[SlotPublic.of(load) for load in loads],
        )  # fmt: skip


class SessionList(BaseModel):
    items: list[SessionPublic]


class ParticipantPublic(BaseModel):
    id: int
    event_id: int
    role: str
    title: str
    person_id: int
    name: str
    investor_id: int | None
    achievement_id: int | None
    entry_id: int | None
    organization_id: int | None

    @classmethod
    def of(cls, p: Participant) -> ParticipantPublic:
        return cls(
            id=p.id, event_id=p.event_id, role=str(p.role), title=p.title, person_id=p.person_id,
            name=p.person.name, investor_id=p.investor_id, achievement_id=p.achievement_id, entry_id=p.entry_id,
            organization_id=p.organization_id,
        )  # fmt: skip


class ParticipantList(BaseModel):
    items: list[ParticipantPublic]


class Side(BaseModel):
    participant_id: int
    title: str
    name: str


class MeetingPublic(BaseModel):
    id: int
    event_id: int
    session_id: int
    slot_id: int
    starts_at: LocalTime
    ends_at: LocalTime
    table: int
    status: str = Field(description="pending | accepted | declined | withdrawn | expired | cancelled")
    requester: Side
    recipient: Side
    message: str
    origin: str
    expires_at: LocalTime | None
    decided_at: LocalTime | None
    created_at: LocalTime

    @classmethod
    def of(cls, r: MeetingRequest) -> MeetingPublic:
        def side(p: Participant) -> Side:
            return Side(participant_id=p.id, title=p.title, name=p.person.name)

        return cls(
            id=r.id, event_id=r.session.event_id, session_id=r.session_id, slot_id=r.slot_id,
            starts_at=r.slot.starts_at, ends_at=r.slot.ends_at, table=r.table_no, status=str(r.status),
            requester=side(r.requester), recipient=side(r.recipient), message=r.message, origin=r.origin,
            expires_at=r.expires_at, decided_at=r.decided_at, created_at=r.created_at,
        )  # fmt: skip


class ScheduleResultPublic(BaseModel):
    created: int = Field(description="Meetings booked (0 on a dry run).")
    meetings: list[tuple[int, int, int]] = Field(description="[project participant, investor participant, slot].")
    quota_bound: int = Field(description="The most fair-share meetings any schedule could give (max-flow bound).")
    short: dict[int, int] = Field(description="Projects still below min_meetings → how many they lack.")
    projects: int
    investors: int
    slots: int

    @classmethod
    def of(cls, r: scheduling.ScheduleResult) -> ScheduleResultPublic:
        return cls(
            created=r.created, meetings=r.meetings, quota_bound=r.quota_bound, short=r.short, projects=r.projects,
            investors=r.investors, slots=r.slots,
        )  # fmt: skip


class FunnelPublic(BaseModel):
    interest: int = Field(description="Pairs where a side showed interest or asked for a meeting.")
    requests: int
    meetings: int
    held: int
    rated: int
    positive: int = Field(description="Meetings a side rated 有合作可能 (promising).")
    signed: int = Field(description="Meetings a side later answered 已签约 (signed).")
    transfers: int
    transfer_amount_cny: Decimal

    @classmethod
    def of(cls, f: outcomes.Funnel) -> FunnelPublic:
        return cls(
            interest=f.interest, requests=f.requests, meetings=f.meetings, held=f.held, rated=f.rated,
            positive=f.positive, signed=f.signed, transfers=f.transfers, transfer_amount_cny=f.transfer_amount_cny,
        )  # fmt: skip


class OutcomePublic(BaseModel):
    id: int
    meeting_id: int
    participant_id: int
    stage: str = Field(description="rating | follow_up")
    answer: str = Field(
        description="rating: no_show 没见成 | low_interest 兴趣不足 | useful 有收获但暂无合作 | promising 有合作可能; "
        "follow_up: no_contact 无联系 | in_talks 洽谈中 | signed 已签约"
    )
    transfer_id: int | None = Field(description="The contract recorded with a signed follow-up.")
    at: LocalTime

    @classmethod
    def of(cls, o: MeetingOutcome) -> OutcomePublic:
        return cls(
            id=o.id, meeting_id=o.request_id, participant_id=o.participant_id, stage=str(o.stage), answer=o.answer,
            transfer_id=o.transfer_id, at=o.at,
        )  # fmt: skip


class UnavailablePublic(BaseModel):
    participant_id: int
    slot_ids: list[int] = Field(description="The slots the participant has blocked (no meeting can be booked then).")


class InterestPublic(BaseModel):
    source_id: int
    target_id: int
    created: bool = Field(description="False when this interest was recorded before.")
    mutual: bool = Field(description="The target showed interest in the source too.")


class PitchProject(BaseModel):
    participant_id: int
    title: str
    name: str = Field(description="The person who represents the project.")
    achievement_id: int | None
    entry_id: int | None
    organization_id: int | None


class PitchPublic(BaseModel):
    id: int
    event_id: int
    position: int = Field(description="1..n in the line-up.")
    status: str = Field(description="planned | on_stage | done | skipped")
    project: PitchProject
    presenter_id: int | None
    presenter_name: str
    starts_at: LocalTime | None
    ends_at: LocalTime | None
    minutes: int
    on_stage_at: LocalTime | None

    @classmethod
    def of(cls, p: Pitch) -> PitchPublic:
        project = p.project
        return cls(
            id=p.id, event_id=p.event_id, position=p.position, status=str(p.status),
            project=PitchProject(
                participant_id=project.id, title=project.title, name=project.person.name,
                achievement_id=project.achievement_id, entry_id=project.entry_id,
                organization_id=project.organization_id,
            ),
            presenter_id=p.presenter_id, presenter_name=p.presenter_name, starts_at=p.starts_at,
            ends_at=p.starts_at + timedelta(minutes=p.minutes) if p.starts_at else None, minutes=p.minutes,
            on_stage_at=p.on_stage_at,
        )  # fmt: skip


class LineupPublic(BaseModel):
    items: list[PitchPublic]


class OnStagePublic(BaseModel):
    pitch: PitchPublic
    previous_id: int | None = Field(description="The pitch that was on stage before and is now done.")


class InvestorInterestPublic(BaseModel):
    participant_id: int
    title: str
    name: str
    interest: bool = Field(description="Tapped 感兴趣.")
    meet: bool = Field(description="Tapped 约谈.")
    score: int | None = Field(description="评分 1–5.")
    mutual: bool = Field(description="The project said yes back.")


class PitchInterestPublic(BaseModel):
    pitch_id: int
    interested: int = Field(description="Investors who tapped 感兴趣 or 约谈.")
    meet: int
    scores: int
    average_score: float | None
    investors: list[InvestorInterestPublic]
    judge_scores: int = Field(description="At a scored roadshow (a competition's final): the judges' scores.")
    judge_average: float | None

    @classmethod
    def of(cls, i: pitch_interest.PitchInterest) -> PitchInterestPublic:
        return cls(
            pitch_id=i.pitch.id, interested=i.interested, meet=i.meet, scores=i.scores, average_score=i.average_score,
            investors=[
                InvestorInterestPublic(
                    participant_id=x.participant.id, title=x.participant.title, name=x.participant.person.name,
                    interest=x.interest, meet=x.meet, score=x.score, mutual=x.mutual,
                )
                for x in i.investors
            ],
            judge_scores=i.judge_scores, judge_average=i.judge_average,
        )  # fmt: skip


class PitchAnswerPublic(BaseModel):
    created: bool = Field(description="False when the project had said yes to this investor already.")
    mutual: bool = Field(description="The investor had shown interest: both sides said yes.")
    connection_id: int | None = Field(description="The supply-chain connection of the pair (needs an achievement).")
