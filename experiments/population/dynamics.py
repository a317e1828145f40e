"""Update rules: how a population's strategies become the next generation's.

A population is an integer array of strategy indices, one per agent, with the payoffs the
agents earned this generation. A rule (:class:`Dynamics`) turns both into the next
generation's strategies; :func:`make_dynamics` builds one from a config dict such as
``{"rule": "fermi", "beta": 1.0, "mutation": 0.01}``. Every rule also takes a batch of
independent replicate populations (arrays of shape ``(R, N)``), vectorised over ``R``.

Rules (``rule``): ``moran_bd`` (a reproducer drawn in proportion to fitness among all agents;
its offspring replaces a uniformly drawn neighbour), ``moran_db`` (a uniformly drawn agent
dies; its neighbours compete for the place in proportion to fitness), ``fermi`` (a uniformly
drawn focal agent imitates a uniformly drawn neighbour with probability
``1 / (1 + exp(-beta (pi_model - pi_focal)))``), ``imitate_best`` (synchronous: every agent
takes the strategy of the best payoff among itself and its neighbours, its own on ties),
``truncation`` (the top ``keep`` fraction by payoff survive, ties broken at random; the rest
become copies of uniformly drawn survivors) and ``replicator`` (a deterministic Euler step of
the replicator equation on the strategy shares, agents reassigned by largest remainder).

The asynchronous rules (``moran_bd``, ``moran_db``, ``fermi``) make ``updates`` update events
per generation (1 is the classic process when payoffs are recomputed every generation);
within a generation an agent that takes a new strategy carries its model's payoff.
Mutation: every agent a rule updates (the agent that dies in a Moran event, the focal agent
of a Fermi event, every agent under ``imitate_best``, the replaced agents of ``truncation``,
the reassigned agents of ``replicator``) takes, with probability ``mutation``, a strategy
drawn uniformly among all ``n_strategies`` (its own included) instead.

Fitness for the Moran rules: ``selection="exponential"`` (``exp(w * payoff)``, the default)
or ``"linear"`` (``1 - w + w * payoff``, which must stay positive).

Neighbours: ``None`` or :meth:`Neighbours.complete` means well mixed (every other agent is a
neighbour); any graph is given as :class:`Neighbours` (the reproduction graph where the
interaction graph differs: payoffs come from :func:`matrix_payoffs` on the interaction one).

References: Nowak (2006), Evolutionary Dynamics, ch. 6 and 8-9; Traulsen, Nowak & Pacheco
(2006), Phys. Rev. E 74, 011909 (pairwise comparison); Ohtsuki et al. (2006), Nature 441,
502-505 (death-birth on graphs); Nowak & May (1992), Nature 359, 826-829 (imitate the best).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy.special import expit

from agora.envs.core import is_int, is_real, require
from agora.envs.errors import ConfigError


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Who each agent meets, as a compressed sparse row list.

    The neighbours of agent ``i`` are ``indices[indptr[i]:indptr[i + 1]]``. The complete graph
    (well mixed) is not stored edge by edge: ``well_mixed`` is true, ``indices`` is empty and
    the rules draw "another agent" directly.

    Attributes:
        indptr: int array ``(N + 1,)`` of row offsets.
        indices: int array of neighbour indices (empty when ``well_mixed``).
        well_mixed: whether this is the complete graph without self-loops.

    Example:
        >>> import networkx as nx
        >>> ring = Neighbours.from_networkx(nx.cycle_graph(4))
        >>> ring.size, ring.of(0).tolist(), ring.degrees.tolist()
        (4, [1, 3], [2, 2, 2, 2])
        >>> Neighbours.complete(3).degrees.tolist()
        [2, 2, 2]
    """

    indptr: np.ndarray
    indices: np.ndarray
    well_mixed: bool = False

    @classmethod
    def complete(cls, n: int) -> Neighbours:
        """The well-mixed population of ``n`` agents (everyone meets everyone else)."""
        require(is_int(n) and n >= 2, "n", n, "want an int >= 2")
        return cls(np.arange(n + 1, dtype=np.int64) * (n - 1), np.zeros(0, np.int64), True)

    @classmethod
    def from_networkx(cls, graph: Any) -> Neighbours:
        """The graph's adjacency with agents in ``graph``'s node order (self-loops dropped;
        a directed graph gives each agent its successors)."""
        nodes = list(graph)
        require(len(nodes) >= 2, "graph", graph, "want at least 2 nodes")
        index = {node: i for i, node in enumerate(nodes)}
        rows = [sorted(index[m] for m in graph.neighbors(v) if m != v) for v in nodes]
        degrees = np.array([len(r) for r in rows], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(degrees)]).astype(np.int64)
        flat = [j for r in rows for j in r]
        return cls(indptr, np.asarray(flat, dtype=np.int64))

    @property
    def size(self) -> int:
        """The number of agents ``N``."""
        return len(self.indptr) - 1

    @property
    def degrees(self) -> np.ndarray:
        """Each agent's number of neighbours."""
        return np.diff(self.indptr)

    def of(self, i: int) -> np.ndarray:
        """Agent ``i``'s neighbours."""
        if self.well_mixed:
            return np.delete(np.arange(self.size), i)
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    @cached_property
    def padded(self) -> np.ndarray:
        """Neighbour lists as an ``(N, max degree)`` array padded with -1 (graphs only)."""
        deg = self.degrees
        out = np.full((self.size, max(int(deg.max()), 1)), -1, dtype=np.int64)
        rows = np.repeat(np.arange(self.size), deg)
        out[rows, np.arange(len(self.indices)) - self.indptr[rows]] = self.indices
        return out


def _as_neighbours(neighbours: Neighbours | None, n: int) -> Neighbours | None:
    """``None`` for well mixed, else the graph checked against ``n`` agents."""
    if neighbours is None or neighbours.well_mixed:
        if neighbours is not None and neighbours.size != n:
            raise ConfigError(f"neighbours has {neighbours.size} agents, strategies {n}")
        return None
    if neighbours.size != n:
        raise ConfigError(f"neighbours has {neighbours.size} agents, strategies {n}")
    return neighbours


def matrix_payoffs(strategies: np.ndarray, neighbours: Neighbours | None, A: Any, *,
                   self_interaction: bool = False, average: bool = False) -> np.ndarray:
    """Each agent's payoff from a one-shot matrix game against all its neighbours.

    Args:
        strategies: int array ``(N,)`` or ``(R, N)`` of strategy indices.
        neighbours: the interaction graph; ``None`` (or complete) for well mixed, where every
            agent plays everyone else.
        A: ``(S, S)`` matrix, ``A[i][j]`` the payoff of an ``i`` against a ``j``.
        self_interaction: whether each agent also plays itself once (Nowak & May).
        average: divide by the number of games played (0 for an agent that plays none).

    Returns:
        float array of the shape of ``strategies``.

    Example:
        >>> A = [[3.0, 0.0], [5.0, 1.0]]   # prisoner's dilemma, 0 = cooperate
        >>> matrix_payoffs(np.array([0, 0, 1]), None, A).tolist()
        [3.0, 3.0, 10.0]
    """
    A = np.asarray(A, dtype=np.float64)
    s = np.asarray(strategies)
    batch = s.reshape(-1, s.shape[-1])
    R, N = batch.shape
    graph = _as_neighbours(neighbours, N)
    if graph is None:
        S = A.shape[0]
        counts = np.bincount((batch + S * np.arange(R)[:, None]).ravel(),
                             minlength=R * S).reshape(R, S)
        totals = counts @ A.T  # an i's payoff against everyone, itself included
        pay = np.take_along_axis(totals, batch, axis=1)
        games = np.full(N, N if self_interaction else N - 1, dtype=np.float64)
        if not self_interaction:
            pay = pay - A[batch, batch]
    else:
        deg = graph.degrees
        rows = np.repeat(np.arange(N), deg)
        values = A[batch[:, rows], batch[:, graph.indices]]
        bins = (rows + N * np.arange(R)[:, None]).ravel()
        pay = np.bincount(bins, weights=values.ravel(), minlength=R * N).reshape(R, N)
        if self_interaction:
            pay = pay + A[batch, batch]
        games = (deg + (1 if self_interaction else 0)).astype(np.float64)
    if average:
        pay = np.divide(pay, games, out=np.zeros_like(pay), where=games > 0)
    return pay.reshape(s.shape)


def _choose(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One column per row, drawn in proportion to the row's non-negative weights."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(cum)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _another(n: int, focal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly drawn agent other than ``focal`` (per row)."""
    return (focal + 1 + rng.integers(n - 1, size=len(focal))) % n


def _a_neighbour(graph: Neighbours, focal: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uniformly drawn neighbour of each focal agent, and whether it has one."""
    deg = graph.degrees[focal]
    has = deg > 0
    offset = np.floor(rng.random(len(focal)) * np.maximum(deg, 1)).astype(np.int64)
    picked = graph.indices[np.minimum(graph.indptr[focal] + offset, len(graph.indices) - 1)]
    return np.where(has, picked, focal), has


@dataclass(frozen=True, kw_only=True)
class Dynamics:
    """An update rule: strategies and payoffs of one generation -> the next strategies.

    Attributes:
        mutation: probability that an updated agent takes a uniformly drawn strategy.
    """

    rule: ClassVar[str] = ""
    mutation: float = 0.0

    def __post_init__(self) -> None:
        require(is_real(self.mutation) and 0 <= self.mutation <= 1, "mutation",
                self.mutation, "want a probability in [0, 1]")

    def as_config(self) -> dict[str, Any]:
        """The config dict that :func:`make_dynamics` turns back into this rule."""
        return {"rule": self.rule, **asdict(self)}

    def step(self, strategies: np.ndarray, payoffs: np.ndarray, rng: np.random.Generator, *,
             neighbours: Neighbours | None = None, n_strategies: int) -> np.ndarray:
        """The next generation's strategy indices (a new array of the same shape).

        Args:
            strategies: int array ``(N,)``, or ``(R, N)`` for ``R`` independent replicates.
            payoffs: this generation's payoffs, same shape.
            rng: the random stream (the only source of randomness).
            neighbours: the (reproduction) graph; ``None`` for well mixed.
            n_strategies: how many strategies exist (mutation draws among them).
        """
        s = np.asarray(strategies)
        p = np.asarray(payoffs, dtype=np.float64)
        if s.ndim not in (1, 2) or p.shape != s.shape or s.shape[-1] < 2:
            raise ConfigError(f"strategies shape {s.shape} and payoffs shape {p.shape} are "
                              "invalid: want equal shapes (N,) or (R, N) with N >= 2")
        require(is_int(n_strategies) and n_strategies > int(s.max(initial=0)), "n_strategies",
                n_strategies, "want an int above every strategy index")
        s2 = s.reshape(-1, s.shape[-1]).astype(np.int64, copy=True)
        graph = _as_neighbours(neighbours, s2.shape[1])
        out = self._update(s2, p.reshape(s2.shape).copy(), rng, graph, n_strategies)
        return out.reshape(s.shape)

    def _mutate(self, s: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                rng: np.random.Generator, n_strategies: int) -> None:
        """With probability ``mutation``, the agents ``(rows, cols)`` take a random strategy."""
        if self.mutation == 0 or len(rows) == 0:
            return
        hit = rng.random(len(rows)) < self.mutation
        s[rows[hit], cols[hit]] = rng.integers(n_strategies, size=int(hit.sum()))

    def _update(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
                graph: Neighbours | None, n_strategies: int) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class _Asynchronous(Dynamics):
    """Rules made of ``updates`` single update events per generation.

    Attributes:
        updates: update events per generation.
    """

    updates: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_int(self.updates) and self.updates >= 1, "updates", self.updates,
                "want an int >= 1")

    def _update(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
                graph: Neighbours | None, n_strategies: int) -> np.ndarray:
        rows = np.arange(len(s))
        for _ in range(self.updates):
            target, source, take, happened = self._event(s, p, rng, graph)
            move = happened & take
            s[rows[move], target[move]] = s[rows[move], source[move]]
            p[rows[move], target[move]] = p[rows[move], source[move]]
            self._mutate(s, rows[happened], target[happened], rng, n_strategies)
        return s

    def _event(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
               graph: Neighbours | None) -> tuple[np.ndarray, ...]:
        """Per row: the updated agent, its model, whether it copies, whether it happened."""
        raise NotImplementedError


SELECTIONS = ("exponential", "linear")


@dataclass(frozen=True, kw_only=True)
class _Selected(_Asynchronous):
    """Rules driven by fitness, a function of payoff.

    Attributes:
        selection: ``"exponential"`` (``exp(w * payoff)``) or ``"linear"``
            (``1 - w + w * payoff``, which must stay positive).
        w: intensity of selection (0 is neutral drift).
    """

    selection: str = "exponential"
    w: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.selection in SELECTIONS, "selection", self.selection,
                f"want one of {SELECTIONS}")
        require(is_real(self.w) and 0 <= self.w < math.inf, "w", self.w,
                "want a finite number >= 0")

    def fitness(self, payoffs: np.ndarray) -> np.ndarray:
        """Fitness per agent (exponential fitness scaled per row, which changes no draw).

        Raises:
            ConfigError: linear fitness that is not positive (lower ``w``).
        """
        if self.selection == "exponential":
            z = self.w * payoffs
            return np.exp(z - z.max(axis=-1, keepdims=True))
        f = 1.0 - self.w + self.w * payoffs
        if not (f > 0).all():
            raise ConfigError(f"selection='linear' with w={self.w!r} gives fitness "
                              f"{f.min()!r} <= 0 (payoff {payoffs.min()!r}): lower w")
        return f


@dataclass(frozen=True, kw_only=True)
class MoranBD(_Selected):
    """Moran birth-death: a reproducer drawn in proportion to fitness among all agents; its
    offspring replaces a uniformly drawn neighbour.

    Example:
        >>> rule = make_dynamics({"rule": "moran_bd", "selection": "linear", "w": 1.0})
        >>> rule.step(np.array([0, 1]), np.array([1.0, 1.0]), np.random.default_rng(0),
        ...           n_strategies=2).tolist() in ([0, 0], [1, 1])
        True
    """

    rule: ClassVar[str] = "moran_bd"

    def _event(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
               graph: Neighbours | None) -> tuple[np.ndarray, ...]:
        parent = _choose(self.fitness(p), rng)
        if graph is None:
            child, has = _another(s.shape[1], parent, rng), np.ones(len(s), bool)
        else:
            child, has = _a_neighbour(graph, parent, rng)
        return child, parent, np.ones(len(s), bool), has


@dataclass(frozen=True, kw_only=True)
class MoranDB(_Selected):
    """Moran death-birth: a uniformly drawn agent dies; its neighbours compete for the place
    in proportion to fitness."""

    rule: ClassVar[str] = "moran_db"

    def _event(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
               graph: Neighbours | None) -> tuple[np.ndarray, ...]:
        R, N = s.shape
        rows = np.arange(R)
        dead = np.asarray(rng.integers(N, size=R))
        f = self.fitness(p)
        if graph is None:
            f[rows, dead] = 0.0
            return dead, _choose(f, rng), np.ones(R, bool), np.ones(R, bool)
        candidates = graph.padded[dead]
        weights = np.where(candidates >= 0, f[rows[:, None], np.maximum(candidates, 0)], 0.0)
        parent = candidates[rows, _choose(weights, rng)]
        has = graph.degrees[dead] > 0
        return dead, np.where(has, parent, dead), np.ones(R, bool), has


@dataclass(frozen=True, kw_only=True)
class Fermi(_Asynchronous):
    """Pairwise comparison: a uniformly drawn focal agent compares itself with a uniformly
    drawn neighbour and imitates it with probability
    ``1 / (1 + exp(-beta (pi_neighbour - pi_focal)))``.

    Attributes:
        beta: intensity of selection on payoff differences (0: imitate with probability 1/2).
    """

    rule: ClassVar[str] = "fermi"
    beta: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_real(self.beta) and 0 <= self.beta < math.inf, "beta", self.beta,
                "want a finite number >= 0")

    def _event(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
               graph: Neighbours | None) -> tuple[np.ndarray, ...]:
        R, N = s.shape
        rows = np.arange(R)
        focal = np.asarray(rng.integers(N, size=R))
        if graph is None:
            model, has = _another(N, focal, rng), np.ones(R, bool)
        else:
            model, has = _a_neighbour(graph, focal, rng)
        chance = expit(self.beta * (p[rows, model] - p[rows, focal]))
        return focal, model, rng.random(R) < chance, has


@dataclass(frozen=True, kw_only=True)
class ImitateBest(Dynamics):
    """Synchronous imitation of the best: every agent takes the strategy of the highest
    payoff among itself and its neighbours; it keeps its own when it ties for best, and
    ties among neighbours are broken uniformly at random.

    Example:
        >>> rule = make_dynamics({"rule": "imitate_best"})
        >>> rule.step(np.array([0, 1, 1]), np.array([1.0, 3.0, 2.0]),
        ...           np.random.default_rng(0), n_strategies=2).tolist()
        [1, 1, 1]
    """

    rule: ClassVar[str] = "imitate_best"

    def _update(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
                graph: Neighbours | None, n_strategies: int) -> np.ndarray:
        R, N = s.shape
        rows = np.arange(R)[:, None]
        if graph is None:
            best = p.max(axis=1, keepdims=True)
            is_best = p == best
            order = np.argsort(~is_best, axis=1, kind="stable")  # best agents first
            pick = np.floor(rng.random((R, N)) * is_best.sum(axis=1, keepdims=True))
            model = order[rows, pick.astype(np.int64)]
        else:
            pool = np.concatenate([np.arange(N)[:, None], graph.padded], axis=1)
            values = np.where(pool >= 0, p[:, np.maximum(pool, 0)], -np.inf)  # (R, N, K)
            best = values.max(axis=2, keepdims=True)
            keys = np.where(values == best, rng.random(values.shape), -1.0)
            model = pool[np.arange(N), keys.argmax(axis=2)]
            is_best = p == best[..., 0]
        out = np.where(is_best, s, s[rows, model])
        every = np.broadcast_to(np.arange(N), (R, N))
        self._mutate(out, np.repeat(np.arange(R), N), every.ravel(), rng, n_strategies)
        return out


@dataclass(frozen=True, kw_only=True)
class Truncation(Dynamics):
    """Truncation selection: the ``round(keep * N)`` (at least 1) best agents survive, ties
    broken at random; every other agent becomes a copy of a uniformly drawn survivor.

    Attributes:
        keep: fraction kept, in (0, 1].

    Example:
        >>> rule = make_dynamics({"rule": "truncation", "keep": 0.5})
        >>> rule.step(np.array([0, 1, 2, 3]), np.array([4.0, 3.0, 2.0, 1.0]),
        ...           np.random.default_rng(0), n_strategies=4)[:2].tolist()
        [0, 1]
    """

    rule: ClassVar[str] = "truncation"
    keep: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_real(self.keep) and 0 < self.keep <= 1, "keep", self.keep,
                "want a fraction in (0, 1]")

    def _update(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
                graph: Neighbours | None, n_strategies: int) -> np.ndarray:
        R, N = s.shape
        kept = max(1, round(self.keep * N))
        rows = np.arange(R)[:, None]
        shuffled = rng.permuted(np.broadcast_to(np.arange(N), (R, N)), axis=1)
        if kept == N:
            return s.copy()
        # any selection made on a uniform shuffle picks among tied agents uniformly
        top = np.argpartition(-p[rows, shuffled], kept - 1, axis=1)
        order = np.take_along_axis(shuffled, top, axis=1)
        survivors, replaced = order[:, :kept], order[:, kept:]
        parents = survivors[rows, rng.integers(kept, size=replaced.shape)]
        out = s.copy()
        out[rows, replaced] = s[rows, parents]
        self._mutate(out, np.repeat(np.arange(R), N - kept), replaced.ravel(), rng,
                     n_strategies)
        return out


@dataclass(frozen=True, kw_only=True)
class Replicator(Dynamics):
    """A deterministic mean-field step: shares ``x_i <- x_i + dt x_i (f_i - mean f)`` with
    ``f_i`` the mean payoff of strategy ``i``'s agents (shares clipped at 0 and renormalised),
    then agents reassigned to the new shares by largest remainder, moving as few as possible.

    Attributes:
        dt: Euler step length.

    Example:
        >>> rule = make_dynamics({"rule": "replicator", "dt": 0.5})
        >>> s = rule.step(np.array([0, 0, 1, 1]), np.array([2.0, 2.0, 0.0, 0.0]),
        ...               np.random.default_rng(0), n_strategies=2)
        >>> np.bincount(s).tolist()   # shares 1/2 -> 1/2 + 0.5 * 1/2 * (2 - 1) = 3/4
        [3, 1]
    """

    rule: ClassVar[str] = "replicator"
    dt: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_real(self.dt) and 0 < self.dt < math.inf, "dt", self.dt,
                "want a finite number > 0")

    def shares(self, strategies: np.ndarray, payoffs: np.ndarray,
               n_strategies: int) -> np.ndarray:
        """The next shares of one population (float array ``(n_strategies,)``)."""
        counts = np.bincount(strategies, minlength=n_strategies).astype(np.float64)
        sums = np.bincount(strategies, weights=payoffs, minlength=n_strategies)
        f = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        x = counts / counts.sum()
        x = np.maximum(x + self.dt * x * (f - x @ f), 0.0)
        return x / x.sum()

    def _update(self, s: np.ndarray, p: np.ndarray, rng: np.random.Generator,
                graph: Neighbours | None, n_strategies: int) -> np.ndarray:
        out = s.copy()
        for r in range(len(s)):
            target = largest_remainder(self.shares(s[r], p[r], n_strategies), s.shape[1])
            moved = _reassign(out[r], target, rng)
            self._mutate(out, np.full(len(moved), r), moved, rng, n_strategies)
        return out


def largest_remainder(shares: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to ``n`` closest to ``shares * n`` (Hamilton's method; ties in
    the remainders go to the lower index).

    Example:
        >>> largest_remainder(np.array([0.5, 0.3, 0.2]), 4).tolist()   # 2, 1.2, 0.8
        [2, 1, 1]
    """
    exact = np.asarray(shares, dtype=np.float64) * n
    counts = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def _reassign(agents: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move uniformly drawn agents of over-represented strategies to under-represented ones
    (in place) until the counts are ``target``; returns the moved agents' indices."""
    have = np.bincount(agents, minlength=len(target))
    freed = [rng.choice(np.flatnonzero(agents == i), have[i] - target[i], replace=False)
             for i in np.flatnonzero(have > target)]
    moved = np.concatenate(freed) if freed else np.zeros(0, np.int64)
    gains = np.maximum(target - have, 0)
    agents[moved] = np.repeat(np.arange(len(target)), gains)
    return moved


RULES: dict[str, type[Dynamics]] = {
    cls.rule: cls for cls in (MoranBD, MoranDB, Fermi, ImitateBest, Truncation, Replicator)
}
"""The update rules by config name."""


def make_dynamics(cfg: Mapping[str, Any]) -> Dynamics:
    """The update rule a config dict describes.

    Args:
        cfg: ``{"rule": NAME, **options}``; options per rule: ``mutation`` (all),
            ``updates`` (``moran_bd``, ``moran_db``, ``fermi``), ``selection`` and ``w``
            (the Moran rules), ``beta`` (``fermi``), ``keep`` (``truncation``), ``dt``
            (``replicator``).

    Raises:
        ConfigError: an unknown rule or key, or a value out of range (named in the message).

    Example:
        >>> make_dynamics({"rule": "fermi", "beta": 2.0, "mutation": 0.01})
        Fermi(mutation=0.01, updates=1, beta=2.0)
        >>> make_dynamics({"rule": "fermi", "temperature": 1})
        Traceback (most recent call last):
        ...
        agora.envs.errors.ConfigError: dynamics: key(s) ['temperature'] unknown for rule='fermi'...
    """
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"dynamics={cfg!r} is invalid: want a mapping with a 'rule'")
    rule = cfg.get("rule")
    if rule not in RULES:
        raise ConfigError(f"dynamics: rule={rule!r} is unknown; known: {sorted(RULES)}")
    cls = RULES[rule]
    allowed = sorted(f.name for f in fields(cls))
    unknown = sorted(set(cfg) - set(allowed) - {"rule"})
    if unknown:
        raise ConfigError(f"dynamics: key(s) {unknown} unknown for rule={rule!r}; "
                          f"allowed: {allowed}")
    return cls(**{k: v for k, v in cfg.items() if k != "rule"})
