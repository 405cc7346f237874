"""Why a match: reasons (what the pair shares) and what is missing, in the caller's language.

A reason names something both sides hold: the achievement's keywords found in the other text first,
then the runs of characters (and Latin words) the two texts share, trimmed of function characters at
their edges and weighted by how rare their characters are in the library; then the field, the
district, how the TRL fits. No word segmenter is needed: a shared run *is* the term ("钙钛矿太阳能电池"),
and the library's own keywords name the words it is made of. When no term is shared the strongest
shared character pairs are named; only when nothing at all is, the reason says the topics are close,
with the similarity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from events import supply_fields
from events.districts import label as district_label
from events.errors import N_
from events.i18n import Locale, gettext
from events.services.matching.index import Space
from events.services.matching.text import STOP_TERMS, cjk_runs, latin_words, normalise, pair_code, trim

MAX_TERMS = 4
MAX_EXPLAINED_TEXT = 5_000  # characters of each side read for reasons (enough for an abstract)
MAX_KEYWORD = 100  # characters of a keyword (the achievements service's limit)

TRANSFER_MODES: dict[str, str] = {
    "transfer": N_("assignment"),
    "license": N_("licence"),
    "equity": N_("equity investment"),
    "joint_development": N_("joint development"),
    "other": N_("other arrangement"),
}


# An achievement's stage of development, as a pitch's reason names it.
STAGES: dict[str, str] = {
    "research": N_("research"),
    "lab": N_("lab scale"),
    "pilot": N_("pilot scale"),
    "sample": N_("samples"),
    "production": N_("mass production"),
}


def _sep(locale: Locale) -> str:
    return "、" if locale == "zh" else ", "


def field_label(code: str, locale: Locale) -> str:
    """A field's name from the field catalogue; the code as entered when it is not one of its codes."""
    return supply_fields.label(code, locale) or code


def mode_labels(modes: Iterable[str], locale: Locale) -> str:
    return _sep(locale).join(gettext(locale, TRANSFER_MODES.get(m, m)) for m in modes)


def _weight(space: Space, term: str) -> float:
    """How telling a term is: the mean idf of its characters and pairs, more for longer ones."""
    idfs = space.idf_of(term)
    base = sum(idfs) / len(idfs) if idfs else 1.0
    return base * (1.0 + 0.1 * min(len(term), 6))


def shared_runs(query: str, doc: str) -> set[str]:
    """The maximal runs of ideographs the two (``normalise``d) texts share, trimmed of function
    characters at their edges and split at "的"."""
    pairs = {run[i : i + 2] for run in cjk_runs(doc) for i in range(len(run) - 1)}
    found: set[str] = set()
    for run in set(cjk_runs(query)):
        reach = 0  # end of the last run found: a run ending there or before is part of it
        for i in range(len(run) - 1):
            if run[i : i + 2] not in pairs:
                continue
            j = i + 2
            while j < len(run) and run[j - 1 : j + 1] in pairs and run[i : j + 1] in doc:
                j += 1
            if j <= reach:
                continue
            reach = j
            for part in run[i:j].split("的"):  # "A的B": two terms, A and B
                term = trim(part)
                if len(term) >= 2 and term not in STOP_TERMS:
                    found.add(term)
    return found


def _original(word: str, text: str) -> str:
    """A Latin word as the text spells it ("KrF", not "krf")."""
    found = re.search(re.escape(word), text, re.IGNORECASE)
    return found.group(0) if found else word


def shared_terms(space: Space, query: str, doc: str, doc_keywords: Sequence[str] = ()) -> tuple[list[str], bool]:
    """The best (up to ``MAX_TERMS``) terms present in both texts, the document's keywords first, and
    whether any of them is a keyword."""
    query = query[:MAX_EXPLAINED_TEXT]
    query_text = normalise(query)
    doc_text = normalise(doc[:MAX_EXPLAINED_TEXT])
    keywords = {normalise(k).strip() for k in doc_keywords if 2 <= len(k) <= MAX_KEYWORD}
    shared_keywords = sorted((k for k in keywords if k in query_text), key=lambda t: (-_weight(space, t), t))
    words = set(latin_words(doc_text))
    others = shared_runs(query_text, doc_text) | {
        w for w in latin_words(query_text) if w in words and len(w) >= 2 and not w.isdigit()
    }
    ranked = sorted(others - set(shared_keywords), key=lambda t: (-_weight(space, t), t))
    chosen: list[str] = []
    for term in [*shared_keywords, *ranked]:  # "光纤传感" makes "光纤" redundant
        if not any(term in c or c in term for c in chosen):
            chosen.append(term)
        if len(chosen) == MAX_TERMS:
            break
    is_keyword = any(t in keywords for t in chosen)
    return [_original(t, query) if t.isascii() else t for t in chosen], is_keyword


def shared_pairs(space: Space, query: str, doc: str) -> list[str]:
    """Character pairs in both texts, rarest first: named when no whole term is shared."""

    def pairs(text: str) -> set[str]:
        return {run[i : i + 2] for run in cjk_runs(normalise(text[:MAX_EXPLAINED_TEXT])) for i in range(len(run) - 1)}

    both = [(space.idf_of_code(pair_code(g)), g) for g in pairs(query) & pairs(doc) if g not in STOP_TERMS]
    known = [(idf, g) for idf, g in both if idf is not None]
    known.sort(key=lambda t: (-t[0], t[1]))
    return [g for _, g in known[:2]]


def terms_reason(space: Space, query: str, doc: str, locale: Locale, keywords: Sequence[str] = ()) -> str | None:
    terms, is_keyword = shared_terms(space, query, doc, keywords)
    if terms:
        if is_keyword:
            return gettext(locale, N_("Shared keywords: %(terms)s"), terms=_sep(locale).join(terms))
        return gettext(locale, N_("Both mention: %(terms)s"), terms=_sep(locale).join(terms))
    pairs = shared_pairs(space, query, doc)
    if pairs:
        return gettext(locale, N_("Both mention: %(terms)s"), terms=_sep(locale).join(pairs))
    return None


def topic_reason(similarity: float, locale: Locale) -> str:
    return gettext(locale, N_("Close in topic (similarity %(score).2f)"), score=similarity)


def same_field(code: str, locale: Locale) -> str:
    return gettext(locale, N_("Same field: %(field)s"), field=field_label(code, locale))


def same_district(code: str, locale: Locale) -> str:
    return gettext(locale, N_("Same district: %(district)s"), district=district_label(code, locale))


def trl_fits(trl: int, minimum: int | None, locale: Locale) -> str:
    if minimum:
        return gettext(locale, N_("TRL %(trl)s meets the minimum of %(minimum)s"), trl=trl, minimum=minimum)
    return gettext(locale, N_("TRL %(trl)s"), trl=trl)


def trl_unknown(minimum: int, locale: Locale) -> str:
    return gettext(locale, N_("TRL unknown, the demand asks ≥ %(minimum)s"), minimum=minimum)


def modes_fit(modes: Iterable[str], locale: Locale) -> str:
    return gettext(locale, N_("Transfer by %(modes)s"), modes=mode_labels(modes, locale))


def modes_unknown(wanted: Iterable[str], locale: Locale) -> str:
    return gettext(
        locale, N_("Transfer modes not stated (the demand wants %(modes)s)"), modes=mode_labels(wanted, locale)
    )


def field_differs(theirs: str, wanted: str, locale: Locale) -> str:
    return gettext(
        locale,
        N_("Field %(field)s, the demand is in %(wanted)s"),
        field=field_label(theirs, locale),
        wanted=field_label(wanted, locale),
    )


def district_differs(theirs: str | None, wanted: str, locale: Locale) -> str:
    if not theirs:
        return gettext(
            locale, N_("District unknown, the demand is in %(wanted)s"), wanted=district_label(wanted, locale)
        )
    return gettext(
        locale,
        N_("In %(district)s, the demand is in %(wanted)s"),
        district=district_label(theirs, locale),
        wanted=district_label(wanted, locale),
    )


def specialties(shared: Iterable[str], locale: Locale) -> str:
    return gettext(locale, N_("Specialties: %(specialties)s"), specialties=_sep(locale).join(shared))


def load(open_demands: int, locale: Locale) -> str:
    if open_demands == 0:
        return gettext(locale, N_("Holds no open demand now"))
    return gettext(locale, N_("Holds %(n)s open demands"), n=open_demands)


def ticket_fits(low: int | None, high: int | None, locale: Locale) -> str:
    return gettext(locale, N_("Invests %(range)s per deal"), range=money_range(low, high, locale))


def ticket_outside(low: int | None, high: int | None, locale: Locale) -> str:
    return gettext(locale, N_("Invests %(range)s per deal, outside the budget"), range=money_range(low, high, locale))


def money_range(low: int | None, high: int | None, locale: Locale) -> str:
    def one(value: int) -> str:
        if locale == "zh":
            return f"{value / 10_000:g} 万元"
        return f"CNY {value:,}"

    if low and high:
        return f"{one(low)}–{one(high)}" if locale != "zh" else f"{low / 10_000:g}–{high / 10_000:g} 万元"
    if low:
        return "≥ " + one(low)
    if high:
        return "≤ " + one(high)
    return ""


def event_when(day: str, locale: Locale) -> str:
    return gettext(locale, N_("Takes place %(day)s"), day=day)


def fields_of_interest(shared: Iterable[str], locale: Locale) -> str:
    return gettext(
        locale, N_("Invests in %(fields)s"), fields=_sep(locale).join(field_label(f, locale) for f in shared)
    )


def stage_fits(stage: str, rounds: Iterable[str], labels: dict[str, str], locale: Locale) -> str:
    """The project's stage meets rounds the investor funds (``labels``: the rounds' names)."""
    return gettext(
        locale,
        N_("At the %(stage)s stage, which they fund (%(rounds)s)"),
        stage=gettext(locale, STAGES.get(stage, stage)),
        rounds=_sep(locale).join(gettext(locale, labels.get(r, r)) for r in rounds),
    )
