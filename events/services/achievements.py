"""The achievements library (科技成果库): entering, changing, finding and bulk-importing achievements.

Every achievement is managed by the organization that entered it (``managed_by``: an organizer sees
and changes only its own; admins all) and may belong to another (``owner_organization``, the
university or company it comes from). Imports upsert by ``external_id`` within the caller's
organization and write in chunks, one transaction each: a row is validated whole before anything is
written, so a bad row is reported and never half written, and the good rows around it are saved.
Each saved row leaves an ``achievement.created`` / ``achievement.updated`` fact (the push producer
reads them), and ``supply_events.saved`` tells the matching index once the chunk is committed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events import clock, districts, supply_fields
from events.errors import N_, AchievementNotFound, DomainError, ExternalIdTaken, InvalidInput
from events.models import (
    Achievement,
    AchievementStage,
    AchievementStatus,
    AchievementTier,
    Activity,
    Organization,
    Person,
    TransferMode,
)
from events.services import organizations, paging, supply_events
from events.services.organizations import Scope
from events.services.people import find_or_create_person, normalize_email, normalize_phone

MAX_ABSTRACT = 20_000
MAX_KEYWORDS = 30
MAX_IMPORT_ROWS = 10_000
# Rows written per transaction: big enough that 10,000 rows take a few round trips, small enough
# that a chunk holds its locks briefly and a retry after a conflict redoes little.
CHUNK = 500
MAX_PRICE = 10**13  # ten trillion yuan: above any contract, below BIGINT

Text40 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE)]


class ContactInput(BaseModel):
    """Who speaks for the achievement: a name and a way to reach them (matched demands go to them)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    telegram_id: Annotated[int, Field(gt=0, lt=2**53)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> ContactInput:
        if not (self.phone or self.email or self.telegram_id):
            raise ValueError(N_("a phone, an e-mail address or a Telegram id is needed to reach the contact"))
        return self


class _AchievementFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="Your own key for it: imports upsert by it within your organization."
    )
    abstract: Annotated[str, StringConstraints(max_length=MAX_ABSTRACT)] | None = None
    keywords: Annotated[list[Text100], Field(max_length=MAX_KEYWORDS)] | None = None
    field: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, description="A code of ``GET /api/v1/fields`` (its Chinese or English name is read too)."
    )
    tier: AchievementTier | None = Field(default=None, description="key = 重点成果项目库 (counted in the goals).")
    trl: Annotated[int, Field(ge=1, le=9)] | None = Field(default=None, description="Technology readiness, 1–9.")
    stage: AchievementStage | None = None
    transfer_modes: Annotated[list[TransferMode], Field(max_length=5)] | None = None
    patents: Annotated[list[Text40], Field(max_length=50)] | None = Field(
        default=None, description="Chinese patent or application numbers, e.g. ZL202310123456.7, CN114567890A."
    )
    price_min_cny: Price | None = None
    price_max_cny: Price | None = None
    district: Annotated[str, StringConstraints(max_length=40)] | None = None
    owner_organization: (
        Annotated[int, Field(ge=1, lt=2**31)] | Annotated[str, StringConstraints(max_length=200)] | None
    ) = Field(default=None, description="The owning organization by id, or by name (a new name is added).")
    team: Annotated[list[Text100], Field(max_length=50)] | None = None
    contact: ContactInput | None = None
    status: AchievementStatus | None = None


class AchievementInput(_AchievementFields):
    """A new achievement (and one row of an import): only ``title`` is required."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class AchievementPatch(_AchievementFields):
    """The fields given change; the others stay as they are."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None = None


# --- validation of values (the parts pydantic cannot know) -------------------------------------------

_LIST_SEPARATORS = re.compile(r"[;；,，、\n]+")
# ZL/CN application numbers (8 digits before 2003, 12 since) with their check digit, and publication
# numbers of China and the offices Chinese holders file at most (CN114567890A, WO2020123456A1).
_APPLICATION = re.compile(r"^(ZL|CN)?(\d{8}|\d{12})\.?([0-9X])$")
_PUBLICATION = re.compile(r"^(CN|WO|US|EP|JP|KR|DE|GB|FR)\d{5,12}[A-Z]\d?$")
_SPACES = re.compile(r"\s+")


def split_list(text: str) -> list[str]:
    """A list typed in one cell: 人工智能;机器视觉、芯片 → three items."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def normalize_patent(raw: str) -> str:
    """The one form of a patent number (upper case, no spaces, ZL…/CN… with the check digit after a
    dot). Raises ``invalid_input`` (field ``patents``) for text of no patent number's shape.
    """
    text = _SPACES.sub("", unicodedata.normalize("NFKC", raw)).upper()
    application = _APPLICATION.match(text)
    if application:
        return f"{application.group(1) or ''}{application.group(2)}.{application.group(3)}"
    if _PUBLICATION.match(text):
        return text
    raise InvalidInput(
        N_("%(value)s is not a patent number (like ZL202310123456.7 or CN114567890A)."),
        field="patents",
        value=raw[:40],
    )


def _unique(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def check_field(text: str | None) -> str | None:
    """A technology field's code from its code or name. Raises ``invalid_input`` (field ``field``)."""
    if text is None or not text.strip():
        return None
    code = supply_fields.lookup(text)
    if code is None:
        raise InvalidInput(N_("Unknown technology field %(code)s."), field="field", code=text[:40])
    return code


def check_district(text: str | None) -> str | None:
    """A district's code from its code or Chinese name. Raises ``invalid_input`` (field ``district``)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if districts.is_known(text):
        return text
    for district in districts.DISTRICTS:
        if text == district.name:
            return district.code
    raise InvalidInput(N_("Unknown district %(code)s."), field="district", code=text[:40])


def keywords_line(keywords: Sequence[str]) -> str:
    return "\n".join(keywords)


def _plain_values(data: _AchievementFields, given: set[str]) -> dict[str, Any]:
    """The given fields as model values, checked. Owner and contact are resolved against the database
    by the caller. Raises ``invalid_input``."""
    values: dict[str, Any] = {}
    title = getattr(data, "title", None)
    if "title" in given and title is not None:
        values["title"] = title
    if "external_id" in given:
        values["external_id"] = data.external_id or None
    if "abstract" in given:
        values["abstract"] = data.abstract or ""
    if "keywords" in given:
        values["keywords"] = _unique(data.keywords or [])
        values["keywords_text"] = keywords_line(values["keywords"])
    if "field" in given:
        values["field"] = check_field(data.field)
    if "tier" in given:
        values["tier"] = data.tier or AchievementTier.GENERAL
    if "trl" in given:
        values["trl"] = data.trl
    if "stage" in given:
        values["stage"] = data.stage
    if "transfer_modes" in given:
        values["transfer_modes"] = _unique(str(mode.value) for mode in data.transfer_modes or [])
    if "patents" in given:
        values["patents"] = _unique(normalize_patent(p) for p in data.patents or [] if p)
    if "price_min_cny" in given:
        values["price_min_cny"] = data.price_min_cny
    if "price_max_cny" in given:
        values["price_max_cny"] = data.price_max_cny
    if "district" in given:
        values["district"] = check_district(data.district)
    if "team" in given:
        values["team"] = _unique(data.team or [])
    if "status" in given:
        values["status"] = data.status or AchievementStatus.AVAILABLE
    return values


def _check_price(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            N_("The highest price must not be below the lowest (%(low)s yuan)."), field="price_max_cny", low=low
        )


@dataclass(slots=True)
class _Prepared:
    """One row, checked, waiting for its owner and contact to be resolved and for its write."""

    row: int
    values: dict[str, Any]
    owner: int | str | None = None  # as given; resolved in bulk
    owner_given: bool = False
    contact: ContactInput | None = None
    contact_given: bool = False


def _prepare(data: _AchievementFields, row: int = 0) -> _Prepared:
    given = set(data.model_fields_set)
    values = _plain_values(data, given)
    _check_price(values.get("price_min_cny"), values.get("price_max_cny"))
    owner = data.owner_organization
    if isinstance(owner, str):
        owner = owner.strip() or None
        if isinstance(owner, str) and owner.isdigit():
            owner = int(owner)
    contact = data.contact
    if contact is not None:
        # Checked now, so a bad phone is the row's error and not a failure halfway through its write.
        normalize_phone(contact.phone)
        normalize_email(contact.email)
    return _Prepared(
        row=row,
        values=values,
        owner=owner,
        owner_given="owner_organization" in given,
        contact=contact,
        contact_given="contact" in given,
    )


async def _resolve_owners(prepared: Sequence[_Prepared]) -> dict[int | str, int | DomainError]:
    """Owner references → organization ids: ids must exist, names are found or added (once each)."""
    found: dict[int | str, int | DomainError] = {}
    ids = {p.owner for p in prepared if isinstance(p.owner, int)}
    if ids:
        known: set[Any] = set(await Organization.filter(id__in=list(ids)).values_list("id", flat=True))
        for ref in ids:
            found[ref] = ref if ref in known else InvalidInput(N_("No such organization."), field="owner_organization")
    names = {p.owner for p in prepared if isinstance(p.owner, str)}
    by_key: dict[str, list[str]] = {}
    for name in names:
        by_key.setdefault(organizations.normalize_name(name), []).append(name)
    if by_key:
        rows = await Organization.filter(name_normalized__in=list(by_key)).values_list("name_normalized", "id")
        existing = dict(rows)
        for key, spellings in by_key.items():
            result: int | DomainError
            if key in existing:
                result = existing[key]
            else:
                try:
                    result = (await organizations.find_or_create_organization(spellings[0])).id
                except DomainError as exc:
                    result = exc
            for spelling in spellings:
                found[spelling] = result
    return found


def _same_contact(person: Person | None, contact: ContactInput) -> bool:
    if person is None:
        return False
    return (
        person.name == contact.name
        and person.phone == normalize_phone(contact.phone)
        and person.email == normalize_email(contact.email)
        and (contact.telegram_id is None or person.telegram_id == contact.telegram_id)
    )


async def _contact_id(conn: BaseDBAsyncClient, contact: ContactInput | None, current: Person | None) -> int | None:
    """The contact's person: the current one when the details are the same, else found or made by the
    people rules (only a Telegram id finds someone; a phone or an e-mail address never does)."""
    if contact is None:
        return None
    if _same_contact(current, contact):
        assert current is not None
        return current.id
    person = await find_or_create_person(
        name=contact.name,
        phone=normalize_phone(contact.phone),
        email=normalize_email(contact.email),
        organization=None,
        telegram_id=contact.telegram_id,
        using_db=conn,
    )
    return person.id


def _facts(kind: str, actor: str, rows: Iterable[Achievement]) -> list[Activity]:
    now = clock.now()
    return [
        Activity(
            kind=kind,
            actor=actor[:100],
            person_id=a.contact_id,
            payload={"achievement_id": a.id, "managed_by": a.managed_by_id},
            created_at=now,
        )
        for a in rows
    ]


# --- one at a time -------------------------------------------------------------------------------------


async def get_achievement(achievement_id: int, scope: Scope) -> Achievement:
    """With its owner and contact loaded, if ``scope`` reaches it. Raises ``achievement_not_found``."""
    found = await Achievement.get_or_none(id=achievement_id).select_related("owner_organization", "contact")
    if found is None or not scope.covers(found.managed_by_id):
        raise AchievementNotFound()
    return found


async def create_achievement(data: AchievementInput, *, organization_id: int, actor: str) -> Achievement:
    """A new achievement managed by ``organization_id``. Raises ``invalid_input``, ``external_id_taken``."""
    prepared = _prepare(data)
    owner_id = await _owner_or_raise(prepared)
    async with in_transaction() as conn:
        external_id = prepared.values.get("external_id")
        if (
            external_id
            and await Achievement.filter(managed_by_id=organization_id, external_id=external_id).using_db(conn).exists()
        ):
            raise ExternalIdTaken(external_id=external_id)
        contact_id = await _contact_id(conn, prepared.contact, None)
        try:
            achievement = await Achievement.create(
                **prepared.values,
                owner_organization_id=owner_id,
                contact_id=contact_id,
                managed_by_id=organization_id,
                created_by=actor[:100],
                using_db=conn,
            )
        except IntegrityError:  # the same external id written by a concurrent request
            raise ExternalIdTaken(external_id=external_id) from None
        await Activity.bulk_create(_facts("achievement.created", actor, [achievement]), using_db=conn)
    await supply_events.saved("achievement", [achievement.id])
    return await get_achievement(achievement.id, organizations.EVERYTHING)


async def _owner_or_raise(prepared: _Prepared) -> int | None:
    if prepared.owner is None:
        return None
    resolved = (await _resolve_owners([prepared]))[prepared.owner]
    if isinstance(resolved, DomainError):
        raise resolved
    return resolved


async def update_achievement(achievement_id: int, patch: AchievementPatch, *, scope: Scope, actor: str) -> Achievement:
    """Change the given fields. Raises ``achievement_not_found``, ``invalid_input``, ``external_id_taken``."""
    achievement = await get_achievement(achievement_id, scope)
    prepared = _prepare(patch)
    values = {k: v for k, v in prepared.values.items() if not (k == "title" and v is None)}
    _check_price(
        values.get("price_min_cny", achievement.price_min_cny), values.get("price_max_cny", achievement.price_max_cny)
    )
    if prepared.owner_given:
        values["owner_organization_id"] = await _owner_or_raise(prepared)
    async with in_transaction() as conn:
        external_id = values.get("external_id")
        if external_id and external_id != achievement.external_id:
            taken = Achievement.filter(managed_by_id=achievement.managed_by_id, external_id=external_id)
            if await taken.using_db(conn).exists():
                raise ExternalIdTaken(external_id=external_id)
        if prepared.contact_given:
            values["contact_id"] = await _contact_id(conn, prepared.contact, achievement.contact)
        for key, value in values.items():
            setattr(achievement, key, value)
        try:
            await achievement.save(using_db=conn)
        except IntegrityError:
            raise ExternalIdTaken(external_id=external_id) from None
        await Activity.bulk_create(_facts("achievement.updated", actor, [achievement]), using_db=conn)
    await supply_events.saved("achievement", [achievement.id])
    return await get_achievement(achievement.id, organizations.EVERYTHING)


# --- lists -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AchievementQuery:
    q: str | None = None
    field: str | None = None
    tier: AchievementTier | None = None
    district: str | None = None
    status: AchievementStatus | None = None
    owner_organization: int | None = None
    limit: int | None = 50  # None: every match (exports)
    cursor: str | None = None
    created_since: datetime | None = None  # entered at or after (the dashboard's figures link here)
    created_before: datetime | None = None  # entered before


ORDER = ("-id",)  # newest first


def _filtered(query: AchievementQuery, scope: Scope) -> Any:
    qs = Achievement.all()
    if not scope.everything:
        qs = qs.filter(managed_by_id=scope.organization_id)
    if query.q and query.q.strip():
        text = query.q.strip()
        qs = qs.filter(Q(title__icontains=text) | Q(abstract__icontains=text) | Q(keywords_text__icontains=text))
    if query.field:
        qs = qs.filter(field=check_field(query.field))
    if query.tier is not None:
        qs = qs.filter(tier=query.tier)
    if query.district:
        qs = qs.filter(district=check_district(query.district))
    if query.status is not None:
        qs = qs.filter(status=query.status)
    if query.owner_organization is not None:
        qs = qs.filter(owner_organization_id=query.owner_organization)
    if query.created_since is not None:
        qs = qs.filter(created_at__gte=query.created_since)
    if query.created_before is not None:
        qs = qs.filter(created_at__lt=query.created_before)
    return qs


async def list_achievements(query: AchievementQuery, *, scope: Scope) -> paging.Page[Achievement]:
    """The library the scope reaches, newest first, a keyset page at a time (``limit`` None: all).
    ``q`` is searched in the title, the abstract and the keywords. Raises ``invalid_input``
    (unknown field or district, a cursor not of this list).
    """
    qs = _filtered(query, scope).select_related("owner_organization", "contact")
    if query.limit is None:
        return paging.Page(items=await qs.order_by(*ORDER), next_cursor=None)
    rows = await paging.after(qs, "achievements", ORDER, query.cursor).order_by(*ORDER).limit(query.limit + 1)
    return paging.page(rows, "achievements", ORDER, query.limit)


# --- imports ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    """Why row ``row`` (1-based, as the person counts data rows) was not imported.

    Either a domain message (``msgid`` with ``params``) or a pydantic error (``detail``) that the
    transport words in the caller's language like any other validation error.
    """

    row: int
    code: str
    field: str | None
    msgid: str | None = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)
    detail: dict[str, Any] | None = None
    external_id: str | None = None


@dataclass(slots=True)
class ImportReport:
    created: int = 0
    # Every row matched by its external id, changed or not; ``unchanged`` says how many were the same
    # (those are not rewritten and leave no fact: nothing happened to them).
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = dataclass_field(default_factory=list)
    ids: list[int] = dataclass_field(default_factory=list)


def _row_error(row: int, exc: DomainError, external_id: str | None) -> RowError:
    params = {k: v for k, v in exc.params.items() if k != "field"}
    return RowError(
        row=row,
        code=exc.code,
        field=exc.params.get("field"),
        msgid=exc.message,
        params=params,
        external_id=external_id,
    )


def _validation_errors(row: int, exc: ValidationError, external_id: str | None) -> RowError:
    first = exc.errors(include_url=False)[0]
    detail = {"type": first.get("type"), "loc": first.get("loc", ()), "ctx": first.get("ctx") or {}}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return RowError(row=row, code="invalid_input", field=where or None, detail=detail, external_id=external_id)


# Columns of the import and export sheets, and the names people give them in Chinese sheets.
COLUMNS: tuple[str, ...] = (
    "external_id",
    "title",
    "abstract",
    "keywords",
    "field",
    "tier",
    "trl",
    "stage",
    "transfer_modes",
    "patents",
    "price_min_cny",
    "price_max_cny",
    "district",
    "owner_organization",
    "team",
    "status",
    "contact_name",
    "contact_phone",
    "contact_email",
    "contact_telegram_id",
)
# Written by the export and ignored on import (the database sets them).
READ_ONLY_COLUMNS = ("id", "created_at", "updated_at")
_LIST_COLUMNS = frozenset({"keywords", "transfer_modes", "patents", "team"})
COLUMN_ALIASES: dict[str, str] = {
    "编号": "external_id",
    "成果编号": "external_id",
    "外部编号": "external_id",
    "成果名称": "title",
    "名称": "title",
    "标题": "title",
    "摘要": "abstract",
    "成果简介": "abstract",
    "简介": "abstract",
    "关键词": "keywords",
    "技术领域": "field",
    "领域": "field",
    "入库类别": "tier",
    "项目库": "tier",
    "技术成熟度": "trl",
    "成熟度": "trl",
    "阶段": "stage",
    "所处阶段": "stage",
    "转化方式": "transfer_modes",
    "专利": "patents",
    "专利号": "patents",
    "最低价格": "price_min_cny",
    "价格下限": "price_min_cny",
    "最高价格": "price_max_cny",
    "价格上限": "price_max_cny",
    "所在区": "district",
    "区域": "district",
    "所属单位": "owner_organization",
    "完成单位": "owner_organization",
    "团队": "team",
    "团队成员": "team",
    "状态": "status",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
    "电话": "contact_phone",
    "联系邮箱": "contact_email",
    "邮箱": "contact_email",
}
# Chinese words for the codes of the enum columns, as people type them in a sheet.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "tier": {"一般": "general", "概念验证": "concept", "中试": "pilot", "重点": "key", "重点成果": "key"},
    "stage": {"研发": "research", "小试": "lab", "中试": "pilot", "样品": "sample", "量产": "production"},
    "transfer_modes": {
        "转让": "transfer",
        "许可": "license",
        "作价入股": "equity",
        "入股": "equity",
        "合作开发": "joint_development",
        "其他": "other",
    },
    "status": {"可转化": "available", "洽谈中": "negotiating", "已转化": "transferred", "已撤回": "withdrawn"},
}


def sheet_columns(header: Sequence[str]) -> dict[str, str]:
    """Header cell → column code. Raises ``invalid_input`` (field ``file``) for an unknown column or a
    sheet without a title column."""
    mapping: dict[str, str] = {}
    for cell in header:
        name = cell.strip().lstrip("\ufeff")
        key = name.lower().replace(" ", "_")
        code = key if key in COLUMNS or key in READ_ONLY_COLUMNS else COLUMN_ALIASES.get(name)
        if code is None:
            raise InvalidInput(N_("Unknown column %(value)s in the sheet."), field="file", value=name[:40])
        mapping[cell] = code
    if "title" not in mapping.values():
        raise InvalidInput(N_("The sheet needs a title column."), field="file")
    return mapping


def row_from_cells(cells: dict[str, str], columns: dict[str, str]) -> dict[str, Any]:
    """A sheet row as an import item: lists split, blanks as nulls, Chinese words for codes read."""
    item: dict[str, Any] = {}
    contact: dict[str, Any] = {}
    for header, text in cells.items():
        code = columns.get(header)
        if code is None or code in READ_ONLY_COLUMNS:
            continue
        aliases = VALUE_ALIASES.get(code, {})
        if code in _LIST_COLUMNS:
            value: Any = [aliases.get(part, part) for part in split_list(text)]
        elif text == "":
            value = None
        else:
            value = aliases.get(text, text)
        if code.startswith("contact_"):
            if value is not None:
                contact[code.removeprefix("contact_")] = value
        elif not (code == "title" and value is None):
            item[code] = value
    if contact:
        item["contact"] = contact
    elif "contact_name" in columns.values():
        item["contact"] = None
    return item


async def import_achievements(items: Sequence[Any], *, organization_id: int, actor: str) -> ImportReport:
    """``import_numbered`` with the items numbered 1, 2, … (a JSON import's rows)."""
    return await import_numbered(list(enumerate(items, start=1)), organization_id=organization_id, actor=actor)


async def import_numbered(numbered: Sequence[tuple[int, Any]], *, organization_id: int, actor: str) -> ImportReport:
    """Upsert items (dicts shaped like ``AchievementInput``, each with the row number it is reported
    by) by external id within the organization.

    Each row is checked whole first; a bad row goes to ``errors`` and is not written. A row without an
    external id is always new. A second row with an external id seen earlier in the same import is an
    error (``duplicate_external_id``), not a silent overwrite. Raises ``invalid_input`` (more than
    10,000 rows).
    """
    if len(numbered) > MAX_IMPORT_ROWS:
        raise InvalidInput(N_("At most 10,000 rows per import; split the file."), field="items")
    report = ImportReport()
    prepared: list[_Prepared] = []
    seen: set[str] = set()
    for row, item in numbered:
        external_id = (str(item.get("external_id") or "").strip()[:100] or None) if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise InvalidInput(N_("Each item must be an object."), field="items")
            if external_id is not None and external_id in seen:
                report.errors.append(
                    RowError(
                        row=row,
                        code="duplicate_external_id",
                        field="external_id",
                        msgid=N_("The external id %(external_id)s is already on an earlier row of this import."),
                        params={"external_id": external_id},
                        external_id=external_id,
                    )
                )
                continue
            one = _prepare(AchievementInput.model_validate(item), row)
        except ValidationError as exc:
            report.errors.append(_validation_errors(row, exc, external_id))
            continue
        except DomainError as exc:
            report.errors.append(_row_error(row, exc, external_id))
            continue
        if external_id is not None:
            seen.add(external_id)
        prepared.append(one)

    owners = await _resolve_owners(prepared)
    good: list[_Prepared] = []
    for one in prepared:
        resolved = owners.get(one.owner) if one.owner is not None else None
        if isinstance(resolved, DomainError):
            report.errors.append(_row_error(one.row, resolved, one.values.get("external_id")))
            continue
        one.values["owner_organization_id"] = resolved
        good.append(one)

    for start in range(0, len(good), CHUNK):
        chunk = good[start : start + CHUNK]
        try:
            ids = await _write_chunk(chunk, organization_id=organization_id, actor=actor, report=report)
        except IntegrityError:
            # A concurrent import wrote one of these external ids after this chunk looked them up:
            # looked up again, they are updates now.
            ids = await _write_chunk(chunk, organization_id=organization_id, actor=actor, report=report)
        report.ids.extend(ids)
        await supply_events.saved("achievement", ids)
    report.errors.sort(key=lambda e: e.row)
    return report


_UPDATABLE = (
    "title",
    "abstract",
    "keywords",
    "keywords_text",
    "field",
    "tier",
    "trl",
    "stage",
    "transfer_modes",
    "patents",
    "price_min_cny",
    "price_max_cny",
    "district",
    "owner_organization_id",
    "team",
    "contact_id",
    "status",
    "updated_at",
)


def _comparable(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


async def _write_chunk(
    chunk: Sequence[_Prepared], *, organization_id: int, actor: str, report: ImportReport
) -> list[int]:
    """One transaction: updates of the rows whose external id exists, inserts of the others, a fact
    for each row that changed. Counts go to ``report`` only once the transaction has committed."""
    now = clock.now()
    created = updated = unchanged = 0
    async with in_transaction() as conn:
        external_ids = [p.values["external_id"] for p in chunk if p.values.get("external_id")]
        existing: dict[str, Achievement] = {}
        if external_ids:
            rows = await Achievement.filter(managed_by_id=organization_id, external_id__in=external_ids).using_db(conn)
            existing = {a.external_id: a for a in rows if a.external_id}
        contacts: dict[int, Person] = {}
        contact_ids = [a.contact_id for a in existing.values() if a.contact_id is not None]
        if contact_ids:
            contacts = {p.id: p for p in await Person.filter(id__in=contact_ids).using_db(conn)}

        new_rows: list[Achievement] = []
        changed_rows: list[Achievement] = []
        changed_fields: set[str] = set()
        for one in chunk:
            current = existing.get(one.values.get("external_id") or "")
            values = dict(one.values)
            if current is None:
                values["contact_id"] = await _contact_id(conn, one.contact, None)
                new_rows.append(
                    Achievement(
                        **values,
                        managed_by_id=organization_id,
                        created_by=actor[:100],
                        created_at=now,
                        updated_at=now,
                    )
                )
                continue
            if one.contact_given:
                values["contact_id"] = await _contact_id(conn, one.contact, contacts.get(current.contact_id or 0))
            if not one.owner_given:
                values.pop("owner_organization_id", None)
            differs = [k for k, v in values.items() if _comparable(getattr(current, k)) != _comparable(v)]
            updated += 1
            if not differs:
                unchanged += 1
                continue
            changed_fields.update(differs)
            for key in differs:
                setattr(current, key, values[key])
            current.updated_at = now
            changed_rows.append(current)

        keyed = [a for a in new_rows if a.external_id]
        if keyed:
            await Achievement.bulk_create(keyed, using_db=conn)
            ids = dict(
                await Achievement.filter(managed_by_id=organization_id, external_id__in=[a.external_id for a in keyed])
                .using_db(conn)
                .values_list("external_id", "id")
            )
            for a in keyed:
                a.id = ids[a.external_id]
        for a in new_rows:
            if not a.external_id:
                await a.save(using_db=conn)  # no key to find it by after a bulk insert: one at a time
        created = len(new_rows)
        if changed_rows:
            # Only the columns some row changed, in small batches: each batch is one UPDATE … CASE id …,
            # whose cost grows with rows × columns.
            columns = [f for f in _UPDATABLE if f in changed_fields] + ["updated_at"]
            await Achievement.bulk_update(changed_rows, fields=columns, batch_size=100, using_db=conn)
        facts = _facts("achievement.created", actor, new_rows) + _facts("achievement.updated", actor, changed_rows)
        if facts:
            await Activity.bulk_create(facts, using_db=conn)
    report.created += created
    report.updated += updated
    report.unchanged += unchanged
    return [a.id for a in new_rows] + [a.id for a in changed_rows]


# --- exports ---------------------------------------------------------------------------------------------


def export_row(a: Achievement) -> list[Any]:
    """A row of the export sheet in ``READ_ONLY_COLUMNS[0]`` + ``COLUMNS`` + the times: the import reads it back."""
    contact = a.contact
    owner = a.owner_organization
    return [
        a.id,
        a.external_id,
        a.title,
        a.abstract,
        ";".join(a.keywords or []),
        a.field,
        _comparable(a.tier),
        a.trl,
        _comparable(a.stage) if a.stage else None,
        ";".join(a.transfer_modes or []),
        ";".join(a.patents or []),
        a.price_min_cny,
        a.price_max_cny,
        a.district,
        owner.name if owner is not None else None,
        ";".join(a.team or []),
        _comparable(a.status),
        contact.name if contact is not None else None,
        contact.phone if contact is not None else None,
        contact.email if contact is not None else None,
        contact.telegram_id if contact is not None else None,
        a.created_at,
        a.updated_at,
    ]


EXPORT_HEADER: tuple[str, ...] = ("id", *COLUMNS, "created_at", "updated_at")
