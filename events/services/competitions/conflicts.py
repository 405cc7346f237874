"""Conflicts of interest between a judge and an entry (利益冲突, 回避).

Each rule is a small pure function over plain facts (``Party``); every conflict found is logged
(``ConflictRecord``) with the rule that found it. The rules:

- ``declared_tie``: the entry's organization is one the judge declared a tie to;
- ``same_organization``: judge and entry belong to one organization, names compared normalised
  (``normalize_org``);
- ``email_domain``: the judge's and the entrant's mail domains are one (or one is a subdomain of the
  other), webmail excluded (a qq.com address says nothing about an employer);
- ``entrant_declared``: the judge's organization is one the entrant declared (shareholders,
  affiliations);
- ``recusal``: the judge stepped aside from the entry (logged by the recusal, not found here).

For a whole round the pairs are found through indexes by key (``conflict_pairs``), which preselect
candidates and then apply the same ``find``: one rule set, never two.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock
from events.db import dialect_of
from events.models import ConflictRecord
from events.services import paging

# Mail services anyone can sign up to: a shared domain there is no tie.
WEBMAIL = frozenset(
    {
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "188.com",
        "netease.com",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "aliyun.com",
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.com.cn",
        "icloud.com",
        "me.com",
        "mac.com",
        "protonmail.com",
        "proton.me",
        "tom.com",
        "21cn.com",
        "263.net",
    }
)

# Legal-form suffixes, longest first (so 股份有限公司 goes before 有限公司). Removed from the end, repeatedly.
_SUFFIXES_ZH = (
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "股份公司",
    "有限公司",
    "集团公司",
    "集团",
    "公司",
)
_SUFFIX_EN = re.compile(
    r"(?:\s|,|\.)*(?:co\s*\.?\s*,?\s*ltd|company\s+limited|co\s*\.?\s*limited|limited|ltd|incorporated|inc|"
    r"corporation|corp|company|co|group|llc|gmbh|plc)\.?$"
)
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
_NOT_WORD = re.compile(r"[\W_]+")


def normalize_org(name: str | None) -> str:
    """The key spellings of one organization share; empty for no name.

    Full-width to half-width (NFKC), case folded; bracketed parts dropped (小米科技（武汉）有限公司 →
    小米科技); legal-form suffixes dropped (有限公司, 股份有限公司, 有限责任公司, 集团, Co., Ltd., Inc.…);
    spaces and punctuation dropped; a university's sub-unit cut at 大学 (武汉大学计算机学院 → 武汉大学).
    武汉大学 and 华中科技大学 stay two keys: nothing is cut from the front.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    previous = None
    while previous != text:
        previous = text
        text = _BRACKETS.sub("", text).strip()
        text = _SUFFIX_EN.sub("", text).strip(" ,.")
        for suffix in _SUFFIXES_ZH:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
    text = _NOT_WORD.sub("", text)
    if "大学" in text:
        text = text[: text.index("大学") + 2]
    return text


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an address, or None."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().strip(".").casefold()
    return domain or None


def is_webmail(domain: str) -> bool:
    parts = domain.split(".")
    return any(".".join(parts[i:]) in WEBMAIL for i in range(len(parts) - 1))


def _suffixes(domain: str) -> list[str]:
    """cs.whu.edu.cn → [cs.whu.edu.cn, whu.edu.cn, edu.cn] (never a bare top-level label)."""
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


@dataclass(frozen=True, slots=True)
class Party:
    """What the rules read of a judge or an entry, normalised once (``party`` builds it)."""

    organization: str  # as given (for the log's detail)
    org_key: str
    domains: frozenset[str]  # own mail domains, webmail already left out
    ties: dict[str, str] = field(default_factory=dict)  # normalised key → as declared


def party(
    organization: str | None, emails: Iterable[str | None] = (), ties: Iterable[str] = (), domains: Iterable[str] = ()
) -> Party:
    found = {d for d in (email_domain(e) for e in emails) if d} | {d.strip().casefold() for d in domains if d.strip()}
    keyed = {normalize_org(t): t for t in ties}
    keyed.pop("", None)
    return Party(
        organization=organization or "",
        org_key=normalize_org(organization),
        domains=frozenset(d for d in found if not is_webmail(d)),
        ties=keyed,
    )


@dataclass(frozen=True, slots=True)
class Found:
    rule: str
    detail: str


def declared_tie(judge: Party, entry: Party) -> str | None:
    tie = judge.ties.get(entry.org_key) if entry.org_key else None
    return f"{tie} ~ {entry.organization}" if tie is not None else None


def same_organization(judge: Party, entry: Party) -> str | None:
    if judge.org_key and judge.org_key == entry.org_key:
        return f"{judge.organization} ~ {entry.organization}"
    return None


def same_email_domain(judge: Party, entry: Party) -> str | None:
    for mine in sorted(judge.domains):
        for theirs in sorted(entry.domains):
            if mine == theirs or mine.endswith("." + theirs) or theirs.endswith("." + mine):
                return f"{mine} ~ {theirs}"
    return None


def entrant_declared(judge: Party, entry: Party) -> str | None:
    tie = entry.ties.get(judge.org_key) if judge.org_key else None
    return f"{tie} ~ {judge.organization}" if tie is not None else None


RULES: tuple[tuple[str, Callable[[Party, Party], str | None]], ...] = (
    ("declared_tie", declared_tie),
    ("same_organization", same_organization),
    ("email_domain", same_email_domain),
    ("entrant_declared", entrant_declared),
)
RECUSAL = "recusal"


def find(judge: Party, entry: Party) -> list[Found]:
    """Every rule that finds a conflict between them (pure)."""
    found = []
    for name, rule in RULES:
        detail = rule(judge, entry)
        if detail is not None:
            found.append(Found(name, detail[:500]))
    return found


def conflict_pairs(judges: dict[int, Party], entries: dict[int, Party]) -> dict[tuple[int, int], list[Found]]:
    """Every conflicted (judge id, entry id) with what was found: ``find`` over the candidate pairs that
    share a key (an organization, a declared tie, a mail domain or a parent of one), not over all pairs."""
    by_org: dict[str, set[int]] = defaultdict(set)
    by_tie: dict[str, set[int]] = defaultdict(set)
    by_domain: dict[str, set[int]] = defaultdict(set)  # every suffix of every domain of the entry
    by_exact_domain: dict[str, set[int]] = defaultdict(set)
    for entry_id, e in entries.items():
        if e.org_key:
            by_org[e.org_key].add(entry_id)
        for key in e.ties:
            by_tie[key].add(entry_id)
        for domain in e.domains:
            by_exact_domain[domain].add(entry_id)
            for suffix in _suffixes(domain):
                by_domain[suffix].add(entry_id)
    found: dict[tuple[int, int], list[Found]] = {}
    for judge_id, j in judges.items():
        candidates: set[int] = set()
        for key in (j.org_key, *j.ties):
            if key:
                candidates |= by_org.get(key, set())
        if j.org_key:
            candidates |= by_tie.get(j.org_key, set())
        for domain in j.domains:
            candidates |= by_domain.get(domain, set())  # the entry's domain is this one or below it
            for suffix in _suffixes(domain):
                candidates |= by_exact_domain.get(suffix, set())  # the entry's is this one or above it
        for entry_id in candidates:
            hits = find(j, entries[entry_id])
            if hits:
                found[(judge_id, entry_id)] = hits
    return found


async def log(conn: BaseDBAsyncClient, competition_id: int, pairs: dict[tuple[int, int], list[Found]]) -> None:
    """Log the conflicts found (a pair and rule already logged is kept as it was)."""
    now = clock.now()
    found = [(j, e, hit.rule, hit.detail) for (j, e), hits in pairs.items() for hit in hits]
    if not found:
        return
    if dialect_of(conn) == "postgres":
        # One statement of arrays: a round's first assignment may log tens of thousands of pairs, which
        # row-by-row inserts take seconds over.
        judges, entries, rules, details = (list(column) for column in zip(*found, strict=True))
        await conn.execute_query(
            "INSERT INTO competition_conflict (competition_id, judge_id, entry_id, rule, detail, found_at) "
            "SELECT $1, j, e, r, d, $2 FROM unnest($3::int[], $4::int[], $5::text[], $6::text[]) AS t(j, e, r, d) "
            "ON CONFLICT (judge_id, entry_id, rule) DO NOTHING",
            [competition_id, now, judges, entries, rules, details],
        )
        return
    rows = [
        ConflictRecord(competition_id=competition_id, judge_id=j, entry_id=e, rule=rule, detail=detail, found_at=now)
        for j, e, rule, detail in found
    ]
    await ConflictRecord.bulk_create(rows, ignore_conflicts=True, batch_size=500, using_db=conn)


ORDER = ("id",)


async def conflict_page(
    competition_id: int, *, judge_id: int | None = None, limit: int, cursor: str | None = None
) -> paging.Page[ConflictRecord]:
    """The log of conflicts found in a competition, oldest first (the caller checked ownership).
    Raises ``invalid_input`` (cursor)."""
    qs = ConflictRecord.filter(competition_id=competition_id)
    if judge_id is not None:
        qs = qs.filter(judge_id=judge_id)
    total = await qs.count()
    rows = await paging.after(qs, "competition_conflicts", ORDER, cursor).order_by(*ORDER).limit(limit + 1)
    return paging.page(rows, "competition_conflicts", ORDER, limit, total=total)
