"""Hidden ground-truth graphs: shipped real KGs, networkx graphs and generated rule worlds.

A source name picks the graph:

* ``"nations"``, ``"kinships"``, ``"umls"``: the small real KGs shipped in ``data/``
  (read with :mod:`importlib.resources`, never through pykeen);
* ``"networkx:<name>"``: a networkx social graph (:data:`NX_GRAPHS`), every undirected edge
  as two triples, with one relation (``typed=False``) or relations named after the node
  attribute of both ends (``typed=True``);
* ``"rule_world"``: a family tree drawn from an rng (:func:`rule_world`), closed under the
  planted :data:`FAMILY_RULES`.

:func:`anonymise` replaces names by pronounceable random tokens so that a language model
cannot answer from memory.

Example:
    >>> kg = KnowledgeGraph.from_named("toy", [("a", "likes", "b"), ("b", "likes", "c")])
    >>> kg.triples.tolist(), kg.num_entities, kg.relation_names
    ([[0, 0, 1], [1, 0, 2]], 3, ('likes',))
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import networkx as nx
import numpy as np

from agora.envs.errors import ConfigError

REAL_KGS = ("nations", "kinships", "umls")
ANONYMISE = ("none", "entities", "all")


@dataclass(frozen=True)
class Rule:
    """A planted Horn rule over relation ids.

    * ``compose``: ``body=(r1, r2)``: ``r1(x, y) & r2(y, z) => head(x, z)`` for ``x != z``;
    * ``inverse``: ``body=(r,)``: ``r(x, y) => head(y, x)`` (``head == r``: symmetric).

    Example:
        >>> Rule("compose", (0, 0), 1).text(("parent_of", "grandparent_of"))
        'parent_of(x,y) & parent_of(y,z) => grandparent_of(x,z)'
    """

    kind: str
    body: tuple[int, ...]
    head: int

    def text(self, relation_names: Sequence[str]) -> str:
        n = relation_names
        if self.kind == "compose":
            a, b = self.body
            return f"{n[a]}(x,y) & {n[b]}(y,z) => {n[self.head]}(x,z)"
        return f"{n[self.body[0]]}(x,y) => {n[self.head]}(y,x)"


@dataclass(frozen=True)
class KnowledgeGraph:
    """A graph of typed entities and relations; ``triples`` is a unique, sorted int64
    ``(n, 3)`` array of ``(head, relation, tail)`` ids."""

    name: str
    triples: np.ndarray = field(repr=False)
    entity_names: tuple[str, ...] = field(repr=False)
    relation_names: tuple[str, ...] = field(repr=False)
    entity_types: tuple[str, ...] = field(repr=False)
    attributes: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    rules: tuple[Rule, ...] = ()

    @property
    def num_entities(self) -> int:
        return len(self.entity_names)

    @property
    def num_relations(self) -> int:
        return len(self.relation_names)

    def triple_set(self) -> set[tuple[int, int, int]]:
        """The triples as a set of int tuples."""
        return {(int(h), int(r), int(t)) for h, r, t in self.triples}

    @classmethod
    def from_named(cls, name: str, triples: Iterable[Sequence[str]],
                   types: Mapping[str, str] | None = None,
                   relations: Sequence[str] | None = None) -> KnowledgeGraph:
        """Build from ``(head, relation, tail)`` name triples (ids in sorted name order)."""
        rows = [tuple(t) for t in triples]
        ents = sorted({h for h, _, _ in rows} | {t for _, _, t in rows} | set(types or {}))
        rels = list(relations) if relations is not None else sorted({r for _, r, _ in rows})
        eid = {e: i for i, e in enumerate(ents)}
        rid = {r: i for i, r in enumerate(rels)}
        arr = np.array([(eid[h], rid[r], eid[t]) for h, r, t in rows], dtype=np.int64)
        return cls(name, unique_triples(arr), tuple(ents), tuple(rels),
                   tuple((types or {}).get(e, "entity") for e in ents))


def unique_triples(arr: np.ndarray) -> np.ndarray:
    """Unique rows of an ``(n, 3)`` int array, sorted (empty input gives ``(0, 3)``)."""
    arr = np.asarray(arr, dtype=np.int64).reshape(-1, 3)
    return np.unique(arr, axis=0) if len(arr) else arr


# ----- real KGs and networkx graphs ------------------------------------------------
@functools.cache
def load_real(name: str) -> KnowledgeGraph:
    """One of :data:`REAL_KGS`, read from the shipped ``data/<name>.tsv.gz``."""
    if name not in REAL_KGS:
        raise ConfigError(f"unknown real KG {name!r}; shipped: {REAL_KGS}")
    raw = resources.files("agora.envs.kg").joinpath("data", f"{name}.tsv.gz").read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    return KnowledgeGraph.from_named(name, [ln.split("\t") for ln in lines if ln.strip()])


def _karate() -> nx.Graph:
    return nx.relabel_nodes(nx.karate_club_graph(), lambda n: f"member{n}")


def _davis() -> nx.Graph:
    g = nx.davis_southern_women_graph()
    for _, d in g.nodes(data=True):
        d["kind"] = "woman" if d["bipartite"] == 0 else "event"
    return g


NX_GRAPHS: dict[str, tuple[Callable[[], nx.Graph], str | None]] = {
    "karate_club": (_karate, "club"),
    "les_miserables": (nx.les_miserables_graph, None),
    "florentine_families": (nx.florentine_families_graph, None),
    "davis_southern_women": (_davis, "kind"),
}
"""Supported ``networkx:<name>`` graphs and the node attribute that types them."""


@functools.cache
def load_networkx(name: str, typed: bool = True) -> KnowledgeGraph:
    """A networkx graph as a KG (both directions of each edge)."""
    if name not in NX_GRAPHS:
        raise ConfigError(f"unknown networkx graph {name!r}; known: {sorted(NX_GRAPHS)}")
    build, attr = NX_GRAPHS[name]
    g = build()
    kind = {str(n): str(d.get(attr, "entity")) if attr else "entity"
            for n, d in g.nodes(data=True)}
    rows = []
    for u, v in g.edges():
        a, b = str(u), str(v)
        for h, t in ((a, b), (b, a)):
            rel = f"{kind[h]}-{kind[t]}" if typed and attr else "linked"
            rows.append((h, rel, t))
    return KnowledgeGraph.from_named(f"networkx:{name}", rows, types=kind)


# ----- anonymised names ------------------------------------------------------------
_CONSONANTS = "bdfghklmnprstvz"
_VOWELS = "aeiou"


def tokens(n: int, rng: np.random.Generator, syllables: int = 3) -> tuple[str, ...]:
    """``n`` distinct pronounceable tokens of consonant-vowel syllables.

    Example:
        >>> t = tokens(5, np.random.default_rng(0))
        >>> len(set(t)), all(len(x) == 6 for x in t)
        (5, True)
    """
    base = len(_CONSONANTS) * len(_VOWELS)
    while base**syllables < 2 * n:
        syllables += 1
    codes = rng.choice(base**syllables, size=n, replace=False)
    out = []
    for code in codes.tolist():
        word = []
        for _ in range(syllables):
            code, s = divmod(code, base)
            word.append(_CONSONANTS[s // len(_VOWELS)] + _VOWELS[s % len(_VOWELS)])
        out.append("".join(word))
    return tuple(out)


def anonymise(kg: KnowledgeGraph, rng: np.random.Generator, which: str) -> KnowledgeGraph:
    """Rename entities (``"entities"``) or entities and relations (``"all"``) with random
    tokens; relation tokens have two syllables and entity tokens three or more."""
    if which not in ANONYMISE:
        raise ConfigError(f"anonymise={which!r} must be one of {ANONYMISE}")
    if which == "none":
        return kg
    out = replace(kg, entity_names=tokens(kg.num_entities, rng, 3))
    if which == "all":
        out = replace(out, relation_names=tokens(kg.num_relations, rng, 2))
    return out


# ----- rule worlds: family trees closed under planted rules -----------------------
FAMILY_RELATIONS = ("parent_of", "child_of", "spouse_of", "sibling_of", "grandparent_of",
                    "grandchild_of", "aunt_or_uncle_of", "niece_or_nephew_of", "lives_in",
                    "residence_of")
_R = {name: i for i, name in enumerate(FAMILY_RELATIONS)}
FAMILY_RULES = (
    Rule("inverse", (_R["parent_of"],), _R["child_of"]),
    Rule("inverse", (_R["spouse_of"],), _R["spouse_of"]),
    Rule("compose", (_R["child_of"], _R["parent_of"]), _R["sibling_of"]),
    Rule("compose", (_R["parent_of"], _R["parent_of"]), _R["grandparent_of"]),
    Rule("inverse", (_R["grandparent_of"],), _R["grandchild_of"]),
    Rule("compose", (_R["sibling_of"], _R["parent_of"]), _R["aunt_or_uncle_of"]),
    Rule("compose", (_R["spouse_of"], _R["aunt_or_uncle_of"]), _R["aunt_or_uncle_of"]),
    Rule("inverse", (_R["aunt_or_uncle_of"],), _R["niece_or_nephew_of"]),
    Rule("compose", (_R["spouse_of"], _R["lives_in"]), _R["lives_in"]),
    Rule("inverse", (_R["lives_in"],), _R["residence_of"]),
)
"""The planted rules of a rule world (relation ids index :data:`FAMILY_RELATIONS`)."""


def close_under(triples: Iterable[tuple[int, int, int]], rules: Sequence[Rule],
                num_relations: int) -> set[tuple[int, int, int]]:
    """The smallest superset of ``triples`` in which every rule holds.

    Example:
        >>> sorted(close_under({(0, 0, 1), (1, 0, 2)}, [Rule("compose", (0, 0), 1)], 2))
        [(0, 0, 1), (0, 1, 2), (1, 0, 2)]
    """
    out: list[dict[int, set[int]]] = [{} for _ in range(num_relations)]
    facts = set(triples)
    for h, r, t in facts:
        out[r].setdefault(h, set()).add(t)
    changed = True
    while changed:
        changed = False
        for rule in rules:
            for h, r, t in _implied(rule, out):
                if (h, r, t) not in facts:
                    facts.add((h, r, t))
                    out[r].setdefault(h, set()).add(t)
                    changed = True
    return facts


def _implied(rule: Rule, out: list[dict[int, set[int]]]) -> list[tuple[int, int, int]]:
    if rule.kind == "inverse":
        return [(t, rule.head, h) for h, ts in out[rule.body[0]].items() for t in ts]
    first, second = out[rule.body[0]], out[rule.body[1]]
    return [(x, rule.head, z) for x, ys in first.items() for y in ys
            for z in second.get(y, ()) if z != x]


@dataclass
class _Family:
    gen: list[int] = field(default_factory=list)
    gender: list[str] = field(default_factory=list)
    town: list[int] = field(default_factory=list)
    parents: list[tuple[int, ...]] = field(default_factory=list)
    spouse: list[int] = field(default_factory=list)

    def add(self, gen: int, town: int, parents: tuple[int, ...],
            rng: np.random.Generator) -> int:
        self.gen.append(gen)
        self.gender.append("f" if rng.random() < 0.5 else "m")
        self.town.append(town)
        self.parents.append(parents)
        self.spouse.append(-1)
        return len(self.gen) - 1

    def marry(self, a: int, b: int) -> None:
        self.spouse[a], self.spouse[b] = b, a
        self.town[b] = self.town[a]


def _grow(n_persons: int, n_towns: int, rng: np.random.Generator,
          max_children: int) -> _Family:
    fam = _Family()
    couples: list[tuple[int, int]] = []
    while len(fam.gen) < n_persons:
        if not couples:  # a new founding couple
            town = int(rng.integers(n_towns))
            a = fam.add(0, town, (), rng)
            if len(fam.gen) >= n_persons:
                break
            b = fam.add(0, town, (), rng)
            fam.marry(a, b)
            couples.append((a, b))
        a, b = couples.pop(0)
        for _ in range(int(rng.integers(1, max_children + 1))):
            if len(fam.gen) >= n_persons:
                break
            child = fam.add(fam.gen[a] + 1, fam.town[a], (a, b), rng)
            if len(fam.gen) < n_persons and rng.random() < 0.7:
                couples.append((child, _spouse_for(fam, child, rng)))
    return fam


def _spouse_for(fam: _Family, child: int, rng: np.random.Generator) -> int:
    """An unmarried person of the same generation from another family, else a newcomer."""
    pool = [p for p in range(len(fam.gen)) if fam.spouse[p] < 0 and p != child
            and fam.gen[p] == fam.gen[child] and fam.parents[p]
            and not set(fam.parents[p]) & set(fam.parents[child])]
    if pool and rng.random() < 0.5:
        other = pool[int(rng.integers(len(pool)))]
    else:
        other = fam.add(fam.gen[child], fam.town[child], (), rng)
    fam.marry(child, other)
    return other


def rule_world(num_entities: int, rng: np.random.Generator,
               max_children: int = 3) -> KnowledgeGraph:
    """A family tree of people in towns, closed under :data:`FAMILY_RULES`.

    Persons are born to couples generation by generation; most children marry (another
    family's child or a newcomer) and spouses share a town. Base facts (``parent_of``,
    ``spouse_of``, ``lives_in``) are closed under the rules; ids are shuffled so they do
    not leak the generation order; names are ``e<id>`` (use :func:`anonymise`).

    Example:
        >>> kg = rule_world(60, np.random.default_rng(1))
        >>> kg.num_entities, kg.num_relations, len(kg.rules)
        (60, 10, 10)
        >>> close_under(kg.triple_set(), kg.rules, kg.num_relations) == kg.triple_set()
        True
    """
    if num_entities < 6:
        raise ConfigError(f"parameter num_entities={num_entities} is invalid: need >= 6")
    n_towns = max(2, num_entities // 20)
    fam = _grow(num_entities - n_towns, n_towns, rng, max_children)
    n_persons = len(fam.gen)
    base = {(p, _R["lives_in"], n_persons + fam.town[p]) for p in range(n_persons)}
    base |= {(q, _R["parent_of"], p) for p in range(n_persons) for q in fam.parents[p]}
    base |= {(p, _R["spouse_of"], s) for p, s in enumerate(fam.spouse) if s >= 0}
    facts = close_under(base, FAMILY_RULES, len(FAMILY_RELATIONS))
    perm = rng.permutation(num_entities)
    arr = np.array(sorted(facts), dtype=np.int64)
    arr[:, 0], arr[:, 2] = perm[arr[:, 0]], perm[arr[:, 2]]
    attrs: list[Mapping[str, Any]] = [{} for _ in range(num_entities)]
    types = ["town"] * num_entities
    for p in range(n_persons):
        attrs[perm[p]] = {"gender": fam.gender[p], "generation": fam.gen[p]}
        types[perm[p]] = "person"
    return KnowledgeGraph("rule_world", unique_triples(arr),
                          tuple(f"e{i:04d}" for i in range(num_entities)), FAMILY_RELATIONS,
                          tuple(types), tuple(attrs), FAMILY_RULES)


# ----- one entry point -------------------------------------------------------------
def check_source(source: str) -> None:
    """Raise :class:`ConfigError` unless ``source`` names a known source."""
    if source == "rule_world" or source in REAL_KGS:
        return
    if source.startswith("networkx:") and source.split(":", 1)[1] in NX_GRAPHS:
        return
    raise ConfigError(f"parameter source={source!r} is invalid: use 'rule_world', one of "
                      f"{REAL_KGS}, or 'networkx:<name>' with name in {sorted(NX_GRAPHS)}")


def load_source(source: str, rng: np.random.Generator, num_entities: int = 100,
                typed: bool = True) -> KnowledgeGraph:
    """The graph a source names (a rule world is drawn from ``rng``; others are fixed)."""
    check_source(source)
    if source == "rule_world":
        return rule_world(num_entities, rng)
    if source in REAL_KGS:
        return load_real(source)
    return load_networkx(source.split(":", 1)[1], typed)
