"""Who owns what: the one place that says whether a caller's scope reaches an object.

An object of another organization is answered exactly as a missing one (``*_not_found``): an organizer
learns nothing about what other organizations hold. Events carry their organization; courses,
broadcasts, registrations and messages follow their event; a broker is reached by the organization
that entered them and by every organization in whose course they are enrolled.
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from events.db_reads import get_one
from events.errors import BrokerNotFound, CourseNotFound, EventNotFound, NotFound, RegistrationNotFound
from events.models import Broadcast, Broker, Course, Event, OutboxMessage, Registration
from events.services.organizations import Scope


async def owned_event(event_id: int, scope: Scope) -> Event:
    """The event, if ``scope`` reaches it (drafts included). Raises ``event_not_found``."""
    return reached_event(await get_one(Event, id=event_id), scope)


def reached_event(event: Event | None, scope: Scope) -> Event:
    """``event`` (already read) if ``scope`` reaches it. Raises ``event_not_found``."""
    if event is None or not scope.covers(event.organization_id):
        raise EventNotFound()
    return event


async def owned_course(course_id: int, scope: Scope) -> Course:
    """With its event loaded. Raises ``course_not_found``."""
    course = await Course.get_or_none(id=course_id).select_related("event")
    if course is None or not scope.covers(course.event.organization_id):
        raise CourseNotFound()
    return course


async def owned_registration(registration_id: int, scope: Scope) -> Registration:
    """Raises ``registration_not_found``."""
    registration = await Registration.get_or_none(id=registration_id).select_related("event")
    if registration is None or not scope.covers(registration.event.organization_id):
        raise RegistrationNotFound()
    return registration


async def owned_broadcast(broadcast_id: int, scope: Scope) -> Broadcast:
    """Raises ``not_found``."""
    broadcast = await Broadcast.get_or_none(id=broadcast_id).select_related("event")
    if broadcast is None or not scope.covers(broadcast.event.organization_id):
        raise NotFound()
    return broadcast


def message_filter(scope: Scope) -> Q:
    """Outbox rows the scope reaches: those about its events (rows about no event are admins' only)."""
    if scope.everything:
        return Q()
    return Q(event_id__in=Subquery(Event.filter(organization_id=scope.organization_id).values("id")))


async def owned_message(message_id: int, scope: Scope) -> OutboxMessage:
    """Raises ``not_found``."""
    row = await OutboxMessage.filter(message_filter(scope), id=message_id).first()
    if row is None:
        raise NotFound()
    return row


def broker_filter(scope: Scope) -> Q:
    """Brokers the scope reaches: entered by its organization, or enrolled in one of its courses."""
    if scope.everything:
        return Q()
    enrolled = Registration.filter(
        event_id__in=Subquery(Course.filter(event__organization_id=scope.organization_id).values("event_id"))
    ).values("person_id")
    return Q(owner_organization_id=scope.organization_id) | Q(person_id__in=Subquery(enrolled))


async def owned_broker(broker_id: int, scope: Scope) -> Broker:
    """With its person loaded. Raises ``broker_not_found``."""
    broker = await Broker.filter(broker_filter(scope), id=broker_id).select_related("person").first()
    if broker is None:
        raise BrokerNotFound()
    return broker


def event_filter(scope: Scope) -> Q:
    return Q() if scope.everything else Q(organization_id=scope.organization_id)
