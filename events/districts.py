"""Wuhan's 13 administrative districts and its 4 functional zones: the fixed list events take.

Codes are stable ASCII slugs (pinyin) that clients store; names are the official Chinese names.
Administrative districts also carry their GB/T 2260 division code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    name_en: str
    kind: str  # "district" | "zone"
    division_code: str | None = None


DISTRICTS: tuple[District, ...] = (
    District("jiangan", "江岸区", "Jiang'an District", "district", "420102"),
    District("jianghan", "江汉区", "Jianghan District", "district", "420103"),
    District("qiaokou", "硚口区", "Qiaokou District", "district", "420104"),
    District("hanyang", "汉阳区", "Hanyang District", "district", "420105"),
    District("wuchang", "武昌区", "Wuchang District", "district", "420106"),
    District("qingshan", "青山区", "Qingshan District", "district", "420107"),
    District("hongshan", "洪山区", "Hongshan District", "district", "420111"),
    District("dongxihu", "东西湖区", "Dongxihu District", "district", "420112"),
    District("hannan", "汉南区", "Hannan District", "district", "420113"),
    District("caidian", "蔡甸区", "Caidian District", "district", "420114"),
    District("jiangxia", "江夏区", "Jiangxia District", "district", "420115"),
    District("huangpi", "黄陂区", "Huangpi District", "district", "420116"),
    District("xinzhou", "新洲区", "Xinzhou District", "district", "420117"),
    District("donghu_gaoxin", "东湖新技术开发区", "East Lake High-tech Development Zone (Optics Valley)", "zone"),
    District("wuhan_jingkai", "武汉经济技术开发区", "Wuhan Economic & Technological Development Zone", "zone"),
    District("changjiang_xinqu", "长江新区", "Changjiang New Area", "zone"),
    District("donghu_fengjing", "东湖生态旅游风景区", "East Lake Scenic Area", "zone"),
)

BY_CODE: dict[str, District] = {d.code: d for d in DISTRICTS}


def is_known(code: str) -> bool:
    return code in BY_CODE


def label(code: str | None, locale: str, *, short: bool = False) -> str:
    """A district's name in a language ('东湖新技术开发区' / 'East Lake High-tech Development Zone (Optics
    Valley)'); ``short`` drops the English parenthesis (buttons). '' for no or an unknown code.
    """
    district = BY_CODE.get(code or "")
    if district is None:
        return ""
    if locale == "zh":
        return district.name
    return district.name_en.split(" (")[0] if short else district.name_en
