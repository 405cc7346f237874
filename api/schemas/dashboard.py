"""The programme office's dashboard."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import LocalTime
from events import districts
from events.i18n import Locale, gettext
from events.services import dashboard


class DashboardTarget(BaseModel):
    key: str
    title: str = Field(description="In the caller's language.")
    unit: str = Field(description="In the caller's language.")
    target: int = Field(description="The plan's figure; 0: the plan names none.")
    current: int = Field(description="Counted from the programme year's start to `as_of`.")
    forecast: int = Field(description="The figure at the year's end if the pace so far holds (linear).")
    on_track: bool | None = Field(description="`forecast ≥ target`; null where the plan names no figure.")


class DashboardDistrict(BaseModel):
    code: str | None = Field(description="A district code; null for records that name no district.")
    name: str = Field(description="In the caller's language.")
    sessions_held: int
    registrations: int = Field(description="Confirmed, in the district's events held in the year so far.")
    checked_in: int
    checkin_rate: float | None = Field(description="checked_in / registrations; null without registrations.")
    demands: int
    brokers: int = Field(description="Brokers of the district certified in the year so far.")


class DashboardMonth(BaseModel):
    month: str = Field(description="`YYYY-MM`, local time.")
    sessions: int
    registrations: int
    checkins: int
    demands: int
    connections: int
    transfers: int
    brokers_certified: int


class FunnelStep(BaseModel):
    key: str
    label: str
    count: int


class DashboardFunnel(BaseModel):
    key: str
    title: str
    steps: list[FunnelStep]


class Dashboard(BaseModel):
    """The plan's targets with a forecast, the districts, the months and the funnels, as of a moment."""

    as_of: LocalTime
    year: int
    year_starts_at: LocalTime
    year_ends_at: LocalTime
    elapsed: float = Field(description="Share of the programme year gone by at `as_of` (0..1).")
    targets: list[DashboardTarget]
    districts: list[DashboardDistrict]
    months: list[DashboardMonth]
    funnels: list[DashboardFunnel]

    @classmethod
    def of(cls, board: dashboard.Dashboard, lang: Locale) -> Dashboard:
        return cls(
            as_of=board.as_of,
            year=board.year,
            year_starts_at=board.year_starts_at,
            year_ends_at=board.year_ends_at,
            elapsed=board.elapsed,
            targets=[
                DashboardTarget(
                    key=t.key,
                    title=gettext(lang, t.title),
                    unit=gettext(lang, t.unit),
                    target=t.target,
                    current=t.current,
                    forecast=t.forecast,
                    on_track=t.on_track,
                )
                for t in board.targets
            ],
            districts=[
                DashboardDistrict(
                    code=r.code,
                    name=districts.label(r.code, lang) if r.code else gettext(lang, dashboard.NO_DISTRICT),
                    sessions_held=r.sessions_held,
                    registrations=r.registrations,
                    checked_in=r.checked_in,
                    checkin_rate=r.checkin_rate,
                    demands=r.demands,
                    brokers=r.brokers,
                )
                for r in board.districts
            ],
            months=[DashboardMonth.model_validate(m, from_attributes=True) for m in board.months],
            funnels=[
                DashboardFunnel(
                    key=f.key,
                    title=gettext(lang, f.title),
                    steps=[FunnelStep(key=s.key, label=gettext(lang, s.label), count=s.count) for s in f.steps],
                )
                for f in board.funnels
            ],
        )
