"""The competitions demo as pure data (#14 point 9): 英雄杯 with nine district tracks and a few hundred
entries through 初赛 and 复赛, 武创源 with technology tracks, two award tiers (引领, 突破) and its final
still to score, ~40 judges of whom several are deliberately conflicted, and a score generator.

Nothing here touches the database; a loader feeds these records to the competition services. Entries
are written from the same topics as the supply demo (``wuchuang.demo_supply_topics``). Startups and
their mail domains are invented (``example.com``); universities keep the demo's ``example.org`` hosts.

``CONFLICT_CASES`` lists the conflicts that were planted and the rule that must find each: a judge of
"武汉睿思光电股份有限公司" and an entry of "武汉睿思光电有限公司", a judge whose mail sits at an entrant's
company domain, a declared former employer, a shareholder the entrant declared, a university and one of
its schools. Other conflicts arise naturally (a university judge and that university's student teams).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from wuchuang.demo_data import GIVEN_CHARS, SURNAMES
from wuchuang.demo_supply_topics import TOPICS, TOPICS_BY_KEY, Topic

SEED = 20_241_401


@dataclass(frozen=True, slots=True)
class CriterionSpec:
    key: str
    name: str
    weight: float  # share of the total (the weights of a competition sum to 1)
    max: float
    description: str


@dataclass(frozen=True, slots=True)
class TrackSpec:
    code: str
    name: str
    kind: str  # district | technology
    district: str | None  # an events.districts code for a district track
    fields_of_interest: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoundSpec:
    code: str
    name: str
    judges_per_entry: int
    advance: dict[str, int]  # {"top": n} | {"top_per_track": n}; empty: nobody by rule
    notice_days: int
    disagreement_gap: float | None  # on the total's scale (Σ weight·max = 10)
    # What the loader does with it: "scored" (all judges score, the round is closed and its notice
    # runs out) or "open" (assigned, waiting for scores: the live part of the demo).
    demo_state: str


@dataclass(frozen=True, slots=True)
class AwardTierSpec:
    code: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class CompetitionSpec:
    key: str  # "hero" | "wuchuangyuan"
    series: str
    title: str  # "{year}" is filled in by the loader
    description: str
    aggregation: str  # mean | trimmed_mean | zscore
    tie_break: tuple[str, ...]
    award_tiers: tuple[AwardTierSpec, ...]
    tracks: tuple[TrackSpec, ...]
    rounds: tuple[RoundSpec, ...]
    criteria: tuple[CriterionSpec, ...]
    entry_count: int


@dataclass(frozen=True, slots=True)
class TeamMember:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class EntrySpec:
    key: str  # stable: "hero-0001", or the planted ones' names ("hero-ruisi")
    competition: str  # CompetitionSpec.key
    track: str  # TrackSpec.code
    title: str
    summary: str
    team: tuple[TeamMember, ...]  # leader first
    leader_name: str
    organization: str
    contact_email: str
    declared_ties: tuple[str, ...]  # shareholders, affiliations the entrant declares
    fields_of_technology: tuple[str, ...]
    topic: str
    quality: float  # 0..1, hidden: what the judges' scores centre on


@dataclass(frozen=True, slots=True)
class JudgeSpec:
    key: str
    name: str
    organization: str
    email: str
    expertise: tuple[str, ...]  # field codes, and track codes for district judges
    conflicts: tuple[str, ...]  # organizations the judge declares ties to
    competitions: tuple[str, ...]  # CompetitionSpec.key of each competition they judge
    leniency: float  # added to every share they give (−0.1 severe … +0.1 lenient)
    noise: float  # spread of their scores around an entry's quality


@dataclass(frozen=True, slots=True)
class ConflictCase:
    judge: str  # JudgeSpec.key
    entry: str  # EntrySpec.key
    rule: str  # declared_tie | same_organization | email_domain | entrant_declared
    why: str


@dataclass(frozen=True, slots=True)
class CompetitionDemo:
    competitions: tuple[CompetitionSpec, ...]
    entries: tuple[EntrySpec, ...]
    judges: tuple[JudgeSpec, ...]
    conflict_cases: tuple[ConflictCase, ...]


# --- the two competitions ---------------------------------------------------------------------------

HERO_CRITERIA: tuple[CriterionSpec, ...] = (
    CriterionSpec("innovation", "技术创新性", 0.30, 10, "核心技术的先进性、原创性和知识产权情况"),
    CriterionSpec("market", "市场前景", 0.25, 10, "目标市场规模、商业模式和竞争优势"),
    CriterionSpec("team", "团队能力", 0.20, 10, "团队结构、专业背景和执行力"),
    CriterionSpec("landing", "落地条件", 0.15, 10, "在汉落地的场地、产业链配套和推进计划"),
    CriterionSpec("social", "社会效益", 0.10, 10, "带动就业、绿色低碳和产业带动作用"),
)

# 英雄杯's nine tracks are run by districts and functional zones.
_HERO_DISTRICTS: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("donghu_gaoxin", "东湖高新赛区", ("optoelectronics", "ic", "biomedicine", "ai", "quantum", "6g"), 70),
    ("wuhan_jingkai", "武汉经开赛区", ("nev", "equipment", "aerospace"), 40),
    ("hongshan", "洪山赛区", ("ai", "beidou", "agriculture", "digital"), 40),
    ("wuchang", "武昌赛区", ("digital", "ai", "beidou"), 30),
    ("jiangxia", "江夏赛区", ("biomedicine", "synbio", "medical_devices"), 30),
    ("changjiang_xinqu", "长江新区赛区", ("nev", "beidou", "digital"), 25),
    ("jiangan", "江岸赛区", ("digital", "medical_devices"), 25),
    ("hanyang", "汉阳赛区", ("equipment", "digital", "nev"), 25),
    ("dongxihu", "东西湖赛区", ("biomedicine", "equipment", "agriculture"), 25),
)

HERO_CUP = CompetitionSpec(
    key="hero",
    series="英雄杯",
    title="{year}“英雄杯”创新创业大赛",
    description=(
        "面向海内外校友和青年创业团队，按区和功能区设九个赛区。初赛每个项目3位评委网络评审，各赛区前10名进入复赛；"
        "复赛每个项目5位评委现场评审，去掉一个最高分和一个最低分，前33名进入全市总决赛。"
    ),
    aggregation="trimmed_mean",
    tie_break=("median", "highest_min", "earliest_submission"),
    award_tiers=(
        AwardTierSpec("first", "一等奖", 3),
        AwardTierSpec("second", "二等奖", 6),
        AwardTierSpec("third", "三等奖", 10),
        AwardTierSpec("merit", "优秀奖", 14),
    ),
    tracks=tuple(TrackSpec(code, name, "district", code, fields) for code, name, fields, _ in _HERO_DISTRICTS),
    rounds=(
        RoundSpec("preliminary", "初赛", 3, {"top_per_track": 10}, 5, 3.0, "scored"),
        RoundSpec("semifinal", "复赛", 5, {"top": 33}, 7, 2.5, "scored"),
        RoundSpec("final", "决赛", 7, {}, 7, 2.0, "open"),
    ),
    criteria=HERO_CRITERIA,
    entry_count=sum(n for *_, n in _HERO_DISTRICTS),
)

# "专家评技术、市场评价值、落地评环境": three criteria, each judged by the group that knows it.
WUCHUANGYUAN_CRITERIA: tuple[CriterionSpec, ...] = (
    CriterionSpec("technology", "技术先进性", 0.40, 10, "专家评技术：技术水平、成熟度（TRL）和知识产权"),
    CriterionSpec("value", "市场价值", 0.35, 10, "市场评价值：市场空间、商业模式和融资能力"),
    CriterionSpec("environment", "落地环境", 0.25, 10, "落地评环境：在汉转化的场地、配套和政策适配"),
)

WUCHUANGYUAN = CompetitionSpec(
    key="wuchuangyuan",
    series="武创源",
    title="{year}“武创源”科技成果转化大赛",
    description=(
        "聚焦高校院所科技成果在汉转化，设信息技术、生命健康、先进制造三个技术赛道，按专家评技术、市场评价值、"
        "落地评环境评审；决赛评出引领奖和突破奖两档。"
    ),
    aggregation="trimmed_mean",
    tie_break=("median", "scores_count", "earliest_submission"),
    award_tiers=(AwardTierSpec("leading", "引领奖", 10), AwardTierSpec("breakthrough", "突破奖", 16)),
    tracks=(
        TrackSpec(
            "info",
            "信息技术赛道",
            "technology",
            None,
            ("optoelectronics", "ai", "ic", "6g", "quantum", "digital", "beidou"),
        ),
        TrackSpec(
            "health", "生命健康赛道", "technology", None, ("biomedicine", "medical_devices", "synbio", "agriculture")
        ),
        TrackSpec(
            "manufacturing", "先进制造赛道", "technology", None, ("equipment", "nev", "aerospace", "materials", "green")
        ),
    ),
    rounds=(
        RoundSpec("review", "初评", 3, {"top": 30}, 5, 3.0, "scored"),
        RoundSpec("final", "决赛", 7, {}, 7, 2.0, "open"),
    ),
    criteria=WUCHUANGYUAN_CRITERIA,
    entry_count=96,
)

COMPETITIONS: tuple[CompetitionSpec, ...] = (HERO_CUP, WUCHUANGYUAN)


# --- entrants ---------------------------------------------------------------------------------------

# Invented startup brands with the pinyin their mail label is made of.
_BRANDS: tuple[tuple[str, str], ...] = (
    ("光迹", "guangji"), ("芯瞳", "xintong"), ("云鲸", "yunjing"), ("楚微", "chuwei"), ("汉芯", "hanxin"),
    ("智源", "zhiyuan"), ("星链", "xinglian"), ("蓝湖", "lanhu"), ("数擎", "shuqing"), ("珞光", "luoguang"),
    ("晴川", "qingchuan"), ("东篱", "dongli"), ("墨子", "mozi"), ("澜芯", "lanxin"), ("拓微", "tuowei"),
    ("极光", "jiguang"), ("沐禾", "muhe"), ("江汉", "jianghan"), ("启辰", "qichen"), ("知微", "zhiwei"),
    ("元象", "yuanxiang"), ("凌波", "lingbo"), ("瀚海", "hanhai"), ("弘毅", "hongyi"), ("青藤", "qingteng"),
    ("鲲鹏", "kunpeng"), ("赛思", "saisi"), ("微光", "weiguang"), ("衡山", "hengshan"), ("黄鹤", "huanghe"),
)  # fmt: skip
_SECOND: tuple[tuple[str, str], ...] = (
    ("微", "wei"), ("源", "yuan"), ("云", "yun"), ("创", "chuang"), ("达", "da"),
    ("联", "lian"), ("诺", "nuo"), ("科", "ke"), ("航", "hang"), ("锐", "rui"),
)  # fmt: skip
_TRADES: dict[str, str] = {
    "optoelectronics": "光电科技",
    "biomedicine": "生物医药科技",
    "ai": "智能科技",
    "nev": "新能源科技",
    "beidou": "导航技术",
    "quantum": "量子科技",
    "synbio": "生物科技",
    "6g": "通信技术",
    "ic": "半导体科技",
    "equipment": "智能装备",
    "materials": "新材料科技",
    "green": "环保科技",
    "agriculture": "农业科技",
    "digital": "数字科技",
    "aerospace": "航空科技",
    "medical_devices": "医疗科技",
}
# Universities student and alumni teams come from: (name, mail host label as in demo_data.UNIVERSITIES).
_UNIVERSITIES: tuple[tuple[str, str], ...] = (
    ("华中科技大学", "hust"),
    ("武汉大学", "whu"),
    ("武汉理工大学", "whut"),
    ("中国地质大学（武汉）", "cug"),
    ("华中农业大学", "hzau"),
    ("华中师范大学", "ccnu"),
    ("湖北大学", "hubu"),
    ("武汉科技大学", "wust"),
)
_ROLES = ("技术负责人", "市场负责人", "产品经理", "财务负责人", "研发工程师", "运营负责人")


def _person(rng: random.Random) -> tuple[str, str]:
    """A name and its pinyin (for a mail address)."""
    surname, surname_py = rng.choice(SURNAMES)
    given = [rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2)))]
    return surname + "".join(c for c, _ in given), "".join(p for _, p in given) + "." + surname_py


def _team(rng: random.Random) -> tuple[tuple[TeamMember, ...], str]:
    leader, leader_py = _person(rng)
    names = {leader}
    members = [TeamMember(leader, "项目负责人")]
    for role in rng.sample(_ROLES, rng.randint(2, 5)):
        name, _ = _person(rng)
        if name not in names:
            names.add(name)
            members.append(TeamMember(name, role))
    return tuple(members), leader_py


def _title(rng: random.Random, topic: Topic) -> str:
    method = rng.choice(topic.methods).phrase
    application = rng.choice(topic.applications)
    return rng.choice(
        (
            f"{topic.subject}研发及产业化",
            f"面向{application}的{topic.subject}",
            f"基于{method}的{topic.subject}",
            f"{application}{topic.subject}项目",
        )
    )


def _summary(rng: random.Random, topic: Topic, quality: float) -> str:
    metrics = rng.sample(topic.metrics, 2)
    shown = "，".join(m.achieved(m.value(min(1.0, quality + rng.uniform(-0.15, 0.15)))) for m in metrics)
    application = rng.choice(topic.applications)
    stage = rng.choice(
        (
            f"已完成样机开发，与{rng.randint(2, 6)}家{application}领域企业签订试用协议",
            f"已建成小批量产线，去年实现销售收入{rng.randint(3, 60) * 100}万元",
            "已完成中试验证，正在洽谈天使轮融资",
            f"已申请发明专利{rng.randint(3, 20)}项，获得{rng.randint(1, 3)}项省部级科技奖励",
        )
    )
    return (
        f"项目针对{topic.pain}的问题，研发{topic.subject}，{shown}。{stage}。"
        f"计划在汉建设研发和生产基地，三年内服务{application}等领域客户。"
    )


def _startup(rng: random.Random, field: str, used: set[str]) -> tuple[str, str]:
    """An invented company name and its mail domain, new in ``used``."""
    while True:
        brand, brand_py = rng.choice(_BRANDS)
        # Thirty brands run out within a busy field: a second character makes 300 names per field.
        extra, extra_py = rng.choice(_SECOND) if rng.random() < 0.6 else ("", "")
        name = f"武汉{brand}{extra}{_TRADES[field]}有限公司"
        brand_py += extra_py
        if name not in used:
            used.add(name)
            return name, f"{brand_py}{len(used)}.example.com"


def _entries(rng: random.Random, spec: CompetitionSpec, used: set[str]) -> list[EntrySpec]:
    by_field: dict[str, list[Topic]] = {}
    for topic in TOPICS:
        by_field.setdefault(topic.field, []).append(topic)
    quotas = (
        [(t, n) for (_, _, _, n), t in zip(_HERO_DISTRICTS, spec.tracks, strict=True)] if spec.key == "hero" else []
    )
    if not quotas:
        quotas = [(t, spec.entry_count // len(spec.tracks)) for t in spec.tracks]
    out: list[EntrySpec] = []
    for track, count in quotas:
        for _ in range(count):
            field = rng.choice(track.fields_of_interest)
            topic = rng.choice(by_field[field])
            quality = min(0.95, max(0.25, rng.betavariate(3, 3) * 0.75 + 0.22))
            team, leader_py = _team(rng)
            if rng.random() < 0.25:
                university, label = rng.choice(_UNIVERSITIES)
                # A student or alumni team enters under its university (the same-organization rule reads it).
                organization = university + rng.choice(("学生创业团队", "校友创业团队", ""))
                domain = f"{label}.example.org"
            else:
                organization, domain = _startup(rng, field, used)
            out.append(
                EntrySpec(
                    key=f"{spec.key}-{len(out) + 1:04d}",
                    competition=spec.key,
                    track=track.code,
                    title=_title(rng, topic),
                    summary=_summary(rng, topic, quality),
                    team=team,
                    leader_name=team[0].name,
                    organization=organization,
                    contact_email=f"{leader_py}@{domain}",
                    declared_ties=(),
                    fields_of_technology=(field,),
                    topic=topic.key,
                    quality=round(quality, 3),
                )
            )
    return out


# --- judges and the conflicts planted among them ----------------------------------------------------

# (key, organization, mail host, expertise, competitions). Hosts under example.* only.
# fmt: off
_JUDGE_SEATS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("whu-1", "武汉大学", "whu.example.org", ("beidou", "ai", "digital"), ("hero", "wuchuangyuan")),
    ("whu-2", "武汉大学", "whu.example.org", ("biomedicine", "optoelectronics"), ("hero",)),
    ("hust-1", "华中科技大学", "hust.example.org", ("optoelectronics", "ic", "6g"), ("hero", "wuchuangyuan")),
    ("hust-2", "华中科技大学", "hust.example.org", ("equipment", "nev", "medical_devices"), ("hero",)),
    ("whut-1", "武汉理工大学", "whut.example.org", ("materials", "nev", "green"), ("hero", "wuchuangyuan")),
    ("cug-1", "中国地质大学（武汉）", "cug.example.org", ("beidou", "green", "materials"), ("hero",)),
    ("hzau-1", "华中农业大学", "hzau.example.org", ("agriculture", "synbio"), ("hero", "wuchuangyuan")),
    ("ccnu-1", "华中师范大学", "ccnu.example.org", ("digital", "ai"), ("hero",)),
    ("zuel-1", "中南财经政法大学", "zuel.example.org", ("digital",), ("hero", "wuchuangyuan")),
    ("hubu-1", "湖北大学", "hubu.example.org", ("synbio", "biomedicine"), ("hero",)),
    ("wust-1", "武汉科技大学", "wust.example.org", ("materials", "equipment"), ("hero",)),
    ("wnlo-1", "武汉光电国家研究中心", "wnlo.example.org", ("optoelectronics", "medical_devices"), ("wuchuangyuan",)),
    ("jfs-1", "九峰山实验室", "jfs.example.org", ("ic",), ("hero", "wuchuangyuan")),
    ("wiv-1", "中国科学院武汉病毒研究所", "wiv.example.org", ("biomedicine",), ("wuchuangyuan",)),
    ("ovl-1", "光谷实验室", "ovl.example.org", ("optoelectronics", "6g"), ("hero",)),
    ("hsl-1", "洪山实验室", "hsl.example.org", ("agriculture", "synbio"), ("hero",)),
    ("jxl-1", "江夏实验室", "jxl.example.org", ("biomedicine", "medical_devices"), ("hero", "wuchuangyuan")),
    ("cjcg-1", "武汉长江成果转化创业投资基金管理有限公司", "cjcg.example.net",
     ("biomedicine", "materials", "green"), ("hero", "wuchuangyuan")),
    ("cgcy-1", "武汉车谷产业投资基金管理有限公司", "cgcy.example.net", ("nev", "equipment", "aerospace"), ("hero",)),
    ("ykj-1", "武汉楚天硬科技创业投资合伙企业（有限合伙）", "ykj.example.net",
     ("ic", "equipment", "quantum"), ("hero", "wuchuangyuan")),
    ("hjsw-1", "湖北汉江生物医药产业基金管理有限公司", "hjsw.example.net",
     ("biomedicine", "medical_devices", "synbio"), ("hero",)),
    ("dhwl-1", "武汉东湖未来产业创业投资有限公司", "dhwl.example.net", ("6g", "quantum", "aerospace"), ("hero",)),
    ("ind-kemai", "武汉科迈智能装备有限公司", "kemai.example.com", ("equipment",), ("hero",)),
    ("ind-ruike", "武汉瑞科药业有限公司", "ruike.example.com", ("biomedicine",), ("hero", "wuchuangyuan")),
    ("ind-lantu", "武汉澜图时空信息技术有限公司", "lantu.example.com", ("beidou", "digital"), ("hero",)),
    ("ind-zhihang", "武汉智航汽车电子有限公司", "zhihang.example.com", ("nev",), ("hero", "wuchuangyuan")),
    ("ind-hengrun", "武汉恒润环保科技有限公司", "hengrun.example.com", ("green",), ("hero",)),
    ("ind-tianwen", "武汉天问通信技术有限公司", "tianwen.example.com", ("6g", "optoelectronics"), ("hero",)),
    ("ind-lingyun", "武汉凌云航空科技有限公司", "lingyun.example.com", ("aerospace",), ("hero", "wuchuangyuan")),
    ("hbte-1", "湖北技术交易所", "hbte.example.org", ("digital", "equipment"), ("hero", "wuchuangyuan")),
    ("wiid-1", "武汉产业创新发展研究院", "wiid.example.org", ("ai", "digital", "equipment"), ("hero", "wuchuangyuan")),
    ("dhkc-1", "东湖高新区科技创新局", "dhkc.example.org", ("donghu_gaoxin",), ("hero",)),
    ("jkkc-1", "武汉经开区科技创新局", "jkkc.example.org", ("wuhan_jingkai",), ("hero",)),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class _Plant:
    """A conflicted judge and the entry that must be kept from them."""

    judge_key: str
    judge_org: str
    judge_host: str
    judge_conflicts: tuple[str, ...]
    expertise: tuple[str, ...]
    entry_key: str
    competition: str
    track: str
    topic: str
    entry_org: str
    entry_host: str
    entry_ties: tuple[str, ...]
    rule: str
    why: str


# fmt: off
PLANTS: tuple[_Plant, ...] = (
    _Plant("plant-ruisi", "武汉睿思光电股份有限公司", "ruisi.example.com", (), ("optoelectronics", "ic"),
           "hero-ruisi", "hero", "donghu_gaoxin", "optoelectronics.3", "武汉睿思光电有限公司", "rsgd.example.com", (),
           "same_organization", "股份有限公司与有限公司是同一家企业名称的两种写法"),
    _Plant("plant-dingtai", "武汉鼎泰动力电池集团有限公司", "dingtai-group.example.com", (), ("nev",),
           "wcy-dingtai", "wuchuangyuan", "manufacturing", "nev.1", "武汉鼎泰动力电池有限公司", "dingtai.example.com",
           (),
           "same_organization", "集团有限公司与有限公司是同一企业"),
    _Plant("plant-whu-cs", "武汉大学", "cs.whu.example.org", (), ("ai", "digital"),
           "hero-whu-school", "hero", "wuchang", "ai.2", "武汉大学计算机学院", "whu.example.org", (),
           "same_organization", "评委所在大学与参赛学院同属武汉大学（邮箱也是其子域名）"),
    _Plant("plant-lingxi", "湖北省人工智能学会", "lingxi.example.com", (), ("ai",),
           "hero-lingxi", "hero", "donghu_gaoxin", "ai.1", "武汉灵犀智算科技有限公司", "lingxi.example.com", (),
           "email_domain", "评委以学会名义参评，但使用参赛企业的公司邮箱（兼职技术顾问）"),
    _Plant("plant-apm", "中国科学院精密测量科学与技术创新研究院", "apm.example.org", ("武汉星衍量子科技有限公司",),
           ("quantum",),
           "wcy-xingyan", "wuchuangyuan", "info", "quantum.2", "武汉星衍量子科技有限公司", "xingyan.example.com",
           (),
           "declared_tie", "评委申报曾在参赛企业任首席科学家"),
    _Plant("plant-ggangel", "武汉光谷科创天使投资基金管理有限公司", "ggangel.example.net", (),
           ("optoelectronics", "ic"),
           "wcy-xintong", "wuchuangyuan", "info", "ic.1", "武汉芯瞳半导体科技有限公司", "xintong.example.com",
           ("武汉光谷科创天使投资基金管理有限公司",),
           "entrant_declared", "参赛企业申报该基金为其股东（持股8%）"),
)
# fmt: on


def _judges(rng: random.Random) -> list[JudgeSpec]:
    out: list[JudgeSpec] = []
    names: set[str] = set()

    def seat(
        key: str, org: str, host: str, expertise: tuple[str, ...], comps: tuple[str, ...], ties: tuple[str, ...]
    ) -> None:
        while (person := _person(rng))[0] in names:
            pass
        names.add(person[0])
        erratic = key in ("ccnu-1", "ind-hengrun")  # two judges whose scores scatter: the disagreement flag shows
        out.append(
            JudgeSpec(
                key=key,
                name=person[0],
                organization=org,
                email=f"{person[1]}@{host}",
                expertise=expertise,
                conflicts=ties,
                competitions=comps,
                leniency=round(max(-0.12, min(0.12, rng.gauss(0, 0.05))), 3),
                noise=0.2 if erratic else round(rng.uniform(0.04, 0.08), 3),
            )
        )

    for key, org, host, expertise, comps in _JUDGE_SEATS:
        seat(key, org, host, expertise, comps, ())
    for p in PLANTS:
        seat(p.judge_key, p.judge_org, p.judge_host, p.expertise, (p.competition,), p.judge_conflicts)
    return out


def _planted_entries(rng: random.Random) -> list[EntrySpec]:
    out: list[EntrySpec] = []
    for p in PLANTS:
        topic = TOPICS_BY_KEY[p.topic]
        quality = round(rng.uniform(0.82, 0.9), 3)  # strong: they reach the rounds where the conflict bites
        team, leader_py = _team(rng)
        out.append(
            EntrySpec(
                key=p.entry_key,
                competition=p.competition,
                track=p.track,
                title=_title(rng, topic),
                summary=_summary(rng, topic, quality),
                team=team,
                leader_name=team[0].name,
                organization=p.entry_org,
                contact_email=f"{leader_py}@{p.entry_host}",
                declared_ties=p.entry_ties,
                fields_of_technology=(topic.field,),
                topic=topic.key,
                quality=quality,
            )
        )
    return out


# --- scores -----------------------------------------------------------------------------------------


def judge_scores(
    rng: random.Random, criteria: tuple[CriterionSpec, ...], entry: EntrySpec, judge: JudgeSpec
) -> dict[str, float]:
    """A plausible score sheet: the entry's quality, moved by the judge's leniency and noise, per
    criterion, in tenths, within 0..max."""
    sheet: dict[str, float] = {}
    for criterion in criteria:
        share = entry.quality + judge.leniency + rng.gauss(0, judge.noise)
        sheet[criterion.key] = round(min(criterion.max, max(0.0, share * criterion.max)), 1)
    return sheet


def build(seed: int = SEED) -> CompetitionDemo:
    """Both competitions, their entries (planted ones first), judges and the planted conflicts."""
    rng = random.Random(seed)
    used: set[str] = {p.entry_org for p in PLANTS}
    entries = _planted_entries(rng)
    for spec in COMPETITIONS:
        entries.extend(_entries(rng, spec, used))
    judges = _judges(rng)
    cases = tuple(ConflictCase(p.judge_key, p.entry_key, p.rule, p.why) for p in PLANTS)
    return CompetitionDemo(COMPETITIONS, tuple(entries), tuple(judges), cases)


__all__ = [
    "COMPETITIONS",
    "HERO_CUP",
    "PLANTS",
    "SEED",
    "WUCHUANGYUAN",
    "AwardTierSpec",
    "CompetitionDemo",
    "CompetitionSpec",
    "ConflictCase",
    "CriterionSpec",
    "EntrySpec",
    "JudgeSpec",
    "RoundSpec",
    "TeamMember",
    "TrackSpec",
    "build",
    "judge_scores",
]
