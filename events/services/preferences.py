"""What a person wants to hear about: districts, topics, kinds, quiet hours, opted-out categories.

The notifications work reads these; the bot's /prefs and the API write them through here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from events import secretbox
from events.districts import is_known
from events.errors import N_, InvalidInput, NotFound
from events.models import EventKind, Person

# Topics offered for invitations; free-text topics would not match event tags reliably.
TOPICS: tuple[str, ...] = (
    "人工智能",
    "光电子信息",
    "合成生物",
    "6G",
    "量子科技",
    "生物医药",
    "新能源与智能网联汽车",
    "北斗",
    "高端装备",
    "新材料",
    "低空经济",
    "脑科学与类脑智能",
    "氢能",
    "集成电路",
    "数字医疗",
    "智能制造",
)
CATEGORIES: tuple[str, ...] = (
    "invitation",
    "reminder",
    "waitlist_promoted",
    "registration_confirmed",
    "event_changed",
    "event_cancelled",
    "matched_opportunity",
    "credits",
    "broadcast",
)
# Categories a person cannot switch off: a seat the person holds, their own entry, judging duty or
# objection, or their own meetings (requests to answer, times, tables).
ESSENTIAL = frozenset(
    {"registration_confirmed", "waitlist_promoted", "event_changed", "event_cancelled", "competition", "meeting"}
)
DEFAULT_QUIET = ("22:00", "08:00")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True, slots=True)
class Preferences:
    districts: list[str]
    topics: list[str]
    kinds: list[str]
    opted_out: list[str]
    quiet_start: str | None
    quiet_end: str | None

    @property
    def quiet_hours(self) -> tuple[str, str] | None:
        """Local quiet hours, or None when the person turned them off ("00:00"–"00:00")."""
        start, end = self.quiet_start or DEFAULT_QUIET[0], self.quiet_end or DEFAULT_QUIET[1]
        return None if start == end else (start, end)


def preferences_of(person: Person) -> Preferences:
    return Preferences(
        list(person.pref_districts),
        list(person.pref_topics),
        list(person.pref_kinds),
        list(person.opted_out),
        person.quiet_start,
        person.quiet_end,
    )


def _toggle(values: list[str], value: str) -> list[str]:
    return [v for v in values if v != value] if value in values else [*values, value]


async def toggle_preference(person: Person, *, field: str, value: str) -> Preferences:
    """Switch one district, topic, kind or opt-out on or off. Raises ``invalid_input``."""
    valid = {
        "districts": is_known(value),
        "topics": value in TOPICS,
        "kinds": value in {k.value for k in EventKind},
        "opted_out": value in CATEGORIES and value not in ESSENTIAL,
    }
    if field not in valid or not valid[field]:
        raise InvalidInput(N_("%(value)s cannot be chosen here."), field=field, value=value[:40])
    attribute = {
        "districts": "pref_districts",
        "topics": "pref_topics",
        "kinds": "pref_kinds",
        "opted_out": "opted_out",
    }[field]
    setattr(person, attribute, _toggle(list(getattr(person, attribute)), value))
    await person.save(update_fields=[attribute, "updated_at"])
    return preferences_of(person)


async def set_quiet_hours(person: Person, *, start: str | None, end: str | None) -> Preferences:
    """Local quiet hours "HH:MM"–"HH:MM"; equal bounds turn them off; None restores the default."""
    if (start is None) != (end is None) or any(v is not None and not _HHMM.match(v) for v in (start, end)):
        raise InvalidInput(N_("Quiet hours need a start and an end as HH:MM."), field="quiet_hours")
    person.quiet_start, person.quiet_end = start, end
    await person.save(update_fields=["quiet_start", "quiet_end", "updated_at"])
    return preferences_of(person)


# --- unsubscribing from a mail (RFC 8058 one-click, and a page with a button) ---------------------------------

UNSUBSCRIBE_PATH = "/unsubscribe/"


class UnsubscribeLinkInvalid(NotFound):
    code = "unsubscribe_link_invalid"
    message = N_("This unsubscribe link is not valid.")


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    person: Person
    category: str
    changed: bool  # False: the person had opted out already


def unsubscribable(category: str) -> bool:
    """Whether a person may switch a category off (a seat they hold cannot be)."""
    return category in CATEGORIES and category not in ESSENTIAL


def _unsubscribe_mac(person_id: int, category: str) -> str:
    key = secretbox.current().subkey(b"mail-unsubscribe")
    return hmac.new(key, f"{person_id}:{category}".encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_token(person_id: int, category: str) -> str:
    """The token of a mail's unsubscribe link: the person, the category and a MAC; nothing stored."""
    return f"{person_id}.{category}.{_unsubscribe_mac(person_id, category)}"


async def unsubscribe_target(token: str) -> tuple[Person, str]:
    """The person and category a genuine token names. Raises ``unsubscribe_link_invalid``."""
    parts = token.split(".") if len(token) <= 120 else []
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 10 or not unsubscribable(parts[1]):
        raise UnsubscribeLinkInvalid()
    person_id, category, mac = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(mac.encode(), _unsubscribe_mac(person_id, category).encode()):
        raise UnsubscribeLinkInvalid()
    person = await Person.get_or_none(id=person_id)
    if person is None:
        raise UnsubscribeLinkInvalid()
    return person, category


async def unsubscribe(token: str) -> Unsubscribed:
    """Opt the person a mail's link names out of its category (again: no change). Raises
    ``unsubscribe_link_invalid``."""
    person, category = await unsubscribe_target(token)
    if category in person.opted_out:
        return Unsubscribed(person, category, changed=False)
    await toggle_preference(person, field="opted_out", value=category)
    return Unsubscribed(person, category, changed=True)
