"""CallbackData factories for every button. Packed data stays well under Telegram's 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class EventCard(CallbackData, prefix="ev"):
    event_id: int


class StartRegistration(CallbackData, prefix="reg"):
    event_id: int


class ConfirmRegistration(CallbackData, prefix="regok"):
    event_id: int


class AbortFlow(CallbackData, prefix="abort"):
    pass


class MyRegistration(CallbackData, prefix="my"):
    registration_id: int


class ResendTicket(CallbackData, prefix="tkt"):
    registration_id: int


class CancelRegistration(CallbackData, prefix="cxl"):
    registration_id: int
    confirmed: bool = False


class MyCalendar(CallbackData, prefix="cal"):
    rotate: bool = False


class Browse(CallbackData, prefix="br"):
    """A page of upcoming events; scope is "kind=<k>", "series=<s>", "district=<d>", "q=<keyword>", "my" or "all"."""

    scope: str = "all"
    page: int = 0


class BrowseMenu(CallbackData, prefix="brm"):
    by: str  # "kind" | "series" | "district"


class Language(CallbackData, prefix="lang"):
    code: str


class PrefToggle(CallbackData, prefix="pt"):
    field: str  # districts | topics | kinds | opted_out
    value: str
    page: int = 0


class PrefMenu(CallbackData, prefix="pm"):
    section: str  # root | districts | topics | kinds | opted_out | quiet | language | done
    page: int = 0


class QuietHours(CallbackData, prefix="qh"):
    choice: str  # default | off | "2100-0900" | "2300-0700"


class ScanEvent(CallbackData, prefix="sc"):
    event_id: int


class AnswerChoice(CallbackData, prefix="ans"):
    """A choice for the current registration question; index -1 skips an optional one."""

    index: int


class BroadcastEvent(CallbackData, prefix="bc"):
    event_id: int


class BroadcastSend(CallbackData, prefix="bcs"):
    event_id: int


class MyCredits(CallbackData, prefix="crd"):
    pass


class MatchAnswer(CallbackData, prefix="mt"):
    """感兴趣 / 请技术经理人联系 / 不相关 on a pushed match. The outbox packs it without aiogram
    (``notifications.opportunities.answer_data``); a test unpacks that here."""

    verdict: str  # a key of events.services.connections.VERDICT_CODES
    subject: str  # a short ref: d12, a34, i5, b7, p9
    item: str


class MatchesPage(CallbackData, prefix="mts"):
    page: int = 0


class DemandKindPick(CallbackData, prefix="dk"):
    kind: str


class DemandSkip(CallbackData, prefix="dsk"):
    """Skip the current optional step of /demand."""


class DemandDistrict(CallbackData, prefix="dd"):
    """A district for the demand ("" with ``page``: turn the page)."""

    code: str = ""
    page: int = 0


class DemandBudget(CallbackData, prefix="db"):
    index: int


class DemandConfirm(CallbackData, prefix="dok"):
    pass


class ClaimDemand(CallbackData, prefix="dcl"):
    """A broker takes a demand on (the button goes with a demand shown to brokers)."""

    demand_id: int


class EnterCompetition(CallbackData, prefix="ent"):
    competition_id: int


class EnterTrack(CallbackData, prefix="entt"):
    code: str


class EnterConfirm(CallbackData, prefix="entok"):
    pass


class ScorePick(CallbackData, prefix="scp"):
    competition_id: int
    round: str
    entry_id: int


class ScoreValue(CallbackData, prefix="scv"):
    """A criterion's value tapped (as text: half points survive)."""

    value: str


class ScoreConfirm(CallbackData, prefix="scok"):
    pass


class MeetingAnswer(CallbackData, prefix="mta"):
    """Accept (a), decline (d) or withdraw (w) a meeting request. The outbox packs it without aiogram
    (``notifications.meetings.answer_data``); a test unpacks that here."""

    action: str
    request_id: int


class MeetingRate(CallbackData, prefix="mtr"):
    """A side's rating of a meeting just held (a key of ``outcomes.RATING_CODES``)."""

    request_id: int
    answer: str


class MeetingFollowUp(CallbackData, prefix="mtf"):
    """A side's follow-up answer (a key of ``outcomes.FOLLOW_UP_CODES``)."""

    request_id: int
    answer: str


class MeetingsPage(CallbackData, prefix="mtp"):
    cursor: str = ""


class MeetingAsk(CallbackData, prefix="mtq"):
    """Ask for a meeting at a roadshow: ``me`` is the person's participation; then ``other``; then ``slot``."""

    me: int
    other: int = 0
    slot: int = 0


class MeetingNoMessage(CallbackData, prefix="mtqn"):
    """Send the request without a message."""


class DealRound(CallbackData, prefix="mtdr"):
    round: str


class PitchTap(CallbackData, prefix="pk"):
    """感兴趣 / 约谈 / 评分 on the pitch on stage. The outbox packs it without aiogram
    (``notifications.roadshows.tap_data``); a test unpacks that here."""

    kind: str  # i (interest) | m (meet) | s (score)
    pitch_id: int
    score: int = 0


class PitchBack(CallbackData, prefix="pb"):
    """The project's "interested too" in an investor who tapped during its pitch."""

    pitch_id: int
    investor_id: int


class InvestorToggle(CallbackData, prefix="ivt"):
    """A choice toggled in /investor: ``step`` f(ields), s(tages) or d(istricts); ``value`` "" is Done."""

    step: str
    value: str = ""


class InvestorSkip(CallbackData, prefix="ivk"):
    """Skip the current optional step of /investor (keep what the profile has)."""


class InvestorConfirm(CallbackData, prefix="ivok"):
    pass


class InvestorEdit(CallbackData, prefix="ived"):
    pass


class PitchInterest(CallbackData, prefix="pi"):
    """想约谈 on a matched pitch: the investor's participant wants to meet the project's. The outbox packs it
    without aiogram (``notifications.opportunities.pitch_interest_data``); a test unpacks that here."""

    source: int
    target: int


class EraseMyData(CallbackData, prefix="erase"):
    """/delete's buttons: erase (confirmed) or keep (not)."""

    confirmed: bool
