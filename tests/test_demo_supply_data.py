"""The supply-chain and competition demo data (pure tables, no database): counts, codes that exist,
checksums computed here independently of the generators, determinism, and the pairs the demo must show.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

import pytest

from events import districts
from wuchuang import demo_supply_data as supply
from wuchuang.demo_supply_topics import TOPICS_BY_KEY

# The plan's fields as the brief names them (events.supply_fields holds the service's list).
PLAN_FIELDS = {
    "optoelectronics", "biomedicine", "ai", "nev", "beidou", "quantum", "synbio", "6g", "ic", "equipment",
    "materials", "green", "agriculture", "digital", "aerospace", "medical_devices",
}  # fmt: skip

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [3**i % 31 for i in range(17)]  # GB 32100: the weights are 3^i mod 31


def gb32100_ok(code: str) -> bool:
    if len(code) != 18 or any(c not in _ALPHABET for c in code):
        return False
    total = sum(_ALPHABET.index(c) * w for c, w in zip(code, _WEIGHTS, strict=False))
    return _ALPHABET[(31 - total % 31) % 31] == code[17]


def patent_ok(number: str) -> bool:
    match = re.fullmatch(r"ZL(\d{12})\.([0-9X])", number)
    if not match:
        return False
    digits, check = match.groups()
    total = sum(int(d) * w for d, w in zip(digits, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5], strict=True)) % 11
    return check == ("X" if total == 10 else str(total))


def cosine(a: str, b: str) -> float:
    """Character-bigram cosine of two texts (Han characters, Latin words and numbers as symbols)."""

    def grams(text: str) -> Counter[str]:
        found = re.findall(r"[a-z0-9]+|[^\W\d_a-z]", text.casefold())
        return Counter(x + y for x, y in itertools.pairwise(found))

    ga, gb = grams(a), grams(b)
    dot = sum(n * gb[g] for g, n in ga.items())
    return dot / math.sqrt(sum(n * n for n in ga.values()) * sum(n * n for n in gb.values()))


@pytest.fixture(scope="module")
def demo() -> supply.SupplyDemo:
    return supply.build()


def test_the_check_algorithm_agrees_with_the_standard_example() -> None:
    assert gb32100_ok("91350100M000100Y43")  # the example printed in GB 32100-2015
    assert supply.is_valid_credit_code("91350100M000100Y43")
    assert not supply.is_valid_credit_code("91350100M000100Y44")
    assert gb32100_ok("91350100M000100Y43") and not gb32100_ok("91350100M000100Y4I")


def test_organizations(demo: supply.SupplyDemo) -> None:
    orgs = demo.organizations
    kinds = Counter(o.kind for o in orgs)
    assert 55 <= len(orgs) <= 70
    assert kinds["university"] >= 10 and kinds["institute"] >= 10 and kinds["company"] >= 30
    assert kinds["investor"] >= 5
    assert len({o.key for o in orgs}) == len({o.name for o in orgs}) == len(orgs)
    assert {"武汉大学", "华中科技大学", "中国地质大学（武汉）", "光谷实验室", "洪山实验室"} <= {o.name for o in orgs}
    assert all(districts.is_known(o.district) for o in orgs)
    # Every district and zone has at least one company.
    assert {o.district for o in orgs if o.kind == "company"} == set(districts.BY_CODE)
    codes = [o.credit_code for o in orgs if o.credit_code]
    assert len(codes) == len(orgs) and len(set(codes)) == len(codes)
    assert all(gb32100_ok(c) for c in codes), [c for c in codes if not gb32100_ok(c)]
    assert all(o.credit_code and o.credit_code.startswith("91") for o in orgs if o.kind in ("company", "investor"))
    # No demo address can reach a real inbox.
    assert all(re.fullmatch(r"[a-z0-9]+\.example\.(org|com|net)", d) for o in orgs for d in o.email_domains)
    assert all(set(o.fields) <= PLAN_FIELDS for o in orgs)


def test_achievements(demo: supply.SupplyDemo) -> None:
    library = demo.achievements
    owners = {o.key: o for o in demo.organizations}
    assert len(library) == 300
    assert {a.field for a in library} == PLAN_FIELDS
    assert len({a.title for a in library}) == 300
    assert len({a.external_id for a in library}) == 300
    key_share = sum(a.tier == "key" for a in library) / len(library)
    assert 0.15 <= key_share <= 0.25
    for a in library:
        assert districts.is_known(a.district) and a.district == owners[a.owner].district
        assert 3 <= a.trl <= 9 and a.stage in supply.STAGES_BY_TRL[a.trl]
        assert a.tier != "key" or a.trl >= 6
        assert 3 <= len(a.keywords) <= 6 and len(set(a.keywords)) == len(a.keywords)
        assert 3 <= a.abstract.count("。") <= 4
        assert 3 <= len(a.team) <= 5
        assert a.transfer_modes and set(a.transfer_modes) <= set(supply.TRANSFER_MODES)
        assert a.patents and all(patent_ok(p) for p in a.patents), a.patents
        assert (a.price_min_cny is None) == (a.price_max_cny is None)
        assert a.price_min_cny is None or 0 < a.price_min_cny <= (a.price_max_cny or 0)
        assert a.topic in TOPICS_BY_KEY and TOPICS_BY_KEY[a.topic].field == a.field
    # Mostly universities and institutes.
    research = sum(owners[a.owner].kind in ("university", "institute") for a in library)
    assert research / len(library) >= 0.75


def test_demands(demo: supply.SupplyDemo) -> None:
    posted = demo.demands
    companies = {o.key: o for o in demo.organizations if o.kind == "company"}
    assert len(posted) == 100
    assert Counter(d.kind for d in posted) == {"technology": 60, "talent": 15, "capital": 13, "scenario": 12}
    assert len({d.district for d in posted}) >= 12
    for d in posted:
        assert d.organization in companies and d.district == companies[d.organization].district
        assert d.field in PLAN_FIELDS and districts.is_known(d.district)
        assert all(label in d.description for label in ("现状：", "痛点：", "期望：")), d.description
        assert re.search(r"\d", d.indicators) and d.indicators.startswith("1. ")
        assert d.min_trl is None or 3 <= d.min_trl <= 9
        assert set(d.transfer_modes) <= set(supply.TRANSFER_MODES)
        assert 0 < (d.budget_min_cny or 0) <= (d.budget_max_cny or 0)
        assert d.deadline_days > 0 and d.created_days_ago > 0
        assert (d.source == "collected") == (d.collected_by_broker is not None)
    # Oldest first: a loader posting them in order posts the restated one second.
    assert [d.created_days_ago for d in posted] == sorted((d.created_days_ago for d in posted), reverse=True)


def test_near_duplicate_pairs_stand_out(demo: supply.SupplyDemo) -> None:
    posted = demo.demands
    pairs = [(d.duplicate_of, i) for i, d in enumerate(posted) if d.duplicate_of is not None]
    assert len(pairs) == len(supply.DUPLICATE_PAIRS) == 4
    text = [f"{d.title}\n{d.description}" for d in posted]
    pair_scores = []
    for first, second in pairs:
        assert first is not None and first < second
        a, b = posted[first], posted[second]
        assert a.kind == b.kind and (a.organization == b.organization or a.district == b.district)
        pair_scores.append(cosine(text[first], text[second]))
    # Unrelated demands the near-duplicate check compares (one kind; one organization or district).
    others = [
        cosine(text[i], text[j])
        for i, j in itertools.combinations(range(len(posted)), 2)
        if (i, j) not in pairs
        and posted[i].kind == posted[j].kind
        and (posted[i].organization == posted[j].organization or posted[i].district == posted[j].district)
    ]
    assert min(pair_scores) > max(others) + 0.1, (pair_scores, max(others))


def test_demands_written_against_an_achievement_are_met_by_it(demo: supply.SupplyDemo) -> None:
    close = [d for d in demo.demands if d.close_to is not None]
    assert len(close) == 10 and len({d.field for d in close}) == 10
    for d in close:
        a = demo.achievements[d.close_to or 0]
        assert d.topic == a.topic and d.field == a.field and d.kind == "technology"
        assert (d.min_trl or 0) <= a.trl
        assert set(d.transfer_modes) & set(a.transfer_modes)
        for metric, figure in zip(TOPICS_BY_KEY[a.topic].metrics, a.figures, strict=True):
            found = re.search(re.escape(metric.name) + r"([≥≤])(\d+(?:\.\d+)?)", d.indicators)
            assert found, (metric.name, d.indicators)
            sign, required = found.group(1), float(found.group(2))
            assert figure >= required if sign == "≥" else figure <= required, (metric.name, figure, d.indicators)


def test_scripts(demo: supply.SupplyDemo) -> None:
    posted, library = demo.demands, demo.achievements
    funds = {f.organization for f in demo.investors}
    for c in demo.connections:
        assert 0 <= c.demand < len(posted)
        assert (c.achievement is None) != (c.investor is None)
        assert c.achievement is None or 0 <= c.achievement < len(library)
        assert c.investor is None or c.investor in funds
        assert 0 < c.days_after_demand < posted[c.demand].created_days_ago
    assert len({(c.demand, c.achievement, c.investor) for c in demo.connections}) == len(demo.connections)
    majors = [t for t in demo.contracts if t.major]
    assert 3 <= len(demo.contracts) <= 8 and 2 <= len(majors) <= 3
    assert all(t.amount_cny >= supply.MAJOR_TRANSFER_CNY for t in majors)
    assert all(t.amount_cny < supply.MAJOR_TRANSFER_CNY for t in demo.contracts if not t.major)
    for t in demo.contracts:
        c = demo.connections[t.connection]
        assert c.status == "contracted" and c.achievement is not None
        assert t.mode in library[c.achievement].transfer_modes
        # Signed before the load day.
        assert c.days_after_demand + t.days_after_connection < posted[c.demand].created_days_ago
    held = {claim.demand: claim for claim in demo.claims}
    assert len(held) == len(demo.claims) >= 10
    assert all(c.demand in held for c in demo.connections if c.status in ("in_talks", "contracted"))
    for refused in demo.contested_claims:
        assert refused.demand in held and refused.broker != held[refused.demand].broker
        assert refused.days_after_demand > held[refused.demand].days_after_demand


def test_the_same_seed_gives_the_same_demo() -> None:
    assert supply.build(supply.SEED) == supply.build(supply.SEED)
    other = supply.build(supply.SEED + 1)
    assert other.achievements != supply.build(supply.SEED).achievements
    assert other.organizations[0].name == "武汉大学"  # the tables stay; only the draws change


def test_field_codes_are_the_services_codes() -> None:
    supply_fields = pytest.importorskip("events.supply_fields")
    assert all(supply_fields.is_known(code) for code in PLAN_FIELDS)
