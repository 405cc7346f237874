"""Roadshows and matchmaking fairs: 1:1 meeting sessions cut into slots, the people who meet, their
requests (a request *is* the meeting once accepted), the slot claims that keep anyone and any table
from being double-booked, interest between participants, and what each side said afterwards.

No double booking is the database's job, not a check before an insert: every live request (pending or
accepted) holds one ``MeetingClaim`` per person and one for its table in its slot, inserted in the
request's own transaction, and ``(slot, person)`` and ``(slot, table_no)`` are unique. An availability
block is a claim without a request. Releasing a request (declined, withdrawn, expired, cancelled)
deletes its claims in the transaction that changes its status.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.catalog import Event
    from events.models.competitions import Entry
    from events.models.organizations import Organization
    from events.models.people import Person
    from events.models.supply import Achievement, Investor, Transfer


class MeetingSession(Model):
    """A block of time in a roadshow or fair set aside for 1:1 meetings, cut into equal slots."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="meeting_sessions", on_delete=fields.CASCADE
    )
    event_id: int
    title = fields.CharField(max_length=200, default="")
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    slot_minutes = fields.SmallIntField()  # 15, 20 or 30
    tables = fields.SmallIntField()  # meetings that can run at once (tables 1..tables)
    # A pending request lapses after this many hours (or at its slot's start, whichever is first).
    request_expiry_hours = fields.SmallIntField(default=24)
    # Days after a meeting when both sides are asked again how it went (default three months).
    follow_up_days = fields.SmallIntField(default=90)
    # Minutes before a meeting when both sides are reminded.
    reminder_minutes = fields.SmallIntField(default=30)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "meeting_session"


class MeetingSlot(Model):
    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[MeetingSession] = fields.ForeignKeyField(
        "models.MeetingSession", related_name="slots", on_delete=fields.CASCADE
    )
    session_id: int
    number = fields.SmallIntField()  # 1, 2, … in time order
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()

    class Meta:
        table = "meeting_slot"
        unique_together = (("session", "number"),)


class ParticipantRole(StrEnum):
    INVESTOR = "investor"
    PROJECT = "project"
    GUEST = "guest"  # anyone else who takes meetings (a buyer, an expert)


class Participant(Model):
    """Someone who takes meetings at a roadshow: an investor (an ``Investor`` profile), a project (an
    achievement, a competition entry or a company, represented by a person), or a guest."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="meeting_participants", on_delete=fields.CASCADE
    )
    event_id: int
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="meeting_participations", on_delete=fields.CASCADE
    )
    person_id: int
    role = fields.CharEnumField(ParticipantRole, max_length=16)
    title = fields.CharField(max_length=300)  # what the other side sees: the fund, the project
    investor: fields.ForeignKeyNullableRelation[Investor] = fields.ForeignKeyField(
        "models.Investor", related_name="meeting_participations", null=True, on_delete=fields.SET_NULL
    )
    investor_id: int | None
    achievement: fields.ForeignKeyNullableRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", related_name="meeting_participations", null=True, on_delete=fields.SET_NULL
    )
    achievement_id: int | None
    entry: fields.ForeignKeyNullableRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="meeting_participations", null=True, on_delete=fields.SET_NULL
    )
    entry_id: int | None
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="meeting_participations", null=True, on_delete=fields.SET_NULL
    )
    organization_id: int | None
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "meeting_participant"
        unique_together = (("event", "person"),)


class MeetingInterest(Model):
    """One participant wants to meet another (a wish, a 约谈 tap during a pitch); both ways is mutual."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="meeting_interests", on_delete=fields.CASCADE
    )
    event_id: int
    source: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="interests_given", on_delete=fields.CASCADE
    )
    source_id: int
    target: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="interests_received", on_delete=fields.CASCADE
    )
    target_id: int
    origin = fields.CharField(max_length=16, default="api")  # api | bot | pitch
    # "interest" (感兴趣, a wish) or "meet" (约谈 tapped during a pitch: asks for the meeting itself).
    strength = fields.CharField(max_length=8, default="interest")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "meeting_interest"
        unique_together = (("source", "target"),)


class MeetingStatus(StrEnum):
    PENDING = "pending"  # holds the slot on both sides and a table until answered or expired
    ACCEPTED = "accepted"  # a meeting
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # by the side that asked, before an answer
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # an accepted meeting called off


LIVE_MEETING_STATUSES = (MeetingStatus.PENDING, MeetingStatus.ACCEPTED)


class MeetingRequest(Model):
    """A request for a 1:1 meeting in one slot; once accepted it is the meeting."""

    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[MeetingSession] = fields.ForeignKeyField(
        "models.MeetingSession", related_name="requests", on_delete=fields.CASCADE
    )
    session_id: int
    slot: fields.ForeignKeyRelation[MeetingSlot] = fields.ForeignKeyField(
        "models.MeetingSlot", related_name="requests", on_delete=fields.CASCADE
    )
    slot_id: int
    requester: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="requests_made", on_delete=fields.CASCADE
    )
    requester_id: int
    recipient: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="requests_received", on_delete=fields.CASCADE
    )
    recipient_id: int
    table_no = fields.SmallIntField()
    message = fields.TextField(default="")
    status = fields.CharEnumField(MeetingStatus, max_length=16, default=MeetingStatus.PENDING, db_index=True)
    origin = fields.CharField(max_length=16, default="api")  # api | bot | scheduler
    expires_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    reason = fields.CharField(max_length=500, default="")
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "meeting_request"
        indexes = (("session", "status"),)


class MeetingClaim(Model):
    """A slot held by a person or a table. Unique per (slot, person) and per (slot, table): the database
    refuses a second booking however the requests race. ``request`` null: the person blocked the slot."""

    id = fields.IntField(primary_key=True)
    slot: fields.ForeignKeyRelation[MeetingSlot] = fields.ForeignKeyField(
        "models.MeetingSlot", related_name="claims", on_delete=fields.CASCADE
    )
    slot_id: int
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="meeting_claims", null=True, on_delete=fields.CASCADE
    )
    person_id: int | None
    table_no = fields.SmallIntField(null=True)
    request: fields.ForeignKeyNullableRelation[MeetingRequest] = fields.ForeignKeyField(
        "models.MeetingRequest", related_name="claims", null=True, on_delete=fields.CASCADE
    )
    request_id: int | None

    class Meta:
        table = "meeting_claim"
        unique_together = (("slot", "person"), ("slot", "table_no"))


class OutcomeStage(StrEnum):
    RATING = "rating"  # right after the meeting
    FOLLOW_UP = "follow_up"  # months later


class MeetingRating(StrEnum):
    NO_SHOW = "no_show"  # 没见成
    LOW_INTEREST = "low_interest"  # 兴趣不足
    USEFUL = "useful"  # 有收获但暂无合作
    PROMISING = "promising"  # 有合作可能


class FollowUpAnswer(StrEnum):
    NO_CONTACT = "no_contact"  # 无联系
    IN_TALKS = "in_talks"  # 洽谈中
    SIGNED = "signed"  # 已签约


class MeetingOutcome(Model):
    """What one side said of a meeting: its rating, and later the follow-up (with the contract signed)."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[MeetingRequest] = fields.ForeignKeyField(
        "models.MeetingRequest", related_name="outcomes", on_delete=fields.CASCADE
    )
    request_id: int
    participant: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="outcomes", on_delete=fields.CASCADE
    )
    participant_id: int
    stage = fields.CharEnumField(OutcomeStage, max_length=16)
    answer = fields.CharField(max_length=16)
    transfer: fields.ForeignKeyNullableRelation[Transfer] = fields.ForeignKeyField(
        "models.Transfer", related_name="meeting_outcomes", null=True, on_delete=fields.SET_NULL
    )
    transfer_id: int | None
    at = fields.DatetimeField()

    class Meta:
        table = "meeting_outcome"
        unique_together = (("request", "participant", "stage"),)


class PitchStatus(StrEnum):
    PLANNED = "planned"
    ON_STAGE = "on_stage"  # at most one per event (the service moves the last one to done)
    DONE = "done"
    SKIPPED = "skipped"


class Pitch(Model):
    """One pitch in a roadshow's or fair's line-up: a project participant (so the line-up, interest and
    meetings share one project identity), who presents it, when and for how long. ``position`` runs
    1..n within the event; the line-up service keeps it contiguous under the event's lock."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="pitches", on_delete=fields.CASCADE
    )
    event_id: int
    position = fields.SmallIntField()
    project: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="pitches", on_delete=fields.CASCADE
    )
    project_id: int
    presenter: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="pitches", null=True, on_delete=fields.SET_NULL
    )
    presenter_id: int | None
    presenter_name = fields.CharField(max_length=100, default="")
    starts_at = fields.DatetimeField(null=True)
    minutes = fields.SmallIntField(default=10)
    status = fields.CharEnumField(PitchStatus, max_length=16, default=PitchStatus.PLANNED)
    on_stage_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "pitch"
        unique_together = (("event", "project"),)
        indexes = (("event", "position"),)


class PitchReactionKind(StrEnum):
    INTEREST = "interest"  # 感兴趣
    MEET = "meet"  # 约谈
    SCORE = "score"  # 评分 1–5


class PitchReaction(Model):
    """An investor's (or a judge's) tap during a pitch. One per person, pitch and kind: tapping again
    changes nothing, except that a score can be changed."""

    id = fields.IntField(primary_key=True)
    pitch: fields.ForeignKeyRelation[Pitch] = fields.ForeignKeyField(
        "models.Pitch", related_name="reactions", on_delete=fields.CASCADE
    )
    pitch_id: int
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="pitch_reactions", on_delete=fields.CASCADE
    )
    person_id: int
    participant: fields.ForeignKeyNullableRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="pitch_reactions", null=True, on_delete=fields.CASCADE
    )
    participant_id: int | None
    kind = fields.CharEnumField(PitchReactionKind, max_length=16)
    score = fields.SmallIntField(null=True)
    origin = fields.CharField(max_length=16, default="bot")  # bot | webapp | api
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "pitch_reaction"
        unique_together = (("pitch", "person", "kind"),)
