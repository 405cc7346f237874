"""Text to features: normalising, and character n-grams as integer codes (the ranking's vocabulary).

Character 1–2-grams carry Chinese relevance without a dictionary (a word of the library is a run of
bigrams, a new term still shares its characters); Latin words and numbers ("5G", "mrp", "sos") are kept
whole. Grams are integer codes, taken from a whole batch of texts at once with numpy, so building
the index of 100,000 achievements spends its time in array operations, not in a Python loop per
character:

* an ideograph is its code point (< 2²¹);
* a pair of adjacent ideographs is ``first << 21 | second`` (≥ 2²¹ · 0x3400, never a single one);
* a Latin word is ``LATIN | 47 bits of its BLAKE2b digest`` (stable across processes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from hashlib import blake2b

import numpy as np

# Runs of CJK ideographs; Latin/number tokens (with inner dots or dashes: "ti-6al-4v", "2.5d").
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORDS = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
_LATIN_ALNUM = re.compile(r"[a-z0-9]")
_LATIN_STOP = frozenset("the of and a an in on for to with by from is are we this that as at be or".split())

# Words too common in technical prose to be a reason: the boilerplate of abstracts and demands.
STOP_TERMS = frozenset(
    """
    研究 分析 方法 结果 表明 基于 进行 通过 提出 采用 一种 我们 本文 应用 影响 作用 问题 探讨 及其 目的 背景 结论
    利用 使用 具有 可以 能够 实现 得到 对于 以及 其中 根据 提高 需要 需求 要求 希望 寻求 寻找 解决 企业 公司 单位
    技术 项目 成果 相关 主要 不同 重要 一定 情况 条件 过程 因素 特点 发展 现状 意义 方面 工作 系统地 有效 显著
    明显 较好 较高 提供 合作 开展 建立 设计 对比 比较 观察 评价 选取 选择 确定 考察 为了 并且 但是 然而 同时 此外
    因此 所以 由于 随着 目前 近年来 已经 可能 没有 这些 一些 各种 多种 其他 之间 之后 以上 以下 左右 大于 小于
    研究表明 结果表明 本文提出 提出了 进行了 采用了 用于 基于的 的研究 的应用 的影响 的方法 的分析
    """.split()
)
# Characters that end a shared run at its edges (a reason names "钙钛矿电池", not "的钙钛矿电池和").
EDGE_CHARS = frozenset("的了和与及或并是在对将把被从而其之也都这那该此于为以个中上下等着过")
LEADING_KEEP = frozenset("等中上下")  # 等离子, 中试, 上转换, 下游: kept at the start of a term

LATIN = 1 << 48
PAIR_SHIFT = 21


def normalise(text: str) -> str:
    """NFKC (full-width → half-width) and case-folded: the form every feature is taken from."""
    return unicodedata.normalize("NFKC", text).casefold()


def _is_cjk(cps: np.ndarray) -> np.ndarray:
    mask: np.ndarray = ((cps >= 0x3400) & (cps <= 0x4DBF)) | ((cps >= 0x4E00) & (cps <= 0x9FFF))
    return mask


@lru_cache(maxsize=100_000)
def word_code(word: str) -> int:
    """A Latin word's code: stable across processes (Python's own ``hash`` of a string is not)."""
    return LATIN | (int.from_bytes(blake2b(word.encode(), digest_size=8).digest(), "little") & (LATIN - 1))


def gram_codes(texts: Sequence[str], *, max_chars: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every gram occurrence of ``texts`` (already ``normalise``d): (row of its text int32, code int64)."""
    if max_chars is not None:
        texts = [t[:max_chars] for t in texts]
    joined = "\x00".join(texts)  # a separator that is no ideograph: no pair across two texts
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    row_of = np.repeat(np.arange(len(texts), dtype=np.int32), [len(t) + 1 for t in texts])[: len(cps)]
    cjk = _is_cjk(cps)
    single = np.flatnonzero(cjk)
    pair = np.flatnonzero(cjk[:-1] & cjk[1:])
    rows = [row_of[single], row_of[pair]]
    codes = [cps[single].astype(np.int64), (cps[pair].astype(np.int64) << PAIR_SHIFT) | cps[pair + 1]]
    word_rows: list[int] = []
    word_codes: list[int] = []
    for row, text in enumerate(texts):
        if not _LATIN_ALNUM.search(text):
            continue
        for word in _WORDS.findall(text):
            if word not in _LATIN_STOP:
                word_rows.append(row)
                word_codes.append(word_code(word))
    if word_rows:
        rows.append(np.array(word_rows, dtype=np.int32))
        codes.append(np.array(word_codes, dtype=np.int64))
    return np.concatenate(rows).astype(np.int32), np.concatenate(codes)


def codes_of(text: str) -> np.ndarray:
    """The distinct gram codes of one text (``normalise``d here)."""
    _, codes = gram_codes([normalise(text)])
    return np.unique(codes)


def pair_code(pair: str) -> int:
    """The code of a pair of ideographs."""
    return (ord(pair[0]) << PAIR_SHIFT) | ord(pair[1])


def cjk_runs(text: str) -> list[str]:
    """The ideograph runs of a ``normalise``d text."""
    return _CJK_RUN.findall(text)


def latin_words(text: str) -> list[str]:
    """The Latin words and numbers of a ``normalise``d text, stop words left out."""
    return [w for w in _WORDS.findall(text) if w not in _LATIN_STOP]


def trim(term: str) -> str:
    """A run without the function characters at its edges ("的钙钛矿电池和" → "钙钛矿电池")."""
    start, end = 0, len(term)
    while start < end and term[start] in EDGE_CHARS and term[start] not in LEADING_KEEP:
        start += 1
    while end > start and term[end - 1] in EDGE_CHARS:
        end -= 1
    return term[start:end]
