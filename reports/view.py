"""The brief laid out once, in one language: a title, sections of paragraphs, tables and charts. The
DOCX and the HTML page both draw this, so they show the same figures in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from events import districts, labels, localtime
from events.errors import N_
from events.i18n import Locale, format_date, gettext
from events.models.training import LEVEL_ORDER, BrokerLevel
from events.services.brief import Brief, BriefPeriod
from events.services.certification import LEVEL_NAMES
from reports import charts


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # columns aligned right


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    alt: str


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BriefView:
    locale: Locale
    title: str
    period: str
    generated: str
    sections: list[Section]


TITLES = {
    "month": N_("Monthly brief"),
    "half": N_("Half-year summary"),
    "year": N_("Year summary"),
}
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def period_label(period: BriefPeriod, locale: Locale) -> str:
    if period.kind == "month" and period.month:
        if locale == "zh":
            return f"{period.year}年{period.month}月"
        return f"{MONTHS_EN[period.month - 1]} {period.year}"
    if period.kind == "half":
        msgid = N_("First half of %(year)s") if period.half == 1 else N_("Second half of %(year)s")
        return gettext(locale, msgid, year=period.year)
    return gettext(locale, N_("The year %(year)s"), year=period.year)


def number(value: int | float | Decimal) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.0f}"


def percent(part: int, whole: int) -> str:
    if not whole:
        return "—"
    share = part / whole
    if share == 0:
        return "0%"
    if share < 0.001:
        return "<0.1%"
    return f"{share:.1%}" if share < 0.01 else f"{share:.0%}"


def wan(amount: Decimal) -> str:
    """Yuan shown in 万元 with two decimals where they matter (the plan's tables count in 万元)."""
    value = amount / Decimal(10_000)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def build(brief: Brief, locale: Locale, *, with_charts: bool = True) -> BriefView:
    # Here, not at the top: the matching package loads numpy and scipy, which a server that never
    # builds a brief should not carry (~20 MB of its memory).
    from events.services.matching.explain import TRANSFER_MODES

    t = lambda msgid, **params: gettext(locale, msgid, **params)  # noqa: E731
    yes, no = t(N_("on track")), t(N_("behind"))
    kpi = Table(
        header=[
            t(N_("Target")),
            t(N_("Plan")),
            t(N_("This period")),
            t(N_("Year to date")),
            t(N_("Share of plan")),
            t(N_("Forecast for the year")),
            t(N_("Pace")),
        ],
        rows=[
            [
                f"{t(k.title)}（{t(k.unit)}）" if locale == "zh" else f"{t(k.title)} ({t(k.unit)})",
                number(k.target) if k.target else "—",
                number(k.period),
                number(k.year_to_date),
                percent(k.year_to_date, k.target),
                number(k.forecast),
                "—" if k.on_track is None else (yes if k.on_track else no),
            ]
            for k in brief.kpis
        ],
        numeric=frozenset({1, 2, 3, 4, 5}),
    )
    overview = Section(
        t(N_("Progress against the plan's targets")),
        paragraphs=[
            t(
                N_(
                    "%(events)s events took place with %(registered)s confirmed registrations, of whom %(arrived)s "
                    "checked in (%(rate)s); %(demands)s new demands; %(contracts)s technology contracts worth "
                    "%(amount)s ten thousand yuan; %(brokers)s brokers certified."
                ),
                events=len(brief.sessions),
                registered=number(brief.registrations),
                arrived=number(brief.checked_in),
                rate=percent(brief.checked_in, brief.registrations),
                demands=number(brief.demands.new),
                contracts=len(brief.transfers),
                amount=wan(brief.turnover_cny),
                brokers=number(brief.brokers_certified),
            )
        ],
        tables=[kpi],
    )
    if with_charts:
        overview.charts.append(
            Chart(charts.targets_chart(brief, locale), t(N_("Year to date and forecast, as a share of each target")))
        )

    sessions = Section(
        t(N_("Events and attendance")),
        tables=[
            Table(
                header=[
                    t(N_("Date")),
                    t(N_("Event")),
                    t(N_("District")),
                    t(N_("Registered")),
                    t(N_("Checked in")),
                    t(N_("Check-in rate")),
                ],
                rows=[
                    [
                        format_date(e.starts_at, locale),
                        e.title,
                        districts.label(e.district, locale, short=True),
                        number(e.registrations),
                        number(e.checked_in),
                        percent(e.checked_in, e.registrations),
                    ]
                    for e in brief.sessions
                ],
                numeric=frozenset({3, 4, 5}),
            )
        ]
        if brief.sessions
        else [],
        paragraphs=[] if brief.sessions else [t(N_("No events took place in this period."))],
    )
    if with_charts and brief.months:
        sessions.charts.append(Chart(charts.months_chart(brief, locale), t(N_("Month by month"))))

    demand = brief.demands
    kinds = "、" if locale == "zh" else ", "
    supply = Section(
        t(N_("Demands, matches and contracts")),
        paragraphs=[
            t(
                N_(
                    "%(new)s new demands (%(kinds)s); %(matched)s demands matched, %(connections)s connections "
                    "opened, %(contracted)s demands contracted."
                ),
                new=number(demand.new),
                kinds=kinds.join(f"{labels.demand_kind(k, locale)} {n}" for k, n in sorted(demand.by_kind.items()))
                or "—",
                matched=number(demand.matched),
                connections=number(demand.connections),
                contracted=number(demand.contracted),
            )
        ],
        tables=[
            Table(
                header=[
                    t(N_("Signed on")),
                    t(N_("Achievement or demand")),
                    t(N_("Mode")),
                    t(N_("Amount (10,000 CNY)")),
                    t(N_("Major")),
                ],
                rows=[
                    [
                        x.signed_on.isoformat(),
                        x.title,
                        t(TRANSFER_MODES.get(x.mode, N_("other arrangement"))),
                        wan(x.amount_cny),
                        "★" if x.major else "",
                    ]
                    for x in brief.transfers
                ],
                numeric=frozenset({3}),
            )
        ]
        if brief.transfers
        else [],
    )
    district_rows = [r for r in brief.districts if any((r.sessions_held, r.registrations, r.demands, r.brokers))]
    grid = Section(
        t(N_("Districts")),
        tables=[
            Table(
                header=[
                    t(N_("District")),
                    t(N_("Sessions held")),
                    t(N_("Registered")),
                    t(N_("Check-in rate")),
                    t(N_("Demands")),
                    t(N_("Brokers")),
                ],
                rows=[
                    [
                        districts.label(r.code, locale, short=True) if r.code else t(N_("No district")),
                        number(r.sessions_held),
                        number(r.registrations),
                        percent(r.checked_in, r.registrations),
                        number(r.demands),
                        number(r.brokers),
                    ]
                    for r in district_rows
                ],
                numeric=frozenset({1, 2, 3, 4, 5}),
            )
        ]
        if district_rows
        else [],
        paragraphs=[] if district_rows else [t(N_("No district recorded any activity in this period."))],
    )
    level_parts = [
        f"{t(LEVEL_NAMES[BrokerLevel(k)])} {n}"
        for k, n in sorted(brief.brokers_by_level.items(), key=lambda kv: LEVEL_ORDER.index(BrokerLevel(kv[0])))
    ]
    certified = t(N_("%(count)s brokers certified in this period."), count=number(brief.brokers_certified))
    if level_parts:
        certified += f"（{'、'.join(level_parts)}）" if locale == "zh" else f" ({', '.join(level_parts)})"
    training = Section(t(N_("Broker training")), paragraphs=[certified])
    contests = Section(
        t(N_("Competitions")),
        tables=[
            Table(
                header=[
                    t(N_("Competition")),
                    t(N_("Rounds closed")),
                    t(N_("Closed in this period")),
                    t(N_("Entries")),
                    t(N_("Awarded")),
                ],
                rows=[
                    [
                        c.title,
                        f"{c.rounds_closed} / {c.rounds}",
                        number(c.rounds_closed_in_period),
                        number(c.entries),
                        number(c.awarded),
                    ]
                    for c in brief.competitions
                ],
                numeric=frozenset({1, 2, 3, 4}),
            )
        ]
        if brief.competitions
        else [],
        paragraphs=[] if brief.competitions else [t(N_("No competition under way."))],
    )
    notable = Section(
        t(N_("Notable")),
        paragraphs=[labels.message(locale, n.message, n.params) for n in brief.notable]
        or [t(N_("Nothing stands out in this period."))],
    )
    return BriefView(
        locale=locale,
        title=t(N_("Wuhan science and technology innovation supply chain")) + " · " + t(TITLES[brief.period.kind]),
        period=period_label(brief.period, locale),
        generated=t(
            N_("Figures as of %(as_of)s; made %(made)s."),
            as_of=localtime.stamp(brief.as_of),
            made=localtime.stamp(brief.generated_at),
        ),
        sections=[overview, sessions, supply, grid, training, contests, notable],
    )
