"""Knowledge-graph reasoning: link prediction agrees with networkx, rule statistics agree
with brute force, the miner recovers a planted rule and finds none in noise."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents.kg import (
    Rule,
    alias_scores,
    alias_votes,
    apply_rules,
    body_pairs,
    link_scores,
    mine_rules,
    predict_relations,
    top_links,
    undirected_adjacency,
)
from agora.envs.errors import ConfigError

PARENT, GRANDPARENT, SIBLING = 0, 1, 2
NAMES = ("parent", "grandparent", "sibling")


def family_world(seed: int, generations: int = 4, width: int = 8) -> np.ndarray:
    """parent(x, y): x is a parent of y; grandparent = parent o parent; sibling = share a
    parent. Every child has two parents from the previous generation."""
    rng = np.random.default_rng(seed)
    layers = [list(range(width))]
    for _ in range(generations - 1):
        start = layers[-1][-1] + 1
        layers.append(list(range(start, start + width)))
    parents: dict[int, tuple[int, int]] = {}
    for prev, layer in itertools.pairwise(layers):
        for child in layer:
            a, b = rng.choice(prev, size=2, replace=False)
            parents[child] = (int(a), int(b))
    facts = {(p, PARENT, c) for c, ps in parents.items() for p in ps}
    facts |= {(g, GRANDPARENT, c) for c, ps in parents.items() for p in ps
              for g in parents.get(p, ())}
    facts |= {(a, SIBLING, b) for a, b in itertools.permutations(parents, 2)
              if set(parents[a]) & set(parents[b])}
    return np.array(sorted(facts), dtype=np.int64)


def random_kg(seed: int, n: int = 60, m: int = 4, k: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.stack([rng.integers(n, size=k), rng.integers(m, size=k), rng.integers(n, size=k)], 1)
    return np.unique(t[t[:, 0] != t[:, 2]], axis=0)


def to_graph(triples: np.ndarray, n: int) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((int(h), int(t)) for h, _, t in triples if h != t)
    return g


triple_lists = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 2), st.integers(0, 11)),
                        max_size=40)


# ----- link prediction -----------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(triple_lists)
def test_link_scores_agree_with_networkx(raw):
    t, n = np.array(raw, dtype=np.int64).reshape(-1, 3), 12
    g, adj = to_graph(t, n), undirected_adjacency(t, n)
    assert (adj != adj.T).nnz == 0 and adj.diagonal().sum() == 0
    pairs = list(itertools.combinations(range(n), 2))
    cn = [len(list(nx.common_neighbors(g, u, v))) for u, v in pairs]
    aa = [s for _, _, s in nx.adamic_adar_index(g, pairs)]
    ra = [s for _, _, s in nx.resource_allocation_index(g, pairs)]
    np.testing.assert_allclose(link_scores(adj, pairs, "common_neighbours"), cn)
    np.testing.assert_allclose(link_scores(adj, pairs, "adamic_adar"), aa)
    np.testing.assert_allclose(link_scores(adj, pairs, "resource_allocation"), ra)


@pytest.mark.parametrize("method", ["common_neighbours", "adamic_adar"])
def test_top_links_is_the_best_unlinked_pairs(method):
    g = nx.gnp_random_graph(50, 0.08, seed=3)
    t = np.array([[u, 0, v] for u, v in g.edges()])
    adj = undirected_adjacency(t, 50)
    pairs, scores = top_links(adj, 25, method)
    assert all(u < v and not g.has_edge(u, v) for u, v in pairs)
    np.testing.assert_allclose(scores, link_scores(adj, pairs, method))
    assert np.all(np.diff(scores) <= 1e-12)
    every = [(u, v) for u, v in nx.non_edges(g)]
    brute = np.sort(link_scores(adj, every, method))[::-1][:25]
    np.testing.assert_allclose(scores, brute)


def test_predict_relations_follows_the_neighbourhood_pattern():
    # A star of "works_at" (0) edges into company 10 and "lives_in" (1) into city 20:
    # a new person 5 linked to 10's other employees gets works_at, pointing at 10.
    t = [[p, 0, 10] for p in range(4)] + [[p, 1, 20] for p in range(4)] + [[5, 1, 20]]
    tri = predict_relations(t, [[10, 5], [5, 20]], 30, 2)
    assert tri.tolist() == [[5, 0, 10], [5, 1, 20]]


def test_bad_link_method_is_a_config_error():
    with pytest.raises(ConfigError, match="link method"):
        link_scores(undirected_adjacency([[0, 0, 1]], 2), [[0, 1]], "katz")


# ----- rule mining ---------------------------------------------------------------------
def brute_rule(t: np.ndarray, body: tuple[int, ...], head: int, m: int) -> tuple[int, ...]:
    facts = {(int(h), int(r), int(x)) for h, r, x in t}
    ext = facts | {(x, r + m, h) for h, r, x in facts}
    if len(body) == 1:
        pairs = {(h, x) for h, r, x in ext if r == body[0]}
    else:
        pairs = {(a, c) for a, r1, b in ext if r1 == body[0]
                 for b2, r2, c in ext if b2 == b and r2 == body[1]}
    pairs = {(a, c) for a, c in pairs if a != c}
    support = sum((a, head, c) in facts for a, c in pairs)
    heads = {h for h, r, _ in facts if r == head}
    return support, len(pairs), sum(r == head for _, r, _ in facts), \
        sum(a in heads for a, _ in pairs)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 1), st.integers(0, 7)),
                min_size=1, max_size=25))
def test_rule_statistics_agree_with_brute_force(raw):
    t = np.unique(np.array(raw, dtype=np.int64), axis=0)
    rules = mine_rules(t, 8, 2, min_support=1)
    for rule in rules:
        got = (rule.support, rule.body_size, rule.head_size, rule.pca_body_size)
        assert got == brute_rule(t, rule.body, rule.head, 2), rule
        assert 0 < rule.confidence <= rule.pca_confidence <= 1
    bodies = [(r,) for r in range(4)] + list(itertools.product(range(4), repeat=2))
    expected = {(b, h) for b in bodies for h in range(2)
                if b != (h,) and brute_rule(t, b, h, 2)[0] >= 1}
    assert {(r.body, r.head) for r in rules} == expected


def test_miner_recovers_the_planted_grandparent_rule():
    for seed in range(3):
        t = family_world(seed)
        rules = mine_rules(t, int(t.max()) + 1, 3, min_support=3)
        assert rules[0].confidence == 1.0
        top = [r for r in rules if r.head == GRANDPARENT][0]
        assert top.body == (PARENT, PARENT)
        assert top.describe(NAMES) == "parent(x,y) & parent(y,z) => grandparent(x,z)"
        assert (top.confidence, top.head_coverage) == (1.0, 1.0)
        symmetric = [r for r in rules if r.head == SIBLING and r.body == (SIBLING + 3,)]
        assert symmetric and symmetric[0].confidence == 1.0  # sibling(z,x) => sibling(x,z)


@pytest.mark.parametrize("seed", range(4))
def test_no_spurious_confident_rules_on_a_random_graph(seed):
    rules = mine_rules(random_kg(seed), 60, 4, min_support=3)
    assert rules, "a random graph still has weak co-occurrences"
    assert max(r.confidence for r in rules) < 0.25


def test_apply_rules_restores_hidden_grandparents_exactly():
    t = family_world(7, generations=5)
    n = int(t.max()) + 1
    rules = mine_rules(t, n, 3, min_confidence=1.0, min_support=3)
    is_gp = t[:, 1] == GRANDPARENT
    hidden = t[is_gp][::2]
    known = np.concatenate([t[~is_gp], t[is_gp][1::2]])
    grand = [r for r in rules if r.body == (PARENT, PARENT)]
    cand, score = apply_rules(known, grand, n, 3)
    assert {tuple(x) for x in cand.tolist()} == {tuple(x) for x in hidden.tolist()}
    assert np.all(score == 1.0)


def test_apply_rules_ranks_and_aggregates():
    t = random_kg(1)
    rules = mine_rules(t, 60, 4, min_support=2)[:50]
    cand, best = apply_rules(t, rules, 60, 4)
    _, noisy = apply_rules(t, rules, 60, 4, aggregate="noisy_or")
    assert np.all(np.diff(best) <= 0)
    known = {tuple(x) for x in t.tolist()}
    assert not known & {tuple(x) for x in cand.tolist()}
    cand2, noisy_sorted = apply_rules(t, rules, 60, 4, aggregate="noisy_or")
    assert {tuple(x) for x in cand2.tolist()} == {tuple(x) for x in cand.tolist()}
    assert noisy.max() >= best.max() and np.all(np.diff(noisy_sorted) <= 0)
    assert apply_rules(t, [], 60, 4)[0].shape == (0, 3)
    with pytest.raises(ConfigError):
        apply_rules(t, rules, 60, 4, aggregate="mean")


def test_body_pairs_and_describe_inverses():
    body, x, z = body_pairs([[0, 0, 1], [2, 0, 1]], 3, 1)
    # parent^-1 reaches (1,0), (1,2); parent o parent^-1 links co-parents 0 and 2
    got = {(int(b), int(a), int(c)) for b, a, c in zip(body, x, z)}
    assert got == {(0, 0, 1), (0, 2, 1), (1, 1, 0), (1, 1, 2), (2 + 0 * 2 + 1, 0, 2),
                   (2 + 0 * 2 + 1, 2, 0)}
    rule = Rule((0, 1), 0, 1, 1, 1, 1)
    assert rule.describe(("p",)) == "p(x,y) & p(z,y) => p(x,z)"
    with pytest.raises(ConfigError):
        body_pairs([[0, 0, 1]], 2, 1, max_length=3)


# ----- entity resolution ---------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(triple_lists)
def test_alias_scores_are_typed_jaccard(raw):
    t = np.array(raw, dtype=np.int64).reshape(-1, 3)
    pairs, sim = alias_scores(t, 12, 3)
    feats = [{(int(r), 0, int(b)) for a, r, b in t if a == e}
             | {(int(r), 1, int(a)) for a, r, b in t if b == e} for e in range(12)]
    expected = {(u, v): len(feats[u] & feats[v]) / len(feats[u] | feats[v])
                for u, v in itertools.combinations(range(12), 2) if feats[u] & feats[v]}
    assert {(int(u), int(v)) for u, v in pairs} == set(expected)
    for (u, v), s in zip(pairs.tolist(), sim):
        assert s == pytest.approx(expected[(u, v)])
    assert np.all(np.diff(sim) <= 0)


def couples(k: int) -> list[tuple[int, int, int]]:
    """k couples ``(2i, 2i+1)`` joined by the symmetric relation 0 (spouse), and each
    person living (relation 1) in town ``2k + i % 3``."""
    out = []
    for i in range(k):
        a, b = 2 * i, 2 * i + 1
        out += [(a, 0, b), (b, 0, a), (a, 1, 2 * k + i % 3), (b, 1, 2 * k + i % 3)]
    return out


def test_a_split_spouse_is_the_only_alias_pair():
    t = couples(8)
    alias = 19  # person 4's alias: the triple (5, spouse, 4) now ends on 19
    t = [(h, r, alias if (h, r, x) == (5, 0, 4) else x) for h, r, x in t]
    pairs, votes = alias_votes(t, 20, 2)
    assert pairs.tolist() == [[4, 19]] and votes[0] == pytest.approx(2.0)
    assert alias_votes(couples(8), 19, 2)[0].shape == (0, 2)  # intact: no evidence


def brute_alias_votes(t: np.ndarray, n: int, m: int, min_support: int = 3) -> dict:
    ext = {(int(h), int(r), int(x)) for h, r, x in t} | {(int(x), int(r) + m, int(h))
                                                          for h, r, x in t}
    votes: dict[tuple[int, int], float] = {}
    for r1, r2 in itertools.product(range(2 * m), repeat=2):
        ends: dict[int, set[int]] = {}
        for a, ra, b in ext:
            for b2, rb, c in ext:
                if ra == r1 and rb == r2 and b2 == b:
                    ends.setdefault(a, set()).add(c)
        back = [a for a, z in ends.items() if a in z]
        if len(back) < min_support:
            continue
        identity = sum(ends[a] == {a} for a in back) / len(back)
        if identity < 0.9:
            continue
        for a, z in ends.items():
            for c in z - {a}:
                key = (min(a, c), max(a, c))
                votes[key] = votes.get(key, 0.0) + identity
    return votes


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 1), st.integers(0, 7)),
                max_size=25))
def test_alias_votes_agree_with_brute_force(raw):
    t = np.unique(np.array(raw + couples(3), dtype=np.int64).reshape(-1, 3), axis=0)
    t = t[t[:, 0] != t[:, 2]]
    pairs, votes = alias_votes(t, 9, 2)
    expected = brute_alias_votes(t, 9, 2)
    assert {tuple(p) for p in pairs.tolist()} == set(expected)
    for p, v in zip(pairs.tolist(), votes):
        assert v == pytest.approx(expected[tuple(p)])
    assert np.all(np.diff(votes) <= 1e-12)
