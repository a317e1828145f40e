"""The agent's graph with incremental scoring against the hidden truth (the hot path).

Triples are stored once per key ``(h * R + r) * E + t`` in *observed* ids (after merges,
in canonical ids: each merged-away id is rewritten to its representative). Each stored
triple maps to a *true* key through ``alias_of``; ``mapped`` counts stored triples per
true key, so ``tp`` and ``fp`` (distinct true keys in or out of the target) change in
O(1) per added or removed triple. Rows live in a growing array with swap-removal, so a
view is one slice copy.

Example:
    >>> from agora.envs.kg.graph import KnowledgeGraph
    >>> kg = KnowledgeGraph.from_named("t", [("a", "r", "b"), ("b", "r", "c")])
    >>> g = GraphScore(kg, np.arange(3))
    >>> g.add(0, 0, 1), g.add(0, 0, 2), (g.tp, g.fp)
    (True, True, (1, 1))
    >>> prf(g.tp, g.fp, len(g.target))["f1"]
    0.5
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from agora.envs.kg.graph import KnowledgeGraph


@dataclass(frozen=True)
class Truth:
    """The hidden graph indexed for scoring: true keys ``(h * R + r) * N + t`` and the
    true triples at each entity (built once per graph; fixed graphs share one)."""

    R: int
    N: int
    target: frozenset[int]
    incident: tuple[tuple[tuple[int, int, int], ...], ...]

    @classmethod
    def of(cls, kg: KnowledgeGraph) -> Truth:
        R, N = kg.num_relations, kg.num_entities
        rows = kg.triples.tolist()
        incident: list[list[tuple[int, int, int]]] = [[] for _ in range(N)]
        for h, r, t in rows:
            incident[h].append((h, r, t))
            if t != h:
                incident[t].append((h, r, t))
        return cls(R, N, frozenset((h * R + r) * N + t for h, r, t in rows),
                   tuple(tuple(x) for x in incident))


class GraphScore:
    """A mutable triple store over observed ids, scored against the truth (module doc)."""

    def __init__(self, kg: KnowledgeGraph | Truth, alias_of: np.ndarray,
                 bridge: bool = False) -> None:
        truth = kg if isinstance(kg, Truth) else Truth.of(kg)
        self.E, self.R, self.N = len(alias_of), truth.R, truth.N
        self.alias: list[int] = [int(a) for a in alias_of]
        self.rep: list[int] = list(range(self.E))
        self.rep_arr = np.arange(self.E, dtype=np.int64)  # numpy mirror of ``rep``
        self.target = truth.target
        self.incident = truth.incident
        self.primary = [-1] * self.N
        for obs in range(self.E - 1, -1, -1):
            self.primary[self.alias[obs]] = obs
        self.known: dict[int, int] = {}
        self.keys: list[int] = []
        self.rows = np.zeros((64, 3), dtype=np.int64)
        self.n = 0
        self.mapped: dict[int, int] = {}
        self.tp = self.fp = 0
        self.adj: dict[int, dict[int, int]] | None = {} if bridge else None

    def copy(self) -> GraphScore:
        out = object.__new__(GraphScore)
        out.__dict__.update(self.__dict__)
        out.rep, out.known, out.keys = list(self.rep), dict(self.known), list(self.keys)
        out.rows, out.mapped = self.rows.copy(), dict(self.mapped)
        out.rep_arr = self.rep_arr.copy()
        out.adj = None if self.adj is None else {k: dict(v) for k, v in self.adj.items()}
        return out

    # ----- queries -----------------------------------------------------------------
    def key(self, h: int, r: int, t: int) -> int:
        return (self.rep[h] * self.R + r) * self.E + self.rep[t]

    def has(self, h: int, r: int, t: int) -> bool:
        """Whether the (canonicalised) triple is in the graph."""
        return self.key(h, r, t) in self.known

    def is_true(self, h: int, r: int, t: int) -> bool:
        """Whether the triple is in the target once ids are mapped to true entities."""
        return (self.alias[h] * self.R + r) * self.N + self.alias[t] in self.target

    def far(self, h: int, t: int, distance: int) -> bool:
        """Whether ``t`` is at least ``distance`` undirected steps from ``h`` (or cut off)."""
        adj = self.adj or {}
        frontier, seen = {h}, {h}
        for _ in range(distance - 1):
            frontier = {v for u in frontier for v in adj.get(u, ())} - seen
            if t in frontier:
                return False
            seen |= frontier
        return t != h

    # ----- updates -----------------------------------------------------------------
    def add(self, h: int, r: int, t: int) -> bool:
        """Add a triple (ids canonicalised); False if it was already there."""
        h, t = self.rep[h], self.rep[t]
        k = (h * self.R + r) * self.E + t
        if k in self.known:
            return False
        if self.n == len(self.rows):
            self.rows = np.concatenate([self.rows, np.zeros_like(self.rows)])
        self.rows[self.n] = (h, r, t)
        self.known[k] = self.n
        self.keys.append(k)
        self.n += 1
        m = (self.alias[h] * self.R + r) * self.N + self.alias[t]
        c = self.mapped.get(m, 0)
        self.mapped[m] = c + 1
        if c == 0:
            if m in self.target:
                self.tp += 1
            else:
                self.fp += 1
        if self.adj is not None:
            self._link(h, t, 1)
        return True

    def remove(self, h: int, r: int, t: int) -> bool:
        """Remove a triple (ids canonicalised); False if it was not there."""
        h, t = self.rep[h], self.rep[t]
        slot = self.known.pop((h * self.R + r) * self.E + t, None)
        if slot is None:
            return False
        last = self.n - 1
        moved = self.keys.pop()
        if slot != last:
            self.rows[slot] = self.rows[last]
            self.keys[slot] = moved
            self.known[moved] = slot
        self.n = last
        m = (self.alias[h] * self.R + r) * self.N + self.alias[t]
        c = self.mapped.pop(m)
        if c > 1:
            self.mapped[m] = c - 1
        elif m in self.target:
            self.tp -= 1
        else:
            self.fp -= 1
        if self.adj is not None:
            self._link(h, t, -1)
        return True

    def _link(self, h: int, t: int, delta: int) -> None:
        assert self.adj is not None
        for a, b in ((h, t), (t, h)):
            nb = self.adj.setdefault(a, {})
            nb[b] = nb.get(b, 0) + delta
            if nb[b] <= 0:
                del nb[b]

    def merge(self, keep: int, other: int) -> None:
        """Make every id of ``other``'s cluster point to ``keep``; move their triples."""
        rows = self.rows[:self.n]
        moving = rows[(rows[:, 0] == other) | (rows[:, 2] == other)].tolist()
        for h, r, t in moving:
            self.remove(h, r, t)
        self.rep = [keep if c == other else c for c in self.rep]
        self.rep_arr[self.rep_arr == other] = keep
        for h, r, t in moving:
            self.add(h, r, t)

    def reveal(self, x: int, k: int, noise: float,
               rng: np.random.Generator) -> list[tuple[int, int, int]]:
        """Add up to ``k`` true triples at ``x`` not yet known (each replaced with
        probability ``noise`` by a false one); returns what was added."""
        e, rep, prim = self.alias[x], self.rep, self.primary
        cands = []
        for h0, r, t0 in self.incident[e]:
            h = x if h0 == e else rep[prim[h0]]
            t = x if t0 == e else rep[prim[t0]]
            if (h * self.R + r) * self.E + t not in self.known:
                cands.append((h, r, t))
        if len(cands) > k:
            cands = [cands[i] for i in rng.choice(len(cands), size=k, replace=False).tolist()]
        if noise > 0:
            drawn = [self._false_at(x, rng) if rng.random() < noise else c for c in cands]
            cands = [c for c in drawn if c is not None]
        return [c for c in cands if self.add(*c)]

    def _false_at(self, x: int, rng: np.random.Generator) -> tuple[int, int, int] | None:
        for _ in range(10):
            r, o = int(rng.integers(self.R)), self.rep[int(rng.integers(self.E))]
            h, t = (x, o) if rng.random() < 0.5 else (o, x)
            if not self.is_true(h, r, t) and not self.has(h, r, t):
                return (h, r, t)
        return None


def prf(tp: int, fp: int, n_target: int, prefix: str = "") -> dict[str, float]:
    """Precision, recall and F1 (0 when undefined).

    Example:
        >>> prf(3, 1, 6)
        {'precision': 0.75, 'recall': 0.5, 'f1': 0.6}
    """
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / n_target if n_target else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {f"{prefix}precision": precision, f"{prefix}recall": recall, f"{prefix}f1": f1}


def _pairs(labels: Iterable[Hashable]) -> int:
    return sum(v * (v - 1) // 2 for v in Counter(labels).values())


def er_scores(rep: list[int], alias_of: np.ndarray) -> dict[str, float]:
    """Pairwise entity resolution: of the id pairs merged (``rep`` equal) and the id pairs
    that are aliases (``alias_of`` equal), precision, recall and accuracy = right pairs /
    (merged or alias pairs); each is 1 when its denominator is empty.

    Example:
        >>> er_scores([0, 0, 2, 2], np.array([0, 0, 1, 2]))
        {'er_precision': 0.5, 'er_recall': 1.0, 'er_accuracy': 0.5}
    """
    alias = [int(a) for a in alias_of]
    right, merged, true = _pairs(zip(rep, alias)), _pairs(rep), _pairs(alias)
    union = merged + true - right
    return {"er_precision": right / merged if merged else 1.0,
            "er_recall": right / true if true else 1.0,
            "er_accuracy": right / union if union else 1.0}
