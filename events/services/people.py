"""Finding the person behind a registration, and normalising the details people give.

Only a proven identity finds a known person: a Telegram id (the bot and a Mini App's signed
initData prove it; an admin's or organizer's token vouches for it). A phone number or an e-mail
address is a claim, not a proof: it is kept on the registration (and on a person record of its own)
but never leads to someone else's data or channels. Linking such a registration to a person takes
proof through a channel that person already controls (see ``registration.redeem_link_code``).
"""

from __future__ import annotations

import re

import phonenumbers
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from events.errors import N_, InvalidInput
from events.i18n import locale_of, normalize_locale
from events.models import Person

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Numbers without a country code are read as mainland China's (the platform serves Wuhan).
PHONE_REGION = "CN"
MAX_PHONE_INPUT = 40


def _invalid_phone(raw: str) -> InvalidInput:
    return InvalidInput(N_("%(value)s is not a phone number."), field="phone", value=raw[:MAX_PHONE_INPUT])


def normalize_phone(raw: str | None) -> str | None:
    """The one stored form of a phone number: E.164 (``+8613800000000``), or None for a blank.

    "+86 138 0000 0000", "86 138 0000 0000", "0086 138…", "138-0000-0000" and "13800000000" are one
    number; a number without a country code is read as a mainland one. Raises ``invalid_input``
    (field ``phone``) for anything ``phonenumbers`` does not hold for a valid number.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if len(text) > MAX_PHONE_INPUT:
        raise _invalid_phone(raw)
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise _invalid_phone(raw) from None
    if number.extension or not phonenumbers.is_valid_number(number):
        raise _invalid_phone(raw)
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[stored] = number
    return stored


# Numbers ``normalize_phone`` just parsed and found valid, by their stored form: an answer shows the
# number it stored a moment before (a registration's), and parsing it again was most of showing it.
_PARSED: dict[str, phonenumbers.PhoneNumber] = {}
_PARSED_MAX = 1024


def normalize_telegram_phone(raw: str) -> str | None:
    """A number from Telegram's contact button. Telegram sends it internationally, with or without
    its "+" ("8613800000000", "+8613800000000"); a number that is no valid international one is read
    as a mainland number as typed ("13800000000"). Raises ``invalid_input``.
    """
    text = raw.strip()
    if text and not text.startswith("+"):
        try:
            return normalize_phone("+" + text)
        except InvalidInput:
            pass
    return normalize_phone(text)


def display_phone(stored: str | None) -> str | None:
    """A stored number as people read it: mainland numbers in the national form ("138 0000 0000"),
    others internationally ("+1 650-253-0000"). A value that does not parse is shown as stored.
    """
    if not stored:
        return stored
    if (number := _PARSED.get(stored)) is None:
        try:
            number = phonenumbers.parse(stored, PHONE_REGION)
        except phonenumbers.NumberParseException:
            return stored
        if not phonenumbers.is_valid_number(number):
            return stored
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


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
    """The known person with this (proven) Telegram id; a new person otherwise.

    The phone and the e-mail address are never used to find anyone: they are unproven claims, and a
    claim must not reach another person's feed, chat or registrations. Callers pass a Telegram id
    only when it is proven (the bot, validated initData, an admin's or organizer's token). Blank
    details of a known person are filled in; details already held are not overwritten.
    """
    person = None
    if telegram_id is not None:
        person = await Person.filter(telegram_id=telegram_id).using_db(using_db).first()
    if person is None:
        return await Person.create(
            name=name,
            phone=phone,
            email=email,
            organization=organization,
            telegram_id=telegram_id,
            language=locale_of(language),
            using_db=using_db,
        )
    changed = []
    for field, value in (("phone", phone), ("email", email), ("organization", organization)):
        if value is not None and getattr(person, field) is None:
            setattr(person, field, value)
            changed.append(field)
    if changed:
        await person.save(update_fields=changed, using_db=using_db)
    return person


async def person_for_telegram(*, telegram_id: int, name: str, language_code: str | None) -> Person:
    """The person behind a Telegram user, created on first contact with Telegram's language."""
    person = await Person.get_or_none(telegram_id=telegram_id)
    if person is not None:
        return person
    name = (name or "").strip()[:100] or str(telegram_id)
    try:
        return await Person.create(name=name, telegram_id=telegram_id, language=locale_of(language_code))
    except IntegrityError:  # created by a concurrent update of the same user
        return await Person.get(telegram_id=telegram_id)


async def set_language(person: Person, language: str) -> Person:
    """Raises ``invalid_input`` for a language the platform does not speak."""
    locale = normalize_locale(language)
    if locale is None:
        raise InvalidInput(N_("Unsupported language %(value)s."), field="language", value=language[:20])
    person.language = locale
    await person.save(update_fields=["language", "updated_at"])
    return person


async def update_contact(
    person: Person, *, name: str | None = None, organization: str | None = None, phone: str | None = None
) -> Person:
    """Keep the details a person gave (in a chat) for their next registration; the phone comes from
    Telegram's contact button (international, with or without "+"). Raises ``invalid_input``.
    """
    if name is not None:
        person.name = name.strip()[:100] or person.name
    if organization is not None:
        person.organization = organization.strip()[:200] or None
    if phone is not None:
        person.phone = normalize_telegram_phone(phone)
    await person.save(update_fields=["name", "organization", "phone", "updated_at"])
    return person


async def set_telegram_blocked(telegram_id: int, *, blocked: bool) -> None:
    """Remember that a person blocked (or unblocked) the bot; nothing is queued for them while blocked."""
    from events import clock

    await Person.filter(telegram_id=telegram_id).update(telegram_blocked_at=clock.now() if blocked else None)
