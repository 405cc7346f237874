"""Finding the person behind a registration, by Telegram id, phone or e-mail."""

from __future__ import annotations

import re

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from events.errors import N_, InvalidInput
from events.models import Person

_PHONE_JUNK = re.compile(r"[\s\-().]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_phone(raw: str | None) -> str | None:
    """Canonical form for duplicate detection: digits with a leading + for international numbers.

    Mainland mobiles are stored without the +86 prefix so "+86 138-0000-0000" and "13800000000" match.
    """
    if raw is None or not raw.strip():
        return None
    phone = _PHONE_JUNK.sub("", raw.strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    digits = phone[1:] if phone.startswith("+") else phone
    if not digits.isdigit() or not 5 <= len(digits) <= 15:
        raise InvalidInput(N_("%(value)s is not a phone number."), field="phone", value=raw[:40])
    if phone.startswith("+86") and len(phone) == 14:
        phone = phone[3:]
    return phone


def normalize_email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    email = raw.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(N_("%(value)s is not an e-mail address."), field="email", value=raw[:80])
    return email


async def find_or_create_person(
    *,
    name: str,
    phone: str | None,
    email: str | None,
    organization: str | None,
    telegram_id: int | None,
    language: str | None = None,
    using_db: BaseDBAsyncClient,
) -> Person:
    """The known person with this Telegram id, else phone, else e-mail; a new one otherwise.

    Blank details of a known person are filled in; details already held are not overwritten.
    """
    person: Person | None = None
    for field, value in (("telegram_id", telegram_id), ("phone", phone), ("email", email)):
        if value is not None:
            person = await Person.filter(**{field: value}).using_db(using_db).order_by("id").first()
            if person is not None:
                break
    if person is None:
        return await Person.create(
            name=name,
            phone=phone,
            email=email,
            organization=organization,
            telegram_id=telegram_id,
            language=language or "zh",
            using_db=using_db,
        )
    changed = []
    for field, value in (("phone", phone), ("email", email), ("organization", organization)):
        if value is not None and getattr(person, field) is None:
            setattr(person, field, value)
            changed.append(field)
    if telegram_id is not None and person.telegram_id is None:
        person.telegram_id = telegram_id
        changed.append("telegram_id")
    if changed:
        await person.save(update_fields=changed, using_db=using_db)
    return person


async def person_for_telegram(*, telegram_id: int, name: str, language_code: str | None) -> Person:
    """The person behind a Telegram user, created on first contact with Telegram's language."""
    from events.i18n import normalize_locale

    person = await Person.get_or_none(telegram_id=telegram_id)
    if person is not None:
        return person
    name = (name or "").strip()[:100] or str(telegram_id)
    try:
        return await Person.create(name=name, telegram_id=telegram_id, language=normalize_locale(language_code) or "zh")
    except IntegrityError:  # created by a concurrent update of the same user
        return await Person.get(telegram_id=telegram_id)


async def set_language(person: Person, language: str) -> Person:
    """Raises ``invalid_input`` for a language the platform does not speak."""
    from events.i18n import normalize_locale

    locale = normalize_locale(language)
    if locale is None:
        raise InvalidInput(N_("Unsupported language %(value)s."), field="language", value=language[:20])
    person.language = locale
    await person.save(update_fields=["language", "updated_at"])
    return person


async def update_contact(
    person: Person, *, name: str | None = None, organization: str | None = None, phone: str | None = None
) -> Person:
    """Keep the details a person gave (in a chat) for their next registration."""
    if name is not None:
        person.name = name.strip()[:100] or person.name
    if organization is not None:
        person.organization = organization.strip()[:200] or None
    if phone is not None:
        person.phone = normalize_phone(phone)
    await person.save(update_fields=["name", "organization", "phone", "updated_at"])
    return person


async def set_telegram_blocked(telegram_id: int, *, blocked: bool) -> None:
    """Remember that a person blocked (or unblocked) the bot; nothing is queued for them while blocked."""
    from events import clock

    await Person.filter(telegram_id=telegram_id).update(telegram_blocked_at=clock.now() if blocked else None)
