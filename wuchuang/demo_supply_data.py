"""The supply-chain demo as pure data (#13 point 8): organizations, ~300 achievements, ~100 demands,
investor profiles, and the script of what happens to them (connections, contracts, broker claims).

Nothing here touches the database: a loader (``wuchuang.demo``) feeds these records to the real
services. Everything is generated from a seeded ``random.Random`` (``build(seed)`` gives the same demo
for the same seed) and the text is composed from one topic at a time (``wuchuang.demo_supply_topics``),
so every achievement and demand speaks coherently of one line of research. Times are offsets in days
from ``events.clock.now()`` at load time; records refer to each other by index or by organization key.

What the demo must show, and where it comes from:

- near-duplicate flags: ``DUPLICATE_PAIRS`` restate four demands in other words (``DemandSpec.duplicate_of``);
- visible matches: ten demands are written from one achievement's topic, method and application, with
  indicators the achievement meets (``DemandSpec.close_to``);
- the goals: ~20% of the library is tier ``key``; a few contracts, three of them major (≥ ¥10,000,000).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from wuchuang.demo_data import GIVEN_CHARS, SURNAMES
from wuchuang.demo_supply_organizations import (
    CREDIT_ALPHABET,
    CREDIT_WEIGHTS,
    OrgSpec,
    credit_check_character,
    credit_code,
    is_valid_credit_code,
    organizations,
)
from wuchuang.demo_supply_topics import TOPICS_BY_FIELD, TOPICS_BY_KEY, Metric, Topic

SEED = 20_241_301

# How the library falls over the plan's fields (sums to 300): heavier where Wuhan is strongest.
FIELD_QUOTAS: dict[str, int] = {
    "optoelectronics": 28,
    "biomedicine": 26,
    "ai": 26,
    "nev": 22,
    "ic": 20,
    "equipment": 20,
    "materials": 20,
    "green": 18,
    "agriculture": 18,
    "digital": 18,
    "medical_devices": 18,
    "beidou": 16,
    "synbio": 14,
    "quantum": 12,
    "6g": 12,
    "aerospace": 12,
}
FIELD_NAMES: dict[str, str] = {
    "optoelectronics": "光电子信息",
    "biomedicine": "生物医药",
    "ai": "人工智能",
    "nev": "新能源汽车",
    "beidou": "北斗",
    "quantum": "量子",
    "synbio": "合成生物",
    "6g": "6G",
    "ic": "集成电路",
    "equipment": "高端装备",
    "materials": "新材料",
    "green": "节能环保",
    "agriculture": "现代农业",
    "digital": "数字经济",
    "aerospace": "航空航天",
    "medical_devices": "医疗器械",
}

TRANSFER_MODES = ("transfer", "license", "equity", "joint_development", "other")
MODE_NAMES: dict[str, str] = {
    "transfer": "转让",
    "license": "许可",
    "equity": "作价入股",
    "joint_development": "合作开发",
    "other": "其他",
}
STAGES_BY_TRL: dict[int, tuple[str, ...]] = {
    3: ("research",),
    4: ("research", "lab"),
    5: ("lab", "pilot"),
    6: ("pilot",),
    7: ("pilot", "sample"),
    8: ("sample", "production"),
    9: ("production",),
}
MAJOR_TRANSFER_CNY = 10_000_000  # a contract of at least this much is a major transfer (重大成果转化)
# Chinese patent application numbers (12 digits since 2003): weights of the check digit (mod 11, 10 → X).
_PATENT_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


# --- records ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AchievementSpec:
    external_id: str
    title: str
    abstract: str
    keywords: tuple[str, ...]
    field: str
    owner: str  # OrgSpec.key of the owner organization
    district: str
    team: tuple[str, ...]  # leader first
    trl: int
    stage: str  # research | lab | pilot | sample | production
    tier: str  # general | concept | pilot | key
    transfer_modes: tuple[str, ...]
    patents: tuple[str, ...]
    price_min_cny: int | None  # None: 面议
    price_max_cny: int | None
    topic: str  # Topic.key it was written from
    method: str  # Method.keyword it uses
    application: str
    figures: tuple[float, ...]  # the values it reaches, one per topic metric


@dataclass(frozen=True, slots=True)
class DemandSpec:
    external_id: str
    kind: str  # technology | talent | capital | scenario
    title: str
    description: str  # 现状 / 痛点 / 期望
    indicators: str  # 考核指标, measurable
    field: str
    tags: tuple[str, ...]
    min_trl: int | None
    transfer_modes: tuple[str, ...]
    budget_min_cny: int | None
    budget_max_cny: int | None
    organization: str  # OrgSpec.key of the company with the problem
    district: str
    contact_name: str
    contact_title: str
    source: str  # bot | api | import | collected
    collected_by_broker: int | None  # with source "collected": index into the demo's brokers (modulo their count)
    created_days_ago: int
    deadline_days: int  # deadline = the load day + this (always ahead)
    topic: str | None
    close_to: int | None  # index into achievements of the one it was written to match
    duplicate_of: int | None  # index into demands of the earlier one it restates


@dataclass(frozen=True, slots=True)
class InvestorSpec:
    organization: str  # OrgSpec.key of the fund
    name: str
    description: str
    fields_of_interest: tuple[str, ...]
    stages: tuple[str, ...]  # rounds: angel | pre_a | a | b | c_plus | strategic
    ticket_min_cny: int
    ticket_max_cny: int
    districts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConnectionScript:
    """A 对接 opened on a demand, with an achievement or an investor, and how far it got."""

    demand: int  # index into demands
    achievement: int | None  # index into achievements
    investor: str | None  # OrgSpec.key of a fund (capital demands)
    status: str  # open | in_talks | contracted | closed
    wants_broker: bool  # opened through 请技术经理人联系
    origin: str  # push | bot | organizer
    days_after_demand: int


@dataclass(frozen=True, slots=True)
class ContractScript:
    """A technology contract (技术合同) signed at the end of a connection."""

    connection: int  # index into connections
    contract_no: str
    mode: str
    amount_cny: int
    major: bool
    days_after_connection: int


@dataclass(frozen=True, slots=True)
class ClaimScript:
    """A broker claiming a demand (and becoming accountable for it)."""

    demand: int  # index into demands
    broker: int  # index into the demo's brokers, taken modulo their count
    days_after_demand: int


@dataclass(frozen=True, slots=True)
class SupplyDemo:
    organizations: tuple[OrgSpec, ...]
    achievements: tuple[AchievementSpec, ...]
    demands: tuple[DemandSpec, ...]
    investors: tuple[InvestorSpec, ...]
    connections: tuple[ConnectionScript, ...]
    contracts: tuple[ContractScript, ...]
    claims: tuple[ClaimScript, ...]
    # Claims the service must refuse: another broker already holds the demand.
    contested_claims: tuple[ClaimScript, ...]


# --- small generators -------------------------------------------------------------------------------


def person_name(rng: random.Random) -> str:
    surname, _ = rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN_CHARS)[0] for _ in range(rng.choice((1, 2, 2))))
    return surname + given


def team(rng: random.Random, size: int) -> tuple[str, ...]:
    names: list[str] = []
    while len(names) < size:
        name = person_name(rng)
        if name not in names:
            names.append(name)
    return tuple(names)


def patent_number(rng: random.Random, year: int, kind: int = 1) -> str:
    """An invented Chinese patent number with a valid check digit: ZL{year}{kind}{7 digits}.{check}.

    ``kind`` 1 is an invention, 2 a utility model.
    """
    digits = f"{year}{kind}{rng.randrange(10**7):07d}"
    check = sum(int(d) * w for d, w in zip(digits, _PATENT_WEIGHTS, strict=True)) % 11
    return f"ZL{digits}.{'X' if check == 10 else check}"


def _wan(rng: random.Random, low: int, high: int) -> int:
    """A round amount in CNY between ``low`` and ``high`` 万元 (10,000 CNY), in steps of 10万 above 100万."""
    value = rng.randint(low, high)
    step = 10 if value >= 100 else 5
    return max(step, value // step * step) * 10_000


def _modes_text(modes: tuple[str, ...]) -> str:
    return "、".join(MODE_NAMES[m] for m in modes)


def _pick_modes(rng: random.Random, trl: int) -> tuple[str, ...]:
    weights = {
        "license": 0.6,
        "transfer": 0.5,
        "joint_development": 0.7 if trl <= 5 else 0.35,
        "equity": 0.35 if trl >= 7 else 0.15,
        "other": 0.04,
    }
    chosen = tuple(m for m in TRANSFER_MODES if rng.random() < weights[m])
    return chosen or (rng.choice(("license", "transfer", "joint_development")),)


# --- achievements -----------------------------------------------------------------------------------


def _tier_and_trl(rng: random.Random) -> tuple[str, int]:
    roll = rng.random()
    if roll < 0.20:
        return "key", rng.choice((6, 7, 7, 8, 8, 9))
    if roll < 0.35:
        return "concept", rng.choice((3, 4, 4))
    if roll < 0.55:
        return "pilot", rng.choice((5, 6, 6, 7))
    return "general", rng.choice((3, 4, 5, 5, 6, 6, 7, 7, 8, 9))


def _title(rng: random.Random, topic: Topic, method: str, application: str, trl: int) -> str:
    patterns = [
        f"基于{method}的{topic.subject}",
        f"面向{application}的{topic.subject}",
        f"{application}用{topic.subject}",
        f"基于{method}的{topic.subject}及其在{application}中的应用",
    ]
    if trl <= 5:
        patterns.append(f"{method}{topic.subject}关键技术")
    if trl >= 8:
        patterns.append(f"{topic.subject}产业化技术")
    return rng.choice(patterns)


def _stage_sentence(rng: random.Random, stage: str) -> str:
    if stage == "research":
        return "目前已完成原理验证与关键工艺摸索"
    if stage == "lab":
        return "目前已完成小试验证，工艺路线基本确定"
    if stage == "pilot":
        return f"已建成中试线并完成{rng.randint(3, 12)}批次中试验证"
    if stage == "sample":
        return f"样品已在{rng.randint(2, 8)}家下游企业完成送样测试"
    return f"已实现量产，并在{rng.randint(3, 30)}家用户单位稳定应用"


def _abstract(
    rng: random.Random,
    topic: Topic,
    method: str,
    application: str,
    leader: str,
    figures: tuple[float, ...],
    stage: str,
    tier: str,
    patents: int,
    modes: tuple[str, ...],
) -> str:
    kw = topic.keywords
    if rng.random() < 0.5:
        first = f"针对{application}中{topic.pain}的问题，{leader}团队采用{method}技术，研制出{topic.subject}。"
    else:
        first = (
            f"本成果面向{application}需求，基于{method}技术，突破了{kw[0]}与{kw[1]}等关键技术，"
            f"解决了{topic.pain}的难题。"
        )
    shown = [m.achieved(v) for m, v in zip(topic.metrics, figures, strict=True)]
    if rng.random() < 0.4:
        shown = shown[:2]
    level = "，主要指标达到国际先进水平" if tier == "key" else ""
    second = f"经第三方检测，{'，'.join(shown)}{level}。"
    applied = patents + rng.randint(0, 4)
    third = f"{_stage_sentence(rng, stage)}，已申请发明专利{applied}项（授权{patents}项）。"
    others = [a for a in topic.applications if a != application]
    fourth = f"成果可推广应用于{'、'.join(others)}等领域，拟以{_modes_text(modes)}方式开展转化。"
    return first + second + third + (fourth if rng.random() < 0.75 else "")


def _keywords(rng: random.Random, topic: Topic, method: str, application: str) -> tuple[str, ...]:
    """3–5 keywords: two or three of the topic's, the method's, sometimes the application."""
    chosen = list(dict.fromkeys((*topic.keywords[: rng.randint(2, 3)], method)))
    for extra in topic.keywords:
        if len(chosen) >= 3:
            break
        if extra not in chosen:
            chosen.append(extra)
    if rng.random() < 0.4:
        chosen.append(application)
    return tuple(dict.fromkeys(chosen))


def achievements(rng: random.Random, orgs: tuple[OrgSpec, ...]) -> tuple[AchievementSpec, ...]:
    """The library: ``FIELD_QUOTAS`` achievements per field, titles unique."""
    research = {f: [o for o in orgs if o.kind in ("university", "institute") and f in o.fields] for f in FIELD_QUOTAS}
    companies = {f: [o for o in orgs if o.kind == "company" and f in o.fields] for f in FIELD_QUOTAS}
    titles: set[str] = set()
    out: list[AchievementSpec] = []
    for field, quota in FIELD_QUOTAS.items():
        topics = list(TOPICS_BY_FIELD[field])
        for n in range(quota):
            topic = topics[n % len(topics)]
            tier, trl = _tier_and_trl(rng)
            while True:
                method = rng.choice(topic.methods)
                application = rng.choice(topic.applications)
                title = _title(rng, topic, method.phrase, application, trl)
                if title not in titles:
                    titles.add(title)
                    break
            owners = research[field] if rng.random() < 0.85 or not companies[field] else companies[field]
            owner = rng.choice(owners)
            members = team(rng, rng.randint(3, 5))
            stage = rng.choice(STAGES_BY_TRL[trl])
            modes = _pick_modes(rng, trl)
            patents = tuple(sorted({patent_number(rng, rng.randint(2017, 2024)) for _ in range(rng.randint(1, 5))}))
            # Figures grow with maturity: a TRL 9 product sits near the good end of each range.
            figures = tuple(m.value(min(1.0, rng.uniform(0.2, 0.7) + (trl - 3) * 0.05)) for m in topic.metrics)
            price_min: int | None = None
            price_max: int | None = None
            if rng.random() < 0.9:
                low, high = (20, 150) if trl <= 4 else (50, 400) if trl <= 6 else (100, 1500)
                if tier == "key":
                    low, high = low * 3 // 2, high * 3 // 2
                price_min = _wan(rng, low, high)
                price_max = price_min * rng.choice((3, 4, 5, 6)) // 2 // 50_000 * 50_000
            abstract = _abstract(
                rng, topic, method.phrase, application, members[0], figures, stage, tier, len(patents), modes
            )
            keywords = _keywords(rng, topic, method.keyword, application)
            out.append(
                AchievementSpec(
                    external_id=f"WC-ACH-{len(out) + 1:04d}",
                    title=title,
                    abstract=abstract,
                    keywords=keywords,
                    field=field,
                    owner=owner.key,
                    district=owner.district,
                    team=members,
                    trl=trl,
                    stage=stage,
                    tier=tier,
                    transfer_modes=modes,
                    patents=patents,
                    price_min_cny=price_min,
                    price_max_cny=price_max,
                    topic=topic.key,
                    method=method.keyword,
                    application=application,
                    figures=figures,
                )
            )
    return tuple(out)


# --- demands ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Written:
    """A demand written out by hand (near-duplicate pairs, scenarios)."""

    kind: str
    organization: str
    field: str
    title: str
    now: str  # 现状
    pain: str  # 痛点
    hope: str  # 期望
    indicators: str
    tags: tuple[str, ...]
    min_trl: int | None
    modes: tuple[str, ...]
    budget_wan: tuple[int, int]
    topic: str | None


@dataclass(frozen=True, slots=True)
class _Parts:
    """What a demand says, before it is placed in time."""

    title: str
    description: str
    indicators: str
    tags: tuple[str, ...]
    min_trl: int | None
    modes: tuple[str, ...]
    budget: tuple[int, int]  # CNY
    topic: str | None


@dataclass(slots=True)
class _Draft:
    kind: str
    field: str
    organization: str
    parts: _Parts
    age: int | None = None  # days before the load it was posted
    close_to: int | None = None
    restates: int | None = None  # draft index of the demand it restates


def _description(now: str, pain: str, hope: str) -> str:
    return f"现状：{now}。\n痛点：{pain}。\n期望：{hope}。"


# Four problems, each posted twice in other words (the second a few days later): the near-duplicate
# check must flag the second with a link to the first. Pair C comes from two companies.
# fmt: off
DUPLICATE_PAIRS: tuple[tuple[_Written, _Written], ...] = (
    (
        _Written("technology", "dingtai", "ai", "动力电池极片涂布缺陷在线检测技术需求",
                 "我公司两条动力电池极片涂布线目前依靠人工目检加离线抽检，单线每天仍有约20处划痕、露箔等缺陷漏检",
                 "缺陷样本少、种类多，现用传统视觉方案误报率超过5%，产线频繁停机复检",
                 "寻求基于深度学习的在线视觉检测方案，能在现有产线上改造部署，6个月内完成产线验证",
                 "1. 缺陷检出率≥99.5%；2. 误检率≤0.5%；3. 检测速度匹配80m/min涂布线速；4. 支持10类以上缺陷分类",
                 ("机器视觉", "缺陷检测", "动力电池"), 6, ("license", "joint_development"), (80, 150), "ai.1"),
        _Written("technology", "dingtai", "ai", "锂电池极片涂布缺陷视觉检测系统开发",
                 "公司动力电池极片涂布线的缺陷主要靠人工目检并离线抽检，每条线每天都有划痕、露箔等缺陷漏检",
                 "缺陷样本少、类别多，在用的传统视觉方案误报率超过5%，导致产线频繁停机复检",
                 "希望引进基于深度学习的在线视觉检测系统，在现有涂布线上改造部署，半年内完成产线验证",
                 "1. 检出率不低于99.5%；2. 误检率不高于0.5%；3. 适配80m/min线速；4. 可识别10类以上缺陷",
                 ("视觉检测", "深度学习", "锂电池"), 6, ("license", "joint_development"), (80, 150), "ai.1"),
    ),
    (
        _Written("technology", "hengrun", "green", "化工园区难降解废水深度处理技术需求",
                 "公司运营青山化工园区配套污水处理厂，日处理量2万吨，生化出水COD约180mg/L",
                 "难降解有机物占比高，现有芬顿工艺药剂成本高、污泥量大，出水难以稳定达到一级A标准",
                 "寻求催化臭氧氧化或电催化氧化等高级氧化技术，先开展中试，吨水处理成本控制在5元以内",
                 "1. 出水COD≤50mg/L；2. 吨水处理成本≤5元；3. 污泥产量降低≥50%；4. 中试连续稳定运行≥3个月",
                 ("废水处理", "高级氧化", "化工园区"), 5, ("transfer", "joint_development"), (200, 500), "green.2"),
        _Written("technology", "hengrun", "green", "化工园区污水厂难降解废水提标改造技术征集",
                 "我们负责的化工园区污水处理厂日处理废水约2万吨，生化出水COD在180mg/L左右",
                 "废水中难降解有机物多，芬顿工艺药剂成本高、污泥量大，出水稳定达标困难",
                 "征集臭氧催化氧化、电催化氧化等高级氧化工艺，先开展中试，吨水处理成本不超过5元",
                 "1. 出水COD不高于50mg/L；2. 吨水成本不超过5元；3. 污泥减量50%以上；4. 中试稳定运行3个月以上",
                 ("污水处理", "臭氧催化氧化", "提标改造"), 5, ("transfer", "joint_development"), (200, 500),
                 "green.2"),
    ),
    (
        _Written("technology", "siyuan", "beidou", "城市峡谷环境车道级定位模组需求",
                 "公司为无人配送车和Robotaxi提供定位方案，目前采用单频GNSS与视觉融合",
                 "在高架桥下和高楼密集路段定位漂移超过1米，车道级导航频繁失效",
                 "寻求北斗多频RTK与惯导组合定位模组，支持车规级量产，年需求约2万套",
                 "1. 水平定位精度≤10cm（95%）；2. 信号遮挡60秒内定位误差≤0.5m；3. 通过AEC-Q100认证；4. 单价≤800元",
                 ("北斗", "组合导航", "车道级定位"), 6, ("license", "transfer"), (150, 300), "beidou.1"),
        _Written("technology", "zhixing", "beidou", "高架桥下车道级定位模组技术合作",
                 "我公司为无人配送车队提供定位服务，车载终端采用单频GNSS与视觉融合定位",
                 "车辆在高架桥下和高楼密集路段定位漂移超过1米，车道级导航经常失效",
                 "希望与掌握北斗多频RTK与惯导组合定位技术的团队合作，开发车规级量产模组，年需求约2万套",
                 "1. 95%概率水平精度优于10cm；2. 卫星信号遮挡60秒误差不超过0.5m；"
                 "3. 满足AEC-Q100；4. 模组成本不超过800元",
                 ("高精度定位", "RTK", "智能驾驶"), 6, ("license", "joint_development"), (150, 300), "beidou.1"),
    ),
    (
        _Written("scenario", "yunfan", "beidou", "开放四新片区城市生命线监测应用场景",
                 "汉阳四新片区燃气、供水管网和桥梁等城市生命线设施由多家单位分散管理，监测数据互不连通",
                 "缺乏统一的实时监测和预警平台，管网泄漏、桥梁异常往往依靠人工巡查发现",
                 "开放片区约30公里管网和5座桥梁作为应用场景，征集城市生命线监测整体解决方案开展试点",
                 "1. 接入燃气、供水、桥梁三类以上监测数据；2. 异常告警平均响应时间≤5分钟；"
                 "3. 试点期6个月；4. 告警准确率≥90%",
                 ("城市生命线", "时空大数据", "场景开放"), 6, ("joint_development",), (100, 300), "beidou.3"),
        _Written("scenario", "yunfan", "beidou", "四新片区燃气供水管网与桥梁监测场景征集方案",
                 "四新片区的燃气管网、供水管网和桥梁分属不同单位管理，监测数据没有打通",
                 "没有统一的实时监测预警平台，泄漏和桥梁异常多靠人工巡检发现",
                 "拟拿出约30公里管网和5座桥梁作为试点场景，面向社会征集城市生命线监测解决方案",
                 "1. 至少接入燃气、供水、桥梁三类数据；2. 告警响应不超过5分钟；3. 试点6个月；4. 告警准确率不低于90%",
                 ("生命线工程", "监测预警", "试点场景"), 6, ("joint_development",), (100, 300), "beidou.3"),
    ),
)

# Companies opening a site, a line or their data to try a technology out (场景开放).
SCENARIOS: tuple[_Written, ...] = (
    _Written("scenario", "siyuan", "nev", "开放长江新区智能网联测试道路场景",
             "公司在长江新区运营约12公里开放测试道路，配备路侧感知单元和边缘计算节点",
             "现有路侧感知以摄像头为主，雨雾和夜间目标漏检严重，车路协同数据利用率低",
             "开放测试道路和路侧设施，征集毫米波雷达与视觉融合的路侧感知方案进行联合测试",
             "1. 200米范围内车辆检测准确率≥98%；2. 感知时延≤100ms；3. 测试期≥3个月；4. 雨雾夜间检测准确率≥90%",
             ("车路协同", "路侧感知", "智能网联"), 6, ("joint_development",), (50, 150), None),
    _Written("scenario", "kemai", "equipment", "开放五轴加工车间验证国产数控系统",
             "公司机加工车间有五轴加工中心16台，主要加工航空结构件，数控系统全部为进口品牌",
             "进口系统维护费用高、二次开发受限，工艺数据无法自主采集",
             "开放2台五轴加工中心作为验证场景，征集国产高档数控系统替换及工艺优化方案",
             "1. 定位精度≤5μm；2. 典型零件加工效率不低于原系统；3. 连续无故障运行≥500小时；4. 提供工艺数据采集接口",
             ("数控系统", "国产替代", "五轴联动"), 7, ("joint_development", "license"), (100, 300), "equipment.1"),
    _Written("scenario", "qinghe", "agriculture", "开放千亩水稻制种基地无人农机作业场景",
             "公司在新洲、黄陂拥有水稻制种基地约1200亩，耕种管收主要依靠人工和传统农机",
             "制种对田间管理要求高，农忙季节用工紧张，施肥施药不精准",
             "开放制种基地作为无人农机和精准施肥技术的试验示范场景，合作期一个生产季",
             "1. 作业直线精度≤5cm；2. 化肥用量减少≥10%；3. 覆盖耕、种、管三个环节；4. 示范作业面积≥500亩",
             ("智慧农机", "精准施肥", "水稻制种"), 6, ("joint_development",), (30, 80), "agriculture.2"),
    _Written("scenario", "jcyl", "medical_devices", "开放社区慢病管理场景征集可穿戴心电监测方案",
             "公司为江岸区23家社区卫生服务中心提供慢病管理信息系统，签约高血压、冠心病患者约4万人",
             "社区缺少动态心电监测手段，阵发性房颤等问题难以及时发现",
             "开放社区慢病管理场景，征集可穿戴心电监测设备及AI分析服务，开展不少于500人的试点",
             "1. 连续监测≥7天；2. 房颤识别灵敏度≥95%；3. 数据可接入现有慢病管理系统；4. 取得二类医疗器械注册证",
             ("可穿戴", "心电监测", "慢病管理"), 7, ("license", "joint_development"), (50, 200), "medical_devices.3"),
    _Written("scenario", "zhixing", "beidou", "开放长江新区桥梁群健康监测场景",
             "公司承担长江新区多座跨江、跨河桥梁的日常养护信息化工作",
             "现有桥梁监测依赖人工定期检测，形变数据采集频次低，难以及时发现异常",
             "开放3座桥梁作为应用场景，征集北斗高精度形变监测与预警方案，开展为期一年的试点",
             "1. 形变监测精度≤2mm；2. 数据采样间隔≤1小时；3. 终端续航≥12个月；4. 预警推送时延≤5分钟",
             ("北斗", "形变监测", "桥梁健康监测"), 6, ("joint_development",), (80, 200), "beidou.2"),
    _Written("scenario", "tianyi", "aerospace", "开放木兰低空飞行营地征集eVTOL观光航线验证",
             "公司在黄陂木兰文旅区运营低空飞行营地，现有直升机观光航线2条",
             "直升机运营噪声大、成本高，游客单次飞行价格难以下降",
             "开放营地起降场和空域资源，征集eVTOL观光航线验证合作，先开展货运与试飞验证",
             "1. 航程≥100km；2. 悬停噪声≤65dB；3. 完成不少于100架次试飞；4. 具备明确的适航取证计划",
             ("eVTOL", "低空经济", "低空观光"), 6, ("joint_development",), (100, 500), "aerospace.1"),
    _Written("scenario", "lvneng", "green", "开放阳逻港区仓库屋顶开展钙钛矿组件实证",
             "公司在阳逻港区管理物流仓库屋顶约8万平方米，已建晶硅分布式光伏12MW",
             "剩余屋顶承重有限，传统组件难以安装，单位面积发电量提升空间小",
             "开放部分屋顶作为钙钛矿叠层及柔性组件户外实证场地，合作开展不少于12个月的发电量对比测试",
             "1. 组件转换效率≥26%；2. 实证12个月衰减≤3%；3. 组件面密度≤5kg/m²；4. 提供第三方发电量检测报告",
             ("钙钛矿", "分布式光伏", "户外实证"), 5, ("joint_development",), (50, 150), "green.1"),
    _Written("scenario", "lingxi", "optoelectronics", "开放智算中心机房测试低功耗高速光互连",
             "公司在光谷运营一座千卡规模的智算中心，集群网络采用400G光模块",
             "集群扩容后光模块功耗和成本占比持续上升，网络时延成为训练效率瓶颈",
             "开放部分机柜作为测试场景，征集800G及以上低功耗光互连方案（含CPO）开展联合测试",
             "1. 单通道速率≥100Gbps；2. 每比特功耗≤5pJ/bit；3. 连续运行3个月误码率≤1E-12；4. 兼容现有交换机",
             ("光互连", "智算中心", "光模块"), 6, ("joint_development", "license"), (100, 400), "optoelectronics.1"),
    _Written("scenario", "changlan", "ai", "开放政务热线知识库场景征集大模型问答方案",
             "公司承建某区12345政务热线的工单与知识库系统，知识条目约3万条",
             "话务员检索知识耗时长，新政策上线后答复口径不一致",
             "开放脱敏后的知识库和历史工单，征集可私有化部署的大模型问答与辅助派单方案",
             "1. 问答准确率≥85%；2. 首字响应时间≤1秒；3. 私有化部署单机显存占用≤48GB；4. 试运行3个月",
             ("大模型", "政务热线", "检索增强生成"), 6, ("license", "joint_development"), (50, 150), "ai.2"),
    _Written("scenario", "tianwen", "6g", "开放光谷园区5G-A基站征集通感一体化低空监测方案",
             "公司在光谷园区部署5G-A试验基站12个，覆盖约6平方公里",
             "园区无人机“黑飞”时有发生，现有雷达监测成本高、覆盖不连续",
             "开放试验基站和园区空域，征集通感一体化无人机探测方案开展联合验证",
             "1. 无人机探测距离≥1km；2. 测距精度≤3m；3. 感知更新率≥10Hz；4. 虚警率≤5%",
             ("通感一体化", "低空感知", "5G-A"), 5, ("joint_development",), (100, 300), "6g.2"),
)

# Roles a company wants to bring in (人才需求), one per field: (role, the experience it needs).
TALENT_ROLES: dict[str, tuple[str, str]] = {
    "optoelectronics": ("硅光芯片设计首席工程师", "硅基光电子器件设计与流片"),
    "biomedicine": ("临床前药理毒理研究负责人", "创新药药效与安全性评价"),
    "ai": ("计算机视觉算法团队负责人", "工业视觉检测算法研发"),
    "nev": ("电池管理系统架构师", "BMS算法与功能安全开发"),
    "beidou": ("GNSS高精度算法专家", "RTK/PPP定位算法研发"),
    "quantum": ("量子精密测量系统工程师", "原子物理实验与精密测控"),
    "synbio": ("发酵工艺放大专家", "微生物发酵从小试到千吨级放大"),
    "6g": ("毫米波射频芯片设计专家", "毫米波与太赫兹射频集成电路设计"),
    "ic": ("功率器件工艺整合工程师", "碳化硅器件工艺整合"),
    "equipment": ("数控系统软件架构师", "数控系统实时内核与插补算法"),
    "materials": ("复合材料成型工艺专家", "热塑性复合材料成型工艺"),
    "green": ("环保工艺包设计负责人", "工业废水处理工艺设计"),
    "agriculture": ("作物育种首席科学家", "水稻分子育种"),
    "digital": ("隐私计算架构师", "隐私计算与数据合规"),
    "aerospace": ("飞控系统总设计师", "无人机与eVTOL飞控及适航"),
    "medical_devices": ("医疗器械注册与质量体系负责人", "二、三类医疗器械注册申报"),
}
# fmt: on

_TECH_TITLES = (
    "寻求{subject}技术合作",
    "{application}用{subject}技术需求",
    "征集基于{method}的{subject}解决方案",
    "{subject}国产化替代联合攻关",
    "{application}{subject}性能提升技术需求",
)
# Sentences a company writes its problem in; several of each so two demands rarely share a frame
# (one template everywhere would make unrelated demands look like near-duplicates).
_TECH_NOW = (
    "我公司主要从事{application}相关产品的研发与生产，{subject}主要依赖进口，年采购额约{spend}万元",
    "我公司面向{application}提供整机和服务，现用{subject}为自研第一代方案，{metric_now}",
    "我们正在规划{application}新产线，{subject}环节尚无成熟的国产供应商，样品测试{metric_now}",
    "{application}是公司的主营方向，去年因{subject}供货不稳定损失订单约{spend}万元",
    "为满足{application}客户新一代产品要求，公司启动了{subject}升级项目，内部测试{metric_now}",
)
_TECH_IMPACT = (
    "直接影响产品交付周期和成本",
    "客户投诉和返工率居高不下",
    "制约了公司产品升级和市场拓展",
    "多个重点客户的招标门槛达不到",
    "毛利率被进口部件压缩到15%以下",
)
_TECH_HOPE = (
    "寻求掌握{method}技术的高校院所或企业合作，{modes}，{months}个月内完成样机验证并导入产线",
    "希望对接{method}方向的研究团队，{modes}，首期{months}个月在我司产线上完成中试",
    "欢迎有{method}成果的团队揭榜，{modes}，揭榜后{months}个月内交付可量产的工艺包",
    "计划与{method}领域的专家团队共建联合实验室，{modes}，{months}个月完成工程化验证",
    "有意向的单位请提供{method}相关检测报告，{modes}，争取{months}个月后批量采用",
)
_MODE_PHRASES: dict[str, str] = {
    "license": "以技术许可方式引进",
    "transfer": "受让相关专利技术",
    "joint_development": "开展联合开发",
    "equity": "可接受技术作价入股",
    "other": "合作方式可协商",
}
_CLOSING_INDICATORS = (
    "通过第三方检测机构检测",
    "连续稳定运行≥3个月",
    "提供不少于3家用户的应用证明",
    "满足相关国家或行业标准",
)
_CONTACT_TITLES = ("技术总监", "研发部经理", "总经理", "首席技术官", "项目经理", "副总经理")
_SOURCES = ("bot", "api", "import", "collected")
_SOURCE_WEIGHTS = (25, 30, 15, 30)
_ROUNDS = (("天使轮", "angel"), ("Pre-A轮", "pre_a"), ("A轮", "a"), ("B轮", "b"))


def _indicators(rng: random.Random, metrics: tuple[Metric, ...], shares: tuple[float, ...]) -> str:
    parts = [m.required(m.value(s)) for m, s in zip(metrics, shares, strict=True)]
    parts.append(rng.choice(_CLOSING_INDICATORS))
    return "；".join(f"{n}. {p}" for n, p in enumerate(parts, start=1))


def _budget(rng: random.Random, low: int, high: int) -> tuple[int, int]:
    low_cny = _wan(rng, low, high)
    return low_cny, low_cny * rng.choice((3, 4, 5, 6)) // 2 // 50_000 * 50_000


def _frames4(n: int) -> tuple[int, int, int, int]:
    """Which of five wordings the n-th technology demand uses for its title and three sentences.

    The values at t = 0..3 of the polynomial whose base-5 digits are n (mod 5): two polynomials of
    degree two agree at two points at most, so two of the first 125 demands share two wordings at most.
    """
    x0, x1, x2 = n % 5, n // 5 % 5, n // 25 % 5
    a, b, c, d = ((x0 + x1 * t + x2 * t * t) % 5 for t in range(4))
    return a, b, c, d


def _technology(
    rng: random.Random,
    topic: Topic,
    n: int,
    *,
    close: AchievementSpec | None = None,
) -> _Parts:
    """The parts of a technology demand from one topic; with ``close``, written so that achievement fits:
    same method and application, indicators it meets, a minimum TRL it passes, a mode it offers."""
    title_frame, now_frame, impact_frame, hope_frame = _frames4(n)
    method = next(m for m in topic.methods if m.keyword == close.method) if close else rng.choice(topic.methods)
    application = close.application if close else rng.choice(topic.applications)
    fill = {
        "subject": topic.subject,
        "application": application,
        "method": method.phrase,
        "spend": rng.choice((200, 300, 500, 800, 1200)),
        "metric_now": _short_of(rng, topic),
    }
    if close:
        # Shares below the achievement's own: every required value is one it reaches.
        pairs = zip(topic.metrics, close.figures, strict=True)
        shares = tuple(max(0.0, _share(m, v) - rng.uniform(0.05, 0.25)) for m, v in pairs)
        min_trl = max(3, close.trl - rng.randint(0, 2))
        modes = tuple(dict.fromkeys((rng.choice(close.transfer_modes), rng.choice(("license", "joint_development")))))
    else:
        shares = tuple(rng.uniform(0.2, 0.8) for _ in topic.metrics)
        min_trl = rng.randint(4, 7)
        modes = tuple(sorted(set(rng.sample(("license", "transfer", "joint_development"), rng.randint(1, 2)))))
    hope = (
        _TECH_HOPE[hope_frame].format(
            method=method.phrase,
            modes="或".join(_MODE_PHRASES[m] for m in modes),
            months=rng.choice((6, 9, 12, 18)),
        )
        + f"，重点关注{'、'.join(topic.keywords)}"
    )
    pain = f"{topic.pain}，{_TECH_IMPACT[impact_frame]}"
    return _Parts(
        title=_TECH_TITLES[title_frame].format(**fill),
        description=_description(_TECH_NOW[now_frame].format(**fill), pain, hope),
        indicators=_indicators(rng, topic.metrics, shares),
        tags=tuple(dict.fromkeys((*topic.keywords[:2], method.keyword))),
        min_trl=min_trl,
        modes=modes,
        budget=_budget(rng, 50, 800),
        topic=topic.key,
    )


def _short_of(rng: random.Random, topic: Topic) -> str:
    """Where the company's own solution stands today, at the weak end of a metric's range."""
    metric = rng.choice(topic.metrics)
    return f"{metric.name}仅{metric.text(metric.value(rng.uniform(0.0, 0.15)))}"


def _share(metric: Metric, value: float) -> float:
    """Where ``value`` sits in the metric's range, 0 (worst end) to 1 (best end)."""
    span = metric.high - metric.low
    share = (value - metric.low) / span if metric.higher_is_better else (metric.high - value) / span
    return min(1.0, max(0.0, share))


def _frames(n: int) -> tuple[int, int, int]:
    """Which of five wordings the n-th demand of a kind uses for its three sentences.

    (n, n // 5, n + n // 5) mod 5: 25 distinct triples, and any two of them share at most one
    sentence, so no two talent or capital demands read alike (they would be flagged as near-duplicates).
    """
    return n % 5, n // 5 % 5, (n + n // 5) % 5


def _talent(rng: random.Random, topic: Topic, n: int) -> _Parts:
    field = topic.field
    role, area = TALENT_ROLES[field]
    low, high = rng.choice(((50, 80), (60, 100), (80, 150), (100, 200)))
    application = rng.choice(topic.applications)
    a, b, c = _frames(n)
    now = (
        f"公司现有研发人员{rng.randint(15, 120)}人，主要从事{topic.subject}相关产品开发",
        f"我们面向{application}开发{topic.subject}，{rng.randint(2, 6)}项产品处于样机阶段",
        f"{topic.subject}业务去年营收增长{rng.randint(30, 120)}%，{application}客户认为{_short_of(rng, topic)}",
        f"公司承担了省级{FIELD_NAMES[field]}重点研发计划项目，{topic.subject}已进入工程化",
        f"与{application}龙头企业签订了{topic.subject}联合开发协议，交付节点临近",
    )[a]
    pain = (
        f"缺少{area}方向的领军人才，{topic.pain}等关键问题攻关进展缓慢",
        f"{topic.pain}，没有{area}方面的带头人，指标与竞品差距明显",
        f"原{area}负责人离职，{'、'.join(topic.keywords[:2])}方向的工作几乎停滞",
        f"现有工程师多为应届毕业生，{area}经验不足，试制良率不稳定",
        f"{topic.pain}，外聘顾问每月到场两天，远不能满足进度",
    )[b]
    hope = (
        f"全职或柔性引进{role}，带领{rng.randint(5, 15)}人队伍，年薪{low}–{high}万元并配股权激励",
        f"{role}可全职或双聘，年薪{low}–{high}万元",
        f"希望{area}方向的资深专家加盟，牵头{'、'.join(topic.keywords[:2])}攻关，待遇面议",
        f"诚聘{role}，提供{rng.randint(200, 800)}平方米实验场地和{low}万元以上年薪",
        f"欢迎高校教师以兼职、技术顾问或离岗创业方式加入，年度报酬{low}–{high}万元",
    )[c]
    indicators = (
        f"1. 博士学位或正高级职称；2. {rng.randint(5, 12)}年以上{area}工作经验；"
        f"3. 主持或核心参与过国家级或省部级项目；4. 到岗后{rng.choice((12, 18, 24))}个月内完成{topic.subject}样机开发"
    )
    return _Parts(
        title=f"引进{role}",
        description=_description(now, pain, hope),
        indicators=indicators,
        tags=("人才引进", topic.keywords[0], FIELD_NAMES[field]),
        min_trl=None,
        modes=(),
        budget=(low * 10_000, high * 10_000),
        topic=topic.key,
    )


def _capital(rng: random.Random, topic: Topic, n: int, universities: list[OrgSpec]) -> _Parts:
    field = topic.field
    round_name, _ = rng.choice(_ROUNDS)
    purpose = rng.choice(("产线建设", "扩产", "中试线建设", "临床试验" if field == "biomedicine" else "市场拓展"))
    amount = rng.choice((1000, 2000, 3000, 5000, 8000, 10000))
    metric = rng.choice(topic.metrics)
    figure = metric.achieved(metric.value(rng.uniform(0.5, 0.9)))
    application = rng.choice(topic.applications)
    a, b, c = _frames(n)
    now = (
        f"公司成立{rng.randint(2, 8)}年，核心团队来自{rng.choice(universities).name}，自主研发的{topic.subject}"
        f"{figure}，已通过{rng.randint(2, 10)}家{application}领域客户验证",
        f"公司由{rng.choice(universities).name}科研人员创办，围绕{'、'.join(topic.keywords)}形成核心专利"
        f"{rng.randint(8, 40)}项，{topic.subject}样机{figure}",
        f"我们的{topic.subject}已在{application}场景小批量供货，{figure}，在手订单约{rng.randint(10, 60) * 100}万元",
        f"{topic.subject}去年销售收入约{rng.randint(5, 80) * 100}万元，主要客户集中在{'、'.join(topic.applications)}",
        f"完成{topic.subject}首台套验证，{figure}，入选湖北省首台（套）重大技术装备目录",
    )[a]
    pain = (
        f"产品解决了{topic.pain}的问题，但资金缺口约{amount}万元，银行授信额度有限",
        f"订单增长快于产能，自有资金难以覆盖{purpose}投入",
        f"下游客户要求年内形成批量交付能力，{'、'.join(topic.applications[:2])}订单已排到明年",
        f"固定资产少、缺抵押物，{purpose}所需的设备款无法通过贷款解决",
        f"同类进口产品开始降价，必须尽快上规模摊薄{topic.subject}成本",
    )[b]
    hope = (
        f"引入产业资本或风险投资，出让股权不超过{rng.choice((10, 12, 15, 20))}%，"
        f"资金用于{'、'.join(topic.keywords[:2])}研发",
        f"优先考虑熟悉{FIELD_NAMES[field]}赛道、能导入{application}客户的投资方",
        f"希望政府引导基金领投，{rng.choice((3, 6))}个月内完成交割",
        f"可接受对赌以外的常规条款，也欢迎上下游企业战略入股{topic.subject}项目",
        f"本轮估值约{amount * rng.randint(5, 10) // 100}亿元，欢迎投资机构来厂考察",
    )[c]
    indicators = (
        f"1. 投资金额≥{amount}万元；2. {rng.choice((3, 6))}个月内完成交割；"
        f"3. 投资方具备{FIELD_NAMES[field]}产业资源或后续轮次跟投能力"
    )
    return _Parts(
        title=rng.choice(
            (
                f"{topic.subject}{purpose}项目寻求{round_name}融资",
                f"{round_name}融资：{topic.subject}{purpose}",
                f"{topic.subject}项目股权融资{amount}万元",
            )
        ),
        description=_description(now, pain, hope),
        indicators=indicators,
        tags=("股权融资", round_name, topic.keywords[0]),
        min_trl=None,
        modes=("equity",),
        budget=(amount * 10_000, amount * 10_000 * 3 // 2),
        topic=topic.key,
    )


def _pick_field(rng: random.Random) -> str:
    return rng.choices(list(FIELD_QUOTAS), weights=list(FIELD_QUOTAS.values()))[0]


def demands(
    rng: random.Random, orgs: tuple[OrgSpec, ...], library: tuple[AchievementSpec, ...]
) -> tuple[DemandSpec, ...]:
    """~100 demands, oldest first: 60 technology (10 written to match a given achievement, three
    near-duplicate pairs), 15 talent, 13 capital, 12 scenario (one near-duplicate pair)."""
    by_key = {o.key: o for o in orgs}
    companies = {f: [o for o in orgs if o.kind == "company" and f in o.fields] for f in FIELD_QUOTAS}
    universities = [o for o in orgs if o.kind == "university"]
    drafts: list[_Draft] = []

    def add(draft: _Draft) -> int:
        drafts.append(draft)
        return len(drafts) - 1

    # Ten demands written against ten mature achievements of ten different fields.
    # No two generated technology demands share a topic, nor one of a hand-written pair: written from
    # one template, two demands of one topic would be near-duplicates nobody meant.
    free = [t for t in TOPICS_BY_KEY if t not in {w.topic for pair in DUPLICATE_PAIRS for w in pair}]
    mature = [i for i, a in enumerate(library) if a.trl >= 6 and a.topic in free]
    rng.shuffle(mature)
    seen_fields: set[str] = set()
    for index in mature:
        achievement = library[index]
        if achievement.field in seen_fields or len(seen_fields) == 10:
            continue
        seen_fields.add(achievement.field)
        free.remove(achievement.topic)
        topic = TOPICS_BY_KEY[achievement.topic]
        company = rng.choice(companies[achievement.field])
        parts = _technology(rng, topic, len(drafts), close=achievement)
        add(_Draft("technology", achievement.field, company.key, parts, age=rng.randint(60, 150), close_to=index))
    for key in rng.sample(free, 44):
        topic = TOPICS_BY_KEY[key]
        company = rng.choice(companies[topic.field])
        add(_Draft("technology", topic.field, company.key, _technology(rng, topic, len(drafts))))
    # Talent and capital demands: one field each for talent, one topic each for capital.
    for n, field in enumerate(rng.sample(list(FIELD_QUOTAS), 15)):
        topic = rng.choice(TOPICS_BY_FIELD[field])
        add(_Draft("talent", field, rng.choice(companies[field]).key, _talent(rng, topic, n)))
    for n, key in enumerate(rng.sample(list(TOPICS_BY_KEY), 13)):
        topic = TOPICS_BY_KEY[key]
        parts = _capital(rng, topic, n, universities)
        add(_Draft("capital", topic.field, rng.choice(companies[topic.field]).key, parts))

    def written(w: _Written, *, age: int | None = None, restates: int | None = None) -> int:
        description = _description(w.now, w.pain, w.hope)
        budget = (w.budget_wan[0] * 10_000, w.budget_wan[1] * 10_000)
        parts = _Parts(w.title, description, w.indicators, w.tags, w.min_trl, w.modes, budget, w.topic)
        return add(_Draft(w.kind, w.field, w.organization, parts, age=age, restates=restates))

    for scenario in SCENARIOS:
        written(scenario)
    for first, second in DUPLICATE_PAIRS:
        age = rng.randint(20, 90)
        original = written(first, age=age)
        written(second, age=age - rng.randint(2, 10), restates=original)

    # Ages for the rest, then oldest first (duplicate_of is remapped to the final order).
    ages = [d.age if d.age is not None else rng.randint(5, 150) for d in drafts]
    order = sorted(range(len(drafts)), key=lambda i: (-ages[i], i))
    position = {old: new for new, old in enumerate(order)}
    out: list[DemandSpec] = []
    for old in order:
        d, p = drafts[old], drafts[old].parts
        company = by_key[d.organization]
        source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
        title = {"talent": "人力资源总监", "capital": "董事会秘书"}.get(d.kind) or rng.choice(_CONTACT_TITLES)
        out.append(
            DemandSpec(
                external_id=f"WC-DEM-{len(out) + 1:04d}",
                kind=d.kind,
                title=p.title,
                description=p.description,
                indicators=p.indicators,
                field=d.field,
                tags=p.tags,
                min_trl=p.min_trl,
                transfer_modes=p.modes,
                budget_min_cny=p.budget[0],
                budget_max_cny=p.budget[1],
                organization=company.key,
                district=company.district,
                contact_name=person_name(rng),
                contact_title=title,
                source=source,
                collected_by_broker=rng.randrange(10) if source == "collected" else None,
                created_days_ago=ages[old],
                deadline_days=rng.randint(20, 240),
                topic=p.topic,
                close_to=d.close_to,
                duplicate_of=position[d.restates] if d.restates is not None else None,
            )
        )
    return tuple(out)


# --- investors and what happens ---------------------------------------------------------------------

# (fund key, profile name, description, rounds, ticket range in 万元)
# fmt: off
_INVESTOR_PROFILES: tuple[tuple[str, str, str, tuple[str, ...], tuple[int, int]], ...] = (
    ("ggangel", "光谷科创天使基金",
     "聚焦光电子信息、集成电路和人工智能早期项目，重点投资高校院所科技成果转化团队，可提供概念验证和中试阶段资金。",
     ("angel", "pre_a"), (200, 1500)),
    ("cjcg", "长江成果转化基金",
     "市级科技成果转化引导基金管理人，投资生物医药、新材料、节能环保等领域处于中试和产业化阶段的项目。",
     ("pre_a", "a", "b"), (500, 5000)),
    ("cgcy", "车谷产业投资基金",
     "围绕新能源与智能网联汽车产业链上下游投资，关注电驱、线控底盘、北斗定位与低空飞行器配套企业。",
     ("a", "b", "c_plus", "strategic"), (2000, 20000)),
    ("ykj", "楚天硬科技创投基金",
     "投资高端装备、集成电路、新材料、量子等硬科技方向，偏好有核心专利和明确国产替代空间的团队。",
     ("pre_a", "a", "b"), (1000, 8000)),
    ("hjsw", "汉江生物医药产业基金",
     "专注创新药、医疗器械和合成生物，具备临床与注册申报资源，可联合光谷生物城园区提供载体支持。",
     ("a", "b", "c_plus"), (1500, 15000)),
    ("dhwl", "东湖未来产业创投",
     "布局6G、量子科技、合成生物、商业航天等未来产业，接受技术作价入股和早期股权投资。",
     ("angel", "pre_a", "a"), (300, 3000)),
)
# fmt: on


def investors(orgs: tuple[OrgSpec, ...]) -> tuple[InvestorSpec, ...]:
    by_key = {o.key: o for o in orgs}
    return tuple(
        InvestorSpec(
            organization=key,
            name=name,
            description=description,
            fields_of_interest=by_key[key].fields,
            stages=stages,
            ticket_min_cny=low * 10_000,
            ticket_max_cny=high * 10_000,
            # Funds invest city-wide but say where they look first.
            districts=(by_key[key].district, "donghu_gaoxin") if by_key[key].district != "donghu_gaoxin" else (),
        )
        for key, name, description, stages, (low, high) in _INVESTOR_PROFILES
    )


# The three major contracts (重大成果转化, ≥ MAJOR_TRANSFER_CNY).
MAJOR_AMOUNTS_CNY = (23_500_000, 16_000_000, 12_800_000)


def scripts(
    rng: random.Random,
    library: tuple[AchievementSpec, ...],
    posted: tuple[DemandSpec, ...],
    funds: tuple[InvestorSpec, ...],
) -> tuple[tuple[ConnectionScript, ...], tuple[ContractScript, ...], tuple[ClaimScript, ...], tuple[ClaimScript, ...]]:
    """Connections, contracts, claims and refused claims over the generated records.

    The ten demands written against an achievement get a connection with it (four reach a contract);
    twelve more technology demands get one with an achievement of their topic that passes their minimum
    TRL (two contracts); three capital demands meet a fund. Six contracts in all, three of them major.
    """
    connections: list[ConnectionScript] = []

    def connect(demand: int, achievement: int | None, investor: str | None, status: str) -> None:
        age = posted[demand].created_days_ago
        connections.append(
            ConnectionScript(
                demand=demand,
                achievement=achievement,
                investor=investor,
                status=status,
                wants_broker=rng.random() < 0.4,
                origin=rng.choice(("push", "push", "bot", "organizer")),
                days_after_demand=rng.randint(1, max(1, min(14, age // 3))),
            )
        )

    close = [i for i, d in enumerate(posted) if d.close_to is not None]
    statuses = ["contracted"] * 4 + ["in_talks"] * 3 + ["open"] * 2 + ["closed"]
    rng.shuffle(statuses)
    for demand, status in zip(close, statuses, strict=True):
        connect(demand, posted[demand].close_to, None, status)

    candidates = [
        i
        for i, d in enumerate(posted)
        if d.kind == "technology" and d.close_to is None and d.duplicate_of is None and d.created_days_ago >= 30
    ]
    chosen = sorted(rng.sample(candidates, 12), key=lambda i: -posted[i].created_days_ago)
    for demand, status in zip(
        chosen, ["contracted"] * 2 + ["in_talks"] * 4 + ["open"] * 4 + ["closed"] * 2, strict=True
    ):
        d = posted[demand]
        fits = [i for i, a in enumerate(library) if a.topic == d.topic and a.trl >= (d.min_trl or 1)]
        if fits:
            connect(demand, rng.choice(fits), None, status)

    capital = [i for i, d in enumerate(posted) if d.kind == "capital"]
    for demand, status in zip(rng.sample(capital, 3), ("in_talks", "open", "open"), strict=True):
        field = posted[demand].field
        fitting = [f.organization for f in funds if field in f.fields_of_interest] or [f.organization for f in funds]
        connect(demand, None, rng.choice(fitting), status)

    # Claims: every demand in talks or contracted has an accountable broker, and a few open ones too.
    claims: dict[int, ClaimScript] = {}
    for c in connections:
        if c.status in ("in_talks", "contracted") or rng.random() < 0.3:
            claims[c.demand] = ClaimScript(c.demand, rng.randrange(10), rng.randint(0, c.days_after_demand))
    for demand in rng.sample(range(len(posted)), 8):
        claims.setdefault(demand, ClaimScript(demand, rng.randrange(10), rng.randint(0, 5)))
    held = sorted(claims)
    contested = tuple(
        ClaimScript(d, (claims[d].broker + 1 + rng.randrange(9)) % 10, claims[d].days_after_demand + 1)
        for d in rng.sample(held, 2)
    )

    contracted = [i for i, c in enumerate(connections) if c.status == "contracted"]

    # The majors go to the key-tier, highest-priced achievements.
    def weight(i: int) -> tuple[bool, int]:
        achievement = library[connections[i].achievement or 0]
        return achievement.tier == "key", achievement.price_max_cny or 0

    contracted.sort(key=weight, reverse=True)
    contracts: list[ContractScript] = []
    for n, index in enumerate(contracted):
        c = connections[index]
        achievement = library[c.achievement or 0]
        wanted = posted[c.demand].transfer_modes
        common = [m for m in achievement.transfer_modes if m in wanted]
        amount = MAJOR_AMOUNTS_CNY[n] if n < len(MAJOR_AMOUNTS_CNY) else _wan(rng, 80, 600)
        room = posted[c.demand].created_days_ago - c.days_after_demand - 1
        contracts.append(
            ContractScript(
                connection=index,
                contract_no=f"WC-HT-{n + 1:04d}",
                mode=(common or list(achievement.transfer_modes))[0],
                amount_cny=amount,
                major=amount >= MAJOR_TRANSFER_CNY,
                days_after_connection=rng.randint(min(10, room), min(60, room)),
            )
        )
    return tuple(connections), tuple(contracts), tuple(claims[d] for d in held), contested


def build(seed: int = SEED) -> SupplyDemo:
    """The whole supply-chain demo for ``seed`` (the same seed, the same demo)."""
    rng = random.Random(seed)
    orgs = organizations(rng)
    library = achievements(rng, orgs)
    posted = demands(rng, orgs, library)
    funds = investors(orgs)
    connections, contracts, claims, contested = scripts(rng, library, posted, funds)
    return SupplyDemo(orgs, library, posted, funds, connections, contracts, claims, contested)


__all__ = [
    "CREDIT_ALPHABET",
    "CREDIT_WEIGHTS",
    "DUPLICATE_PAIRS",
    "FIELD_NAMES",
    "FIELD_QUOTAS",
    "MAJOR_TRANSFER_CNY",
    "SEED",
    "AchievementSpec",
    "ClaimScript",
    "ConnectionScript",
    "ContractScript",
    "DemandSpec",
    "InvestorSpec",
    "OrgSpec",
    "SupplyDemo",
    "achievements",
    "build",
    "credit_check_character",
    "credit_code",
    "demands",
    "investors",
    "is_valid_credit_code",
    "organizations",
    "patent_number",
    "scripts",
]
