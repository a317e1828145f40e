"""Rule worlds: family trees of people in towns, closed under planted Horn rules.

:func:`rule_world` draws a family from an rng and closes its base facts (``parent_of``,
``spouse_of``, ``lives_in``) under :data:`FAMILY_RULES`; :func:`close_under` is the
closure itself, usable on any triples and rules.

Example:
    >>> kg = rule_world(30, np.random.default_rng(0))
    >>> kg.num_relations, kg.rules == FAMILY_RULES
    (10, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agora.envs.errors import ConfigError
from agora.envs.kg.graph import KnowledgeGraph, Rule, unique_triples

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
