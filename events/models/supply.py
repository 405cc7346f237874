"""The innovation supply chain: achievements (科技成果), demands (需求), investors, connections (对接) and
transfers (技术合同).

Every record here is *managed by* one organization (``managed_by``: the district office or host that
entered it; ownership checks read it) and may *belong to* another (``owner_organization`` of an
achievement, ``organization`` of a demand: the university or company it is about). The two differ: a
district office enters a company's demand.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.organizations import Organization
    from events.models.people import Person
    from events.models.training import Broker


class TransferMode(StrEnum):
    TRANSFER = "transfer"  # 转让
    LICENSE = "license"  # 许可
    EQUITY = "equity"  # 作价入股
    JOINT_DEVELOPMENT = "joint_development"  # 合作开发
    OTHER = "other"


class TransferKind(StrEnum):
    TECHNOLOGY = "technology"  # 技术合同: a technology contract (转让, 许可, 作价入股, 合作开发)
    INVESTMENT = "investment"  # 投资: an investor's investment in a project (e.g. after a roadshow meeting)


class AchievementTier(StrEnum):
    GENERAL = "general"
    CONCEPT = "concept"  # 概念验证项目库
    PILOT = "pilot"  # 中试项目库
    KEY = "key"  # 重点成果项目库 (counted in the goals)


class AchievementStage(StrEnum):
    RESEARCH = "research"  # 研发
    LAB = "lab"  # 小试
    PILOT = "pilot"  # 中试
    SAMPLE = "sample"  # 样品
    PRODUCTION = "production"  # 量产


class AchievementStatus(StrEnum):
    AVAILABLE = "available"
    NEGOTIATING = "negotiating"
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"


class Achievement(Model):
    id = fields.IntField(primary_key=True)
    # The importer's own key: imports upsert by (managed_by, external_id).
    external_id = fields.CharField(max_length=100, null=True)
    title = fields.CharField(max_length=300)
    abstract = fields.TextField(default="")
    keywords: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # The keywords as one line of text, kept by the service: searching (``q``) reads it the same way on
    # every database (JSON text is \u-escaped on SQLite and jsonb on PostgreSQL).
    keywords_text = fields.TextField(default="")
    # A code from events.supply_fields (光电子信息, 生物医药, …); null when not classified.
    field = fields.CharField(max_length=32, null=True, db_index=True)
    owner_organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="achievements", null=True, on_delete=fields.RESTRICT
    )
    owner_organization_id: int | None
    # Team members' names (the 团队), free text each.
    team: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # The person who speaks for the achievement: matched demands are pushed to them.
    contact: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="achievements", null=True, on_delete=fields.SET_NULL
    )
    contact_id: int | None
    trl = fields.SmallIntField(null=True)
    stage = fields.CharEnumField(AchievementStage, max_length=16, null=True)
    transfer_modes: fields.JSONField[list[str]] = fields.JSONField(default=list)
    patents: fields.JSONField[list[str]] = fields.JSONField(default=list)
    price_min_cny = fields.BigIntField(null=True)
    price_max_cny = fields.BigIntField(null=True)
    district = fields.CharField(max_length=32, null=True, db_index=True)
    tier = fields.CharEnumField(AchievementTier, max_length=16, default=AchievementTier.GENERAL, db_index=True)
    status = fields.CharEnumField(AchievementStatus, max_length=16, default=AchievementStatus.AVAILABLE)
    managed_by: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="managed_achievements", on_delete=fields.RESTRICT
    )
    managed_by_id: int
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "achievement"
        unique_together = (("managed_by", "external_id"),)


class DemandKind(StrEnum):
    TECHNOLOGY = "technology"  # 技术
    TALENT = "talent"  # 人才
    CAPITAL = "capital"  # 资金
    SCENARIO = "scenario"  # 场景


class DemandStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    IN_TALKS = "in_talks"
    CONTRACTED = "contracted"
    CLOSED = "closed"
    EXPIRED = "expired"


class DemandSource(StrEnum):
    BOT = "bot"
    API = "api"
    IMPORT = "import"
    COLLECTED = "collected"  # gathered by a grid worker or broker (``collected_by``)


class Demand(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=100, null=True)
    kind = fields.CharEnumField(DemandKind, max_length=16, db_index=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # 考核指标: what the solution must reach.
    indicators = fields.TextField(default="")
    tags: fields.JSONField[list[str]] = fields.JSONField(default=list)
    field = fields.CharField(max_length=32, null=True)
    min_trl = fields.SmallIntField(null=True)
    transfer_modes: fields.JSONField[list[str]] = fields.JSONField(default=list)
    budget_min_cny = fields.BigIntField(null=True)
    budget_max_cny = fields.BigIntField(null=True)
    deadline = fields.DateField(null=True)
    district = fields.CharField(max_length=32, null=True, db_index=True)
    # The company (or unit) that has the problem.
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="demands", null=True, on_delete=fields.RESTRICT
    )
    organization_id: int | None
    # Who to talk to (the poster in the bot, or the contact an organizer entered).
    contact: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="demands", null=True, on_delete=fields.SET_NULL
    )
    contact_id: int | None
    source = fields.CharEnumField(DemandSource, max_length=16, default=DemandSource.API)
    collected_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="collected_demands", null=True, on_delete=fields.SET_NULL
    )
    collected_by_id: int | None
    status = fields.CharEnumField(DemandStatus, max_length=16, default=DemandStatus.OPEN, db_index=True)
    status_changed_at = fields.DatetimeField(null=True)
    # The first time someone answered it (a match accepted, a broker claim, a connection): the
    # "time to first response" is first_response_at - created_at.
    first_response_at = fields.DatetimeField(null=True)
    # A near-duplicate of an open demand, flagged (never merged) with its similarity.
    duplicate_of: fields.ForeignKeyNullableRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="near_duplicates", null=True, on_delete=fields.SET_NULL
    )
    duplicate_of_id: int | None
    duplicate_score = fields.FloatField(null=True)
    # The broker accountable for it after a claim, and when they must next report.
    broker: fields.ForeignKeyNullableRelation[Broker] = fields.ForeignKeyField(
        "models.Broker", related_name="claimed_demands", null=True, on_delete=fields.SET_NULL
    )
    broker_id: int | None
    claimed_at = fields.DatetimeField(null=True)
    follow_up_due = fields.DatetimeField(null=True)
    # When the broker was last reminded of an overdue follow-up: at most once per follow-up period.
    follow_up_reminded_at = fields.DatetimeField(null=True)
    managed_by: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="managed_demands", on_delete=fields.RESTRICT
    )
    managed_by_id: int
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "demand"
        unique_together = (("managed_by", "external_id"),)


class DemandStatusChange(Model):
    """One step of a demand's timeline (append-only)."""

    id = fields.IntField(primary_key=True)
    demand: fields.ForeignKeyRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="timeline", on_delete=fields.CASCADE
    )
    demand_id: int
    from_status = fields.CharEnumField(DemandStatus, max_length=16, null=True)
    to_status = fields.CharEnumField(DemandStatus, max_length=16)
    note = fields.CharField(max_length=500, default="")
    actor = fields.CharField(max_length=100)
    at = fields.DatetimeField()

    class Meta:
        table = "demand_status_change"


class Investor(Model):
    """An investor's profile (a fund or an angel): what they fund. Roadshows extend its use."""

    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="investor_profiles", null=True, on_delete=fields.SET_NULL
    )
    person_id: int | None
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="investors", null=True, on_delete=fields.RESTRICT
    )
    organization_id: int | None
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    fields_of_interest: fields.JSONField[list[str]] = fields.JSONField(default=list)
    stages: fields.JSONField[list[str]] = fields.JSONField(default=list)
    ticket_min_cny = fields.BigIntField(null=True)
    ticket_max_cny = fields.BigIntField(null=True)
    districts: fields.JSONField[list[str]] = fields.JSONField(default=list)
    verified = fields.BooleanField(default=False)
    managed_by: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="managed_investors", on_delete=fields.RESTRICT
    )
    managed_by_id: int
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "investor"


class ConnectionStatus(StrEnum):
    OPEN = "open"  # one side said "interested"; the other side and the broker were told
    IN_TALKS = "in_talks"
    CONTRACTED = "contracted"
    CLOSED = "closed"  # ended without a contract


class Connection(Model):
    """对接: a demand and an achievement (or an investor) brought into contact."""

    id = fields.IntField(primary_key=True)
    demand: fields.ForeignKeyNullableRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="connections", null=True, on_delete=fields.CASCADE
    )
    demand_id: int | None
    achievement: fields.ForeignKeyNullableRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", related_name="connections", null=True, on_delete=fields.CASCADE
    )
    achievement_id: int | None
    investor: fields.ForeignKeyNullableRelation[Investor] = fields.ForeignKeyField(
        "models.Investor", related_name="connections", null=True, on_delete=fields.CASCADE
    )
    investor_id: int | None
    # Who asked for it, and the broker accountable (the demand's broker, or one asked for).
    requested_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="connections_requested", null=True, on_delete=fields.SET_NULL
    )
    requested_by_id: int | None
    broker: fields.ForeignKeyNullableRelation[Broker] = fields.ForeignKeyField(
        "models.Broker", related_name="connections", null=True, on_delete=fields.SET_NULL
    )
    broker_id: int | None
    wants_broker = fields.BooleanField(default=False)  # 请技术经理人联系
    status = fields.CharEnumField(ConnectionStatus, max_length=16, default=ConnectionStatus.OPEN)
    origin = fields.CharField(max_length=16, default="api")  # push | bot | api | organizer
    managed_by: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="managed_connections", on_delete=fields.RESTRICT
    )
    managed_by_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connection"
        unique_together = (("demand", "achievement", "investor"),)


class MatchVerdict(StrEnum):
    INTERESTED = "interested"  # 感兴趣
    WANTS_BROKER = "wants_broker"  # 请技术经理人联系
    NOT_RELEVANT = "not_relevant"  # 不相关


class MatchFeedback(Model):
    """What a person said of a pushed match; "not relevant" is kept to learn from and never pushed again."""

    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="match_feedback", on_delete=fields.CASCADE
    )
    person_id: int
    # The pair, as "demand:12" and "achievement:34" (subject: what the person holds or asked about).
    subject = fields.CharField(max_length=40)
    item = fields.CharField(max_length=40)
    verdict = fields.CharEnumField(MatchVerdict, max_length=16)
    score = fields.FloatField(null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "match_feedback"
        unique_together = (("person", "subject", "item"),)


class Transfer(Model):
    """技术合同: a signed technology contract; counted live in the goals."""

    id = fields.IntField(primary_key=True)
    # Or (``kind`` investment) an investor's investment in a project, counted in a goal of its own.
    kind = fields.CharEnumField(TransferKind, max_length=16, default=TransferKind.TECHNOLOGY)
    # An investment's round as the parties name it: 天使, Pre-A, A, B, … (empty for a contract).
    investment_round = fields.CharField(max_length=16, default="")
    contract_no = fields.CharField(max_length=64, null=True)
    achievement: fields.ForeignKeyNullableRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", related_name="transfers", null=True, on_delete=fields.RESTRICT
    )
    achievement_id: int | None
    demand: fields.ForeignKeyNullableRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="transfers", null=True, on_delete=fields.RESTRICT
    )
    demand_id: int | None
    seller: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="transfers_sold", null=True, on_delete=fields.RESTRICT
    )
    seller_id: int | None
    buyer: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="transfers_bought", null=True, on_delete=fields.RESTRICT
    )
    buyer_id: int | None
    mode = fields.CharEnumField(TransferMode, max_length=24)
    amount_cny = fields.DecimalField(max_digits=16, decimal_places=2)
    signed_on = fields.DateField()
    broker: fields.ForeignKeyNullableRelation[Broker] = fields.ForeignKeyField(
        "models.Broker", related_name="transfers", null=True, on_delete=fields.SET_NULL
    )
    broker_id: int | None
    connection: fields.ForeignKeyNullableRelation[Connection] = fields.ForeignKeyField(
        "models.Connection", related_name="transfers", null=True, on_delete=fields.SET_NULL
    )
    connection_id: int | None
    major = fields.BooleanField(default=False)
    managed_by: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="managed_transfers", on_delete=fields.RESTRICT
    )
    managed_by_id: int
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "transfer"
        unique_together = (("managed_by", "contract_no"),)
