"""Typed domain errors. Transports switch on ``code`` and translate ``message`` (an English msgid).

Each error carries the HTTP-ish category it belongs to (``kind``) so the API can map it in one
handler and the bot in one error router, without either holding a rule.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

ErrorKind = Literal["invalid", "unauthorized", "forbidden", "not_found", "conflict", "rate_limited"]


def N_(message: str) -> str:
    """Mark a string for extraction into the gettext catalogue without translating it here."""
    return message


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    kind: ClassVar[ErrorKind] = "invalid"
    message: str = N_("The request cannot be carried out.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.code)

    def __str__(self) -> str:
        try:
            return self.message % self.params if self.params else self.message
        except (KeyError, TypeError, ValueError):
            return self.message


class InvalidInput(DomainError):
    code = "invalid_input"
    message = N_("The request is not valid.")


class NotFound(DomainError):
    code = "not_found"
    kind = "not_found"
    message = N_("Not found.")


class LinkCodeInvalid(NotFound):
    code = "link_code_invalid"
    message = N_("This link is unknown, already used or expired.")


class EventNotFound(NotFound):
    code = "event_not_found"
    message = N_("No such event.")


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    message = N_("No such registration.")


class Unauthorized(DomainError):
    code = "unauthorized"
    kind = "unauthorized"
    message = N_("A valid access token is required.")


class Forbidden(DomainError):
    code = "forbidden"
    kind = "forbidden"
    message = N_("Your role does not allow this.")


class TelegramIdNotAllowed(Forbidden):
    code = "telegram_id_not_allowed"
    message = N_("Only an authenticated caller may register with a Telegram identity.")


class EventOutOfScope(Forbidden):
    code = "event_out_of_scope"
    message = N_("This token may not act on this event.")


class Conflict(DomainError):
    code = "conflict"
    kind = "conflict"


class AlreadyLinked(Conflict):
    code = "already_linked"
    message = N_("This registration is already linked to a Telegram account.")


class BotNotConfigured(Conflict):
    code = "bot_not_configured"
    message = N_("The Telegram bot is not configured (set WUCHUANG_BOT_TOKEN, or WUCHUANG_BOT_USERNAME).")


class ScanIdReused(Conflict):
    code = "scan_id_reused"
    message = N_("This scan id was already used for another scan; send each scan with an id of its own.")


class AlreadyRegistered(Conflict):
    code = "already_registered"
    message = N_("This person is already registered for this event.")


class RegistrationClosed(Conflict):
    code = "registration_closed"
    message = N_("Registration for this event is closed.")


class RegistrationNotOpenYet(Conflict):
    code = "registration_not_open"
    message = N_("Registration for this event opens at %(opens_at)s.")


class EventNotOpen(Conflict):
    code = "event_not_open"
    message = N_("This event is not open for registration (it is %(status)s).")


class EventFull(Conflict):
    code = "event_full"
    message = N_("This event is full.")


class AlreadyCancelled(Conflict):
    code = "already_cancelled"
    message = N_("This registration is already cancelled.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = N_("This cannot be done while the status is %(status)s.")


class BroadcastClosed(Conflict):
    code = "broadcast_closed"
    message = N_("Announcements go only to a published event's registrants, until %(hours)s hours after it ends.")


class CapacityBelowTaken(Conflict):
    code = "capacity_below_taken"
    message = N_("Capacity cannot be lower than the %(taken)s seats already taken.")


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = N_("A request with this Idempotency-Key is still being processed; retry shortly.")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    message = N_("This Idempotency-Key was already used with a different request.")


class RateLimited(DomainError):
    code = "rate_limited"
    kind = "rate_limited"
    message = N_("Too many requests; try again in %(retry_after)s seconds.")


class BrokerNotFound(NotFound):
    code = "broker_not_found"
    message = N_("No such broker.")


class CourseNotFound(NotFound):
    code = "course_not_found"
    message = N_("No such course.")


class CourseItemNotFound(NotFound):
    code = "course_item_not_found"
    message = N_("This course has no session or module %(code)s.")


class CreditEntryNotFound(NotFound):
    code = "credit_entry_not_found"
    message = N_("This broker has no ledger entry %(entry_id)s.")


class AlreadyBroker(Conflict):
    code = "already_broker"
    message = N_("This person is already a broker (broker %(broker_id)s).")


class CourseCodeTaken(Conflict):
    code = "course_code_taken"
    message = N_("Another course already has the code %(code)s.")


class ItemCodeTaken(Conflict):
    code = "item_code_taken"
    message = N_("This course already has a session or module %(code)s.")


class SessionInOtherCourse(Conflict):
    code = "session_in_other_course"
    message = N_("This event is already a session of course %(course)s.")


class NotEnrolled(Conflict):
    code = "not_enrolled"
    message = N_("This broker is not enrolled in this course.")


class ExternalIdReused(Conflict):
    code = "external_id_reused"
    message = N_("The external id %(external_id)s was already reported for another completion.")


class AlreadyCredited(Conflict):
    code = "already_credited"
    message = N_("This broker already has credit for %(item)s.")


class ItemHasCredits(Conflict):
    code = "item_has_credits"
    message = N_("Brokers already have credit for %(code)s: it cannot be removed (change it instead).")


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = N_("No such organization.")


class PersonNotFound(NotFound):
    code = "person_not_found"
    message = N_("No such person.")


class RoleNotHeld(NotFound):
    code = "role_not_held"
    message = N_("The person does not hold this role.")


class RoleNotGrantable(Forbidden):
    code = "role_not_grantable"
    message = N_("You may grant only checker roles, and only for your own organization's events.")


class CertificationNotFound(NotFound):
    code = "certification_not_found"
    message = N_("This broker has no certificate %(certification_id)s.")


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    message = N_("No certificate has this number.")


class CertificationAlreadyRevoked(Conflict):
    code = "certification_already_revoked"
    message = N_("This certificate is already revoked.")


class CertificationNotRevoked(Conflict):
    code = "certification_not_revoked"
    message = N_("Only a revoked certificate can be reinstated.")
