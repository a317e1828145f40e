"""Knowledge-graph reasoning over integer triple arrays: link prediction and rule mining.

Pure numpy / scipy functions, no world or agent state. A *triple array* is an int array of
shape ``(k, 3)`` whose rows are ``(head, relation, tail)`` with entities in
``range(num_entities)`` and relations in ``range(num_relations)``.

* **Link prediction** on the undirected view of the triples: common neighbours,
  Adamic-Adar and resource allocation scores (one sparse product ``A @ W @ A``),
  the top-scoring unlinked pairs, and a relation and direction for each pair.
* **Rule mining** (AMIE-style): path rules ``r1(x,y) & r2(y,z) => r3(x,z)`` over relations
  and their inverses, and one-atom rules ``r1(x,z) => r3(x,z)``, with support, standard
  confidence, PCA confidence and head coverage. Every body's ``(x, z)`` pairs come from a
  single sparse product; :func:`apply_rules` ranks the unknown triples the rules imply.
* **Entity resolution**: Jaccard similarity of typed neighbourhoods (:func:`alias_scores`)
  and identity-path evidence for an entity split in two (:func:`alias_votes`).

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

from agora.envs.errors import ConfigError

LINK_METHODS = ("common_neighbours", "adamic_adar", "resource_allocation")
"""Neighbourhood scores :func:`link_scores` knows."""


def as_triples(triples: object) -> np.ndarray:
    """An int64 ``(k, 3)`` copy of ``triples`` (any nested sequence or array)."""
    return np.asarray(triples, dtype=np.int64).reshape(-1, 3)


def _binary(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_array:
    m = sparse.coo_array((np.ones(len(rows)), (rows, cols)), shape=shape).tocsr()
    m.data[:] = 1.0  # duplicates were summed
    return m


# ----- link prediction -----------------------------------------------------------------
def undirected_adjacency(triples: object, num_entities: int) -> sparse.csr_array:
    """The 0/1 symmetric adjacency of the triples' entities (relations and self-loops dropped).

    Example:
        >>> undirected_adjacency([[0, 5, 1], [1, 2, 0], [2, 0, 2]], 3).toarray()
        array([[0., 1., 0.],
               [1., 0., 0.],
               [0., 0., 0.]])
    """
    t = as_triples(triples)
    t = t[t[:, 0] != t[:, 2]]
    rows, cols = np.concatenate([t[:, 0], t[:, 2]]), np.concatenate([t[:, 2], t[:, 0]])
    return _binary(rows, cols, (num_entities, num_entities))


def neighbour_weights(adj: sparse.csr_array, method: str) -> np.ndarray:
    """The weight of each entity as a common neighbour: 1, ``1/log(deg)`` or ``1/deg``."""
    deg = np.asarray(adj.sum(axis=1)).ravel()
    w = np.zeros(len(deg))
    if method == "common_neighbours":
        return np.ones(len(deg))
    if method == "adamic_adar":
        np.divide(1.0, np.log(np.maximum(deg, 2)), out=w, where=deg > 1)
    elif method == "resource_allocation":
        np.divide(1.0, deg, out=w, where=deg > 0)
    else:
        raise ConfigError(f"link method {method!r} not in {LINK_METHODS}")
    return w


def link_scores(adj: sparse.csr_array, pairs: object, method: str = "adamic_adar") -> np.ndarray:
    """Scores of given pairs: the weighted count of their common neighbours.

    Example:
        >>> adj = undirected_adjacency([[0, 0, 2], [1, 0, 2], [0, 0, 3], [1, 0, 3]], 4)
        >>> link_scores(adj, [[0, 1], [2, 3]], "common_neighbours")
        array([2., 2.])
    """
    p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    w = neighbour_weights(adj, method)
    right = adj[p[:, 1]].multiply(w[None, :])
    return np.asarray(adj[p[:, 0]].multiply(right).sum(axis=1), dtype=float).ravel()


def top_links(adj: sparse.csr_array, k: int,
              method: str = "adamic_adar") -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best-scoring unlinked pairs ``u < v`` with a positive score.

    Ties break by ``(u, v)``. Returns ``(pairs (k, 2), scores (k,))``.

    Example:
        >>> adj = undirected_adjacency([[0, 0, 1], [1, 0, 2], [2, 0, 3]], 4)
        >>> pairs, scores = top_links(adj, 5, "common_neighbours")
        >>> pairs.tolist(), scores.tolist()
        ([[0, 2], [1, 3]], [1.0, 1.0])
    """
    w = neighbour_weights(adj, method)
    s = sparse.triu(adj @ sparse.diags_array(w) @ adj, k=1).tocoo()
    u, v, score = s.row.astype(np.int64), s.col.astype(np.int64), s.data
    if not len(u):
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    keep = (score > 0) & (np.asarray(adj[u, v]).ravel() == 0)
    u, v, score = u[keep], v[keep], score[keep]
    order = np.lexsort((v, u, -score))[:k]
    return np.stack([u[order], v[order]], axis=1), score[order]


def typed_features(triples: object, num_entities: int, num_relations: int) -> sparse.csr_array:
    """The 0/1 matrix of each entity's typed neighbourhood: column ``r * n + b`` for an
    outgoing ``(e, r, b)``, ``(r + m) * n + a`` for an incoming ``(a, r, e)``."""
    t, n, m = as_triples(triples), num_entities, num_relations
    ent = np.concatenate([t[:, 0], t[:, 2]])
    feat = np.concatenate([t[:, 1] * n + t[:, 2], (t[:, 1] + m) * n + t[:, 0]])
    return _binary(ent, feat, (n, 2 * m * n))


def _similar(feats: sparse.csr_array, rows: np.ndarray) -> sparse.csr_array:
    """Jaccard similarity of typed neighbourhoods from each of ``rows`` to every entity (1
    to itself)."""
    size = np.asarray(feats.sum(axis=1)).ravel()
    inter = (feats[rows] @ feats.T).tocoo()
    i, j = inter.row.astype(np.int64), inter.col.astype(np.int64)
    other = j != rows[i]
    i, j, common = i[other], j[other], inter.data[other]
    sim = common / (size[rows[i]] + size[j] - common)
    i = np.concatenate([i, np.arange(len(rows))])
    j, sim = np.concatenate([j, rows]), np.concatenate([sim, np.ones(len(rows))])
    return sparse.coo_array((sim, (i, j)), shape=(len(rows), feats.shape[0])).tocsr()


def predict_relations(triples: object, pairs: object, num_entities: int,
                      num_relations: int) -> np.ndarray:
    """The most likely directed triple for each unordered pair (entities like ``u`` relate
    by ``r`` to entities like ``v``).

    Relation ``r`` from ``u`` to ``v`` scores the sum over known triples ``(a, r, b)`` of
    ``sim(u, a) * sim(v, b)``, where ``sim`` is the Jaccard similarity of typed
    neighbourhoods (:func:`typed_features`) and 1 for an entity itself. Ties break by how
    often ``u`` heads and ``v`` tails ``r``, then by the lower relation, forward first.

    Example:
        >>> t = [[0, 0, 9], [1, 0, 9], [0, 1, 8], [1, 1, 8], [2, 1, 8]]  # 2 is like 0, 1
        >>> predict_relations(t, [[9, 2]], 10, 2).tolist()
        [[2, 0, 9]]
    """
    t, p = as_triples(triples), np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    n, m = num_entities, num_relations
    feats = typed_features(t, n, m)
    onehot = _binary(np.arange(len(t)), t[:, 1], (len(t), m))
    out_deg, in_deg = np.zeros((n, m)), np.zeros((n, m))
    np.add.at(out_deg, (t[:, 0], t[:, 1]), 1.0)
    np.add.at(in_deg, (t[:, 2], t[:, 1]), 1.0)

    def oriented(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        hits = _similar(feats, a)[:, t[:, 0]].multiply(_similar(feats, b)[:, t[:, 2]]) @ onehot
        prior = out_deg[a] + in_deg[b]
        tie = prior / (1.0 + prior.sum(axis=1, keepdims=True)) * 1e-6
        return np.asarray(hits.toarray()) + tie

    score = np.concatenate([oriented(p[:, 0], p[:, 1]), oriented(p[:, 1], p[:, 0])], axis=1)
    best = np.argmax(score, axis=1)
    forward = best < m
    head = np.where(forward, p[:, 0], p[:, 1])
    tail = np.where(forward, p[:, 1], p[:, 0])
    return np.stack([head, best % m, tail], axis=1)


# ----- rule mining ---------------------------------------------------------------------
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
        first = _binary(x * k + r, y, (n * k, n))  # (x, r1) -> y
        second = _binary(x, r * n + y, (n, k * n))  # y -> (r2, z)
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


# ----- entity resolution ---------------------------------------------------------------
def alias_scores(triples: object, num_entities: int, num_relations: int,
                 k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``u < v`` ranked by the Jaccard similarity of their typed neighbourhoods
    (the sets of ``(relation, direction, neighbour)``); only pairs sharing a feature.

    Example:
        >>> t = [[0, 0, 5], [0, 1, 6], [1, 0, 5], [1, 1, 6], [2, 0, 5]]
        >>> pairs, sim = alias_scores(t, 7, 2, k=2)
        >>> pairs.tolist(), sim.round(2).tolist()
        ([[0, 1], [0, 2]], [1.0, 0.5])
    """
    f = typed_features(triples, num_entities, num_relations)
    size = np.asarray(f.sum(axis=1)).ravel()
    inter = sparse.triu(f @ f.T, k=1).tocoo()
    u, v = inter.row.astype(np.int64), inter.col.astype(np.int64)
    sim = inter.data / (size[u] + size[v] - inter.data)
    order = np.lexsort((v, u, -sim))[:k]
    return np.stack([u[order], v[order]], axis=1), sim[order]


def alias_votes(triples: object, num_entities: int, num_relations: int, *,
                min_identity: float = 0.9,
                min_support: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Alias evidence from *identity paths* (equality-generating dependencies).

    A two-atom body such as ``spouse(x,y) & spouse(y,z)`` is an identity path when the
    entities ``x`` it leads back to (at least ``min_support`` of them) almost never reach
    anything else: its identity is the share of those ``x`` whose only end is ``x``. When
    such a path joins ``x`` to some ``z != x``, ``x`` and ``z`` are likely one entity
    split in two. Each pair scores the summed identity of the paths joining it.

    Returns:
        ``(pairs (p, 2) with u < v, scores (p,))``, best first.

    Example:
        >>> t = [[0, 0, 1], [1, 0, 0], [2, 0, 3], [3, 0, 2], [4, 0, 5], [5, 0, 6]]
        >>> pairs, votes = alias_votes(t, 7, 1, min_support=2)  # 4 and 6 share spouse 5
        >>> pairs.tolist(), votes.tolist()
        ([[4, 6]], [2.0])
    """
    n, m = num_entities, num_relations
    body, x, z = body_pairs(triples, n, m, 2, loops=True)
    starts, inv, ends = np.unique(body * n + x, return_inverse=True, return_counts=True)
    loop = np.zeros(len(starts), dtype=bool)
    loop[inv[x == z]] = True
    sb, size = starts // n, 2 * m + 4 * m * m
    returns = np.bincount(sb[loop], minlength=size)
    identity = np.bincount(sb[loop & (ends == 1)], minlength=size) / np.maximum(returns, 1)
    identity[returns < min_support] = 0.0
    sel = (identity[body] >= min_identity) & (x != z)
    u, v = np.minimum(x[sel], z[sel]), np.maximum(x[sel], z[sel])
    key, inv2 = np.unique(u * n + v, return_inverse=True)
    votes = np.bincount(inv2, identity[body[sel]], minlength=len(key)).astype(float)
    order = np.lexsort((key, -votes))
    return np.stack([key[order] // n, key[order] % n], axis=1), votes[order]
