"""Tortoise models, one module per aggregate. This package is the one schema source."""

from events.models.access import ApiToken, IdempotencyRecord, Role
from events.models.activity import Activity
from events.models.catalog import Event, EventKind, EventStatus
from events.models.checkin import Attendance, CheckinResult, CheckinScan, Direction
from events.models.organizations import Organization, OrganizationKind
from events.models.outbox import Broadcast, Category, Cursor, OutboxMessage, OutboxStatus
from events.models.people import Person, PersonRole, TelegramUpdate
from events.models.registration import ACTIVE_STATUSES, Registration, RegistrationLink, RegistrationStatus
from events.models.training import (
    LEVEL_ORDER,
    Broker,
    BrokerLevel,
    Certification,
    CertificationState,
    Course,
    CourseItem,
    CreditEntry,
    CreditSource,
    ItemKind,
    hours_of,
)

__all__ = [
    "LEVEL_ORDER",
    "Broker",
    "BrokerLevel",
    "Certification",
    "CertificationState",
    "Course",
    "CourseItem",
    "CreditEntry",
    "CreditSource",
    "ItemKind",
    "hours_of",
    "ACTIVE_STATUSES",
    "Activity",
    "ApiToken",
    "Broadcast",
    "Category",
    "Cursor",
    "OutboxMessage",
    "Organization",
    "OrganizationKind",
    "OutboxStatus",
    "Attendance",
    "CheckinResult",
    "CheckinScan",
    "Direction",
    "Event",
    "EventKind",
    "EventStatus",
    "IdempotencyRecord",
    "Person",
    "PersonRole",
    "TelegramUpdate",
    "Registration",
    "RegistrationLink",
    "RegistrationStatus",
    "Role",
]

MODEL_MODULES = [
    "events.models.organizations",
    "events.models.people",
    "events.models.catalog",
    "events.models.registration",
    "events.models.access",
    "events.models.activity",
    "events.models.checkin",
    "events.models.outbox",
    "events.models.training",
]
