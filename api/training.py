"""Broker training as the API shows it: JSON shapes, localized names, and the printable transcript page.

Hours leave as JSON numbers (the ledger keeps exact tenths, so a float prints them exactly);
times leave in the deployment's zone with their offset, like everything else in the API.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.pages import PAGE_HEADERS, asset_url, templates
from api.schemas import Presenter
from events import clock
from events.districts import BY_CODE
from events.errors import N_
from events.i18n import Locale, gettext, negotiate, normalize_locale
from events.models import Broker, BrokerLevel, Certification, Course, CourseItem, CreditEntry, hours_of
from events.services.catalog import effective_status
from events.services.certification import Assessment, Progress, Verification, certificate_status
from events.services.courses import course_hours
from events.services.credits import Written
from events.services.people import display_phone
from events.services.transcripts import BrokerRow, Transcript

LEVEL_NAMES: dict[str, str] = {
    BrokerLevel.JUNIOR: N_("Junior"),
    BrokerLevel.INTERMEDIATE: N_("Intermediate"),
    BrokerLevel.SENIOR: N_("Senior"),
}
STANDING_NAMES: dict[str, str] = {
    "certified": N_("Certified"),
    "expired": N_("Certification expired"),
    "suspended": N_("Certification suspended"),
    "revoked": N_("Certification revoked"),
    "in_training": N_("In training"),
}
# One certificate's status (``certification.certificate_status``).
CERTIFICATE_STATUS_NAMES: dict[str, str] = {
    "valid": N_("Valid"),
    "expired": N_("Expired"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
}
SOURCE_NAMES: dict[str, str] = {
    "attendance": N_("Attendance"),
    "module": N_("Online module"),
    "grant": N_("Recognised hours"),
    "correction": N_("Correction"),
}
ENROLLMENT_NAMES: dict[str, str] = {
    "confirmed": N_("Enrolled"),
    "waitlisted": N_("On the waitlist"),
    "pending": N_("Awaiting approval"),
    "cancelled": N_("Withdrawn"),
    "rejected": N_("Not admitted"),
}


def hours(value: Decimal) -> float:
    return float(value)


def number(value: Decimal) -> str:
    """Hours as people write them: 3, 2.5, -2 (never 3.0 or 2.50)."""
    return format(value.normalize(), "f")


def page_locale(request: Request, lang: str | None) -> Locale:
    """``?lang=`` wins (a shared link can say its language), then Accept-Language; Chinese by default."""
    return normalize_locale(lang) or negotiate(request.headers.get("accept-language"))


def level_name(locale: Locale, level: str | None) -> str:
    return gettext(locale, LEVEL_NAMES[level]) if level else ""


def standing_name(locale: Locale, status: str) -> str:
    return gettext(locale, STANDING_NAMES[status]) if status in STANDING_NAMES else status


def certificate_status_name(locale: Locale, status: str) -> str:
    return gettext(locale, CERTIFICATE_STATUS_NAMES[status]) if status in CERTIFICATE_STATUS_NAMES else status


def verify_url(show: Presenter, number: str | None) -> str | None:
    return f"{show.public_url}/certificates/{number}" if number else None


def enrollment_name(locale: Locale, status: str | None) -> str:
    return gettext(locale, ENROLLMENT_NAMES[status]) if status in ENROLLMENT_NAMES else (status or "")


def district_name(locale: Locale, code: str | None) -> str:
    district = BY_CODE.get(code) if code else None
    if district is None:
        return code or ""
    return district.name_en if locale == "en" else district.name


def broker_body(show: Presenter, broker: Broker, standing: Assessment) -> dict[str, Any]:
    """The profile, its person loaded, with where the broker stands (derived from the ledger and the
    certifications). The transcript token is left out: only the transcript-link call gives it.
    """
    person = broker.person
    district = BY_CODE.get(broker.district) if broker.district else None
    return {
        "id": broker.id,
        "person_id": person.id,
        "name": person.name,
        "phone": person.phone,
        "phone_display": display_phone(person.phone),
        "email": person.email,
        "telegram_id": person.telegram_id,
        "organization": broker.organization,
        "district": broker.district,
        "district_name": district.name if district else None,
        "specialties": list(broker.specialties or []),
        "hours": hours(standing.total),
        "level": None if standing.level is None else str(standing.level),
        "status": standing.status,
        "certified_at": show.time(standing.certified_at),
        "expires_at": show.time(standing.expires_at),
        "progress": progress_body(standing.next),
        "created_at": show.time(broker.created_at),
        "updated_at": show.time(broker.updated_at),
    }


def broker_row_body(show: Presenter, row: BrokerRow, *, with_year: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.broker.id,
        "person_id": row.person.id,
        "name": row.person.name,
        "organization": row.broker.organization,
        "district": row.broker.district,
        "specialties": list(row.broker.specialties or []),
        "hours": hours(row.hours),
        "level": row.level,
        "highest_level": row.highest_level,
        "status": row.status,
        "certified_at": show.time(row.certified_at),
        "expires_at": show.time(row.expires_at),
    }
    if with_year:
        body["year_hours"] = hours(row.year_hours or Decimal(0))
    return body


def certification_body(show: Presenter, cert: Certification) -> dict[str, Any]:
    """A certificate on the record: ``status`` is what it is worth today (valid, expired, suspended,
    revoked); ``state`` and the ``state_*`` fields say what last changed it, and why."""
    return {
        "id": cert.id,
        "number": cert.number,
        "level": str(cert.level),
        "round": cert.round,
        "certified_at": show.time(cert.certified_at),
        "expires_at": show.time(cert.expires_at),
        "hours": hours(hours_of(cert.hours_tenths)),
        "status": certificate_status(cert.state, cert.expires_at, clock.now()),
        "state": str(cert.state),
        "state_reason": cert.state_reason,
        "state_entry_id": cert.state_entry_id,
        "state_changed_by": cert.state_changed_by,
        "state_changed_at": show.time(cert.state_changed_at),
        "verify_url": verify_url(show, cert.number),
    }


def entry_body(show: Presenter, line: CreditEntry) -> dict[str, Any]:
    """One ledger line, loaded with its course and item (``select_related``)."""
    course: Course | None = line.course
    item: CourseItem | None = line.item
    return {
        "id": line.id,
        "broker_id": line.broker_id,
        "earned_at": show.time(line.earned_at),
        "hours": hours(hours_of(line.hours_tenths)),
        "source": str(line.source),
        "course": {"id": course.id, "code": course.code, "title": course.title} if course is not None else None,
        "item": {"id": item.id, "code": item.code, "title": item.title} if item is not None else None,
        "event_id": line.event_id,
        "external_id": line.external_id,
        "reason": line.reason,
        "author": line.author,
        "corrects": line.corrects_id,
        "created_at": show.time(line.created_at),
    }


def written_body(show: Presenter, result: Written, line: CreditEntry) -> dict[str, Any]:
    """A ledger write's answer: the line (reloaded with its references), any certification it caused,
    and the certificates it suspended or reinstated."""
    return entry_body(show, line) | {
        "certified": [certification_body(show, c) for c in result.certified],
        "suspended": [certification_body(show, c) for c in result.suspended],
        "reinstated": [certification_body(show, c) for c in result.reinstated],
    }


def progress_body(step: Progress | None) -> dict[str, Any] | None:
    if step is None:
        return None
    return {
        "level": str(step.level),
        "renewal": step.renewal,
        "hours_required": hours(step.hours_required),
        "hours_have": hours(step.hours_have),
        "hours_missing": hours(step.hours_missing),
        "courses_required": step.courses_required,
        "courses_done": step.courses_done,
        "ratio": round(step.ratio, 4),
    }


def transcript_body(show: Presenter, record: Transcript) -> dict[str, Any]:
    courses = {standing.course.id: standing.course for standing in record.courses}
    assessment = record.assessment
    by_course = []
    for course_id, amount in record.balances.by_course.items():
        course = courses.get(course_id) if course_id is not None else None
        by_course.append(
            {
                "course_id": course_id,
                "code": course.code if course else None,
                "title": course.title if course else None,
                "hours": hours(amount),
            }
        )
    # Courses by code, then the hours not tied to any course.
    by_course.sort(key=lambda row: (row["course_id"] is None, row["code"] or ""))
    return {
        "broker": broker_body(show, record.broker, record.assessment),
        "total": hours(record.balances.total),
        "level": assessment.level,
        "status": assessment.status,
        "certified_at": show.time(assessment.certified_at),
        "expires_at": show.time(assessment.expires_at),
        "by_course": by_course,
        "by_year": [{"year": year, "hours": hours(amount)} for year, amount in record.balances.by_year.items()],
        "entries": [entry_body(show, line) for line in record.entries],
        "certifications": [certification_body(show, cert) for cert in record.certifications],
        "courses": [
            {
                "id": standing.course.id,
                "code": standing.course.code,
                "title": standing.course.title,
                "level": standing.course.level,
                "enrollment_status": standing.enrollment_status,
                "hours": hours(standing.hours),
                "offered": hours(standing.hours_offered),
                "completed": standing.completed,
            }
            for standing in record.courses
        ],
        "progress": progress_body(assessment.next),
        "generated_at": show.time(record.generated_at),
    }


def item_body(show: Presenter, item: CourseItem) -> dict[str, Any]:
    """A session or module, its event loaded (``select_related``)."""
    event = item.event
    return {
        "id": item.id,
        "kind": str(item.kind),
        "code": item.code,
        "title": item.title,
        "hours": hours(hours_of(item.hours_tenths)),
        "required": item.required,
        "event_id": item.event_id,
        "starts_at": show.time(event.starts_at) if event is not None else None,
        "ends_at": show.time(event.ends_at) if event is not None else None,
        "requires_checkout": item.requires_checkout,
        "min_stay_minutes": item.min_stay_minutes,
        "position": item.position,
    }


def course_body(show: Presenter, course: Course, items: list[CourseItem]) -> dict[str, Any]:
    """The course, its enrollment event loaded; capacity and seats are that event's."""
    event = course.event
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "description": course.description,
        "level": course.level,
        "event_id": event.id,
        "event_status": str(effective_status(event)),
        "starts_at": show.time(event.starts_at),
        "ends_at": show.time(event.ends_at),
        "venue": event.venue,
        "district": event.district,
        "capacity": event.capacity,
        "seats_taken": event.seats_taken,
        "waitlist_length": event.waitlist_length,
        "requires_approval": event.requires_approval,
        "registration_closes_at": show.time(event.registration_closes_at or event.starts_at),
        "items": [item_body(show, item) for item in items],
        "total_hours": hours(course_hours(items)),
        "created_at": show.time(course.created_at),
    }


# The printable transcript's words, translated per request (the template holds no text of its own,
# so the catalogue extraction finds every one of them here).
PAGE_LABELS: dict[str, str] = {
    "heading": N_("Technology broker training record"),
    "programme": N_("Wuhan technology broker training programme"),
    "organization": N_("Organization"),
    "district": N_("District"),
    "specialties": N_("Specialties"),
    "total": N_("Total hours"),
    "level": N_("Level"),
    "standing": N_("Standing"),
    "valid_until": N_("Valid until"),
    "no_level": N_("Not certified yet"),
    "progress": N_("Progress"),
    "courses_needed": N_("Required courses"),
    "top_reached": N_("The highest level is reached."),
    "courses": N_("Courses"),
    "course": N_("Course"),
    "enrollment": N_("Enrollment"),
    "hours": N_("Hours"),
    "offered": N_("Offered"),
    "completed": N_("Completed"),
    "yes": N_("Yes"),
    "no": N_("No"),
    "other_credit": N_("Not tied to a course"),
    "by_year": N_("Hours per year"),
    "year": N_("Year"),
    "certifications": N_("Certifications"),
    "round": N_("Round"),
    "certificate_number": N_("Certificate No."),
    "certificate_status": N_("Status"),
    "certified_at": N_("Certified on"),
    "entries": N_("Credit record"),
    # The ledger line's number, which a correction names.
    "number": N_("No."),
    "date": N_("Date"),
    "source": N_("Source"),
    "item": N_("Session or module"),
    "note": N_("Note"),
    "author": N_("Entered by"),
    "none": N_("Nothing yet."),
    "print_hint": N_("To keep a PDF copy, use your browser's Print and choose “Save as PDF”."),
    "not_found_title": N_("Transcript not found"),
    "not_found": N_(
        "This transcript link is not valid, or it has been replaced by a newer one. Ask the bot for your current link."
    ),
}
TOWARD = N_("Toward %(level)s")
RENEWAL_OF = N_("Renewal of %(level)s")
HOURS_OF = N_("%(have)s of %(required)s hours")
HOURS_TO_GO = N_("%(hours)s hours to go")
CORRECTS = N_("Corrects entry %(id)s.")
GENERATED = N_("Generated on %(when)s (Asia/Shanghai time).")

TRANSCRIPT_HEADERS = PAGE_HEADERS | {
    # The address is the key to a person's record: not kept by caches, not indexed, not sent on as a referrer
    # (Referrer-Policy: no-referrer comes with PAGE_HEADERS).
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Permissions-Policy": "camera=(), microphone=()",
}


def transcript_page(
    request: Request,
    show: Presenter,
    record: Transcript | None,
    locale: Locale,
    *,
    internal: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    """The printable A4 transcript, or with ``record`` None the not-found page.
    ``internal`` (the organizer's copy) also shows who entered each line.
    """
    context: dict[str, Any] = {
        "lang": "en" if locale == "en" else "zh-CN",
        "t": {key: gettext(locale, msgid) for key, msgid in PAGE_LABELS.items()},
        "asset": lambda name: asset_url(request, name),
        # Each language's name in itself, so whoever cannot read the page can still find theirs.
        "switch": {"href": _with_lang(request, "zh"), "text": "中文"}
        if locale == "en"
        else {"href": _with_lang(request, "en"), "text": "English"},
        "record": None,
    }
    if record is not None:
        context |= _transcript_context(show, record, locale, internal=internal)
    return templates.TemplateResponse(
        request, "transcript.html", context, status_code=status_code, headers=TRANSCRIPT_HEADERS
    )


def _with_lang(request: Request, lang: str) -> str:
    """This page's own address (path and query, so ``format=html`` stays) in the other language."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)])
    return f"{request.url.path}?{query}"


def _day(show: Presenter, moment: datetime | None) -> str:
    return moment.astimezone(show.tz).strftime("%Y-%m-%d") if moment is not None else ""


def _entry_row(show: Presenter, line: CreditEntry, locale: Locale) -> dict[str, Any]:
    course: Course | None = line.course
    item: CourseItem | None = line.item
    note = line.reason
    if line.corrects_id is not None:
        note = f"{gettext(locale, CORRECTS, id=line.corrects_id)} {note}".strip()
    return {
        "id": line.id,
        "date": _day(show, line.earned_at),
        "source": gettext(locale, SOURCE_NAMES[str(line.source)]),
        "course": course.code if course is not None else "",
        "item": item.title if item is not None else "",
        "hours": number(hours_of(line.hours_tenths)),
        "negative": line.hours_tenths < 0,
        "note": note,
        "author": line.author,
    }


def _progress_view(step: Progress | None, locale: Locale) -> dict[str, Any] | None:
    if step is None:
        return None
    name = level_name(locale, step.level)
    return {
        "heading": gettext(locale, RENEWAL_OF if step.renewal else TOWARD, level=name),
        "percent": max(0, min(100, round(step.ratio * 100))),
        "hours": gettext(locale, HOURS_OF, have=number(step.hours_have), required=number(step.hours_required)),
        "missing": gettext(locale, HOURS_TO_GO, hours=number(step.hours_missing)) if step.hours_missing > 0 else "",
        "courses": [{"code": code, "done": code in step.courses_done} for code in step.courses_required],
    }


def _transcript_context(show: Presenter, record: Transcript, locale: Locale, *, internal: bool) -> dict[str, Any]:
    person = record.broker.person
    assessment = record.assessment
    loose = record.balances.by_course.get(None)
    separator = ", " if locale == "en" else "、"
    return {
        "record": record,
        "internal": internal,
        "name": person.name,
        "organization": record.broker.organization or person.organization or "",
        "district": district_name(locale, record.broker.district),
        "specialties": separator.join(record.broker.specialties or []),
        "total": number(record.balances.total),
        "level": level_name(locale, assessment.level),
        "standing": standing_name(locale, assessment.status),
        "certified": assessment.status == "certified",
        "valid_until": _day(show, assessment.expires_at) if assessment.status == "certified" else "",
        "progress": _progress_view(assessment.next, locale),
        "courses": [
            {
                "code": s.course.code,
                "title": s.course.title,
                "enrollment": enrollment_name(locale, s.enrollment_status),
                "hours": number(s.hours),
                "offered": number(s.hours_offered),
                "completed": s.completed,
            }
            for s in record.courses
        ],
        "loose_hours": number(loose) if loose is not None else None,
        "years": [{"year": year, "hours": number(amount)} for year, amount in record.balances.by_year.items()],
        "certifications": [
            {
                "level": level_name(locale, str(cert.level)),
                "round": cert.round,
                "number": cert.number or "",
                "url": verify_url(show, cert.number),
                "status": (status := certificate_status(cert.state, cert.expires_at, record.generated_at)),
                "status_name": certificate_status_name(locale, status),
                "certified_at": _day(show, cert.certified_at),
                "expires_at": _day(show, cert.expires_at),
            }
            for cert in record.certifications
        ],
        "entries": [_entry_row(show, line, locale) for line in record.entries],
        "generated": gettext(
            locale, GENERATED, when=record.generated_at.astimezone(show.tz).strftime("%Y-%m-%d %H:%M")
        ),
    }


# The public verification page's words (the template holds none of its own).
CERTIFICATE_LABELS: dict[str, str] = {
    "heading": N_("Certificate verification"),
    "programme": N_("Wuhan technology broker training programme"),
    "name": N_("Name"),
    "level": N_("Level"),
    "number": N_("Certificate No."),
    "issued": N_("Issued on"),
    "expires": N_("Valid until"),
    "status": N_("Status"),
    "no_expiry": N_("No expiry"),
    "not_found_title": N_("Certificate not found"),
    "not_found": N_("No certificate has this number. Check the number as printed on the certificate."),
}
# What each status means to whoever checks a certificate.
CERTIFICATE_STATUS_NOTES: dict[str, str] = {
    "valid": N_("This certificate is valid."),
    "expired": N_("This certificate was issued but is past its validity."),
    "suspended": N_("This certificate is suspended: its holder's record no longer meets the level's requirements."),
    "revoked": N_("This certificate has been revoked by the programme office."),
}

CERTIFICATE_HEADERS = PAGE_HEADERS | {
    "Cache-Control": "no-cache",
    # A verification page is for the one who holds the number, not for search engines.
    "X-Robots-Tag": "noindex, nofollow",
    "Permissions-Policy": "camera=(), microphone=()",
}


def verification_body(show: Presenter, found: Verification) -> dict[str, Any]:
    """All the public may learn of a certificate: name, level, number, dates and status."""
    return {
        "number": found.number,
        "name": found.name,
        "level": str(found.level),
        "certified_at": show.time(found.certified_at),
        "expires_at": show.time(found.expires_at),
        "status": found.status,
    }


def certificate_page(
    request: Request, show: Presenter, found: Verification | None, locale: Locale, *, status_code: int = 200
) -> HTMLResponse:
    """The public verification page, or with ``found`` None the not-found page."""
    context: dict[str, Any] = {
        "lang": "en" if locale == "en" else "zh-CN",
        "t": {key: gettext(locale, msgid) for key, msgid in CERTIFICATE_LABELS.items()},
        "asset": lambda name: asset_url(request, name),
        "switch": {"href": _with_lang(request, "zh"), "text": "中文"}
        if locale == "en"
        else {"href": _with_lang(request, "en"), "text": "English"},
        "cert": None,
    }
    if found is not None:
        context["cert"] = {
            "number": found.number,
            "name": found.name,
            "level": level_name(locale, str(found.level)),
            "issued": _day(show, found.certified_at),
            "expires": _day(show, found.expires_at),
            "status": found.status,
            "status_name": certificate_status_name(locale, found.status),
            "note": gettext(locale, CERTIFICATE_STATUS_NOTES[found.status]),
        }
    return templates.TemplateResponse(
        request, "certificate.html", context, status_code=status_code, headers=CERTIFICATE_HEADERS
    )
