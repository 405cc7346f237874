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

from tortoise.exceptions import IntegrityError

from events.districts import is_known as is_known_district
from events.errors import N_, InvalidInput, OrganizationNotFound
from events.models import Organization, OrganizationKind

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


async def default_organization() -> Organization:
    """The organization of everything nobody assigned; made on first need."""
    return await _get_or_create(DEFAULT_NAME, OrganizationKind.OTHER, None)


async def default_organization_id() -> int:
    return (await default_organization()).id


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
