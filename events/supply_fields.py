"""The technology fields of the plan (光电子信息, 生物医药, 人工智能 …): the fixed list achievements, demands and
investors are classified by.

Codes are stable ASCII slugs clients store; names are the plan's Chinese names and their English ones.
Like districts, the list is reference data kept here, not in the gettext catalogue: clients read both names.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.i18n import Locale


@dataclass(frozen=True, slots=True)
class SupplyField:
    code: str
    name: str  # Chinese, as the plan names it
    name_en: str


FIELDS: tuple[SupplyField, ...] = (
    SupplyField("optoelectronics", "光电子信息", "Optoelectronics and information"),
    SupplyField("biomedicine", "生物医药", "Biomedicine"),
    SupplyField("ai", "人工智能", "Artificial intelligence"),
    SupplyField("nev", "新能源汽车", "New-energy and intelligent vehicles"),
    SupplyField("beidou", "北斗", "BeiDou navigation"),
    SupplyField("quantum", "量子", "Quantum technology"),
    SupplyField("synbio", "合成生物", "Synthetic biology"),
    SupplyField("6g", "6G", "6G communications"),
    SupplyField("ic", "集成电路", "Integrated circuits"),
    SupplyField("equipment", "高端装备", "High-end equipment"),
    SupplyField("materials", "新材料", "Advanced materials"),
    SupplyField("green", "节能环保", "Energy saving and environmental protection"),
    SupplyField("agriculture", "现代农业", "Modern agriculture"),
    SupplyField("digital", "数字经济", "Digital economy and software"),
    SupplyField("aerospace", "航空航天", "Aerospace"),
    SupplyField("medical_devices", "医疗器械", "Medical devices"),
    SupplyField("other", "其他", "Other"),
)

BY_CODE: dict[str, SupplyField] = {f.code: f for f in FIELDS}
# Imports may name a field the way people write it: its code, its Chinese or its English name.
_BY_ANY_NAME: dict[str, str] = {
    key.casefold(): f.code for f in FIELDS for key in (f.code, f.name, f.name_en, *f.name.split("/"))
}


def is_known(code: str) -> bool:
    return code in BY_CODE


def lookup(text: str) -> str | None:
    """The code a field is written as (code, 人工智能, Artificial intelligence), or None."""
    return _BY_ANY_NAME.get(text.strip().casefold())


def label(code: str | None, locale: Locale) -> str:
    """A field's name in a language; '' for no or an unknown code."""
    found = BY_CODE.get(code or "")
    if found is None:
        return ""
    return found.name if locale == "zh" else found.name_en
