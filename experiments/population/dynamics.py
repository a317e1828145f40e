"""STAND-IN for the [theory] engineer's update rules (drop this commit on merge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from agora.envs import ConfigError


@dataclass(frozen=True)
class Neighbours:
    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def from_networkx(cls, graph: nx.Graph) -> Neighbours:
        nodes = list(graph.nodes)
        index = {v: k for k, v in enumerate(nodes)}
        lists = [[index[u] for u in graph.neighbors(v)] for v in nodes]
        indptr = np.cumsum([0, *map(len, lists)])
        return cls(indptr.astype(np.int64),
                   np.array([x for ls in lists for x in ls], dtype=np.int64))

    @classmethod
    def complete(cls, n: int) -> Neighbours:
        return cls.from_networkx(nx.complete_graph(n))

    def of(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i]:self.indptr[i + 1]]


@dataclass(frozen=True)
class Dynamics:
    rule: str
    beta: float = 1.0
    mutation: float = 0.0
    updates: int = 1
    keep: float = 0.5

    def step(self, strategies: np.ndarray, payoffs: np.ndarray, rng: np.random.Generator, *,
             neighbours: Neighbours | None = None, n_strategies: int) -> np.ndarray:
        s = strategies.copy()
        n = len(s)
        if self.rule in ("truncation", "replicator", "imitate_best"):
            changed = getattr(self, f"_{self.rule}")(s, payoffs, rng, neighbours)
        else:
            changed = []
            for _ in range(self.updates):
                changed.append(getattr(self, f"_{self.rule}")(s, payoffs, rng, neighbours, n))
            changed = np.array(changed, dtype=np.int64)
        changed = np.asarray(changed, dtype=np.int64)
        if self.mutation > 0 and len(changed):
            mut = rng.random(len(changed)) < self.mutation
            s[changed[mut]] = rng.integers(n_strategies, size=int(mut.sum()))
        return s

    @staticmethod
    def _pick(rng: np.random.Generator, i: int, n: int, nb: Neighbours | None) -> int:
        if nb is None:
            j = int(rng.integers(n - 1))
            return j + (j >= i)
        return int(rng.choice(nb.of(i)))

    def _fermi(self, s: Any, pay: Any, rng: Any, nb: Any, n: int) -> int:
        i = int(rng.integers(n))
        j = self._pick(rng, i, n, nb)
        if rng.random() < 1 / (1 + np.exp(-self.beta * (pay[j] - pay[i]))):
            s[i] = s[j]
        return i

    def _moran_bd(self, s: Any, pay: Any, rng: Any, nb: Any, n: int) -> int:
        fit = np.exp(self.beta * (pay - pay.max()))
        b = int(rng.choice(n, p=fit / fit.sum()))
        d = self._pick(rng, b, n, nb)
        s[d] = s[b]
        return d

    def _moran_db(self, s: Any, pay: Any, rng: Any, nb: Any, n: int) -> int:
        d = int(rng.integers(n))
        cand = np.delete(np.arange(n), d) if nb is None else nb.of(d)
        fit = np.exp(self.beta * (pay[cand] - pay[cand].max()))
        s[d] = s[int(rng.choice(cand, p=fit / fit.sum()))]
        return d

    def _imitate_best(self, s: Any, pay: Any, rng: Any, nb: Any) -> np.ndarray:
        old = s.copy()
        for i in range(len(s)):
            cand = np.append(nb.of(i), i) if nb is not None else np.arange(len(s))
            s[i] = old[cand[int(np.argmax(pay[cand]))]]
        return np.flatnonzero(s != old)

    def _truncation(self, s: Any, pay: Any, rng: Any, nb: Any) -> np.ndarray:
        order = np.argsort(-pay, kind="stable")
        k = max(1, int(round(self.keep * len(s))))
        losers = order[k:]
        s[losers] = s[rng.choice(order[:k], size=len(losers))]
        return losers

    def _replicator(self, s: Any, pay: Any, rng: Any, nb: Any) -> np.ndarray:
        fit = pay - pay.min() + 1e-12
        s[:] = s[rng.choice(len(s), size=len(s), p=fit / fit.sum())]
        return np.arange(len(s))


RULES = ("moran_bd", "moran_db", "fermi", "imitate_best", "truncation", "replicator")


def make_dynamics(cfg: dict[str, Any]) -> Dynamics:
    cfg = dict(cfg)
    rule = cfg.pop("rule", None)
    if rule not in RULES:
        raise ConfigError(f"dynamics.rule: unknown rule {rule!r}; rules: {', '.join(RULES)}")
    try:
        return Dynamics(rule, **cfg)
    except TypeError as exc:
        raise ConfigError(f"dynamics: {exc}") from None
