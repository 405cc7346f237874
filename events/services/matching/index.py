"""The vectors: a feature space fitted on the library, and collections of documents embedded in it.

The space is char 1–2-gram TF-IDF (sublinear tf, ``min_df`` 2 once the library is large enough, at most
``MAX_FEATURES`` columns by document frequency) plus LSA: a truncated SVD fitted on a sample of at
most ``SVD_SAMPLE`` documents (randomized, float32), onto which every document is projected. Grams
are integer codes (``text.gram_codes``) counted a batch of ``BATCH`` documents at a time with numpy;
everything is float32.

A collection holds, per document, a pruned lexical vector (its ``LEX_TERMS`` heaviest features, kept
by feature — an inverted index — so a query reads only the postings of its own features) and a
latent vector; the library's latent vectors are *smoothed* with their nearest neighbours (each
document blended with the mean of its ``NEIGHBOURS`` closest): topical relevance follows clusters,
and a short query that lands near one member of a cluster is brought to its other members too.
Neighbours are exact up to ``EXACT_NEIGHBOURS_UPTO`` documents; above, they are sought among the
members of the nearest k-means cells (approximate: the cost grows as n·√n, not n²).

Collections are immutable snapshots: an update builds a new one and swaps the reference, so a
query holding the old one finishes on a consistent state (never a torn one). Documents added one by
one go to a small *tail* (rows by document) that is folded into the inverted index once it grows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from events.services.matching.text import codes_of, gram_codes, normalise

# BLAS in one thread. The machines have 2 cores shared with the event loop, PostgreSQL and other
# processes; OpenBLAS's threads spin waiting for each other when a core is taken, and then a 738-paper
# fit took 12 s instead of 1.4 and a query several times its time. (Process-wide: the matching stack
# is the only user of BLAS in the server.)
threadpool_limits(limits=1, user_api="blas")

MAX_FEATURES = 60_000
SVD_SAMPLE = 20_000
LATENT_DIMS = 200
POWER_ITERATIONS = 4
# Below this many documents a latent space is mostly noise: lexical matching alone.
MIN_LATENT_DOCS = 40
LEX_TERMS = 64
NEIGHBOURS = 10
# Exact neighbours up to this size; above it, neighbours among the nearest k-means cells' members.
EXACT_NEIGHBOURS_UPTO = 10_000
MAX_TEXT = 20_000  # characters of a document's text that count (a 100 KB description is cut)
BATCH = 2_048  # documents turned into features at a time (a row fits in ROW_BITS)
ROW_BITS = 50  # (row << ROW_BITS) | code: codes are below 2⁴⁹
TAIL_FOLD = 2_048  # documents added one by one are folded into the inverted index past this many

Matrix = np.ndarray


@dataclass(frozen=True, slots=True)
class Doc:
    """One document to index, with the fields the hard filters and boosts read."""

    id: int
    text: str
    title: str = ""
    external_id: str | None = None
    trl: int | None = None
    district: str | None = None
    field: str | None = None
    modes: tuple[str, ...] = ()
    # Demands: their kind and the last day they stand (ordinal; 0 none).
    kind: str | None = None
    deadline: int = 0


MODE_BITS = {"transfer": 1, "license": 2, "equity": 4, "joint_development": 8, "other": 16}


def mode_bits(modes: Sequence[str]) -> int:
    bits = 0
    for mode in modes:
        bits |= MODE_BITS.get(mode, 0)
    return bits


def _l2_rows(m: Matrix) -> Matrix:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    m /= norms
    return m


def prepare(text: str) -> str:
    """The part of a text that counts, ``normalise``d: what the feature functions below read."""
    return normalise(text[:MAX_TEXT])


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and how often each occurs. (Sorting explicitly: ``np.unique``
    picks a hash table for some calls in numpy 2, which was ten times slower on these int64 keys.)"""
    values = np.sort(values)
    if not len(values):
        return values, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.diff(np.append(starts, len(values)))


def _distinct_codes(prepared: Sequence[str]) -> np.ndarray:
    """Each (text, gram) once, as the gram's code (≤ BATCH texts): what document frequency counts."""
    rows, codes = gram_codes(prepared)
    keys, _ = _counted((rows.astype(np.int64) << ROW_BITS) | codes)
    codes_once: np.ndarray = keys & ((1 << ROW_BITS) - 1)
    return codes_once


def _batches(n: int) -> Iterable[range]:
    return (range(lo, min(n, lo + BATCH)) for lo in range(0, n, BATCH))


@dataclass(frozen=True)
class Space:
    """Features (sorted gram codes) → columns, their idf, and the LSA basis (None for a small library)."""

    codes: np.ndarray  # int64, sorted: column → gram code
    idf: np.ndarray  # float32
    basis: Matrix | None  # features × dims, float16
    docs_at_fit: int

    @property
    def features(self) -> int:
        return len(self.codes)

    @classmethod
    def fit(cls, texts: Sequence[str], *, seed: int = 13) -> Space:
        return cls.fit_prepared([prepare(t) for t in texts], seed=seed)

    @classmethod
    def fit_prepared(cls, texts: Sequence[str], *, seed: int = 13) -> Space:
        """``fit`` on texts already through ``prepare``."""
        n = len(texts)
        seen: list[tuple[np.ndarray, np.ndarray]] = []
        for batch in _batches(n):
            seen.append(_counted(_distinct_codes([texts[i] for i in batch])))
            if len(seen) >= 16:
                seen = [_merged(seen)]
        codes, df = _merged(seen) if seen else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        min_df = 2 if n >= 200 else 1
        keep = np.flatnonzero(df >= min_df)
        if len(keep) > MAX_FEATURES:
            keep = keep[np.lexsort((codes[keep], -df[keep]))[:MAX_FEATURES]]
            keep.sort()
        codes, df = codes[keep], df[keep]
        idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
        space = cls(codes=codes, idf=idf, basis=None, docs_at_fit=n)
        if n < MIN_LATENT_DOCS or not len(codes):
            return space
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n, SVD_SAMPLE, replace=False)) if n > SVD_SAMPLE else np.arange(n)
        x = space.tfidf_prepared([texts[i] for i in sample])
        dims = min(LATENT_DIMS, max(2, len(sample) // 3), len(codes) - 1)
        return replace(space, basis=_randomized_basis(x, dims, rng))

    def columns(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(columns, which codes are features): codes outside the vocabulary are dropped."""
        if not len(self.codes):
            return np.zeros(0, np.int64), np.zeros(len(codes), bool)
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        known = self.codes[at] == codes
        return at[known], known

    def idf_of(self, term: str) -> list[float]:
        """The idf of each of the term's grams that is a feature (how telling the term is)."""
        cols, _ = self.columns(codes_of(term))
        return [float(v) for v in self.idf[cols]]

    def idf_of_code(self, code: int) -> float | None:
        """The idf of one gram, None when it is no feature."""
        cols, known = self.columns(np.array([code], np.int64))
        return float(self.idf[cols[0]]) if known[0] else None

    def tfidf(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sublinear tf × idf, rows L2-normalised (features outside the vocabulary are dropped)."""
        return self.tfidf_prepared([prepare(t) for t in texts])

    def tfidf_prepared(self, texts: Sequence[str]) -> sp.csr_matrix:
        parts = [self._tfidf_batch([texts[i] for i in batch]) for batch in _batches(len(texts))]
        if not parts:
            return sp.csr_matrix((0, self.features), dtype=np.float32)
        return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr", dtype=np.float32)

    def _tfidf_batch(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows, codes = gram_codes(texts)
        cols, known = self.columns(codes)
        # (row, column) pairs as one small integer (int32 when it fits): counting them is one sort.
        shift = max(1, self.features.bit_length())
        kind = np.int32 if (len(texts) << shift) < 2**31 else np.int64
        keys, tf = _counted((rows[known].astype(kind) << shift) | cols.astype(kind))
        rows, cols = keys >> shift, keys & ((1 << shift) - 1)
        weights = (1.0 + np.log(tf.astype(np.float32))) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=len(texts))).astype(np.float32)
        norms[norms == 0] = 1.0
        weights /= norms[rows]
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        # Keys were sorted by (row, column): rows are in order, columns sorted within each.
        return sp.csr_matrix(
            (weights.astype(np.float32), cols.astype(np.int32), indptr), shape=(len(texts), self.features)
        )

    def latent(self, x: sp.csr_matrix) -> Matrix | None:
        if self.basis is None:
            return None
        # Only the basis rows of the features the texts have, widened to float32 for the product.
        cols, at = np.unique(x.indices, return_inverse=True)
        used = sp.csr_matrix((x.data, at.astype(np.int32), x.indptr), shape=(x.shape[0], len(cols)))
        return _l2_rows(used @ self.basis[cols].astype(np.float32))


def _merged(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(codes, counts) summed over parts."""
    codes = np.concatenate([c for c, _ in parts])
    counts = np.concatenate([k for _, k in parts])
    unique, where = np.unique(codes, return_inverse=True)
    return unique, np.bincount(where, weights=counts).astype(np.int64)


def _orthonormal(y: Matrix) -> Matrix:
    q: Matrix = scipy.linalg.qr(y, mode="economic", overwrite_a=True, check_finite=False)[0]
    return q


def _randomized_basis(x: sp.csr_matrix, dims: int, rng: np.random.Generator) -> Matrix:
    """The top ``dims`` right singular vectors of ``x`` (features × dims), Halko et al.'s randomized SVD,
    in float32 throughout (numpy's own QR computes in float64: twice the time for nothing here)."""
    xt = x.T.tocsr()
    omega = rng.standard_normal((x.shape[1], dims + 20)).astype(np.float32)
    y = x @ omega
    for _ in range(POWER_ITERATIONS):
        q = _orthonormal(y)
        q = _orthonormal(xt @ q)
        y = x @ q
    q = _orthonormal(y)
    # x ≈ q·b with b = qᵀx; bᵀ = p·r (tall and thin), so b's right singular vectors are p times those
    # of rᵀ: an SVD of a (dims+20)² matrix instead of one of (dims+20) × features.
    p, r = scipy.linalg.qr(xt @ q, mode="economic", overwrite_a=True, check_finite=False)
    _, _, vt = scipy.linalg.svd(r.T, check_finite=False)
    # Kept in float16 (half the memory: 18 MB at 100,000 documents); ``Space.latent`` widens the rows it uses.
    return np.ascontiguousarray(p @ vt[:dims].T, dtype=np.float16)


def _prune(x: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Each row's ``keep`` heaviest features (static index pruning: the tail adds little, costs much)."""
    counts = np.diff(x.indptr)
    if not len(counts) or counts.max() <= keep:
        return x
    rows = np.repeat(np.arange(x.shape[0]), counts)
    order = np.argsort(2.0 * rows - x.data)  # by row, heaviest first (weights are in (0, 1])
    rank = np.arange(len(order)) - x.indptr[rows[order]]
    kept = np.sort(order[rank < keep])  # back in (row, column) order
    indptr = np.zeros(x.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.minimum(counts, keep), out=indptr[1:])
    return sp.csr_matrix((x.data[kept], x.indices[kept], indptr), shape=x.shape)


def _neighbour_means(z: Matrix, k: int) -> Matrix:
    """For each row, the mean of its ``k`` nearest other rows (cosine), exact or cluster-restricted."""
    n = len(z)
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros_like(z)
    out = np.empty_like(z)
    if n <= EXACT_NEIGHBOURS_UPTO:
        for lo in range(0, n, 1024):
            sims = z[lo : lo + 1024] @ z.T
            rows = np.arange(sims.shape[0])
            sims[rows, rows + lo] = -np.inf
            nn = np.argpartition(-sims, k, axis=1)[:, :k]
            out[lo : lo + 1024] = z[nn].mean(axis=1)
        return out
    # Large libraries: k-means cells (about √n of them), each searched among its 3 nearest cells.
    centroids, cell = _kmeans(z, int(math.sqrt(n)))
    near_cells = np.argsort(-(centroids @ centroids.T), axis=1)[:, :3]
    members = [np.flatnonzero(cell == c) for c in range(len(centroids))]
    for c, own in enumerate(members):
        if len(own) == 0:
            continue
        pool = np.concatenate([members[d] for d in near_cells[c]])
        sims = z[own] @ z[pool].T
        sims[pool[None, :] == own[:, None]] = -np.inf
        kk = min(k, len(pool) - 1)
        if kk <= 0:
            out[own] = 0.0
            continue
        nn = np.argpartition(-sims, kk, axis=1)[:, :kk]
        out[own] = z[pool[nn]].mean(axis=1)
    return out


def _kmeans(z: Matrix, cells: int, iterations: int = 8, seed: int = 7) -> tuple[Matrix, np.ndarray]:
    """Spherical k-means (fitted on a sample, then every row assigned)."""
    rng = np.random.default_rng(seed)
    sample = z[rng.choice(len(z), min(len(z), cells * 40), replace=False)]
    centroids = sample[rng.choice(len(sample), cells, replace=False)].copy()
    for _ in range(iterations):
        assign = np.argmax(sample @ centroids.T, axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, sample)
        empty = np.bincount(assign, minlength=cells) == 0
        sums[empty] = centroids[empty]
        centroids = _l2_rows(sums)
    cell = np.concatenate([np.argmax(z[lo : lo + 8192] @ centroids.T, axis=1) for lo in range(0, len(z), 8192)])
    return centroids, cell


@dataclass(frozen=True)
class Labels:
    """Strings (fields, districts, kinds) as small integers: comparing 100,000 of them is one array
    operation, not 100,000 Python ones. 0 is "none"; a label never seen matches nothing."""

    codes: dict[str, int] = dataclass_field(default_factory=dict)

    def with_values(self, values: Iterable[str | None]) -> Labels:
        new = {v for v in values if v and v not in self.codes}
        if not new:
            return self
        codes = dict(self.codes)
        for v in sorted(new):
            codes[v] = len(codes) + 1
        return Labels(codes)

    def encode(self, values: Iterable[str | None]) -> np.ndarray:
        return np.array([self.codes[v] if v else 0 for v in values], dtype=np.int32)

    def code(self, value: str) -> int:
        return self.codes.get(value, -1)


@dataclass(frozen=True)
class Collection:
    """Documents embedded in a space: immutable; ``with_docs``/``without`` return new snapshots."""

    space: Space
    smooth: bool
    ids: np.ndarray  # int64, row → document id
    alive: np.ndarray  # bool, False for replaced or removed rows
    postings: sp.csc_matrix  # the first ``len(postings)`` rows' pruned lexical vectors, by feature
    tail: sp.csr_matrix  # the later rows' (added one by one), by row
    ranked: Matrix | None  # what queries score: latent vectors, smoothed in the library; float32
    trl: np.ndarray  # int8, -1 unknown
    district: np.ndarray  # int32 label code
    field: np.ndarray  # int32 label code
    modes: np.ndarray  # uint8 bit set (MODE_BITS), 0 unknown
    kind: np.ndarray  # int32 label code
    deadline: np.ndarray  # int32 ordinal day, 0 none
    labels: Labels = dataclass_field(default_factory=Labels)
    rows: dict[int, int] = dataclass_field(default_factory=dict)  # live document id → row

    @classmethod
    def build(cls, space: Space, docs: Sequence[Doc], *, smooth: bool, prepared: bool = False) -> Collection:
        """The documents embedded in ``space`` (``prepared``: their texts went through ``prepare``)."""
        features = space.features
        dims = None if space.basis is None else space.basis.shape[1]
        empty = cls(
            space=space,
            smooth=smooth,
            ids=np.zeros(0, np.int64),
            alive=np.zeros(0, bool),
            postings=sp.csc_matrix((0, features), dtype=np.float32),
            tail=sp.csr_matrix((0, features), dtype=np.float32),
            ranked=None if dims is None else np.zeros((0, dims), np.float32),
            trl=np.zeros(0, np.int8),
            district=np.zeros(0, np.int32),
            field=np.zeros(0, np.int32),
            modes=np.zeros(0, np.uint8),
            kind=np.zeros(0, np.int32),
            deadline=np.zeros(0, np.int32),
        )
        if not docs:
            return empty
        lexical: list[sp.csr_matrix] = []
        latent: list[Matrix] = []
        for batch in _batches(len(docs)):
            texts = [docs[i].text for i in batch]
            x = space.tfidf_prepared(texts if prepared else [prepare(t) for t in texts])
            lexical.append(_prune(x, LEX_TERMS))
            z = space.latent(x)
            if z is not None:
                latent.append(z)
        raw = np.concatenate(latent) if latent else None
        ranked = raw
        if raw is not None and smooth:
            ranked = _l2_rows(raw + _neighbour_means(raw, NEIGHBOURS))
        postings = sp.vstack(lexical, format="csr", dtype=np.float32).tocsc()
        return replace(
            empty._with_fields(docs),
            ids=np.array([d.id for d in docs], np.int64),
            alive=np.ones(len(docs), bool),
            postings=postings,
            ranked=ranked,
            rows={d.id: i for i, d in enumerate(docs)},
        )

    @property
    def size(self) -> int:
        return len(self.rows)

    def with_docs(self, docs: Sequence[Doc]) -> Collection:
        """A snapshot where ``docs`` are added or replace the rows of the same ids."""
        return self.without([d.id for d in docs])._appended(docs)

    def without(self, ids: Sequence[int]) -> Collection:
        gone = [self.rows[i] for i in ids if i in self.rows]
        if not gone:
            return self
        alive = self.alive.copy()
        alive[gone] = False
        rows = {i: r for i, r in self.rows.items() if alive[r]}
        return replace(self, alive=alive, rows=rows)

    def is_one_of(self, column: np.ndarray, values: Iterable[str]) -> np.ndarray:
        """Rows whose label ``column`` (``field``, ``district``, ``kind``) holds one of ``values``."""
        codes = [self.labels.code(v) for v in values]
        found: np.ndarray = np.isin(column, codes)
        return found

    def lexical_scores(self, query: sp.csr_matrix) -> np.ndarray:
        """Cosine of the query's TF-IDF row with every row's pruned vector (the query's postings only)."""
        out = np.zeros(len(self.ids), np.float32)
        if query.nnz == 0:
            return out
        cols, weights = query.indices, query.data.astype(np.float32)
        base = self.postings.shape[0]
        if base:
            out[:base] = self.postings[:, cols] @ weights
        if self.tail.shape[0]:
            dense = np.zeros(self.space.features, np.float32)
            dense[cols] = weights
            out[base:] = self.tail @ dense
        return out

    def _with_fields(self, docs: Sequence[Doc]) -> Collection:
        """The per-row fields of ``docs`` appended (the vectors are the caller's)."""
        labels = self.labels.with_values(v for d in docs for v in (d.district, d.field, d.kind))
        return replace(
            self,
            labels=labels,
            trl=np.concatenate([self.trl, np.array([d.trl if d.trl else -1 for d in docs], np.int8)]),
            district=np.concatenate([self.district, labels.encode(d.district for d in docs)]),
            field=np.concatenate([self.field, labels.encode(d.field for d in docs)]),
            modes=np.concatenate([self.modes, np.array([mode_bits(d.modes) for d in docs], np.uint8)]),
            kind=np.concatenate([self.kind, labels.encode(d.kind for d in docs)]),
            deadline=np.concatenate([self.deadline, np.array([d.deadline for d in docs], np.int32)]),
        )

    def _appended(self, docs: Sequence[Doc]) -> Collection:
        if not docs:
            return self
        start = len(self.ids)
        x = self.space.tfidf([d.text for d in docs])
        latent = self.space.latent(x)
        ranked = self.ranked
        if latent is not None and ranked is not None:
            if self.smooth:  # blended with its neighbours in the library as it stands
                latent = _l2_rows(latent + self._neighbour_means_of(latent))
            ranked = np.concatenate([ranked, latent])
        postings, tail = self.postings, sp.vstack([self.tail, _prune(x, LEX_TERMS)], format="csr", dtype=np.float32)
        if tail.shape[0] >= TAIL_FOLD:
            postings, tail = sp.vstack([postings, tail.tocsc()], format="csc", dtype=np.float32), tail[:0]
        rows = dict(self.rows)
        rows.update({d.id: start + i for i, d in enumerate(docs)})
        return replace(
            self._with_fields(docs),
            ids=np.concatenate([self.ids, np.array([d.id for d in docs], np.int64)]),
            alive=np.concatenate([self.alive, np.ones(len(docs), bool)]),
            postings=postings,
            tail=tail,
            ranked=ranked,
            rows=rows,
        )

    def _neighbour_means_of(self, latent: Matrix) -> Matrix:
        """Smoothing for documents added one by one: the mean vector of their nearest live documents.
        (The library's vectors are smoothed already: an approximation of the build's blend of
        unsmoothed ones, which would cost 40 MB more at 100,000 documents to keep.)"""
        assert self.ranked is not None
        live = int(self.alive.sum())
        if live == 0:
            return np.zeros_like(latent)
        sims = latent @ self.ranked.T
        sims[:, ~self.alive] = -np.inf
        k = min(NEIGHBOURS, live)
        nn = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        means: Matrix = self.ranked[nn].mean(axis=1)
        return means


def fit_and_build(docs: Sequence[Doc], *, prepared: bool = False, seed: int = 13) -> Collection:
    """A space fitted on ``docs`` and the smoothed library collection of them, each text prepared once
    (``prepared``: they went through ``prepare`` already)."""
    if not prepared:
        docs = [replace(d, text=prepare(d.text)) for d in docs]
    space = Space.fit_prepared([d.text for d in docs], seed=seed)
    return Collection.build(space, docs, smooth=True, prepared=True)
