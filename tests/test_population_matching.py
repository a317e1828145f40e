"""Populations and matchings: shares and counts, storage, and the matching invariants."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.envs import ConfigError
from agora.experiments.population.matching import aggregate, make_graph, make_matching
from agora.experiments.population.population import Population, largest_remainder

PAIRS = 2


# ----- populations -------------------------------------------------------------------
@given(st.lists(st.integers(1, 1000), min_size=1, max_size=6), st.integers(1, 5000))
@settings(max_examples=60, deadline=None)
def test_largest_remainder_sums_to_size_and_stays_within_one(weights, size):
    shares = np.array(weights) / sum(weights)
    counts = largest_remainder(shares, size)
    assert counts.sum() == size
    assert np.all(np.abs(counts - shares * size) < 1)


def test_from_shares_is_deterministic_and_shares_sum_to_one():
    pop = Population.from_shares({"tit_for_tat": 1 / 3, "always_defect": 1 / 3,
                                  "grim_trigger": 1 / 3}, 10)
    assert pop.counts().tolist() == [4, 3, 3]
    assert pop.shares().sum() == pytest.approx(1.0)
    assert pop.ids.tolist() == list(range(10))


@pytest.mark.parametrize(("shares", "size", "message"), [
    ({"tit_for_tat": 0.5, "always_defect": 0.4}, 10, "add up to 0.9"),
    ({"tit_for_tat": 1.5}, 10, "share of 'tit_for_tat' is 1.5"),
    ({"tit_for_tat": "half"}, 10, "share of 'tit_for_tat'"),
    ({"tit_for_tat": 1.0}, 0, "population.size=0"),
    ({"no_such_agent": 1.0}, 10, "unknown agent 'no_such_agent'"),
    ({}, 10, "no strategies"),
    ([{"agent": "tit_for_tat", "weight": 1.0}], 10, r"shares\[0\]"),
    ([{"agent": "tit_for_tat", "share": 0.5}, {"agent": "tit_for_tat", "share": 0.5}], 10,
     "listed twice"),
])
def test_bad_shares_are_config_errors_naming_the_key(shares, size, message):
    with pytest.raises(ConfigError, match=message):
        Population.from_shares(shares, size)


@pytest.mark.parametrize("counts", [{"tit_for_tat": -1}, {"tit_for_tat": 1.5},
                                    {"tit_for_tat": 0}, {"tit_for_tat": True}])
def test_bad_counts_are_config_errors(counts):
    with pytest.raises(ConfigError, match="population.counts"):
        Population.from_counts(counts)


def test_from_list_keeps_one_agent_per_entry_and_first_seen_strategies():
    pop = Population.from_list(["always_defect", {"name": "generous_tit_for_tat",
                                                  "generosity": 0.2}, "always_defect"])
    assert pop.strategy.tolist() == [0, 1, 0]
    assert pop.labels() == ["always_defect", '{"generosity": 0.2, "name": "generous_tit_for_tat"}']


def test_save_and_load_round_trip_with_attributes_and_absent_strategies(tmp_path):
    pop = Population.from_counts({"tit_for_tat": 3, "always_defect": 0, "grim_trigger": 2})
    pop.attributes["age"] = np.arange(5) * 2
    back = Population.load(pop.save(tmp_path / "p.parquet"))
    assert back.strategies == pop.strategies  # the absent always_defect survives
    assert back.strategy.tolist() == pop.strategy.tolist()
    assert back.ids.tolist() == pop.ids.tolist()
    assert back.attributes["age"].tolist() == [0, 2, 4, 6, 8]


def test_a_user_written_parquet_loads_with_strategies_in_first_seen_order(tmp_path):
    path = tmp_path / "mine.parquet"
    pd.DataFrame({"id": [7, 8, 9], "spec": ['{"name": "always_defect"}',
                                            '{"name": "tit_for_tat"}',
                                            '{"name": "always_defect"}']}).to_parquet(path)
    pop = Population.load(path)
    assert pop.labels() == ["always_defect", "tit_for_tat"]
    assert pop.strategy.tolist() == [0, 1, 0] and pop.ids.tolist() == [7, 8, 9]


def test_a_mixture_is_k_memory_one_tables_from_the_seed():
    a, b = Population.mixture(4, 10, seed=3), Population.mixture(4, 10, seed=3)
    assert a.strategies == b.strategies and len(a.strategies) == 4
    assert all(s.name == "memory_one" and len(s.params["table"]) == 4 for s in a.strategies)
    assert a.strategies != Population.mixture(4, 10, seed=4).strategies


# ----- matchings ---------------------------------------------------------------------
@given(st.integers(2, 300).filter(lambda n: n % 2 == 0), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_well_mixed_puts_every_agent_in_exactly_one_pair(n, seed):
    matches = make_matching({}, n, PAIRS, 0).matches(np.random.default_rng(seed))
    assert matches.shape == (n // 2, 2)
    assert sorted(matches.ravel().tolist()) == list(range(n))


@given(st.integers(3, 301).filter(lambda n: n % 2 == 1), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_well_mixed_with_odd_n_gives_one_agent_an_extra_match(n, seed):
    matches = make_matching({}, n, PAIRS, 0).matches(np.random.default_rng(seed))
    counts = np.bincount(matches.ravel(), minlength=n)
    assert matches.shape == ((n + 1) // 2, 2)
    assert counts.min() == 1 and sorted(counts.tolist())[-2:] == [1, 2]
    assert all(a != b for a, b in matches.tolist())


@given(st.integers(2, 6), st.integers(1, 40), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_groups_partition_the_population(k, groups, seed):
    n = k * groups
    matches = make_matching({"type": "groups", "k": k}, n, k, 0).matches(
        np.random.default_rng(seed))
    assert matches.shape == (groups, k)
    assert sorted(matches.ravel().tolist()) == list(range(n))


def test_groups_remainder_is_filled_without_repeats_inside_a_group():
    matches = make_matching({"type": "groups", "k": 4}, 10, 4, 0).matches(
        np.random.default_rng(0))
    assert matches.shape == (3, 4)
    assert set(matches.ravel().tolist()) == set(range(10))
    assert all(len(set(row)) == 4 for row in matches.tolist())


def test_round_robin_plays_every_pair_once():
    matches = make_matching({"type": "round_robin"}, 7, PAIRS, 0).matches(None)
    assert sorted(map(tuple, matches.tolist())) == [(i, j) for i in range(7)
                                                    for j in range(i + 1, 7)]


@pytest.mark.parametrize(("cfg", "n", "degree"), [
    ({"graph": "lattice"}, 36, 4),
    ({"graph": "lattice", "neighbourhood": "moore"}, 36, 8),
    ({"graph": "lattice", "rows": 4, "cols": 9}, 36, 4),
    ({"graph": "cycle"}, 10, 2),
    ({"graph": "random_regular", "degree": 3}, 20, 3),
])
def test_graph_matches_are_the_edges(cfg, n, degree):
    m = make_matching({"type": "graph", **cfg}, n, PAIRS, 5)
    matches = m.matches(None)
    assert {tuple(sorted(e)) for e in m.graph.edges} == set(map(tuple, matches.tolist()))
    assert len(matches) == m.graph.number_of_edges() == n * degree // 2
    assert np.bincount(matches.ravel(), minlength=n).tolist() == [degree] * n
    nb = m.neighbours()
    assert np.diff(nb.indptr).tolist() == [degree] * n


@pytest.mark.parametrize("graph", ["small_world", "scale_free"])
def test_random_graphs_are_drawn_from_the_seed(graph):
    a = make_matching({"type": "graph", "graph": graph}, 50, PAIRS, 1).graph
    b = make_matching({"type": "graph", "graph": graph}, 50, PAIRS, 1).graph
    c = make_matching({"type": "graph", "graph": graph}, 50, PAIRS, 2).graph
    assert sorted(a.edges) == sorted(b.edges) != sorted(c.edges)
    assert a.number_of_nodes() == 50 and nx.is_connected(a)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_an_edge_file_is_a_graph(tmp_path, suffix):
    edges = pd.DataFrame({"source": [0, 1, 2], "target": [1, 2, 3]})
    path = tmp_path / f"edges{suffix}"
    if suffix == ".parquet":
        edges.to_parquet(path)
    else:
        edges.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    m = make_matching({"type": "graph", "edges": str(path)}, 5, PAIRS, 0)
    assert m.matches(None).tolist() == [[0, 1], [1, 2], [2, 3]]
    payoff = m.agent_payoffs(m.matches(None), np.ones((3, 2)))
    assert payoff.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]  # agent 4 has no match


def test_the_reproduction_graph_gives_the_dynamics_neighbours():
    m = make_matching({"type": "graph", "graph": "lattice",
                       "reproduction_graph": {"graph": "cycle"}}, 16, PAIRS, 0)
    assert len(m.matches(None)) == 32
    assert np.diff(m.neighbours().indptr).tolist() == [2] * 16
    assert make_matching({}, 16, PAIRS, 0).neighbours() is None


def test_aggregate_mean_and_sum():
    matches = np.array([[0, 1], [1, 2], [0, 2]])
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert aggregate(matches, values, 4, "sum").tolist() == [6.0, 5.0, 10.0, 0.0]
    assert aggregate(matches, values, 4, "mean").tolist() == [3.0, 2.5, 5.0, 0.0]


@pytest.mark.parametrize(("cfg", "n", "players", "message"), [
    ({"type": "ring"}, 10, 2, "matching.type='ring'"),
    ({"type": "well_mixed", "k": 3}, 10, 2, r"unknown key\(s\) \['k'\]"),
    ({"type": "well_mixed"}, 10, 4, "the game has 4 players"),
    ({"type": "groups", "k": 3}, 10, 4, "matches of 3 but the game has 4"),
    ({"type": "graph", "graph": "lattice"}, 10, 2, "lattice has 9 sites"),
    ({"type": "graph", "graph": "lattice", "neighbourhood": "hex"}, 9, 2, "neighbourhood"),
    ({"type": "graph", "graph": "torus"}, 9, 2, "matching.graph='torus'"),
    ({"type": "graph", "graph": "random_regular", "degree": 3}, 9, 2, "degree=3"),
    ({"type": "graph", "graph": "small_world", "p": 2}, 9, 2, "matching.p=2"),
    ({"type": "graph", "edges": "nowhere.csv"}, 9, 2, "does not exist"),
    ({"type": "well_mixed", "payoff": "max"}, 10, 2, "matching.payoff='max'"),
])
def test_bad_matchings_are_config_errors_naming_the_key(cfg, n, players, message):
    with pytest.raises(ConfigError, match=message):
        make_matching(cfg, n, players, 0)


def test_edges_outside_the_population_are_refused(tmp_path):
    path = tmp_path / "e.csv"
    pd.DataFrame({"a": [0, 9], "b": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match="outside 0..4"):
        make_graph({"edges": str(path)}, 5, 0)
