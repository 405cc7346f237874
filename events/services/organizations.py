"""Organizations (host units, district offices) and the scope a caller acts in.

Every event belongs to one organization, and its courses, broadcasts, registrations and exports follow
it; brokers belong to the organization that entered them. Organizers act for one organization and
see only its objects; admins act for all of them. Things made before organizations existed, and tokens
made without one, belong to the default organization.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events.districts import is_known as is_known_district
from events.errors import N_, CreditCodeTaken, InvalidInput, OrganizationNameTaken, OrganizationNotFound
from events.models import Organization, OrganizationKind
from events.services import paging

DEFAULT_NAME = "Default organization"
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose objects a caller may read and change: one organization's, or (``organization_id`` None,
    admins) everyone's.
    """

    organization_id: int | None

    @property
    def everything(self) -> bool:
        return self.organization_id is None

    def covers(self, organization_id: int | None) -> bool:
        return self.organization_id is None or self.organization_id == organization_id


EVERYTHING = Scope(organization_id=None)


def normalize_name(name: str) -> str:
    """The key two spellings of one name share: NFKC (full-width → half-width), spaces collapsed, case-folded."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name)).strip().casefold()


DEFAULT_NORMALIZED = normalize_name(DEFAULT_NAME)


async def default_organization() -> Organization:
    """The organization of everything nobody assigned; made on first need."""
    return await _get_or_create(DEFAULT_NAME, OrganizationKind.OTHER, None)


# The default organization's id, once this process has found it. It is found by its name, which
# ``update_organization`` keeps, and organizations are never removed, so it holds for the process's
# life; every request of a token without an organization asked the database for it (twice: the scope
# and who the caller acts for), a tenth of a worker's CPU in #18's rush of organizer registrations.
_default_id: int | None = None


async def default_organization_id() -> int:
    global _default_id
    if _default_id is None:
        _default_id = (await default_organization()).id
    return _default_id


def forget_default() -> None:
    """For a process that changes databases (the tests): find the default organization again."""
    global _default_id
    _default_id = None


async def _get_or_create(name: str, kind: OrganizationKind, district: str | None) -> Organization:
    key = normalize_name(name)
    found = await Organization.get_or_none(name_normalized=key)
    if found is not None:
        return found
    try:
        return await Organization.create(name=name, name_normalized=key, kind=kind, district=district)
    except IntegrityError:  # made by a concurrent caller a moment ago
        return await Organization.get(name_normalized=key)


def _checked_name(name: str) -> str:
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name)).strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(N_("An organization needs a name of 1 to 200 characters."), field="organization")
    return name


async def find_or_create_organization(
    name: str, *, kind: OrganizationKind | str = OrganizationKind.OTHER, district: str | None = None
) -> Organization:
    """The organization of this (normalised) name, made if new. Raises ``invalid_input``."""
    try:
        kind = OrganizationKind(kind)
    except ValueError:
        raise InvalidInput(N_("Unknown kind of organization %(kind)s."), field="kind", kind=str(kind)) from None
    if district is not None and not is_known_district(district):
        raise InvalidInput(N_("Unknown district %(code)s."), field="district", code=district[:40])
    return await _get_or_create(_checked_name(name), kind, district)


async def get_organization(organization_id: int) -> Organization:
    """Raises ``organization_not_found``."""
    found = await Organization.get_or_none(id=organization_id)
    if found is None:
        raise OrganizationNotFound()
    return found


async def resolve_organization(ref: int | str, *, create: bool = False) -> Organization:
    """An organization by id (a number) or by name; ``create`` makes a new name. Raises
    ``organization_not_found``, ``invalid_input``.
    """
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        return await get_organization(int(ref))
    if create:
        return await find_or_create_organization(ref)
    found = await Organization.get_or_none(name_normalized=normalize_name(_checked_name(ref)))
    if found is None:
        raise OrganizationNotFound()
    return found


async def list_organizations() -> list[Organization]:
    return await Organization.all().order_by("id")


# 统一社会信用代码 (GB 32100-2015): 17 characters of this alphabet (no I O S V Z) and a check character.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE_SHAPE = re.compile(f"^[{CREDIT_CODE_ALPHABET}]{{2}}[0-9]{{6}}[{CREDIT_CODE_ALPHABET}]{{10}}$")


def credit_code_check_character(first17: str) -> str:
    """The 18th character GB 32100-2015 computes from the first 17."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(raw: str | None) -> str | None:
    """The stored form of a unified social credit code (upper case, no spaces), or None for a blank.
    Raises ``invalid_input`` (field ``credit_code``) for a wrong length, a character outside the
    standard's alphabet, a division code that is not six digits, or a wrong check character.
    """
    if raw is None or not raw.strip():
        return None
    code = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw)).upper()
    if not _CREDIT_CODE_SHAPE.match(code) or credit_code_check_character(code[:17]) != code[17]:
        raise InvalidInput(
            N_("%(value)s is not a valid unified social credit code (18 characters with a check character)."),
            field="credit_code",
            value=raw[:40],
        )
    return code


# Mail services anyone can sign up to: a domain of theirs says nothing about where a person works,
# and conflict rules read the domains (everyone at qq.com would conflict with everyone else).
WEBMAIL = frozenset(
    {
        "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "139.com",
        "189.cn", "aliyun.com", "gmail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
        "me.com", "protonmail.com", "proton.me",
    }
)  # fmt: skip
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAINS = 20


def normalize_email_domains(values: list[str] | None) -> list[str]:
    """Lower-case domains (a leading "@" dropped), each syntactically a domain, no webmail, no repeats.
    Raises ``invalid_input`` (field ``email_domains``).
    """
    found: list[str] = []
    for raw in values or []:
        domain = unicodedata.normalize("NFKC", raw).strip().lstrip("@").rstrip(".").lower()
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
        labels = domain.split(".")
        valid = (
            len(domain) <= 253
            and len(labels) >= 2
            and all(_DOMAIN_LABEL.match(label) for label in labels)
            and (labels[-1].isalpha() or labels[-1].startswith("xn--"))
        )
        if not valid:
            raise InvalidInput(
                N_("%(value)s is not a mail domain, like whu.edu.cn."), field="email_domains", value=raw[:80]
            )
        if domain in WEBMAIL:
            raise InvalidInput(
                N_("%(value)s is a public mail service, not an organization's own domain."),
                field="email_domains",
                value=domain,
            )
        if domain not in found:
            found.append(domain)
    if len(found) > MAX_DOMAINS:
        raise InvalidInput(N_("At most 20 mail domains."), field="email_domains")
    return found


def _district(code: str | None) -> str | None:
    if not code:
        return None
    if not is_known_district(code):
        raise InvalidInput(N_("Unknown district %(code)s."), field="district", code=code[:40])
    return code


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
Domain = Annotated[str, StringConstraints(max_length=260)]


class OrganizationInput(BaseModel):
    """A company, university, institute, investor, government office or other unit."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: OrganizationKind = OrganizationKind.OTHER
    district: Annotated[str, StringConstraints(max_length=32)] | None = None
    credit_code: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, description="统一社会信用代码: 18 characters, checked by its check character; unique."
    )
    email_domains: Annotated[list[Domain], Field(max_length=MAX_DOMAINS)] = Field(
        default_factory=list, description="The organization's own mail domains (not webmail), e.g. whu.edu.cn."
    )


class OrganizationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    kind: OrganizationKind | None = None
    district: Annotated[str, StringConstraints(max_length=32)] | None = None
    credit_code: Annotated[str, StringConstraints(max_length=40)] | None = None
    email_domains: Annotated[list[Domain], Field(max_length=MAX_DOMAINS)] | None = None


async def _check_unique(
    conn: BaseDBAsyncClient, *, name_key: str | None, credit_code: str | None, other_than: int | None
) -> None:
    if name_key is not None:
        taken = Organization.filter(name_normalized=name_key).using_db(conn)
        if other_than is not None:
            taken = taken.exclude(id=other_than)
        found = await taken.first()
        if found is not None:
            raise OrganizationNameTaken(name=found.name)
    if credit_code is not None:
        taken = Organization.filter(credit_code=credit_code).using_db(conn)
        if other_than is not None:
            taken = taken.exclude(id=other_than)
        if await taken.exists():
            raise CreditCodeTaken(credit_code=credit_code)


async def create_organization(data: OrganizationInput, *, actor: str) -> Organization:
    """A new organization. Raises ``organization_name_taken``, ``credit_code_taken`` (both 409),
    ``invalid_input`` (district, credit code, mail domains).
    """
    name = _checked_name(data.name)
    credit_code = normalize_credit_code(data.credit_code)
    name_key = normalize_name(name)
    values: dict[str, Any] = {
        "name": name,
        "name_normalized": name_key,
        "kind": data.kind,
        "district": _district(data.district),
        "credit_code": credit_code,
        "email_domains": normalize_email_domains(data.email_domains),
    }
    from events.services import activity  # it imports Scope from here

    async with in_transaction() as conn:
        await _check_unique(conn, name_key=name_key, credit_code=credit_code, other_than=None)
        try:
            organization = await Organization.create(**values, using_db=conn)
        except IntegrityError:  # the same name or code written by a concurrent request a moment ago
            raise OrganizationNameTaken(name=name) from None
        await activity.record(
            "organization.created", actor=actor, using_db=conn, organization_id=organization.id, name=name
        )
    return organization


async def update_organization(
    organization_id: int, patch: OrganizationPatch, *, scope: Scope, actor: str
) -> Organization:
    """Change an organization: admins any, an organizer only the one it acts for (another's is
    ``organization_not_found``). Raises ``organization_name_taken``, ``credit_code_taken``, ``invalid_input``.
    """
    organization = await Organization.get_or_none(id=organization_id)
    if organization is None or not scope.covers(organization.id):
        raise OrganizationNotFound()
    values = patch.model_dump(exclude_unset=True)
    changed: dict[str, object] = {}
    if values.get("name") is not None:
        changed["name"] = _checked_name(values["name"])
        changed["name_normalized"] = normalize_name(changed["name"])  # type: ignore[arg-type]
        if organization.name_normalized == DEFAULT_NORMALIZED != changed["name_normalized"]:
            raise InvalidInput(
                N_("The default organization keeps its name: the platform finds it by that name."), field="name"
            )
    if values.get("kind") is not None:
        changed["kind"] = OrganizationKind(values["kind"])
    if "district" in values:
        changed["district"] = _district(values["district"])
    if "credit_code" in values:
        changed["credit_code"] = normalize_credit_code(values["credit_code"])
    if "email_domains" in values:
        changed["email_domains"] = normalize_email_domains(values["email_domains"])
    from events.services import activity  # it imports Scope from here

    async with in_transaction() as conn:
        name_key = changed.get("name_normalized")
        code = changed.get("credit_code")
        await _check_unique(
            conn,
            name_key=name_key if isinstance(name_key, str) else None,
            credit_code=code if isinstance(code, str) else None,
            other_than=organization.id,
        )
        for key, value in changed.items():
            setattr(organization, key, value)
        try:
            await organization.save(using_db=conn)
        except IntegrityError:
            raise OrganizationNameTaken(name=organization.name) from None
        await activity.record(
            "organization.changed",
            actor=actor,
            using_db=conn,
            organization_id=organization.id,
            fields=sorted(k for k in changed if k != "name_normalized"),
        )
    return organization


@dataclass(frozen=True, slots=True)
class OrganizationQuery:
    q: str | None = None
    kind: OrganizationKind | None = None
    district: str | None = None
    limit: int = 50
    cursor: str | None = None


ORDER = ("name_normalized", "id")


async def search_organizations(query: OrganizationQuery) -> paging.Page[Organization]:
    """The directory (shared reference data: every organizer reads all of it), by name; ``q`` in the
    name or the credit code. Raises ``invalid_input`` (cursor).
    """
    qs = Organization.all()
    if query.q:
        text = query.q.strip()
        qs = qs.filter(
            Q(name__icontains=text) | Q(name_normalized__contains=normalize_name(text)) | Q(credit_code=text.upper())
        )
    if query.kind is not None:
        qs = qs.filter(kind=query.kind)
    if query.district:
        qs = qs.filter(district=_district(query.district))
    rows = await paging.after(qs, "organizations", ORDER, query.cursor).order_by(*ORDER).limit(query.limit + 1)
    return paging.page(rows, "organizations", ORDER, query.limit)
