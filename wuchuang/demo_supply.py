"""The supply-chain year of the demo (#13 point 8), loaded through the real services.

``load_supply`` takes the pure tables of ``wuchuang.demo_supply_data`` (organizations, ~300 achievements,
~100 demands, investors and the script of what happened to them) and replays them in time order:
``organizations`` makes the units (credit codes and mail domains checked), ``achievements`` imports the
library in three sheets, ``investors`` enters the funds, ``demands`` takes the demands on the day each
was posted (flagging the restated ones as near-duplicates by itself), brokers claim demands through
``demands.claim_demand`` (two claims on a demand someone else holds are refused with ``AlreadyClaimed``),
``connections`` opens 对接 and moves them on, and ``transfers`` records the contracts, which makes their
demands ``contracted`` and fills the goals (``demands_collected``, ``key_achievements``,
``major_transfers``, the contract turnover). No domain fact is written around a service.

Past facts are written by moving the loader's clock (the same one ``wuchuang.demo`` moves for
registrations); the caller holds the transaction and restores the clock. The matching index does not
follow the load write by write: it is reset at the end, and the first match query builds it from what
was committed (well under a second for the demo's few hundred achievements). A server that loads the
demo and is never asked for matches never loads numpy and scipy (~35 MB).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from events import localtime
from events.errors import AlreadyClaimed, CreditCodeTaken, OrganizationNameTaken
from events.models import Achievement, ConnectionStatus, Demand, DemandKind, DemandSource, OrganizationKind
from events.services import (
    achievements,
    connections,
    demands,
    investors,
    matching,
    organizations,
    supply_events,
    transfers,
)
from events.services.organizations import EVERYTHING, OrganizationInput
from wuchuang import demo_supply_data as supply
from wuchuang.demo_data import MOBILE_PREFIXES

ACTOR = "demo"
SEED = supply.SEED
# The three sheets the library arrived in, by the owner's kind, and how many days ago each was imported.
SHEETS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("university",), 230),
    (("institute",), 205),
    (("company", "investor"), 180),
)
ACHIEVEMENT_CONTACT_SHARE = 0.6  # of the library names a contact (the team leader, by phone)
# Claims still open at the end get a broker's follow-up in the last days, except these many (overdue).
LEFT_OVERDUE = 2
FOLLOW_UP_NOTES: tuple[str, ...] = (
    "已电话联系企业技术负责人，确认需求仍有效，正在筛选匹配成果",
    "已推荐两项成果，企业安排下周技术交流",
    "企业补充了考核指标和预算，已同步给意向团队",
    "陪同企业到高校实验室现场考察，双方有进一步合作意向",
    "已组织线上对接会，待企业内部评估",
)
TALKS_NOTES: tuple[str, ...] = (
    "双方已完成首轮技术交流",
    "企业完成样品测试，进入商务洽谈",
    "已签署保密协议，开展尽职调查",
)
CLOSED_NOTE = "技术路线与企业现有产线不匹配，双方暂不推进"


class MovableClock(Protocol):
    """The clock the services read during the load (``events.clock`` is set to it); ``at`` moves it."""

    at: datetime


@dataclass(frozen=True, slots=True)
class TelegramContact:
    """A demo person on Telegram who speaks for some records, so pushes and /matches show in the bot."""

    telegram_id: int
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class SupplySummary:
    organizations: int = 0
    achievements: int = 0
    key_achievements: int = 0
    demands: int = 0
    near_duplicates: int = 0
    investors: int = 0
    claims: int = 0
    claims_refused: int = 0
    connections: int = 0
    contracts: int = 0
    major_contracts: int = 0


@dataclass(slots=True)
class _Counts:
    organizations: int = 0
    achievements: int = 0
    demands: int = 0
    investors: int = 0
    claims: int = 0
    claims_refused: int = 0
    connections: int = 0
    contracts: int = 0
    major_contracts: int = 0


Action = Callable[[], Awaitable[object]]


class _Supply:
    """Collects every step with the moment it happened, then runs them in time order."""

    def __init__(
        self,
        demo: supply.SupplyDemo,
        sim: MovableClock,
        now: datetime,
        *,
        brokers: Sequence[int],
        telegram: Sequence[TelegramContact],
        rng: random.Random,
    ) -> None:
        self.demo = demo
        self.sim = sim
        self.now = now
        self.today = localtime.local(now).date()
        self.brokers = list(brokers)
        self.telegram = list(telegram)
        self.rng = rng
        self.actions: list[tuple[datetime, int, Action]] = []
        self.counts = _Counts()
        self.manager = 0  # the organization that enters everything: the default one, like the events
        self.org_ids: dict[str, int] = {}
        self.achievement_ids: dict[int, int] = {}  # index in the library → id
        self.demand_ids: dict[int, int] = {}  # index in the demands → id
        self.investor_ids: dict[str, int] = {}  # the fund's organization key → id
        self.connection_ids: dict[int, int] = {}  # index in the connections → id
        self.posted_at: dict[int, datetime] = {}

    # Time.

    def at(self, when: datetime, action: Action) -> None:
        self.actions.append((min(when, self.now - timedelta(minutes=5)), len(self.actions), action))

    def day(self, days_ago: int, hour: float) -> datetime:
        """``days_ago`` days before today, at ``hour`` (local wall time), as UTC."""
        local = self.today - timedelta(days=days_ago)
        minutes = round(hour * 60)
        wall = datetime.combine(local, time(minutes // 60, minutes % 60), tzinfo=localtime.zone())
        return wall.astimezone(UTC)

    def office_hour(self) -> float:
        return self.rng.uniform(9, 17.5)

    async def run(self) -> None:
        actions, self.actions = sorted(self.actions, key=lambda a: (a[0], a[1])), []
        for when, _, action in actions:
            self.sim.at = when
            await action()

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    # The plan.

    async def load(self) -> SupplySummary:
        self.manager = await organizations.default_organization_id()
        demo = self.demo
        first_sheet = max(days for _, days in SHEETS)
        self.at(self.day(first_sheet + 20, 10), self._organizations)
        self.at(self.day(first_sheet - 10, 15), self._investors)
        chen_yu, huang_li = self._telegram_roles()
        for kinds, days in SHEETS:
            owners = {o.key for o in demo.organizations if o.kind in kinds}
            indexes = [i for i, a in enumerate(demo.achievements) if a.owner in owners]
            contacts = {i: self._achievement_contact(i) for i in indexes}
            for i in chen_yu:
                if i in contacts:
                    contacts[i] = self._telegram_contact(1)
            self.at(self.day(days, 10.5), partial(self._import, indexes, contacts))

        for index, spec in enumerate(demo.demands):
            posted = self.day(spec.created_days_ago, self.office_hour())
            self.posted_at[index] = posted
            contact = self._telegram_contact(2) if index in huang_li else None
            self.at(posted, partial(self._demand, index, contact))

        claimed_at: dict[int, datetime] = {}
        for claim in demo.claims:
            when = self._after(claim.demand, claim.days_after_demand)
            claimed_at[claim.demand] = when
            self.at(when, partial(self._claim, claim))
        for claim in demo.contested_claims:
            self.at(self._after(claim.demand, claim.days_after_demand), partial(self._contested, claim))

        contracted: set[int] = set()
        by_connection = {c.connection: c for c in demo.contracts}
        for index, script in enumerate(demo.connections):
            opened = self._after(script.demand, script.days_after_demand)
            if script.demand in claimed_at:  # the broker's claim came first: the connection is theirs
                opened = max(opened, claimed_at[script.demand] + timedelta(hours=2))
            self.at(opened, partial(self._connect, index, script))
            contract = by_connection.get(index)
            if script.status in ("in_talks", "contracted"):
                span = contract.days_after_connection if contract else max(2, (self.now - opened).days)
                talks = opened + timedelta(days=self.rng.randint(1, max(1, span // 2)), hours=self.rng.uniform(0, 3))
                self.at(talks, partial(self._move, index, ConnectionStatus.IN_TALKS, self.rng.choice(TALKS_NOTES)))
            if script.status == "contracted":
                assert contract is not None, f"connection {index} is contracted without a contract"
                signed = opened + timedelta(days=contract.days_after_connection, hours=self.rng.uniform(1, 4))
                self.at(signed, partial(self._contract, index, contract))
                contracted.add(script.demand)
            elif script.status == "closed":
                ended = opened + timedelta(days=self.rng.randint(5, 30))
                self.at(ended, partial(self._move, index, ConnectionStatus.CLOSED, CLOSED_NOTE))

        # Brokers report on the demands they hold; a couple have let it slip (their follow-up is overdue).
        still_held = [d for d in claimed_at if d not in contracted]
        for n, demand in enumerate(still_held):
            if n < LEFT_OVERDUE:
                continue
            when = max(claimed_at[demand] + timedelta(days=1), self.now - timedelta(days=self.rng.uniform(0.5, 5)))
            self.at(when, partial(self._follow_up, demand, self.rng.choice(FOLLOW_UP_NOTES)))

        await self.run()
        self.sim.at = self.now
        matching.reset()  # built by the first match query: see the module's docstring
        return await self._summary()

    def _after(self, demand: int, days: int) -> datetime:
        base = self.posted_at[demand]
        return base + timedelta(days=days, hours=self.rng.uniform(1, 5) if days == 0 else 0)

    def _telegram_roles(self) -> tuple[set[int], set[int]]:
        """Which records the Telegram people speak for: the second (biomedicine) is the contact of two
        achievements whose topic a technology demand asks about; the third posted two demands in the bot."""
        demo = self.demo
        asked = {d.topic for d in demo.demands if d.kind == DemandKind.TECHNOLOGY and d.topic}
        medical = [
            i
            for i, a in enumerate(demo.achievements)
            if a.field in ("biomedicine", "medical_devices") and a.topic in asked
        ]
        in_bot = [
            i
            for i, d in enumerate(demo.demands)
            if d.source == DemandSource.BOT and d.kind in (DemandKind.TECHNOLOGY, DemandKind.SCENARIO)
        ]
        return set(medical[:2]), set(in_bot[:2])

    def _telegram_contact(self, index: int) -> dict[str, Any] | None:
        if index >= len(self.telegram):
            return None
        who = self.telegram[index]
        return {"name": who.name, "phone": who.phone, "telegram_id": who.telegram_id}

    def _achievement_contact(self, index: int) -> dict[str, Any] | None:
        if self.rng.random() >= ACHIEVEMENT_CONTACT_SHARE:
            return None
        return {"name": self.demo.achievements[index].team[0], "phone": self.phone()}

    # Steps.

    async def _organizations(self) -> None:
        for spec in self.demo.organizations:
            self.org_ids[spec.key] = await self._organization(spec)

    async def _organization(self, spec: supply.OrgSpec) -> int:
        data = OrganizationInput(
            name=spec.name,
            kind=OrganizationKind(spec.kind),
            district=spec.district,
            credit_code=spec.credit_code,
            email_domains=list(spec.email_domains),
        )
        try:
            made = await organizations.create_organization(data, actor=ACTOR)
        except OrganizationNameTaken:  # already in the directory (entered before the demo): use it
            return (await organizations.resolve_organization(spec.name)).id
        except CreditCodeTaken:  # another unit holds the invented code: enter this one without it
            made = await organizations.create_organization(data.model_copy(update={"credit_code": None}), actor=ACTOR)
        self.counts.organizations += 1
        return made.id

    async def _investors(self) -> None:
        for spec in self.demo.investors:
            investor = await investors.create_investor(
                investors.InvestorInput(
                    name=spec.name,
                    description=spec.description,
                    organization=self.org_ids[spec.organization],
                    fields_of_interest=list(spec.fields_of_interest),
                    stages=list(spec.stages),
                    ticket_min_cny=spec.ticket_min_cny,
                    ticket_max_cny=spec.ticket_max_cny,
                    districts=list(spec.districts),
                ),
                organization_id=self.manager,
                actor=ACTOR,
            )
            self.investor_ids[spec.organization] = investor.id
            self.counts.investors += 1

    async def _import(self, indexes: list[int], contacts: dict[int, dict[str, Any] | None]) -> None:
        """One sheet of the library, through the import (the way a university's office sends it)."""
        rows: list[dict[str, Any]] = []
        for i in indexes:
            a = self.demo.achievements[i]
            row: dict[str, Any] = {
                "external_id": a.external_id,
                "title": a.title,
                "abstract": a.abstract,
                "keywords": list(a.keywords),
                "field": a.field,
                "tier": a.tier,
                "trl": a.trl,
                "stage": a.stage,
                "transfer_modes": list(a.transfer_modes),
                "patents": list(a.patents),
                "price_min_cny": a.price_min_cny,
                "price_max_cny": a.price_max_cny,
                "district": a.district,
                "owner_organization": self.org_ids[a.owner],
                "team": list(a.team),
            }
            if contacts.get(i) is not None:
                row["contact"] = contacts[i]
            rows.append(row)
        report = await achievements.import_achievements(rows, organization_id=self.manager, actor=ACTOR)
        if report.errors or report.created != len(rows):
            raise RuntimeError(f"demo: the achievements import refused rows: {report.errors[:3]}")
        ids = dict(
            await Achievement.filter(
                managed_by_id=self.manager, external_id__in=[self.demo.achievements[i].external_id for i in indexes]
            ).values_list("external_id", "id")
        )
        for i in indexes:
            self.achievement_ids[i] = ids[self.demo.achievements[i].external_id]
        self.counts.achievements += report.created

    async def _demand(self, index: int, telegram: dict[str, Any] | None) -> None:
        spec = self.demo.demands[index]
        collected_by = None
        if spec.source == DemandSource.COLLECTED:
            assert spec.collected_by_broker is not None
            collected_by = await self._broker_person(spec.collected_by_broker)
        contact = telegram or {"name": spec.contact_name, "phone": self.phone()}
        demand = await demands.create_demand(
            demands.DemandInput(
                kind=DemandKind(spec.kind),
                title=spec.title,
                description=spec.description,
                indicators=spec.indicators,
                tags=list(spec.tags),
                field=spec.field,
                min_trl=spec.min_trl,
                transfer_modes=list(spec.transfer_modes),
                budget_min_cny=spec.budget_min_cny,
                budget_max_cny=spec.budget_max_cny,
                deadline=self.today + timedelta(days=spec.deadline_days),
                district=spec.district,
                organization=self.org_ids[spec.organization],
                contact=demands.ContactInput(**contact),
                source=DemandSource(spec.source),
                collected_by=collected_by,
                external_id=spec.external_id,
            ),
            actor=ACTOR,
            managed_by=self.manager,
        )
        self.demand_ids[index] = demand.id
        self.counts.demands += 1

    def _broker(self, index: int) -> int:
        return self.brokers[index % len(self.brokers)]

    async def _broker_person(self, index: int) -> int:
        from events.models import Broker

        return (await Broker.get(id=self._broker(index))).person_id

    async def _claim(self, claim: supply.ClaimScript) -> None:
        await demands.claim_demand(self.demand_ids[claim.demand], self._broker(claim.broker), actor=ACTOR)
        self.counts.claims += 1

    async def _contested(self, claim: supply.ClaimScript) -> None:
        """A second broker reaches for a demand another holds: the service refuses it."""
        try:
            await demands.claim_demand(self.demand_ids[claim.demand], self._broker(claim.broker), actor=ACTOR)
        except AlreadyClaimed:
            self.counts.claims_refused += 1
            return
        raise RuntimeError(f"demo: a second broker claimed demand {claim.demand} someone else holds")

    async def _connect(self, index: int, script: supply.ConnectionScript) -> None:
        demand_id = self.demand_ids[script.demand]
        requested_by = None
        if script.origin in ("push", "bot"):  # the company answered a push, or asked in the bot
            requested_by = (await Demand.get(id=demand_id)).contact_id
        opened = await connections.open_connection(
            demand_id=demand_id,
            achievement_id=self.achievement_ids[script.achievement] if script.achievement is not None else None,
            investor_id=self.investor_ids[script.investor] if script.investor is not None else None,
            requested_by=requested_by,
            wants_broker=script.wants_broker,
            origin=script.origin,
            actor=ACTOR,
        )
        self.connection_ids[index] = opened.connection.id
        self.counts.connections += 1

    async def _move(self, index: int, to: ConnectionStatus, note: str) -> None:
        await connections.change_status(self.connection_ids[index], to, note=note, actor=ACTOR, scope=EVERYTHING)

    async def _contract(self, index: int, contract: supply.ContractScript) -> None:
        script = self.demo.connections[index]
        demand = await Demand.get(id=self.demand_ids[script.demand])
        await transfers.record_transfer(
            transfers.TransferInput(
                achievement_id=self.achievement_ids[script.achievement] if script.achievement is not None else None,
                demand_id=demand.id,
                mode=contract.mode,
                amount_cny=Decimal(contract.amount_cny),
                signed_on=localtime.local(self.sim.at).date(),
                broker_id=demand.broker_id,
                major=contract.major,
                contract_no=contract.contract_no,
            ),
            scope=EVERYTHING,
            organization_id=self.manager,
            actor=ACTOR,
        )
        await self._move(index, ConnectionStatus.CONTRACTED, contract.contract_no)
        self.counts.contracts += 1
        self.counts.major_contracts += contract.major

    async def _follow_up(self, demand: int, note: str) -> None:
        await demands.record_follow_up(self.demand_ids[demand], note, actor=ACTOR)

    async def _summary(self) -> SupplySummary:
        ids = list(self.demand_ids.values())
        key = [self.achievement_ids[i] for i, a in enumerate(self.demo.achievements) if a.tier == "key"]
        c = self.counts
        return SupplySummary(
            organizations=c.organizations,
            achievements=c.achievements,
            key_achievements=len(key),
            demands=c.demands,
            near_duplicates=await Demand.filter(id__in=ids, duplicate_of_id__isnull=False).count(),
            investors=c.investors,
            claims=c.claims,
            claims_refused=c.claims_refused,
            connections=c.connections,
            contracts=c.contracts,
            major_contracts=c.major_contracts,
        )


async def supply_loaded() -> bool:
    """Whether the supply-chain demo is in the database (any demand the demo entered)."""
    return await Demand.filter(created_by=ACTOR).exists()


async def load_supply(
    sim: MovableClock,
    now: datetime,
    *,
    brokers: Sequence[int],
    telegram: Sequence[TelegramContact] = (),
    seed: int = SEED,
) -> SupplySummary:
    """Replay the supply-chain demo of ``seed`` up to ``now`` through the services, moving ``sim``.

    ``brokers`` are the demo's broker ids (the scripts name brokers by position); ``telegram`` the demo's
    Telegram people, in ``wuchuang.demo.TELEGRAM_PEOPLE`` order. Call it inside a transaction, with
    ``events.clock`` reading ``sim``; the caller restores the clock.
    """
    if not brokers:
        raise ValueError("the supply demo needs the demo's brokers")
    demo = supply.build(seed)
    loader = _Supply(demo, sim, now, brokers=brokers, telegram=telegram, rng=random.Random(seed + 1))
    with _index_built_at_the_end():
        return await loader.load()


@contextmanager
def _index_built_at_the_end() -> Iterator[None]:
    """While the load runs, the matching index does not follow each write (hundreds of catch-ups for
    nothing): the load resets it at the end and the first match query builds it from everything."""
    for kind in matching.KINDS:
        supply_events.off_saved(kind, matching.note_saved)
    try:
        yield
    finally:
        for kind in matching.KINDS:
            supply_events.on_saved(kind, matching.note_saved)


__all__ = ["SupplySummary", "TelegramContact", "load_supply", "supply_loaded"]
