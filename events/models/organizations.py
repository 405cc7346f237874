from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OrganizationKind(StrEnum):
    COMPANY = "company"
    UNIVERSITY = "university"
    INSTITUTE = "institute"
    INVESTOR = "investor"
    GOVERNMENT = "government"
    OTHER = "other"


class Organization(Model):
    """A host unit or district office: it owns events (and through them courses, broadcasts,
    registrations and exports), the brokers it enrolled, and the tokens and roles acting for it.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    # NFKC, whitespace collapsed, case-folded: "武汉大学 " and "武汉大学" are one organization.
    name_normalized = fields.CharField(max_length=200, unique=True)
    kind = fields.CharEnumField(OrganizationKind, max_length=16, default=OrganizationKind.OTHER)
    district = fields.CharField(max_length=32, null=True)
    # 统一社会信用代码: 18 characters with a GB 32100-2015 check character; optional, unique when given.
    credit_code = fields.CharField(max_length=18, null=True)
    # The organization's own mail domains (never webmail): conflict rules and matching read them.
    email_domains: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organization"
        unique_together = (("credit_code",),)
