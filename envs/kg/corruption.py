"""Corruptions: the partial, noisy graph an agent starts from, drawn from the truth.

A corruption is a ``+``-joined list of modes (``"missing_edges+extra_edges+duplicates"``):
at most one *base* mode decides which true triples the agent starts with, then the
*noise* modes apply in a fixed order.

Base modes (none named: the whole truth):

* ``empty``: no triples; only ``seeds`` random entities are visible;
* ``nodes_only``: no triples; every entity visible;
* ``missing_edges``: a ``missing`` fraction of the true triples removed (exact count);
* ``partial_subgraph``: the triples inside the ``hops``-hop ball (undirected) around
  ``seeds`` random entities; only the ball is visible.

Noise modes:

* ``wrong_relations``: a ``wrong`` fraction of the start triples relabelled to a relation
  that makes them false;
* ``extra_edges``: false triples between visible entities, an ``extra`` fraction of the
  start size (of the truth's size when the start is empty);
* ``duplicates``: a ``duplicate`` fraction of entities split in two ids (an alias each);
  every start triple end on a split entity moves to the alias with probability 1/2; all
  observed ids are then shuffled so aliases cannot be told by position.

Example:
    >>> from agora.envs.kg.graph import KnowledgeGraph
    >>> kg = KnowledgeGraph.from_named("t", [("a", "r", "b"), ("b", "r", "c")])
    >>> c = corrupt(kg, CorruptionParams(modes=("nodes_only",)), np.random.default_rng(0))
    >>> c.initial.shape, bool(c.visible.all()), c.alias_of.tolist()
    ((0, 3), True, [0, 1, 2])
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from agora.envs.core import is_int, is_real, require
from agora.envs.kg.graph import KnowledgeGraph, unique_triples
from agora.envs.kg.names import tokens

BASE_MODES = ("empty", "nodes_only", "missing_edges", "partial_subgraph")
NOISE_MODES = ("wrong_relations", "extra_edges", "duplicates")
MODES = BASE_MODES + NOISE_MODES


def parse_modes(corruption: str) -> tuple[str, ...]:
    """Split ``"a+b"`` into modes, checking names and that at most one is a base mode.

    Example:
        >>> parse_modes("missing_edges + duplicates")
        ('missing_edges', 'duplicates')
    """
    modes = tuple(m.strip() for m in str(corruption).split("+") if m.strip())
    require(all(m in MODES for m in modes), "corruption", corruption,
            f"modes must be among {MODES}, joined with '+'")
    require(sum(m in BASE_MODES for m in modes) <= 1, "corruption", corruption,
            f"at most one base mode of {BASE_MODES}")
    require(len(set(modes)) == len(modes), "corruption", corruption, "a mode is repeated")
    return modes


@dataclass(frozen=True)
class CorruptionParams:
    """Which modes and how strong (fractions in [0, 1])."""

    modes: tuple[str, ...] = ("missing_edges",)
    missing: float = 0.5
    wrong: float = 0.1
    extra: float = 0.1
    duplicate: float = 0.1
    hops: int = 1
    seeds: int = 3
    variant_names: bool = False
    """Alias names: a spelling variant of the original (real names) instead of a token."""

    def __post_init__(self) -> None:
        for name in ("missing", "wrong", "extra", "duplicate"):
            v = getattr(self, name)
            require(is_real(v) and 0.0 <= v <= 1.0, name, v, "a fraction in [0, 1]")
        require(is_int(self.hops) and self.hops >= 0, "hops", self.hops, "an int >= 0")
        require(is_int(self.seeds) and self.seeds >= 1, "seeds", self.seeds, "an int >= 1")

    def num_aliases(self, num_entities: int) -> int:
        """How many aliases ``duplicates`` adds (0 without that mode)."""
        return round(self.duplicate * num_entities) if "duplicates" in self.modes else 0


@dataclass(frozen=True)
class Corrupted:
    """The agent's start: observed ids, their true identity and the start triples.

    Attributes:
        initial: int64 ``(k, 3)`` start triples in observed ids.
        alias_of: int64 ``(n_observed,)``: the true entity of each observed id.
        visible: bool ``(n_observed,)``: ids shown to the agent at the start.
        entity_names: name of each observed id.
        entity_types: type of each observed id.
    """

    initial: np.ndarray
    alias_of: np.ndarray
    visible: np.ndarray
    entity_names: tuple[str, ...]
    entity_types: tuple[str, ...]


def corrupt(kg: KnowledgeGraph, params: CorruptionParams,
            rng: np.random.Generator) -> Corrupted:
    """Draw the agent's start from the true graph ``kg``."""
    triples, visible = _base(kg, params, rng)
    noisy = "wrong_relations" in params.modes or "extra_edges" in params.modes
    truth = {tuple(t) for t in kg.triples.tolist()} if noisy else set()
    if "wrong_relations" in params.modes:
        triples = _relabel(triples, kg.num_relations, truth, params.wrong, rng)
    if "extra_edges" in params.modes:
        n = round(params.extra * (len(triples) or len(kg.triples)))
        triples = _add_false(triples, visible, kg.num_relations, truth, n, rng)
    out = Corrupted(triples, np.arange(kg.num_entities, dtype=np.int64), visible,
                    kg.entity_names, kg.entity_types)
    if "duplicates" in params.modes:
        out = _split(out, params, rng)
    return out


def _base(kg: KnowledgeGraph, p: CorruptionParams,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n, arr = kg.num_entities, kg.triples
    visible = np.ones(n, dtype=bool)
    if "empty" in p.modes or "nodes_only" in p.modes:
        if "empty" in p.modes:
            visible[:] = False
            visible[rng.choice(n, size=min(p.seeds, n), replace=False)] = True
        return arr[:0].copy(), visible
    if "missing_edges" in p.modes:
        drop = rng.choice(len(arr), size=round(p.missing * len(arr)), replace=False)
        return np.delete(arr, drop, axis=0), visible
    if "partial_subgraph" in p.modes:
        ball = _ball(arr, n, rng.choice(n, size=min(p.seeds, n), replace=False), p.hops)
        return arr[ball[arr[:, 0]] & ball[arr[:, 2]]], ball
    return arr.copy(), visible


def _ball(arr: np.ndarray, n: int, seeds: np.ndarray, hops: int) -> np.ndarray:
    """Entities within ``hops`` undirected steps of ``seeds`` (a bool mask)."""
    inside = np.zeros(n, dtype=bool)
    inside[seeds] = True
    for _ in range(hops):
        grow = inside.copy()
        grow[arr[inside[arr[:, 0]], 2]] = True
        grow[arr[inside[arr[:, 2]], 0]] = True
        inside = grow
    return inside


def _relabel(triples: np.ndarray, num_relations: int, truth: set[tuple[int, ...]],
             fraction: float, rng: np.random.Generator) -> np.ndarray:
    out = triples.copy()
    if num_relations < 2 or not len(out):
        return out
    taken = {tuple(t) for t in out.tolist()}
    for i in rng.choice(len(out), size=round(fraction * len(out)), replace=False).tolist():
        h, r, t = out[i].tolist()
        for _ in range(8):  # a few draws; a triple with no false relabel stays true
            new = (h, int(rng.integers(num_relations)), t)
            if new not in truth and new not in taken:
                taken.discard((h, r, t))
                taken.add(new)
                out[i] = new
                break
    return unique_triples(out)


def _add_false(triples: np.ndarray, visible: np.ndarray, num_relations: int,
               truth: set[tuple[int, ...]], n: int, rng: np.random.Generator) -> np.ndarray:
    ids = np.flatnonzero(visible)
    taken = {tuple(t) for t in triples.tolist()}
    extra: list[tuple[int, int, int]] = []
    for _ in range(20 * n):
        if len(extra) >= n:
            break
        h, t = rng.choice(ids, size=2).tolist()
        new = (int(h), int(rng.integers(num_relations)), int(t))
        if new not in truth and new not in taken:
            taken.add(new)
            extra.append(new)
    return unique_triples(np.vstack([triples, np.array(extra, dtype=np.int64).reshape(-1, 3)]))


def _variant(name: str) -> str:
    alt = name.replace("_", " ").title()
    return alt if alt != name else f"{name} (2)"


def _alias_names(names: tuple[str, ...], split: list[int], variant: bool,
                 rng: np.random.Generator) -> tuple[str, ...]:
    """Fresh names for the aliases, distinct from every existing name."""
    taken = set(names)
    if variant:
        out = []
        for e in split:
            new = _variant(names[e])
            while new in taken:
                new += "'"
            taken.add(new)
            out.append(new)
        return tuple(out)
    return tuple(t for t in tokens(len(split) + len(names), rng, 3) if t not in taken)[
        :len(split)]


def _split(c: Corrupted, p: CorruptionParams, rng: np.random.Generator) -> Corrupted:
    n = len(c.alias_of)
    k = p.num_aliases(n)
    split = rng.choice(n, size=k, replace=False)
    alias = np.full(n, -1, dtype=np.int64)
    alias[split] = n + np.arange(k)
    arr = c.initial.copy()
    for col in (0, 2):
        ends = arr[:, col]
        move = (alias[ends] >= 0) & (rng.random(len(arr)) < 0.5)
        arr[move, col] = alias[ends[move]]
    names = _alias_names(c.entity_names, split.tolist(), p.variant_names, rng)
    perm = rng.permutation(n + k)  # observed id of the old id i is perm[i]
    old_of_new = np.argsort(perm)
    alias_of = np.concatenate([c.alias_of, c.alias_of[split]])[old_of_new]
    visible = np.concatenate([c.visible, c.visible[split]])[old_of_new]
    all_names = c.entity_names + names
    all_types = c.entity_types + tuple(c.entity_types[e] for e in split.tolist())
    arr[:, 0], arr[:, 2] = perm[arr[:, 0]], perm[arr[:, 2]]
    return replace(c, initial=unique_triples(arr), alias_of=alias_of, visible=visible,
                   entity_names=tuple(all_names[i] for i in old_of_new.tolist()),
                   entity_types=tuple(all_types[i] for i in old_of_new.tolist()))
