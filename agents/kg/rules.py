"""AMIE-style rule mining over triple arrays.

Path rules ``r1(x,y) & r2(y,z) => r3(x,z)`` over relations and their inverses, and one-atom
rules ``r1(x,z) => r3(x,z)``, with support, standard confidence, PCA confidence and head
coverage. Every body's ``(x, z)`` pairs come from a single sparse product;
:func:`apply_rules` ranks the unknown triples the rules imply.

*Extended relations* number the relations ``0..m-1`` and their inverses ``m..2m-1``
(``r + m`` relates a tail to its head). Rule bodies are tuples of extended relations; rule
heads are plain relations. Body pairs with ``x == z`` are left out.

Example:
    >>> parent = np.array([[0, 0, 1], [1, 0, 2], [0, 1, 2], [3, 0, 4], [4, 0, 5], [3, 1, 5]])
    >>> best = mine_rules(parent, 6, 2)[0]
    >>> best.describe(("parent", "grandparent")), best.confidence
    ('parent(x,y) & parent(y,z) => grandparent(x,z)', 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from agora.agents.kg.triples import as_triples, binary_matrix
from agora.envs.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    """A Horn rule ``body(x, z) => head(x, z)`` and its counts on the mined triples.

    Attributes:
        body: extended relations of the body path (one or two atoms).
        head: the implied relation.
        support: distinct ``(x, z)`` pairs where both body and head hold.
        body_size: distinct ``(x, z)`` pairs the body reaches (``x != z``).
        head_size: known triples of the head relation.
        pca_body_size: body pairs whose ``x`` heads some known ``head`` triple.
    """

    body: tuple[int, ...]
    head: int
    support: int
    body_size: int
    head_size: int
    pca_body_size: int

    @property
    def confidence(self) -> float:
        """Standard confidence ``support / body_size``."""
        return self.support / self.body_size if self.body_size else 0.0

    @property
    def head_coverage(self) -> float:
        """``support / head_size``: the share of the head's facts the rule explains."""
        return self.support / self.head_size if self.head_size else 0.0

    @property
    def pca_confidence(self) -> float:
        """Confidence under the partial-completeness assumption (AMIE)."""
        return self.support / self.pca_body_size if self.pca_body_size else 0.0

    def describe(self, names: Sequence[str]) -> str:
        """The rule in words, e.g. ``parent(x,y) & parent(y,z) => grandparent(x,z)``."""
        m, var = len(names), ("x", "y", "z")[: len(self.body) + 1]
        if len(self.body) == 1:
            var = ("x", "z")
        atoms = []
        for i, r in enumerate(self.body):
            a, b = var[i], var[i + 1]
            atoms.append(f"{names[r]}({a},{b})" if r < m else f"{names[r - m]}({b},{a})")
        return f"{' & '.join(atoms)} => {names[self.head]}(x,z)"


def _extended(t: np.ndarray, m: int) -> np.ndarray:
    inverse = np.stack([t[:, 2], t[:, 1] + m, t[:, 0]], axis=1)
    return np.concatenate([t, inverse])


def _decode(body: int, m: int) -> tuple[int, ...]:
    k = 2 * m
    return (body,) if body < k else divmod(body - k, k)


def body_pairs(triples: object, num_entities: int, num_relations: int,
               max_length: int = 2, loops: bool = False
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct ``(body, x, z)`` that a body path of at most ``max_length`` atoms
    connects, sorted (``x != z`` unless ``loops``). Body ids: ``r1`` for one atom,
    ``2m + r1 * 2m + r2`` for two (``m = num_relations``)."""
    if max_length not in (1, 2):
        raise ConfigError(f"max_length={max_length!r} must be 1 or 2")
    n, k = num_entities, 2 * num_relations
    ext = _extended(np.unique(as_triples(triples), axis=0), num_relations)
    x, r, y = ext[:, 0], ext[:, 1], ext[:, 2]
    parts = [(r, x, y)]
    if max_length == 2 and len(ext):
        first = binary_matrix(x * k + r, y, (n * k, n))  # (x, r1) -> y
        second = binary_matrix(x, r * n + y, (n, k * n))  # y -> (r2, z)
        path = (first @ second).tocoo()
        row, col = path.row.astype(np.int64), path.col.astype(np.int64)
        parts.append((k + (row % k) * k + col // n, row // k, col % n))
    body, bx, bz = (np.concatenate(c) for c in zip(*parts))
    keep = (bx != bz) | loops  # keys are distinct already: the product sums repeated paths
    key = np.sort((body[keep] * n + bx[keep]) * n + bz[keep])
    return key // (n * n), (key // n) % n, key % n


def _join(keys: np.ndarray, sorted_keys: np.ndarray,
          values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``(i, values[j])`` with ``keys[i] == sorted_keys[j]``."""
    lo = np.searchsorted(sorted_keys, keys, "left")
    count = np.searchsorted(sorted_keys, keys, "right") - lo
    idx = np.repeat(np.arange(len(keys)), count)
    pos = np.arange(count.sum()) + np.repeat(lo - (np.cumsum(count) - count), count)
    return idx, values[pos]


def mine_rules(triples: object, num_entities: int, num_relations: int, *,
               max_length: int = 2, min_support: int = 2, min_confidence: float = 0.0,
               min_head_coverage: float = 0.0, max_rules: int | None = None) -> list[Rule]:
    """Mine one- and two-atom path rules from known triples (closed world for confidence).

    Returns the (at most ``max_rules``) rules that pass the thresholds, best first: by
    confidence, then support, then body and head ids. The trivial rule
    ``r(x,z) => r(x,z)`` is left out.
    """
    t = np.unique(as_triples(triples), axis=0)
    n, m = num_entities, num_relations
    body, x, z = body_pairs(t, n, m, max_length)
    num_bodies = 2 * m + 4 * m * m
    body_size = np.bincount(body, minlength=num_bodies)
    fact_key = t[:, 0] * n + t[:, 2]
    order = np.argsort(fact_key, kind="stable")
    idx, rel = _join(x * n + z, fact_key[order], t[order, 1])
    support = np.bincount(body[idx] * m + rel, minlength=num_bodies * m).reshape(-1, m)
    heads_of = np.zeros((n, m))
    heads_of[t[:, 0], t[:, 1]] = 1.0
    per_x = sparse.coo_array((np.ones(len(body)), (body, x)), shape=(num_bodies, n)).tocsr()
    pca = np.rint(per_x @ heads_of).astype(np.int64)
    head_size = np.bincount(t[:, 1], minlength=m)
    support[np.arange(m), np.arange(m)] = 0  # trivial rules
    with np.errstate(divide="ignore", invalid="ignore"):
        conf = support / np.maximum(body_size, 1)[:, None]
        cover = support / np.maximum(head_size, 1)[None, :]
    ok = (support >= max(min_support, 1)) & (conf >= min_confidence)
    ok &= cover >= min_head_coverage
    bs, hs = np.nonzero(ok)
    order = np.lexsort((hs, bs, -support[bs, hs], -conf[bs, hs]))[:max_rules]
    return [Rule(_decode(int(b), m), int(h), int(support[b, h]), int(body_size[b]),
                 int(head_size[h]), int(pca[b, h])) for b, h in zip(bs[order], hs[order])]


def _body_id(body: tuple[int, ...], m: int) -> int:
    return body[0] if len(body) == 1 else 2 * m + body[0] * 2 * m + body[1]


def apply_rules(triples: object, rules: Sequence[Rule], num_entities: int,
                num_relations: int, *, score: str = "confidence", aggregate: str = "max",
                min_score: float = 0.0,
                include_known: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The triples the rules imply on ``triples``, ranked by score (best first).

    Args:
        triples: the known triples.
        rules: rules from :func:`mine_rules` (possibly mined on other triples).
        num_entities: entity count.
        num_relations: relation count.
        score: the rule attribute that scores a prediction (``"confidence"``,
            ``"pca_confidence"`` or ``"head_coverage"``).
        aggregate: ``"max"`` over the rules that imply a triple, or ``"noisy_or"``
            (``1 - prod(1 - score)``).
        min_score: rules scoring less are left out.
        include_known: keep implied triples that are known already (their rule support).

    Returns:
        ``(triples (c, 3), scores (c,))``, ties broken by ``(head, relation, tail)``.
    """
    if aggregate not in ("max", "noisy_or"):
        raise ConfigError(f"aggregate={aggregate!r} must be 'max' or 'noisy_or'")
    t, n, m = as_triples(triples), num_entities, num_relations
    rules = [r for r in rules if float(getattr(r, score)) >= min_score]
    if not rules:
        return np.zeros((0, 3), dtype=np.int64), np.zeros(0)
    body, x, z = body_pairs(t, n, m, max(len(r.body) for r in rules))  # sorted by body
    rule_body = np.array([_body_id(r.body, m) for r in rules], dtype=np.int64)
    rule_score = np.array([float(getattr(r, score)) for r in rules])
    which, path = _join(rule_body, body, np.arange(len(body)))
    head = np.array([r.head for r in rules], dtype=np.int64)[which]
    key, s = (x[path] * m + head) * n + z[path], rule_score[which]
    if not include_known:
        fresh = ~np.isin(key, (t[:, 0] * m + t[:, 1]) * n + t[:, 2])
        key, s = key[fresh], s[fresh]
    uniq, inv = np.unique(key, return_inverse=True)
    if aggregate == "max":
        best = np.full(len(uniq), -np.inf)
        np.maximum.at(best, inv, s)
    else:
        best = -np.expm1(np.bincount(inv, np.log1p(-np.clip(s, 0.0, 1.0 - 1e-12)),
                                     minlength=len(uniq)))
    rank = np.lexsort((uniq, -best))
    uniq = uniq[rank]
    return np.stack([uniq // (m * n), (uniq // n) % m, uniq % n], axis=1), best[rank]
