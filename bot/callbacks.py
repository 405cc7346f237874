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
