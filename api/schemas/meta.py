"""Health, reference lists, the plan's goals, calendar links."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from events import districts
from events.i18n import Locale, gettext
from events.services import goals


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


class District(BaseModel):
    """A district or functional zone of Wuhan; events take the ``code``."""

    code: str
    name: str = Field(description="In Chinese, e.g. 东湖新技术开发区.")
    name_en: str
    kind: Literal["district", "zone"]
    division_code: str | None = Field(description="The administrative division code, where there is one.")

    @classmethod
    def of(cls, district: districts.District) -> District:
        return cls(
            code=district.code,
            name=district.name,
            name_en=district.name_en,
            kind=district.kind,
            division_code=district.division_code,
        )


class Goal(BaseModel):
    """One target of the plan and how far it is."""

    key: str
    title: str = Field(description="In the caller's language.")
    target: int
    current: int
    unit: str = Field(description="In the caller's language.")
    tracked: bool = Field(description="False while the platform holds no data of this kind (0 = not measured).")

    @classmethod
    def of(cls, goal: goals.Goal, lang: Locale) -> Goal:
        return cls(
            key=goal.key,
            title=gettext(lang, goal.title),
            target=goal.target,
            current=goal.current,
            unit=gettext(lang, goal.unit),
            tracked=goal.tracked,
        )


class CalendarLinks(BaseModel):
    url: str = Field(description="The feed over HTTPS.")
    webcal_url: str = Field(description="The same feed for calendar apps to subscribe to.")


class CalendarAlarm(BaseModel):
    minutes: int = Field(description="How long before the event the feed reminds; 0: no reminder.")


class ReadinessChecks(BaseModel):
    database: Literal["ok", "unavailable"]
    migrations: Literal["ok", "behind", "unknown"] = Field(
        description="`ok`: the database is at the code's head revision; `behind`: it is not (run `wuchuang migrate`); "
        "`unknown`: the database could not be asked."
    )
    outbox_sender: Literal["ok", "stopped", "not_here"] = Field(
        description="`not_here`: this process runs no sender (WUCHUANG_NOTIFICATIONS=false)."
    )


class Readiness(BaseModel):
    """Whether this process should be sent traffic; `failed` names the checks that did not pass."""

    status: Literal["ready", "not_ready"]
    checks: ReadinessChecks
    failed: list[Literal["database", "migrations", "outbox_sender"]]
    database_revision: list[str] = Field(description="The revisions in `alembic_version` (empty: never migrated).")
    code_revision: list[str] = Field(description="The head revision of this code's migration scripts.")
