"""Broker training for people: localized names of levels and statuses, the printable transcript and
the public certificate verification page. (The JSON shapes are in ``api/schemas/training.py``.)
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
from api.schemas.training import verify_url
from events import districts, localtime
from events.errors import N_
from events.i18n import Locale, gettext, locale_of
from events.models import BrokerLevel, Course, CourseItem, CreditEntry, hours_of
from events.services.certification import Progress, Verification, certificate_status
from events.services.transcripts import Transcript

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


def number(value: Decimal) -> str:
    """Hours as people write them: 3, 2.5, -2 (never 3.0 or 2.50)."""
    return format(value.normalize(), "f")


def page_locale(request: Request, lang: str | None) -> Locale:
    """``?lang=`` wins (a shared link can say its language), then Accept-Language; Chinese by default."""
    return locale_of(lang, accept_language=request.headers.get("accept-language"))


def level_name(locale: Locale, level: str | None) -> str:
    return gettext(locale, LEVEL_NAMES[level]) if level else ""


def standing_name(locale: Locale, status: str) -> str:
    return gettext(locale, STANDING_NAMES[status]) if status in STANDING_NAMES else status


def certificate_status_name(locale: Locale, status: str) -> str:
    return gettext(locale, CERTIFICATE_STATUS_NAMES[status]) if status in CERTIFICATE_STATUS_NAMES else status


def enrollment_name(locale: Locale, status: str | None) -> str:
    return gettext(locale, ENROLLMENT_NAMES[status]) if status in ENROLLMENT_NAMES else (status or "")


def district_name(locale: Locale, code: str | None) -> str:
    return districts.label(code, locale) or (code or "")


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
GENERATED = N_("Generated on %(when)s (%(zone)s time).")

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
        "generated": gettext(locale, GENERATED, when=localtime.stamp(record.generated_at), zone=localtime.zone().key),
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


# ``responses=`` for a route that also answers with a page (``format=html``).
HTML_PAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON by default; ``format=html`` for the printable page.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}
