"""Near-duplicate demands: the same problem posted twice, in other words.

Texts are compared as bags of character bigrams (cosine), which needs no word segmentation and
holds up when Chinese is rephrased: "高功率激光器散热" and "激光器的散热问题（高功率）" share most of
their bigrams. Boilerplate every demand says (需求, 寻求, 技术, 公司 …) is dropped first, or two
unrelated demands written in the same style would look alike. Latin words and numbers count as one
symbol each, so "GaN" or "30%" is a unit and English text is compared by word pairs.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

# At or above this cosine a new demand is flagged as a near-duplicate (tested with pairs that must
# and must not match, see tests/test_supply_demands.py).
THRESHOLD = 0.45

# Words any demand may use whatever it is about; removed before comparing.
BOILERPLATE = (
    "我们",
    "我公司",
    "本公司",
    "公司",
    "企业",
    "需求",
    "寻求",
    "征集",
    "希望",
    "需要",
    "要求",
    "技术",
    "解决",
    "方案",
    "问题",
    "合作",
    "进行",
    "相关",
    "能够",
    "目前",
    "现有",
    "以上",
    "一种",
    "提供",
)
_BOILERPLATE = re.compile("|".join(sorted(BOILERPLATE, key=len, reverse=True)))
# A Latin word or a number (with its unit sign) is one symbol; any other letter (a Han character) is one.
_SYMBOL = re.compile(r"[a-z0-9]+(?:[.%][0-9%]*)?|[^\W\d_a-z]", re.UNICODE)


def symbols(text: str) -> list[str]:
    """The text as comparable symbols: NFKC, case-folded, boilerplate and punctuation gone."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _BOILERPLATE.sub(" ", text)
    return _SYMBOL.findall(text)


def bigrams(text: str) -> Counter[str]:
    found = symbols(text)
    if len(found) == 1:
        return Counter(found)
    return Counter(a + "\x1f" + b for a, b in zip(found, found[1:], strict=False))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(count * b.get(gram, 0) for gram, count in a.items())
    if dot == 0:
        return 0.0
    norm = math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values()))
    return dot / norm


def demand_text(title: str, description: str) -> str:
    # Title and problem as one text: a rephrased demand often moves words between the two.
    return f"{title}\n{description}"


def similarity(title_a: str, description_a: str, title_b: str, description_b: str) -> float:
    """How alike two demands are, 0 (nothing shared) to 1 (the same text)."""
    return cosine(bigrams(demand_text(title_a, description_a)), bigrams(demand_text(title_b, description_b)))


def best_match(
    title: str, description: str, candidates: list[tuple[int, str, str]], *, threshold: float = THRESHOLD
) -> tuple[int, float] | None:
    """The candidate ``(id, title, description)`` most like the new demand, with its score, if any
    reaches ``threshold``; ties go to the lower (older) id.
    """
    mine = bigrams(demand_text(title, description))
    best: tuple[int, float] | None = None
    for candidate_id, other_title, other_description in candidates:
        score = cosine(mine, bigrams(demand_text(other_title, other_description)))
        if score >= threshold and (best is None or score > best[1] or (score == best[1] and candidate_id < best[0])):
            best = (candidate_id, score)
    return best
