"""Relevance: a query's lexical and latent similarity to every live document of a collection.

Latent relevance is the cosine in the LSA space against the (smoothed) document vectors, refined by
pseudo-relevance feedback: the query moves toward the centroid of its ``FEEDBACK_DOCS`` best
documents (Rocchio in the latent space), which turns a short query ("a title") into the topic it
belongs to. Lexical relevance (cosine of the pruned char-gram TF-IDF vectors) is added with a smaller
weight: it keeps exact terms (a material, a compound, an acronym) on top within the topic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from events.services.matching.index import Collection

FEEDBACK_DOCS = 10
FEEDBACK_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.3
# In a large collection the feedback pass rescores only the first pass's best rows (the rest keep
# their first-pass score): one pass over all the latent vectors instead of two (each pass reads
# 80 MB at 100,000 documents; memory, not arithmetic, bounds it).
FEEDBACK_CANDIDATES = 4_096
EXACT_FEEDBACK_UPTO = 20_000


@dataclass(frozen=True, slots=True)
class Query:
    """A query embedded in a collection's space."""

    lexical: sp.csr_matrix  # one row: the query's TF-IDF weights
    latent: np.ndarray | None
    empty: bool


def embed(collection: Collection, text: str) -> Query:
    x = collection.space.tfidf([text])
    latent = collection.space.latent(x)
    return Query(
        lexical=x,
        latent=None if latent is None else latent[0],
        empty=x.nnz == 0,
    )


def scores(collection: Collection, query: Query, *, feedback: bool = True) -> np.ndarray:
    """One score per row (``-inf`` for dead rows); higher is more relevant."""
    n = len(collection.ids)
    if n == 0:
        return np.zeros(0, np.float32)
    total = collection.lexical_scores(query.lexical)
    if query.latent is not None and collection.ranked is not None and np.any(query.latent):
        ranked = collection.ranked
        latent = ranked @ query.latent
        if feedback:
            live = np.where(collection.alive, latent, -np.inf)
            k = min(FEEDBACK_DOCS, int(collection.alive.sum()))
            if k > 0:
                top = np.argpartition(-live, k - 1)[:k]
                moved = query.latent + FEEDBACK_WEIGHT * ranked[top].mean(axis=0)
                moved = (moved / (float(np.linalg.norm(moved)) or 1.0)).astype(np.float32)
                if n <= EXACT_FEEDBACK_UPTO:
                    latent = ranked @ moved
                else:
                    first = np.where(collection.alive, latent + LEXICAL_WEIGHT * total, -np.inf)
                    rows = np.argpartition(-first, FEEDBACK_CANDIDATES - 1)[:FEEDBACK_CANDIDATES]
                    latent[rows] = ranked[rows] @ moved
        total = latent + LEXICAL_WEIGHT * total
    return np.where(collection.alive, total, -np.inf).astype(np.float32)


def best(score: np.ndarray, limit: int) -> list[int]:
    """Rows of the ``limit`` highest finite, positive scores, best first (ties by row: older first)."""
    ok = np.flatnonzero(np.isfinite(score) & (score > 0))
    if len(ok) == 0:
        return []
    if len(ok) > limit:
        ok = ok[np.argpartition(-score[ok], limit - 1)[:limit]]
    return sorted(ok.tolist(), key=lambda r: (-float(score[r]), r))
