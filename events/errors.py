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
    # Parameters an API client also gets as fields of the error (beside ``field``), e.g. a list of ids.
    exposed: ClassVar[tuple[str, ...]] = ()

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.code)

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a child process (``events.child``) and again here: the class, the message if one
        # was given, the parameters (Exception's own pickling would pass ``code`` as the message).
        return (_restore, (type(self), self.__dict__.get("message"), self.params))

    def __str__(self) -> str:
        try:
            return self.message % self.params if self.params else self.message
        except (KeyError, TypeError, ValueError):
            return self.message


def _restore(cls: type[DomainError], message: str | None, params: dict[str, Any]) -> DomainError:
    return cls(message, **params)


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


class MetricsForbidden(Forbidden):
    code = "metrics_forbidden"
    message = N_("Metrics are readable from this machine only, or with the metrics token (WUCHUANG_METRICS_TOKEN).")


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


class OrganizationNameTaken(Conflict):
    code = "organization_name_taken"
    message = N_("Another organization already has the name %(name)s.")


class CreditCodeTaken(Conflict):
    code = "credit_code_taken"
    message = N_("Another organization already has the unified social credit code %(credit_code)s.")


class DemandNotFound(NotFound):
    code = "demand_not_found"
    message = N_("No such demand.")


class AchievementNotFound(NotFound):
    code = "achievement_not_found"
    message = N_("No such achievement.")


class InvestorNotFound(NotFound):
    code = "investor_not_found"
    message = N_("No such investor.")


class TransferNotFound(NotFound):
    code = "transfer_not_found"
    message = N_("No such technology contract.")


class ContractNumberTaken(Conflict):
    code = "contract_no_taken"
    message = N_("Your organization already recorded a contract numbered %(contract_no)s.")


class ExternalIdTaken(Conflict):
    code = "external_id_taken"
    message = N_("Your organization already has an achievement with the external id %(external_id)s.")


class ConnectionNotFound(NotFound):
    code = "connection_not_found"
    message = N_("No such connection.")


class MatchNotAvailable(NotFound):
    code = "match_not_available"
    message = N_("This match is no longer available.")


class DemandClosed(Conflict):
    code = "demand_closed"
    message = N_("This demand is %(status)s: it is not matched any more.")


class DemandTransitionRefused(InvalidTransition):
    code = "invalid_transition"
    message = N_("A demand cannot go from %(status)s to %(to_status)s.")


class AlreadyClaimed(Conflict):
    code = "already_claimed"
    message = N_("Another broker already holds this demand.")


class NotClaimed(Conflict):
    code = "not_claimed"
    message = N_("No broker holds this demand.")


class DemandNotActive(Conflict):
    code = "demand_not_active"
    message = N_("This demand is %(status)s: nothing more can be done with it.")


class CompetitionNotFound(NotFound):
    code = "competition_not_found"
    message = N_("No such competition.")


class RoundNotFound(NotFound):
    code = "round_not_found"
    message = N_("This competition has no round %(round)s.")


class EntryNotFound(NotFound):
    code = "entry_not_found"
    message = N_("No such entry.")


class JudgeNotFound(NotFound):
    code = "judge_not_found"
    message = N_("No such judge.")


class ConflictOfInterest(Forbidden):
    code = "conflict_of_interest"
    message = N_("You have a conflict of interest with this entry (%(rule)s) and may not score it.")


class NotAssigned(Forbidden):
    code = "not_assigned"
    message = N_("This entry is not assigned to you in this round.")


class RoundClosed(Conflict):
    code = "round_closed"
    message = N_("This round is closed for scoring.")


class ScoringNotOpen(Conflict):
    code = "scoring_not_open"
    message = N_("Scoring in this round opens at %(opens_at)s.")


class CompetitionLocked(Conflict):
    code = "competition_locked"
    message = N_("Scoring has started: the tracks, rounds and criteria can no longer change.")


class EntriesClosed(Conflict):
    code = "entries_closed"
    message = N_("This competition no longer takes entries.")


class AlreadyRecused(Conflict):
    code = "already_recused"
    message = N_("You have already stepped aside from this entry.")


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"
    message = N_("No such attachment.")


class AttachmentTypeMismatch(InvalidInput):
    code = "attachment_type_mismatch"
    message = N_("The file %(filename)s is not what its name says: its content is %(found)s.")


class AttachmentTypeNotAllowed(InvalidInput):
    code = "attachment_type_not_allowed"
    message = N_("Send a PDF, PowerPoint (PPTX, PPT) or Word (DOCX, DOC) file.")


class AttachmentTooLarge(InvalidInput):
    code = "attachment_too_large"
    message = N_("The file is larger than %(limit)s MB.")


class FormExpired(Forbidden):
    code = "form_expired"
    message = N_("This form has expired; reload the page and send it again.")


class FormReplayed(Conflict):
    code = "form_replayed"
    message = N_(
        "This form has already been sent once. If you registered, your confirmation page has your link; "
        "otherwise fill in the new form below."
    )


class ChallengeFailed(InvalidInput):
    code = "challenge_failed"
    message = N_("The answer to the check question is not right. Please try again.")


class UnscoredEntries(Conflict):
    """Closing a round while judges still owe scores; ``unscored`` (shown to API clients) lists them."""

    code = "unscored_entries"
    message = N_(
        "%(count)s entries still lack a submitted score: close with force and a reason, or wait for the judges."
    )
    exposed = ("unscored",)


class RoundNotOpen(Conflict):
    code = "round_not_open"
    message = N_("This round is already closed.")


class PreviousRoundNotFinal(Conflict):
    code = "previous_round_not_final"
    message = N_("The results of round %(round)s are not final yet: this round cannot close before them.")


class NoticeClosed(Conflict):
    code = "notice_closed"
    message = N_("The public notice for this entry is not open: objections are no longer taken.")


class NoticeOpen(Conflict):
    code = "notice_open"
    message = N_("The public notice runs until %(ends_at)s: the results become final after it.")


class NotInNotice(Conflict):
    code = "round_not_in_notice"
    message = N_("This round's results are not under public notice.")


class ObjectionsPending(Conflict):
    code = "objections_pending"
    message = N_("%(count)s objections are still undecided: decide them before the results become final.")


class ObjectionNotFound(NotFound):
    code = "objection_not_found"
    message = N_("No such objection.")


class ObjectionDecided(Conflict):
    code = "objection_decided"
    message = N_("This objection has already been decided.")


class NotARoadshow(Conflict):
    code = "not_a_roadshow"
    message = N_("Meetings are held only at a roadshow or a matchmaking fair.")


class MeetingSessionNotFound(NotFound):
    code = "meeting_session_not_found"
    message = N_("No such meeting session.")


class ParticipantNotFound(NotFound):
    code = "participant_not_found"
    message = N_("No such participant.")


class MeetingNotFound(NotFound):
    code = "meeting_not_found"
    message = N_("No such meeting or meeting request.")


class AlreadyParticipant(Conflict):
    code = "already_participant"
    message = N_("This person already takes meetings at this event.")


class SlotTaken(Conflict):
    code = "slot_taken"
    message = N_("That slot is already taken for one of you; choose another.")


class NoTableFree(Conflict):
    code = "no_table_free"
    message = N_("Every table is taken in that slot; choose another.")


class SlotPassed(Conflict):
    code = "slot_passed"
    message = N_("That slot has already begun.")


class AlreadyRequested(Conflict):
    code = "already_requested"
    message = N_("You two already have a meeting or a request at this session.")


class RequestNotPending(Conflict):
    code = "request_not_pending"
    message = N_("This request is %(meeting_request)s; only a pending request can be answered or withdrawn.")


class RequestExpired(Conflict):
    code = "request_expired"
    message = N_("This request has expired.")


class MeetingNotHeld(Conflict):
    code = "meeting_not_held"
    message = N_("This meeting has not taken place yet.")


class NotYourMeeting(Forbidden):
    code = "not_your_meeting"
    message = N_("Only the two people meeting can do this.")


class ScheduleBusy(Conflict):
    code = "schedule_busy"
    message = N_("The slots changed while the schedule was being made; run it again.")


class PitchNotFound(NotFound):
    code = "pitch_not_found"
    message = N_("No such pitch in this line-up.")


class PitchNotOnStage(Conflict):
    code = "pitch_not_on_stage"
    message = N_("That pitch is no longer on stage.")
    exposed = ("current",)  # the pitch on stage instead (null: none)


class NotAnInvestor(Forbidden):
    code = "not_an_investor"
    message = N_("Only the investors of this roadshow can do this.")


class NotTheProject(Forbidden):
    code = "not_the_project"
    message = N_("Only the project's own representative can do this.")


class AlreadyInLineup(Conflict):
    code = "already_in_lineup"
    message = N_("This project is in the line-up already.")


# --- console accounts and sign-in ---------------------------------------------------------------------


class SigninFailed(Unauthorized):
    code = "signin_failed"
    message = N_("The account or the password is wrong.")


class AccountLocked(RateLimited):
    code = "account_locked"
    message = N_("Too many wrong passwords: this account is locked. Try again in %(retry_after)s seconds.")


class SigninRateLimited(RateLimited):
    code = "signin_rate_limited"
    message = N_("Too many failed sign-ins from your address. Try again in %(retry_after)s seconds.")


class SigninLinkInvalid(NotFound):
    code = "signin_link_invalid"
    message = N_("This sign-in link is not valid. Ask for a new one.")


class SigninLinkUsed(Conflict):
    code = "signin_link_used"
    message = N_("This sign-in link was already used. Each link signs in once: ask for a new one.")


class SigninLinkExpired(Conflict):
    code = "signin_link_expired"
    message = N_("This sign-in link has expired (links last 15 minutes). Ask for a new one.")


class WeakPassword(InvalidInput):
    code = "weak_password"
    message = N_("Choose a password of at least 10 characters that is not your name, phone or e-mail address.")


class AccountExists(Conflict):
    code = "account_exists"
    message = N_("This person, or this sign-in name, already has an account.")


class AccountNotFound(NotFound):
    code = "account_not_found"
    message = N_("No such account.")


class NoConsoleRole(Forbidden):
    code = "no_console_role"
    message = N_("Only a person with an organizer, admin or judge role for the organization can have an account.")


class SessionEnded(Unauthorized):
    code = "session_ended"
    message = N_("Your session has ended. Sign in again.")


class StaleForm(Conflict):
    code = "stale_form"
    message = N_(
        "Someone else changed this since you opened the page. Here is what it holds now; make your change again."
    )
