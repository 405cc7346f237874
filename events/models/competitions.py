"""Competitions (武创源, 英雄杯): tracks, rounds and criteria; entries and their attachments; judges, the
conflicts found between judges and entries, recusals and assignments; scores as append-only versions;
advancement out of a round; objections during the public notice (公示).

A competition is *managed by* one organization (ownership checks read it); everything below it
follows the competition. Ranking is never stored: it is a pure function of the current score
versions and the round's rule (``events.services.competitions.ranking``), so "why this rank" can
always be recomputed. What a close decided is kept (``RoundAdvance``), with how each entry got there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.access import ApiToken
    from events.models.catalog import Event
    from events.models.organizations import Organization
    from events.models.people import Person
    from events.models.supply import Achievement


class CompetitionStatus(StrEnum):
    OPEN = "open"  # taking entries (and judging its open rounds)
    JUDGING = "judging"  # entries closed, rounds under way
    FINISHED = "finished"  # final results published
    CANCELLED = "cancelled"


class Aggregation(StrEnum):
    MEAN = "mean"
    # Drops one highest and one lowest total when an entry has at least 5 scores (去掉一个最高分和一个最低分).
    TRIMMED_MEAN = "trimmed_mean"
    # Each judge's totals standardised over the judge's own entries of the round, then rescaled to the
    # round's scale (see ranking.py): removes a lenient or a severe judge's bias.
    ZSCORE = "zscore"


class Competition(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # e.g. "wuchuangyuan", "yingxiongbei": the contest a yearly edition belongs to.
    series = fields.CharField(max_length=50, null=True, db_index=True)
    # The events it is linked to: the launch (the API's ``event_id``), the final, the award ceremony.
    launch_event: fields.ForeignKeyNullableRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="competitions_launched", null=True, on_delete=fields.SET_NULL
    )
    launch_event_id: int | None
    final_event: fields.ForeignKeyNullableRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="competitions_final", null=True, on_delete=fields.SET_NULL
    )
    final_event_id: int | None
    award_event: fields.ForeignKeyNullableRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="competitions_awarded", null=True, on_delete=fields.SET_NULL
    )
    award_event_id: int | None
    aggregation = fields.CharEnumField(Aggregation, max_length=16, default=Aggregation.MEAN)
    # Keys tried in order when two scores are equal: "median", "scores_count", "earliest_submission"
    # (see ranking.TIE_BREAKS); the entry id decides last, so a rank is always reproducible.
    tie_break: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # [{"code": "breakthrough", "name": "突破", "count": 10}, …] best tier first.
    award_tiers: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    # When entries are taken (null: no bound).
    entries_open_at = fields.DatetimeField(null=True)
    entries_close_at = fields.DatetimeField(null=True)
    status = fields.CharEnumField(CompetitionStatus, max_length=16, default=CompetitionStatus.OPEN, db_index=True)
    managed_by: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="managed_competitions", on_delete=fields.RESTRICT
    )
    managed_by_id: int
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "competition"


class TrackKind(StrEnum):
    DISTRICT = "district"  # 赛区: run by a district or a functional zone
    TECHNOLOGY = "technology"  # 赛道: a field of technology


class Track(Model):
    id = fields.IntField(primary_key=True)
    competition: fields.ForeignKeyRelation[Competition] = fields.ForeignKeyField(
        "models.Competition", related_name="tracks", on_delete=fields.CASCADE
    )
    competition_id: int
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=100)
    kind = fields.CharEnumField(TrackKind, max_length=16, default=TrackKind.TECHNOLOGY)
    # For a district track: the district code (events.districts).
    district = fields.CharField(max_length=32, null=True)
    # Fields of technology it covers (events.supply_fields codes or free words): expertise fit reads them.
    fields_of_interest: fields.JSONField[list[str]] = fields.JSONField(default=list)
    order = fields.SmallIntField(default=0)

    class Meta:
        table = "competition_track"
        unique_together = (("competition", "code"),)


class RoundStatus(StrEnum):
    OPEN = "open"  # judges score (within the window, when one is set)
    CLOSED = "closed"  # no more scores; advancement decided
    NOTICE = "notice"  # 公示: results public, objections taken until notice_ends_at
    FINAL = "final"  # notice over, results final


class Round(Model):
    id = fields.IntField(primary_key=True)
    competition: fields.ForeignKeyRelation[Competition] = fields.ForeignKeyField(
        "models.Competition", related_name="rounds", on_delete=fields.CASCADE
    )
    competition_id: int
    code = fields.CharField(max_length=32)  # in URLs: /rounds/{code}
    name = fields.CharField(max_length=100)  # 初赛, 复赛, 决赛
    order = fields.SmallIntField()
    judges_per_entry = fields.SmallIntField()
    # The scoring window (null: no bound on that side).
    opens_at = fields.DatetimeField(null=True)
    closes_at = fields.DatetimeField(null=True)
    # {"top"?: int, "top_per_track"?: int, "min_score"?: number}; empty: nobody advances by rule.
    advance: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(RoundStatus, max_length=16, default=RoundStatus.OPEN)
    notice_days = fields.SmallIntField(default=7)
    notice_ends_at = fields.DatetimeField(null=True)
    # Spread (highest − lowest judge total) above which an entry is flagged for re-review; null: never.
    disagreement_gap = fields.FloatField(null=True)
    closed_at = fields.DatetimeField(null=True)
    closed_by = fields.CharField(max_length=100, null=True)
    # Set when the round was closed with unscored assignments (forced): why.
    forced_reason = fields.TextField(null=True)
    finalized_at = fields.DatetimeField(null=True)
    # The hall's big screen: public when the organizer says so, else only by the organizer's link.
    scoreboard_public = fields.BooleanField(default=False)
    # On-site finals: the entry on stage now (the organizer sets it; the judges' bot /score opens it).
    # A plain id, not a foreign key: entries already point at rounds, and Tortoise refuses a cycle.
    # Entries are never deleted (they are withdrawn), and the service checks the id against the round.
    on_stage_entry_id = fields.IntField(null=True)
    on_stage_at = fields.DatetimeField(null=True)

    class Meta:
        table = "competition_round"
        unique_together = (("competition", "code"), ("competition", "order"))


class Criterion(Model):
    id = fields.IntField(primary_key=True)
    competition: fields.ForeignKeyRelation[Competition] = fields.ForeignKeyField(
        "models.Competition", related_name="criteria", on_delete=fields.CASCADE
    )
    competition_id: int
    key = fields.CharField(max_length=32)
    name = fields.CharField(max_length=100)  # 技术先进性, 市场价值, 落地环境
    description = fields.TextField(default="")
    weight = fields.FloatField()
    max = fields.FloatField()
    order = fields.SmallIntField(default=0)

    class Meta:
        table = "competition_criterion"
        unique_together = (("competition", "key"),)


class EntryStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"  # eligible: judged in its current round
    REJECTED = "rejected"  # not eligible (review_reason says why)
    WITHDRAWN = "withdrawn"
    ADVANCED = "advanced"  # through its last closed round, into the next one
    ELIMINATED = "eliminated"
    AWARDED = "awarded"


class EntrySource(StrEnum):
    API = "api"
    BOT = "bot"
    WEB = "web"
    IMPORT = "import"


class Entry(Model):
    id = fields.IntField(primary_key=True)
    competition: fields.ForeignKeyRelation[Competition] = fields.ForeignKeyField(
        "models.Competition", related_name="entries", on_delete=fields.CASCADE, db_index=True
    )
    competition_id: int
    title = fields.CharField(max_length=200)
    summary = fields.TextField(default="")
    # [{"name": str, "role"?: str}] the team (团队成员), leader first.
    team: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    leader: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="competition_entries", null=True, on_delete=fields.SET_NULL
    )
    leader_id: int | None
    leader_name = fields.CharField(max_length=100)
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="competition_entries", null=True, on_delete=fields.RESTRICT
    )
    organization_id: int | None
    track: fields.ForeignKeyRelation[Track] = fields.ForeignKeyField(
        "models.Track", related_name="entries", on_delete=fields.RESTRICT
    )
    track_id: int
    achievement: fields.ForeignKeyNullableRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", related_name="competition_entries", null=True, on_delete=fields.SET_NULL
    )
    achievement_id: int | None
    # Fields of technology (expertise fit in the assignment reads them, beside the track's).
    fields_of_technology: fields.JSONField[list[str]] = fields.JSONField(default=list)
    status = fields.CharEnumField(EntryStatus, max_length=16, default=EntryStatus.SUBMITTED, db_index=True)
    review_reason = fields.TextField(null=True)
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by = fields.CharField(max_length=100, null=True)
    # The round the entry is in now (the first round on submission; the next one when it advances).
    current_round: fields.ForeignKeyNullableRelation[Round] = fields.ForeignKeyField(
        "models.Round", related_name="current_entries", null=True, on_delete=fields.SET_NULL
    )
    current_round_id: int | None
    # Organizations the entrant declares ties to (shareholders, affiliations, 股权/任职关系): conflict rules read them.
    declared_ties: fields.JSONField[list[str]] = fields.JSONField(default=list)
    contact_email = fields.CharField(max_length=254, null=True)
    contact_phone = fields.CharField(max_length=32, null=True)
    # The part after "@" of the contact e-mail, lower-cased (the e-mail-domain rule reads it).
    email_domain = fields.CharField(max_length=200, null=True)
    source = fields.CharEnumField(EntrySource, max_length=8, default=EntrySource.API)
    # The person who submitted it (the bot or web entrant); told of every change of status.
    submitted_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="competition_submissions", null=True, on_delete=fields.SET_NULL
    )
    submitted_by_id: int | None
    withdrawn_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "competition_entry"


class AttachmentKind(StrEnum):
    BUSINESS_PLAN = "business_plan"  # 商业计划书 (PDF)
    SLIDES = "slides"  # 路演 PPT (PDF or PPTX)
    OTHER = "other"


class EntryAttachment(Model):
    """A file of an entry; its bytes live behind the storage interface under ``storage_key``."""

    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="attachments", on_delete=fields.CASCADE
    )
    entry_id: int
    kind = fields.CharEnumField(AttachmentKind, max_length=16)
    filename = fields.CharField(max_length=200)
    # What the content was found to be (magic bytes), not what the client claimed.
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    storage_key = fields.CharField(max_length=200, unique=True)
    sha256 = fields.CharField(max_length=64)
    uploaded_by = fields.CharField(max_length=100)
    uploaded_at = fields.DatetimeField()

    class Meta:
        table = "competition_attachment"


class Judge(Model):
    id = fields.IntField(primary_key=True)
    competition: fields.ForeignKeyRelation[Competition] = fields.ForeignKeyField(
        "models.Competition", related_name="judges", on_delete=fields.CASCADE
    )
    competition_id: int
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="judge_seats", null=True, on_delete=fields.SET_NULL
    )
    person_id: int | None
    name = fields.CharField(max_length=100)
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="judges", null=True, on_delete=fields.RESTRICT
    )
    organization_id: int | None
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    # Fields of technology and track codes the judge knows: the assignment prefers a fit.
    expertise: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # Organizations the judge declares ties to (former employer, shareholdings, 亲属任职…).
    conflicts: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # The judge's bearer token (role judge): it reaches this competition only. Revoked → replaced.
    token: fields.OneToOneNullableRelation[ApiToken] = fields.OneToOneField(
        "models.ApiToken", related_name="judge", null=True, on_delete=fields.SET_NULL
    )
    token_id: int | None
    active = fields.BooleanField(default=True)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "competition_judge"
        unique_together = (("competition", "person"),)


class ConflictRecord(Model):
    """A conflict of interest found between a judge and an entry, and by which rule (the log of them)."""

    id = fields.IntField(primary_key=True)
    competition: fields.ForeignKeyRelation[Competition] = fields.ForeignKeyField(
        "models.Competition", related_name="conflict_records", on_delete=fields.CASCADE
    )
    competition_id: int
    judge: fields.ForeignKeyRelation[Judge] = fields.ForeignKeyField(
        "models.Judge", related_name="conflict_records", on_delete=fields.CASCADE
    )
    judge_id: int
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="conflict_records", on_delete=fields.CASCADE
    )
    entry_id: int
    # declared_tie | same_organization | email_domain | entrant_declared | recusal
    rule = fields.CharField(max_length=32)
    detail = fields.CharField(max_length=500, default="")
    found_at = fields.DatetimeField()

    class Meta:
        table = "competition_conflict"
        unique_together = (("judge", "entry", "rule"),)


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    RECUSED = "recused"  # the judge stepped aside (a Recusal row says why)
    REPLACED = "replaced"  # withdrawn by the organizer (e.g. a conflict found late)


class Assignment(Model):
    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "models.Round", related_name="assignments", on_delete=fields.CASCADE
    )
    round_id: int
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="assignments", on_delete=fields.CASCADE
    )
    entry_id: int
    judge: fields.ForeignKeyRelation[Judge] = fields.ForeignKeyField(
        "models.Judge", related_name="assignments", on_delete=fields.CASCADE, db_index=True
    )
    judge_id: int
    status = fields.CharEnumField(AssignmentStatus, max_length=16, default=AssignmentStatus.ACTIVE, db_index=True)
    assigned_at = fields.DatetimeField()
    status_changed_at = fields.DatetimeField(null=True)
    # The number of the last score version written (0: none); versions are numbered from 1.
    last_version = fields.IntField(default=0)

    class Meta:
        table = "competition_assignment"
        unique_together = (("round", "entry", "judge"),)


class Recusal(Model):
    """A judge stepping aside from an entry of a round (回避), and who replaced them."""

    id = fields.IntField(primary_key=True)
    assignment: fields.OneToOneRelation[Assignment] = fields.OneToOneField(
        "models.Assignment", related_name="recusal", on_delete=fields.CASCADE
    )
    assignment_id: int
    reason = fields.TextField()
    # The assignment made in its place (null: no free judge at the time).
    replacement: fields.ForeignKeyNullableRelation[Assignment] = fields.ForeignKeyField(
        "models.Assignment", related_name="replaces", null=True, on_delete=fields.SET_NULL
    )
    replacement_id: int | None
    at = fields.DatetimeField()

    class Meta:
        table = "competition_recusal"


class ScoreVersion(Model):
    """One saving of a judge's score for an entry of a round. Append-only: a change is a new version.

    The current score of an assignment is its highest submitted version (a draft saved later does not
    replace it until submitted).
    """

    id = fields.IntField(primary_key=True)
    assignment: fields.ForeignKeyRelation[Assignment] = fields.ForeignKeyField(
        "models.Assignment", related_name="score_versions", on_delete=fields.CASCADE
    )
    assignment_id: int
    # The assignment's round, kept here so a ranking reads one table by one index.
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "models.Round", related_name="score_versions", on_delete=fields.CASCADE, db_index=True
    )
    round_id: int
    version = fields.IntField()
    scores: fields.JSONField[dict[str, float]] = fields.JSONField()
    # Σ weight · value over the criteria, at the time of writing.
    total = fields.FloatField()
    comment = fields.TextField(default="")
    submitted = fields.BooleanField(default=True)
    via = fields.CharField(max_length=8, default="api")  # api | web | bot
    at = fields.DatetimeField()

    class Meta:
        table = "competition_score"
        unique_together = (("assignment", "version"),)


class AdvanceHow(StrEnum):
    RULE = "rule"  # by the round's advance rule at close
    WILDCARD = "wildcard"  # the organizer's pick (with a reason)
    MOVED_UP = "moved_up"  # 依序递补: next-ranked, after a withdrawal or an upheld objection


class RoundAdvance(Model):
    """An entry going through ``round``: into the next round, or (out of the last round) into the results.

    A revoked advance (an upheld objection, a withdrawal) stays with ``revoked_at`` and its reason.
    """

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "models.Round", related_name="advances", on_delete=fields.CASCADE
    )
    round_id: int
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="advances", on_delete=fields.CASCADE
    )
    entry_id: int
    how = fields.CharEnumField(AdvanceHow, max_length=16)
    # The entry's overall rank in the round when it advanced (null for a wildcard below the line).
    rank = fields.IntField(null=True)
    score = fields.FloatField(null=True)
    # For the last round: the award tier code it won (see Competition.award_tiers).
    award_tier = fields.CharField(max_length=32, null=True)
    reason = fields.TextField(default="")
    at = fields.DatetimeField()
    by = fields.CharField(max_length=100)
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.TextField(null=True)

    class Meta:
        table = "competition_advance"
        unique_together = (("round", "entry"),)


class ObjectionStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Objection(Model):
    """A real-name written objection (异议) to an entry's result, filed during the round's notice."""

    id = fields.IntField(primary_key=True)
    competition: fields.ForeignKeyRelation[Competition] = fields.ForeignKeyField(
        "models.Competition", related_name="objections", on_delete=fields.CASCADE
    )
    competition_id: int
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="objections", on_delete=fields.CASCADE
    )
    entry_id: int
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "models.Round", related_name="objections", on_delete=fields.CASCADE
    )
    round_id: int
    objector_name = fields.CharField(max_length=100)
    objector_contact = fields.CharField(max_length=254)
    objector: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="objections", null=True, on_delete=fields.SET_NULL
    )
    objector_id: int | None
    reason = fields.TextField()
    evidence = fields.TextField(default="")
    status = fields.CharEnumField(ObjectionStatus, max_length=16, default=ObjectionStatus.PENDING, db_index=True)
    decided_reason = fields.TextField(null=True)
    decided_at = fields.DatetimeField(null=True)
    decided_by = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "competition_objection"
