"""Who plays whom in a generation: well mixed, round robin, groups of k, or a graph.

A matching turns the population size and a generator into ``matches``, an int array
``(M, k)`` of agent indices (one row per match, one column per seat), and aggregates the
matches' payoffs into one payoff per agent (the ``mean``, default, or ``sum`` over the
agent's matches). Graph matchings also give the :class:`Neighbours` the dynamics use
(the ``reproduction_graph`` when one is declared).

Config forms (the ``matching`` section)::

    {type: well_mixed}                       # a random perfect matching each generation
    {type: round_robin}                      # every pair once
    {type: groups, k: 4}                     # random groups of k (default: the game's players)
    {type: graph, graph: lattice, neighbourhood: moore}      # each edge a match
    {type: graph, graph: small_world, k: 4, p: 0.1, reproduction_graph: {graph: cycle}}
    {type: graph, edges: edges.csv}          # CSV/TSV/Parquet with two agent-index columns

An odd remainder (well mixed with odd N, groups when k does not divide N) is filled with
agents drawn uniformly from those already placed: they play one extra match, and with the
default ``payoff: mean`` they are neither favoured nor penalised for it.

Example:
    >>> m = make_matching({"type": "well_mixed"}, n=6, n_players=2, seed=0)
    >>> matches = m.matches(np.random.default_rng(1))
    >>> sorted(matches.ravel().tolist())
    [0, 1, 2, 3, 4, 5]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from agora.envs import ConfigError
from agora.experiments.population.dynamics import Neighbours

TYPES = ("well_mixed", "round_robin", "groups", "graph")
GRAPHS = ("lattice", "cycle", "random_regular", "small_world", "scale_free")
_GRAPH_KEYS = {"graph", "edges", "neighbourhood", "rows", "cols", "degree", "k", "p", "m"}


@dataclass
class Matching:
    """A way of matching ``n`` agents into matches of ``k`` seats (see the module doc).

    Attributes:
        kind: one of :data:`TYPES`.
        n: the population size.
        k: seats per match.
        payoff: ``"mean"`` or ``"sum"`` of an agent's match payoffs.
        graph: the interaction graph (graph matchings; nodes are agent indices 0..n-1).
        reproduction: the graph the dynamics use when it differs from ``graph``.
    """

    kind: str
    n: int
    k: int = 2
    payoff: Literal["mean", "sum"] = "mean"
    graph: nx.Graph | None = None
    reproduction: nx.Graph | None = None

    def matches(self, rng: np.random.Generator) -> np.ndarray:
        """This generation's matches, ``(M, k)`` agent indices (``rng`` is used only by
        the random matchings)."""
        if self.kind == "graph":
            assert self.graph is not None
            return np.array(sorted(tuple(sorted(e)) for e in self.graph.edges),
                            dtype=np.int64).reshape(-1, 2)
        if self.kind == "round_robin":
            i, j = np.triu_indices(self.n, 1)
            return np.stack([i, j], axis=1).astype(np.int64)
        return random_groups(self.n, self.k, rng)

    def neighbours(self) -> Neighbours | None:
        """Who may replace whom in the dynamics (None: anyone, well mixed)."""
        graph = self.reproduction if self.reproduction is not None else self.graph
        return None if graph is None else Neighbours.from_networkx(graph)

    def agent_payoffs(self, matches: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per-agent ``mean`` (or ``sum``) of ``values`` ``(M, k)`` over its matches;
        an agent without a match gets 0."""
        return aggregate(matches, values, self.n, self.payoff)


def random_groups(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A random partition of ``n`` agents into groups of ``k``; a remainder group is
    completed with agents drawn uniformly, without repeats, from the others.

    Example:
        >>> random_groups(5, 2, np.random.default_rng(0)).shape
        (3, 2)
    """
    order = rng.permutation(n).astype(np.int64)
    full, rest = divmod(n, k)
    groups = order[: full * k].reshape(full, k)
    if rest == 0:
        return groups
    left = order[full * k:]
    extra = rng.choice(order[: full * k], size=k - rest, replace=False)
    return np.vstack([groups, np.concatenate([left, extra])[None, :]])


def aggregate(matches: np.ndarray, values: np.ndarray, n: int,
              how: Literal["mean", "sum"] = "mean") -> np.ndarray:
    """Per-agent sum or mean of per-seat ``values`` (agents without a match: 0).

    Example:
        >>> aggregate(np.array([[0, 1], [0, 2]]), np.array([[1.0, 2.0], [3.0, 4.0]]), 4)
        array([2., 2., 4., 0.])
    """
    flat = matches.ravel()
    total = np.bincount(flat, weights=np.asarray(values, dtype=np.float64).ravel(), minlength=n)
    if how == "sum":
        return total
    played = np.bincount(flat, minlength=n)
    return np.divide(total, played, out=np.zeros(n), where=played > 0)


# ----- graphs ------------------------------------------------------------------------
def _int(cfg: Mapping[str, Any], key: str, default: int, low: int, where: str) -> int:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{where}.{key}={value!r} is invalid: want an integer >= {low}")
    return value


def _lattice(cfg: Mapping[str, Any], n: int, where: str) -> nx.Graph:
    side = int(round(n ** 0.5))
    rows = _int(cfg, "rows", side, 1, where)
    cols = _int(cfg, "cols", n // rows if rows else 0, 1, where)
    if rows * cols != n:
        raise ConfigError(f"{where}: a {rows}x{cols} lattice has {rows * cols} sites but the "
                          f"population has {n} agents (set rows and cols, or a square size)")
    hood = cfg.get("neighbourhood", "von_neumann")
    if hood not in ("von_neumann", "moore"):
        raise ConfigError(f"{where}.neighbourhood={hood!r}: want von_neumann or moore")
    g = nx.Graph()
    g.add_nodes_from(range(n))
    steps = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if hood == "moore" else [])
    for r in range(rows):
        for c in range(cols):
            for dr, dc in steps:
                other = ((r + dr) % rows) * cols + (c + dc) % cols
                if other != r * cols + c:
                    g.add_edge(r * cols + c, other)
    return g


def _edge_file(path_text: Any, n: int, where: str) -> nx.Graph:
    path = Path(str(path_text))
    if not path.is_file():
        raise ConfigError(f"{where}.edges: file {str(path)!r} does not exist")
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        df = pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".tab") else ",")
    if df.shape[1] < 2 or not all(pd.api.types.is_integer_dtype(df[c]) for c in df.columns[:2]):
        raise ConfigError(f"{where}.edges: {path.name} needs two integer columns of agent "
                          "indices (source, target)")
    ends = df.iloc[:, :2].to_numpy()
    if len(ends) and (ends.min() < 0 or ends.max() >= n):
        raise ConfigError(f"{where}.edges: {path.name} names agents outside 0..{n - 1}")
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((int(a), int(b)) for a, b in ends if a != b)
    return g


def make_graph(cfg: Mapping[str, Any], n: int, seed: int, where: str = "matching") -> nx.Graph:
    """The graph a config names, on nodes ``0..n-1`` (random graphs drawn from ``seed``).

    Example:
        >>> make_graph({"graph": "lattice"}, 9, seed=0).degree[0]
        4
    """
    unknown = sorted(set(cfg) - _GRAPH_KEYS - {"type", "payoff", "reproduction_graph"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}")
    if "edges" in cfg:
        return _edge_file(cfg["edges"], n, where)
    name = cfg.get("graph")
    if name == "lattice":
        return _lattice(cfg, n, where)
    if name == "cycle":
        return nx.cycle_graph(n)
    if name == "random_regular":
        d = _int(cfg, "degree", 4, 1, where)
        if d >= n or (d * n) % 2:
            raise ConfigError(f"{where}.degree={d}: need degree < n and degree * n even (n={n})")
        return nx.random_regular_graph(d, n, seed=seed)
    if name == "small_world":
        k, p = _int(cfg, "k", 4, 2, where), cfg.get("p", 0.1)
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ConfigError(f"{where}.p={p!r} is invalid: want a number in [0, 1]")
        return nx.connected_watts_strogatz_graph(n, k, float(p), seed=seed)
    if name == "scale_free":
        m = _int(cfg, "m", 2, 1, where)
        if m >= n:
            raise ConfigError(f"{where}.m={m}: need m < n (n={n})")
        return nx.barabasi_albert_graph(n, m, seed=seed)
    raise ConfigError(f"{where}.graph={name!r}: want one of {', '.join(GRAPHS)} "
                      "(or edges: FILE)")


def make_matching(cfg: Mapping[str, Any], n: int, n_players: int, seed: int) -> Matching:
    """A :class:`Matching` from the ``matching`` config section.

    Args:
        cfg: the section (see the module doc); ``type`` defaults to ``well_mixed``.
        n: the population size.
        n_players: the game's number of players (the default group size).
        seed: draws random graphs (the config's seed; graphs stay fixed for the run).

    Raises:
        ConfigError: an unknown type or key, or a structure the game cannot play.
    """
    kind = cfg.get("type", "well_mixed")
    if kind not in TYPES:
        raise ConfigError(f"matching.type={kind!r}: want one of {', '.join(TYPES)}")
    payoff = cfg.get("payoff", "mean")
    if payoff not in ("mean", "sum"):
        raise ConfigError(f"matching.payoff={payoff!r}: want mean or sum")
    k = _int(cfg, "k", n_players, 2, "matching") if kind == "groups" else 2
    if k != n_players:
        raise ConfigError(f"matching: {kind} makes matches of {k} but the game has "
                          f"{n_players} players (use type: groups with k: {n_players}, or set "
                          "the game's n_players)")
    if n < k:
        raise ConfigError(f"population.size={n}: a match needs {k} agents")
    allowed = {"type", "payoff", "reproduction_graph"} | ({"k"} if kind == "groups" else set())
    if kind != "graph" and set(cfg) - allowed:
        raise ConfigError(f"matching: unknown key(s) {sorted(set(cfg) - allowed)} for {kind}")
    graph = make_graph(cfg, n, seed) if kind == "graph" else None
    repro_cfg = cfg.get("reproduction_graph")
    repro = (make_graph(repro_cfg, n, seed + 1, "matching.reproduction_graph")
             if isinstance(repro_cfg, Mapping) else None)
    if repro_cfg is not None and repro is None:
        raise ConfigError(f"matching.reproduction_graph={repro_cfg!r}: want a graph mapping")
    return Matching(kind, n, k, payoff, graph, repro)
