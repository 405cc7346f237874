"""The batch scheduler's arithmetic, free of the database: which project meets which investor in which slot.

Input: projects and investors (participant ids), the open slots, free tables per slot, each person's
busy slots (blocked, or held by a meeting or request already), the meetings each project has already,
and the pairs that may meet with their weight (3 mutual interest, 2 one side asked to meet, 1 one side's
interest, 0 none: only when the organizer allows "cold" meetings).

1. **Fair share.** Each project short of ``min_meetings`` needs that many more. A maximum flow
   (source → project, capacity its need; project → investor, 1 per allowed pair; investor → sink, its
   free slots; the whole capped by the free table-slots) picks the pairs, mutual pairs first (the flow
   is augmented weight by weight: mutual pairs, then one-sided, then cold ones). Its value is an upper bound: no
   schedule gives the projects more quota meetings than it does.
2. **Slots.** The chosen pairs are placed in slots free for both and with a free table: an edge
   colouring of a bipartite graph with the slots as colours. A pair that finds no common free slot is
   placed by an alternating-path (Kempe chain) swap of two slots; if that fails too the pair is set
   aside and step 1 runs again without it, the placed meetings kept. When everyone is free in every
   slot the colouring always succeeds (König: a bipartite graph of maximum degree Δ has a proper
   Δ-edge-colouring), so then every project gets ``min_meetings`` whenever the flow says it can.
3. **Fill.** The slots left are filled round by round — each round every project, fewest meetings
   first, may get one more, with its best remaining pair (mutual before one-sided) — until nothing fits.

Slots are bit masks, so the fill of 200 projects × 60 investors × 24 slots is a few hundred thousand
integer operations.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

Pair = tuple[int, int]  # (project, investor)


@dataclass
class Problem:
    projects: list[int]
    investors: list[int]
    slots: list[int]  # in time order
    tables: dict[int, int]  # slot -> tables free
    busy: dict[int, set[int]] = field(default_factory=dict)  # participant -> slots they cannot take
    existing: dict[int, int] = field(default_factory=dict)  # project -> meetings already held or pending
    pairs: dict[Pair, int] = field(default_factory=dict)  # allowed pairs -> weight (higher first; 0 cold)
    min_meetings: int = 0


@dataclass
class Plan:
    meetings: list[tuple[int, int, int]]  # (project, investor, slot)
    quota_bound: int  # the flow's value: the most quota meetings any schedule could give
    quota_placed: int
    short: dict[int, int]  # projects still below min_meetings -> how many they lack

    def count(self, project: int) -> int:
        return sum(1 for p, _, _ in self.meetings if p == project)


class _Flow:
    """Dinic's maximum flow on a small graph; edges can be added between runs (the flow is kept)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.graph: list[list[int]] = [[] for _ in range(n)]
        self.to: list[int] = []
        self.cap: list[int] = []

    def add(self, u: int, v: int, c: int) -> int:
        self.graph[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(c)
        self.graph[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(0)
        return len(self.to) - 2

    def run(self, s: int, t: int) -> int:
        total = 0
        while True:
            level = [-1] * self.n
            level[s] = 0
            queue = deque([s])
            while queue:
                u = queue.popleft()
                for e in self.graph[u]:
                    if self.cap[e] > 0 and level[self.to[e]] < 0:
                        level[self.to[e]] = level[u] + 1
                        queue.append(self.to[e])
            if level[t] < 0:
                return total
            it = [0] * self.n
            while pushed := self._push(s, t, 1 << 30, level, it):
                total += pushed

    def _push(self, u: int, t: int, f: int, level: list[int], it: list[int]) -> int:
        # Iterative DFS: the graph is three layers deep, but keep Python's stack out of it anyway.
        if u == t:
            return f
        stack: list[tuple[int, int]] = []  # (node, edge taken)
        node, flow = u, f
        while True:
            if node == t:
                for _, e in stack:
                    self.cap[e] -= flow
                    self.cap[e ^ 1] += flow
                return flow
            advanced = False
            while it[node] < len(self.graph[node]):
                e = self.graph[node][it[node]]
                v = self.to[e]
                if self.cap[e] > 0 and level[v] == level[node] + 1:
                    stack.append((node, e))
                    flow = min(flow, self.cap[e])
                    node = v
                    advanced = True
                    break
                it[node] += 1
            if advanced:
                continue
            if not stack:
                return 0
            level[node] = -1  # dead end
            node, _ = stack.pop()
            it[node] += 1
            flow = f
            for _, e in stack:
                flow = min(flow, self.cap[e])


def _bits(slots: Iterable[int], index: dict[int, int]) -> int:
    mask = 0
    for s in slots:
        if s in index:
            mask |= 1 << index[s]
    return mask


class _State:
    """Who is free when, tables left per slot, and the meetings placed so far."""

    def __init__(self, problem: Problem, rng: random.Random | None = None) -> None:
        self.problem = problem
        self.rng = rng
        self.index = {s: i for i, s in enumerate(problem.slots)}
        full = (1 << len(problem.slots)) - 1
        self.free: dict[int, int] = {}
        for person in [*problem.projects, *problem.investors]:
            self.free[person] = full & ~_bits(problem.busy.get(person, ()), self.index)
        self.tables = [problem.tables.get(s, 0) for s in problem.slots]
        self.table_mask = sum(1 << i for i, t in enumerate(self.tables) if t > 0)
        self.base = {person: mask & self.table_mask for person, mask in self.free.items()}  # before this plan
        self.at: dict[tuple[int, int], int] = {}  # (person, slot index) -> the other person
        self.placed: dict[Pair, int] = {}  # pair -> slot index
        self.count = dict.fromkeys(problem.projects, 0)
        self.load = dict.fromkeys(problem.investors, 0)

    def place(self, pair: Pair, k: int) -> None:
        p, i = pair
        self.free[p] &= ~(1 << k)
        self.free[i] &= ~(1 << k)
        self.at[(p, k)], self.at[(i, k)] = i, p
        self.tables[k] -= 1
        if self.tables[k] == 0:
            self.table_mask &= ~(1 << k)
        self.placed[pair] = k
        self.count[p] += 1
        self.load[i] += 1

    def unplace(self, pair: Pair) -> int:
        p, i = pair
        k = self.placed.pop(pair)
        self.free[p] |= 1 << k
        self.free[i] |= 1 << k
        del self.at[(p, k)], self.at[(i, k)]
        self.tables[k] += 1
        self.table_mask |= 1 << k
        self.count[p] -= 1
        self.load[i] -= 1
        return k

    def available(self, person: int, k: int) -> bool:
        """Free at slot k were it not for a meeting placed by this plan (not blocked, not held before)."""
        return k not in (self.index.get(s) for s in self.problem.busy.get(person, ()))

    def common(self, pair: Pair) -> int:
        return self.free[pair[0]] & self.free[pair[1]] & self.table_mask

    def try_place(self, pair: Pair) -> bool:
        mask = self.common(pair)
        if mask:
            if self.rng is None:
                self.place(pair, (mask & -mask).bit_length() - 1)
            else:
                self.place(pair, self.rng.choice([k for k in range(mask.bit_length()) if mask >> k & 1]))
            return True
        return self._kempe(pair)

    def _kempe(self, pair: Pair) -> bool:
        """Free slot a at the project, b at the investor: swap a and b along the alternating path from the
        investor, then place the pair at a. Every person on the path must be able to take the other slot,
        and the tables must still suffice."""
        p, i = pair
        n = len(self.problem.slots)
        for a in range(n):
            if not self.free[p] >> a & 1:
                continue
            for b in range(n):
                if b == a or not self.free[i] >> b & 1:
                    continue
                path = self._path(i, a, b)
                if path is None:
                    continue
                if self._swap(path, a, b, pair):
                    return True
        return False

    def _path(self, start: int, a: int, b: int) -> list[Pair] | None:
        """The meetings on the a/b alternating path from ``start`` (starting with its a-meeting)."""
        path: list[Pair] = []
        node, colour = start, a
        seen = {start}
        while (node, colour) in self.at:
            other = self.at[(node, colour)]
            pair = (node, other) if node in self.count else (other, node)
            path.append(pair)
            if other in seen:
                return None
            seen.add(other)
            node, colour = other, (b if colour == a else a)
            if len(path) > 4 * len(self.problem.slots) + 8:
                return None
        return path

    def _swap(self, path: list[Pair], a: int, b: int, pair: Pair) -> bool:
        if not path:
            return False
        moves = [(m, self.placed[m]) for m in path]
        for m, k in moves:
            target = b if k == a else a
            if not (self.available(m[0], target) and self.available(m[1], target)):
                return False
        for m, _ in moves:
            self.unplace(m)
        ok = True
        for m, k in moves:
            target = b if k == a else a
            if not (self.free[m[0]] >> target & 1 and self.free[m[1]] >> target & 1 and self.tables[target] > 0):
                ok = False
                break
            self.place(m, target)
        if ok and self.free[pair[0]] >> a & 1 and self.free[pair[1]] >> a & 1 and self.tables[a] > 0:
            self.place(pair, a)
            return True
        for m in [m for m, _ in moves if m in self.placed]:
            self.unplace(m)
        for m, k in moves:
            self.place(m, k)
        return False


def _choose_pairs(state: _State, banned: set[Pair], needs: dict[int, int]) -> tuple[list[Pair], int]:
    """Pairs for the projects' remaining needs by maximum flow, mutual pairs first; and the flow's value."""
    problem = state.problem
    projects = [p for p in problem.projects if needs.get(p, 0) > 0]
    if not projects:
        return [], 0
    investors = problem.investors
    pid = {p: 2 + n for n, p in enumerate(projects)}
    iid = {i: 2 + len(projects) + n for n, i in enumerate(investors)}
    source, sink, top = 0, 1, 2 + len(projects) + len(investors)
    flow = _Flow(top + 1)
    flow.add(source, top, sum(state.tables))
    for p in projects:
        flow.add(top, pid[p], min(needs[p], state.free[p].bit_count()))
    for i in investors:
        flow.add(iid[i], sink, (state.free[i] & state.table_mask).bit_count())
    edges: dict[int, Pair] = {}
    total = 0
    for weight in sorted(set(problem.pairs.values()) | {0}, reverse=True):
        for (p, i), w in problem.pairs.items():
            if w != weight or p not in pid or i not in iid or (p, i) in banned or (p, i) in state.placed:
                continue
            if not state.base[p] & state.base[i]:
                continue  # never free at the same time
            edges[flow.add(pid[p], iid[i], 1)] = (p, i)
        total += flow.run(source, sink)
    chosen = [pair for e, pair in edges.items() if flow.cap[e] == 0]
    return chosen, total


def plan(problem: Problem, *, attempts: int = 12, seed: int = 0) -> Plan:
    """The schedule. When a first pass leaves a project short although the flow bound says more is
    possible, it runs again with the slots and pairs taken in other (seeded, so repeatable) orders and
    keeps the plan with the least shortfall, then the most meetings."""
    best = _plan_once(problem, None)
    rng = random.Random(seed)
    for _ in range(attempts - 1):
        if not best.short or best.quota_placed >= best.quota_bound:
            break
        other = _plan_once(problem, rng)
        if (sum(other.short.values()), -len(other.meetings)) < (sum(best.short.values()), -len(best.meetings)):
            best = other
    return best


def _plan_once(problem: Problem, rng: random.Random | None, *, max_rounds: int = 30) -> Plan:
    state = _State(problem, rng)
    banned: set[Pair] = set()
    need = {p: max(0, problem.min_meetings - problem.existing.get(p, 0)) for p in problem.projects}
    bound = None
    quota_placed = 0
    for _ in range(max_rounds):
        remaining = {p: need[p] - state.count[p] for p in problem.projects if need[p] > state.count[p]}
        chosen, value = _choose_pairs(state, banned, remaining)
        if bound is None:
            bound = value
        if not chosen:
            break
        # The hardest first: pairs with the fewest slots free for both.
        if rng is not None:
            rng.shuffle(chosen)
        chosen.sort(key=lambda pair: state.common(pair).bit_count())
        progress = False
        for pair in chosen:
            if state.count[pair[0]] >= need[pair[0]]:
                continue
            if state.try_place(pair):
                progress = True
                quota_placed += 1
            else:
                banned.add(pair)
        if not progress and all(pair in banned for pair in chosen):
            continue
    _repair(state, need)
    _fill(state, banned=set())
    short = {p: problem.min_meetings - (problem.existing.get(p, 0) + state.count[p]) for p in problem.projects}
    meetings = sorted((p, i, problem.slots[k]) for (p, i), k in state.placed.items())
    return Plan(
        meetings=meetings,
        quota_bound=bound or 0,
        quota_placed=quota_placed,
        short={p: n for p, n in short.items() if n > 0},
    )


def _repair(state: _State, need: dict[int, int], *, depth: int = 4, budget: int = 20_000) -> None:
    """Ejection chains for projects still short: give the project a meeting in a slot where its investor
    (or the last table) is taken, and re-home the meeting pushed out, up to ``depth`` moves deep, within
    ``budget`` steps per project. Every move keeps the schedule valid; a chain that fails is undone."""
    partners: dict[int, list[int]] = {p: [] for p in state.problem.projects}
    for p, i in state.problem.pairs:
        if p in partners and i in state.load:
            partners[p].append(i)
    steps = [0]

    def insert(p: int, level: int, locked: frozenset[int]) -> bool:
        for i in partners[p]:
            if (p, i) in state.placed:
                continue
            slots = state.free[p] & state.base[i]
            while slots:
                k = (slots & -slots).bit_length() - 1
                slots &= slots - 1
                steps[0] += 1
                if steps[0] > budget:
                    return False
                if state.free[i] >> k & 1 and state.tables[k] > 0:
                    state.place((p, i), k)
                    return True
                if level == 0:
                    continue
                # Push out whoever holds the investor (or, when only the table is missing, one meeting) at k.
                if not state.free[i] >> k & 1:
                    victims = [(state.at[(i, k)], i)]
                else:
                    victims = [pair for pair, at in state.placed.items() if at == k]
                for victim in victims:
                    if victim[0] in locked:
                        continue
                    state.unplace(victim)
                    state.place((p, i), k)
                    if state.count[victim[0]] >= need.get(victim[0], 0) or insert(victim[0], level - 1, locked | {p}):
                        return True
                    state.unplace((p, i))
                    state.place(victim, k)
        return False

    for p in state.problem.projects:
        steps[0] = 0
        while state.count[p] < need[p] and insert(p, depth, frozenset({p})):
            steps[0] = 0


def _fill(state: _State, banned: set[Pair]) -> None:
    """Round-robin: each round every project (fewest meetings first) gets at most one more meeting, with
    its best pair left (weight, then the investor with the fewest meetings), in the earliest common slot."""
    problem = state.problem
    options: dict[int, list[tuple[int, int]]] = {p: [] for p in problem.projects}
    for (p, i), w in problem.pairs.items():
        if p in options and i in state.load:
            options[p].append((w, i))
    for p in options:
        options[p].sort(key=lambda wi: (-wi[0], wi[1]))
    active = [p for p in problem.projects if options[p]]
    while active:
        active.sort(key=lambda p: (problem.existing.get(p, 0) + state.count[p], p))
        still = []
        for p in active:
            if not state.free[p] & state.table_mask:
                continue
            best: tuple[int, int, int, int] | None = None  # (-weight, load, investor, slot)
            for w, i in options[p]:
                if (p, i) in state.placed or (p, i) in banned:
                    continue
                if best is not None and -w > best[0]:
                    break
                mask = state.free[p] & state.free[i] & state.table_mask
                if not mask:
                    continue
                candidate = (-w, state.load[i], i, (mask & -mask).bit_length() - 1)
                if best is None or candidate < best:
                    best = candidate
            if best is None:
                continue
            state.place((p, best[2]), best[3])
            still.append(p)
        active = still
