"""Finding the person behind a registration, by Telegram id, phone or e-mail."""

from __future__ import annotations

import re

from tortoise.backends.base.client import BaseDBAsyncClient

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
