"""The organizations of the supply-chain demo: Wuhan's universities, institutes and Hubei laboratories
(real names: they are public bodies), invented companies per district, and invented investment funds.

Companies and funds are invented ("武汉光启微纳科技有限公司" is no real firm); their 统一社会信用代码 are
generated (``credit_code``) and checksum-valid but belong to no one. Mail domains sit under the reserved
``example.*`` names so no demo address can reach a real inbox: universities and institutes under
``example.org`` (the labels match ``wuchuang.demo_data.UNIVERSITIES``), companies under ``example.com``,
funds under ``example.net``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from events.districts import BY_CODE as DISTRICTS

# GB 32100-2015: the 31 characters a code is written in (no I, O, S, V, Z) and the weights of its
# first 17 positions; the 18th is the check character.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: the organization code (positions 9–17) carries its own check character.
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Functional zones have no division code of their own: companies there register with the city's.
_WUHAN_DIVISION = "420100"


@dataclass(frozen=True, slots=True)
class OrgSpec:
    key: str  # stable demo key other tables point with ("whu", "guangqi")
    name: str
    kind: str  # an events.models.OrganizationKind value: university | institute | company | investor
    district: str  # a code from events.districts
    email_domains: tuple[str, ...]
    credit_code: str | None
    fields: tuple[str, ...]  # the technology fields it works in (events.supply_fields codes)


def credit_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of a code's first 17 characters."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organization code body ('X' for 10)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def credit_code(rng: random.Random, prefix: str, division: str) -> str:
    """An invented, checksum-valid 统一社会信用代码.

    ``prefix``: registration authority and category ("91" a company, "12" a public institution,
    "52" a private non-enterprise unit); ``division``: the six-digit division code. Companies get a
    post-2015 organization code ("MA4K…"), others an older all-digit one.
    """
    if prefix == "91":
        body = "MA4K" + "".join(rng.choice(CREDIT_ALPHABET[:-1]) for _ in range(4))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = prefix + division + body + _org_code_check(body)
    return first17 + credit_check_character(first17)


def is_valid_credit_code(code: str) -> bool:
    return len(code) == 18 and all(c in CREDIT_ALPHABET for c in code) and credit_check_character(code[:17]) == code[17]


def _division(district: str) -> str:
    return DISTRICTS[district].division_code or _WUHAN_DIVISION


# (key, name, district, credit-code prefix and division, fields). 12420100 codes: municipal bodies.
# fmt: off
_RESEARCH: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    ("whu", "武汉大学", "university", "wuchang", "12100000",
     ("optoelectronics", "ai", "beidou", "biomedicine", "digital", "aerospace", "6g", "ic")),
    ("hust", "华中科技大学", "university", "hongshan", "12100000",
     ("optoelectronics", "ai", "equipment", "medical_devices", "6g", "ic", "nev", "quantum", "biomedicine")),
    ("whut", "武汉理工大学", "university", "hongshan", "12100000",
     ("materials", "nev", "equipment", "aerospace", "green")),
    ("hzau", "华中农业大学", "university", "hongshan", "12100000", ("agriculture", "synbio")),
    ("cug", "中国地质大学（武汉）", "university", "hongshan", "12100000", ("beidou", "materials", "green")),
    ("ccnu", "华中师范大学", "university", "hongshan", "12100000", ("digital", "ai")),
    ("zuel", "中南财经政法大学", "university", "hongshan", "12100000", ("digital",)),
    ("hubu", "湖北大学", "university", "wuchang", "12420000",
     ("synbio", "biomedicine", "agriculture", "optoelectronics")),
    ("wust", "武汉科技大学", "university", "qingshan", "12420000", ("materials", "green", "equipment", "nev")),
    ("hbut", "湖北工业大学", "university", "hongshan", "12420000", ("equipment", "materials", "green")),
    ("jhun", "江汉大学", "university", "wuhan_jingkai", "12420100", ("nev", "equipment")),
    ("wtu", "武汉纺织大学", "university", "jiangxia", "12420000", ("materials",)),
    ("wiv", "中国科学院武汉病毒研究所", "institute", "jiangxia", "12100000", ("biomedicine",)),
    ("ihb", "中国科学院水生生物研究所", "institute", "wuchang", "12100000", ("agriculture", "green")),
    ("apm", "中国科学院精密测量科学与技术创新研究院", "institute", "wuchang", "12100000", ("quantum", "beidou")),
    ("wnlo", "武汉光电国家研究中心", "institute", "hongshan", "12420000",
     ("optoelectronics", "6g", "medical_devices")),
    ("ovl", "光谷实验室", "institute", "donghu_gaoxin", "12420000", ("optoelectronics",)),
    ("hsl", "洪山实验室", "institute", "hongshan", "12420000", ("agriculture", "synbio")),
    ("jcl", "江城实验室", "institute", "donghu_gaoxin", "12420000", ("ic",)),
    ("ljl", "珞珈实验室", "institute", "wuchang", "12420000", ("beidou", "aerospace")),
    ("dhl", "东湖实验室", "institute", "donghu_gaoxin", "12420000", ("equipment", "6g")),
    ("jxl", "江夏实验室", "institute", "jiangxia", "12420000", ("biomedicine", "medical_devices")),
    ("jfs", "九峰山实验室", "institute", "donghu_gaoxin", "12420000", ("ic",)),
    ("wiid", "武汉产业创新发展研究院", "institute", "donghu_gaoxin", "52420100", ("ai", "digital", "equipment")),
    ("wqi", "武汉量子技术研究院", "institute", "donghu_gaoxin", "52420100", ("quantum",)),
)

# Invented companies: (key = mail label, name, district, fields).
_COMPANIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("guangqi", "武汉光启微纳科技有限公司", "donghu_gaoxin", ("optoelectronics",)),
    ("xinlan", "武汉芯澜半导体有限公司", "donghu_gaoxin", ("ic",)),
    ("boruibio", "武汉博睿生物医药科技有限公司", "donghu_gaoxin", ("biomedicine",)),
    ("xingyan", "武汉星衍量子科技有限公司", "donghu_gaoxin", ("quantum",)),
    ("lingxi", "武汉灵犀智算科技有限公司", "donghu_gaoxin", ("ai", "optoelectronics")),
    ("ruiguang", "武汉锐光激光技术股份有限公司", "donghu_gaoxin", ("optoelectronics", "equipment")),
    ("lantu", "武汉澜图时空信息技术有限公司", "donghu_gaoxin", ("beidou", "digital")),
    ("hengkang", "武汉衡康医疗器械有限公司", "donghu_gaoxin", ("medical_devices",)),
    ("tianwen", "武汉天问通信技术有限公司", "donghu_gaoxin", ("6g",)),
    ("ruisi", "武汉睿思光电股份有限公司", "donghu_gaoxin", ("optoelectronics", "ic")),
    ("luoyu", "武汉珞瑜智能科技有限公司", "hongshan", ("ai", "equipment")),
    ("qinghe", "武汉青禾种业科技有限公司", "hongshan", ("agriculture",)),
    ("changlan", "武汉长澜数字科技有限公司", "wuchang", ("digital", "ai")),
    ("zhihang", "武汉智航汽车电子有限公司", "wuhan_jingkai", ("nev", "beidou")),
    ("dingtai", "武汉鼎泰动力电池有限公司", "wuhan_jingkai", ("nev", "ai")),
    ("kemai", "武汉科迈智能装备有限公司", "wuhan_jingkai", ("equipment",)),
    ("lingyun", "武汉凌云航空科技有限公司", "wuhan_jingkai", ("aerospace",)),
    ("jiahe", "武汉嘉禾合成生物科技有限公司", "jiangxia", ("synbio",)),
    ("ruike", "武汉瑞科药业有限公司", "jiangxia", ("biomedicine",)),
    ("hengrun", "武汉恒润环保科技有限公司", "qingshan", ("green",)),
    ("boruixc", "武汉铂睿新材料科技有限公司", "qingshan", ("materials",)),
    ("jinghua", "武汉菁华食品科技有限公司", "dongxihu", ("agriculture",)),
    ("jiuhe", "武汉九合医疗科技有限公司", "dongxihu", ("medical_devices", "biomedicine")),
    ("zhongsheng", "武汉中晟汽车零部件有限公司", "caidian", ("nev", "materials")),
    ("yunfan", "武汉云帆数据科技有限公司", "hanyang", ("digital",)),
    ("hanxin", "武汉汉新智能制造有限公司", "hanyang", ("equipment", "digital")),
    ("jcyl", "武汉江城智慧医疗科技有限公司", "jiangan", ("medical_devices", "digital")),
    ("qiming", "武汉启明信息技术有限公司", "jianghan", ("digital", "ai")),
    ("zhuoyan", "武汉卓研检测技术有限公司", "qiaokou", ("materials", "aerospace")),
    ("tianyi", "武汉天翼低空科技有限公司", "huangpi", ("aerospace",)),
    ("lvneng", "武汉阳逻绿能科技有限公司", "xinzhou", ("green",)),
    ("xingyuan", "武汉星源通航飞行器有限公司", "hannan", ("aerospace",)),
    ("siyuan", "武汉思源智能网联科技有限公司", "changjiang_xinqu", ("nev", "beidou")),
    ("zhixing", "武汉知行北斗科技有限公司", "changjiang_xinqu", ("beidou",)),
    ("huayao", "武汉华曜生态农业发展有限公司", "donghu_fengjing", ("agriculture", "green")),
)

# Invented funds: (key, name, district, fields they invest in).
_INVESTORS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("ggangel", "武汉光谷科创天使投资基金管理有限公司", "donghu_gaoxin",
     ("optoelectronics", "ic", "ai", "quantum", "6g")),
    ("cjcg", "武汉长江成果转化创业投资基金管理有限公司", "wuchang",
     ("biomedicine", "materials", "green", "agriculture", "digital")),
    ("cgcy", "武汉车谷产业投资基金管理有限公司", "wuhan_jingkai", ("nev", "equipment", "aerospace", "beidou")),
    ("ykj", "武汉楚天硬科技创业投资合伙企业（有限合伙）", "hongshan", ("ic", "equipment", "materials", "quantum")),
    ("hjsw", "湖北汉江生物医药产业基金管理有限公司", "jiangxia", ("biomedicine", "medical_devices", "synbio")),
    ("dhwl", "武汉东湖未来产业创业投资有限公司", "donghu_gaoxin", ("6g", "quantum", "synbio", "aerospace", "ai")),
)
# fmt: on


def organizations(rng: random.Random) -> tuple[OrgSpec, ...]:
    """Every organization of the demo, research bodies first, then companies, then funds."""
    out: list[OrgSpec] = []
    codes: set[str] = set()

    def fresh(prefix: str, division: str) -> str:
        while (code := credit_code(rng, prefix, division)) in codes:
            pass
        codes.add(code)
        return code

    for key, name, kind, district, registry, fields in _RESEARCH:
        code = fresh(registry[:2], registry[2:])
        out.append(OrgSpec(key, name, kind, district, (f"{key}.example.org",), code, fields))
    for key, name, district, fields in _COMPANIES:
        code = fresh("91", _division(district))
        out.append(OrgSpec(key, name, "company", district, (f"{key}.example.com",), code, fields))
    for key, name, district, fields in _INVESTORS:
        code = fresh("91", _division(district))
        out.append(OrgSpec(key, name, "investor", district, (f"{key}.example.net",), code, fields))
    return tuple(out)
