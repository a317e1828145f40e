"""The update rules: their configs, their exact small cases, and Monte Carlo of the rules
against the exact chains of theory.py and the results of Nowak & May and Ohtsuki et al."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from agora.envs.errors import ConfigError
from agora.experiments.population import theory
from agora.experiments.population.dynamics import (
    RULES,
    Neighbours,
    largest_remainder,
    make_dynamics,
    matrix_payoffs,
)

PD = [[3.0, 0.0], [5.0, 1.0]]


# -- configs -------------------------------------------------------------------------------

@pytest.mark.parametrize(("cfg", "key"), [
    ({"rule": "moran"}, "rule="),
    ({"beta": 1.0}, "rule="),
    ({"rule": "fermi", "w": 1.0}, "'w'"),
    ({"rule": "imitate_best", "updates": 2}, "'updates'"),
    ({"rule": "fermi", "beta": -1.0}, "beta="),
    ({"rule": "fermi", "beta": float("inf")}, "beta="),
    ({"rule": "moran_bd", "mutation": 1.5}, "mutation="),
    ({"rule": "moran_db", "updates": 0}, "updates="),
    ({"rule": "moran_db", "selection": "cubic"}, "selection="),
    ({"rule": "truncation", "keep": 0.0}, "keep="),
    ({"rule": "truncation", "keep": 1.5}, "keep="),
    ({"rule": "replicator", "dt": 0}, "dt="),
])
def test_invalid_configs_raise_config_errors_naming_the_key(cfg, key):
    with pytest.raises(ConfigError, match=key):
        make_dynamics(cfg)


def test_every_rule_round_trips_through_its_config():
    for name in RULES:
        rule = make_dynamics({"rule": name, "mutation": 0.25})
        assert make_dynamics(rule.as_config()) == rule
        assert rule.as_config()["rule"] == name


def test_linear_fitness_must_stay_positive():
    rule = make_dynamics({"rule": "moran_bd", "selection": "linear", "w": 0.5})
    with pytest.raises(ConfigError, match="w=0.5"):
        rule.step(np.array([0, 1]), np.array([-1.0, 1.0]), np.random.default_rng(0),
                  n_strategies=2)


def test_shapes_and_graph_sizes_are_checked():
    rule = make_dynamics({"rule": "fermi"})
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="shape"):
        rule.step(np.zeros(4, int), np.zeros(3), rng, n_strategies=2)
    with pytest.raises(ConfigError, match="n_strategies="):
        rule.step(np.array([0, 2]), np.zeros(2), rng, n_strategies=2)
    with pytest.raises(ConfigError, match="5 agents"):
        rule.step(np.zeros(4, int), np.zeros(4), rng, n_strategies=2,
                  neighbours=Neighbours.from_networkx(nx.cycle_graph(5)))


# -- neighbours and payoffs ----------------------------------------------------------------

def test_neighbours_follow_the_graphs_node_order():
    graph = nx.Graph([("c", "a"), ("a", "b")])  # node order c, a, b
    nb = Neighbours.from_networkx(graph)
    assert [nb.of(i).tolist() for i in range(3)] == [[1], [0, 2], [1]]
    assert nb.padded.tolist() == [[1, -1], [0, 2], [1, -1]]
    assert Neighbours.complete(4).of(2).tolist() == [0, 1, 3]


def test_matrix_payoffs_on_a_path_by_hand():
    path = Neighbours.from_networkx(nx.path_graph(3))
    s = np.array([0, 1, 0])  # C - D - C
    assert matrix_payoffs(s, path, PD).tolist() == [0.0, 10.0, 0.0]
    assert matrix_payoffs(s, path, PD, self_interaction=True).tolist() == [3.0, 11.0, 3.0]
    assert matrix_payoffs(s, path, PD, average=True).tolist() == [0.0, 5.0, 0.0]


def test_well_mixed_payoffs_equal_the_complete_graph_and_the_closed_form():
    rng = np.random.default_rng(1)
    s = rng.integers(3, size=(4, 9))
    A = rng.normal(size=(3, 3))
    complete = Neighbours.from_networkx(nx.complete_graph(9))
    for kwargs in ({}, {"self_interaction": True}, {"average": True}):
        np.testing.assert_allclose(matrix_payoffs(s, None, A, **kwargs),
                                   matrix_payoffs(s, complete, A, **kwargs), atol=1e-12)
    k = 3  # pi_A(k) = ((k-1) a + (n-k) b) / (n-1) with k agents of strategy 0
    pay = matrix_payoffs(np.array([0] * k + [1] * 6), None, PD, average=True)
    assert pay[0] == pytest.approx(((k - 1) * 3 + 6 * 0) / 8)
    assert pay[-1] == pytest.approx((k * 5 + 5 * 1) / 8)


# -- exact small cases ---------------------------------------------------------------------

def test_imitate_best_on_a_path_keeps_its_own_on_ties():
    path = Neighbours.from_networkx(nx.path_graph(4))
    rule = make_dynamics({"rule": "imitate_best"})
    out = rule.step(np.array([0, 1, 2, 3]), np.array([1.0, 5.0, 5.0, 2.0]),
                    np.random.default_rng(0), neighbours=path, n_strategies=4)
    assert out.tolist() == [1, 1, 2, 2]  # agents 1 and 2 tie at 5 and keep their own


def test_truncation_keeps_the_best_and_copies_only_survivors():
    rule = make_dynamics({"rule": "truncation", "keep": 0.3})
    payoffs = np.arange(10, dtype=float)
    out = rule.step(np.broadcast_to(np.arange(10), (50, 10)), np.broadcast_to(payoffs, (50, 10)),
                    np.random.default_rng(0), n_strategies=10)
    assert (out[:, 7:] == [7, 8, 9]).all()
    assert set(np.unique(out[:, :7])) == {7, 8, 9}


def test_replicator_step_is_the_euler_step_of_the_replicator_equation():
    A = np.array([[0.0, 2.0, 1.0], [1.0, 0.0, 2.0], [2.0, 1.0, 0.0]])
    s = np.repeat([0, 1, 2], [500, 300, 200])
    x = np.array([0.5, 0.3, 0.2])
    rule = make_dynamics({"rule": "replicator", "dt": 0.4})
    out = rule.step(s, (A @ x)[s], np.random.default_rng(0), n_strategies=3)
    expected = largest_remainder(x + 0.4 * theory.replicator_rhs(x, A), 1000)
    assert np.bincount(out, minlength=3).tolist() == expected.tolist()
    assert (out != s).sum() == np.abs(expected - [500, 300, 200]).sum() // 2  # fewest moves


def test_batched_replicates_evolve_independently():
    rule = make_dynamics({"rule": "fermi", "beta": 1.0})
    s = np.tile([0, 1, 1, 1], (3000, 1))
    out = rule.step(s, matrix_payoffs(s, None, PD, average=True), np.random.default_rng(3),
                    n_strategies=2)
    up, down = theory.transition_probabilities(PD, 4, 1.0)
    counts = np.bincount((out == 0).sum(axis=1), minlength=5) / 3000
    for observed, p in ((counts[2], up[1]), (counts[0], down[1])):
        assert abs(observed - p) < 4 * np.sqrt(p * (1 - p) / 3000)


# -- Monte Carlo of the rules against the exact chains --------------------------------------

def fixation_frequency(rule, payoff_of, n, replicates, seed, neighbours=None):
    """Share of replicates in which one strategy-0 mutant (placed at random) takes over."""
    rng = np.random.default_rng(seed)
    s = np.ones((replicates, n), np.int64)
    s[np.arange(replicates), rng.integers(n, size=replicates)] = 0
    fixed = np.zeros(replicates, bool)
    active = np.arange(replicates)
    for _ in range(100_000):
        sub = rule.step(s[active], payoff_of(s[active]), rng, neighbours=neighbours,
                        n_strategies=2)
        s[active] = sub
        mutants = (sub == 0).sum(axis=1)
        over = (mutants == 0) | (mutants == n)
        fixed[active[over]] = mutants[over] == n
        active = active[~over]
        if not len(active):
            return fixed.mean()
    raise AssertionError("replicates still unabsorbed")


def within_binomial_band(observed, p, replicates, sigmas=4.0):
    return abs(observed - p) <= sigmas * np.sqrt(p * (1 - p) / replicates)


@pytest.mark.parametrize("r", [1.0, 2.0])
def test_moran_birth_death_fixation_matches_the_closed_form(r):
    rule = make_dynamics({"rule": "moran_bd", "selection": "linear", "w": 1.0})
    observed = fixation_frequency(rule, lambda s: np.where(s == 0, r, 1.0), 10, 4000, 11)
    assert within_binomial_band(observed, theory.moran_fixation(r, 10), 4000)


def test_moran_birth_death_on_a_cycle_fixes_as_well_mixed():
    """The isothermal theorem (Lieberman, Hauert & Nowak 2005): on a regular graph birth-death
    fixation of a constant-fitness mutant is Moran's."""
    rule = make_dynamics({"rule": "moran_bd", "selection": "linear", "w": 1.0})
    cycle = Neighbours.from_networkx(nx.cycle_graph(10))
    observed = fixation_frequency(rule, lambda s: np.where(s == 0, 2.0, 1.0), 10, 3000, 12,
                                  cycle)
    assert within_binomial_band(observed, theory.moran_fixation(2.0, 10), 3000)


@pytest.mark.parametrize("graph", ["none", "complete", "explicit"])
def test_moran_death_birth_on_the_complete_graph_matches_its_closed_form(graph):
    rule = make_dynamics({"rule": "moran_db", "selection": "linear", "w": 1.0})
    neighbours = {"none": None, "complete": Neighbours.complete(10),  # the well-mixed path
                  "explicit": Neighbours.from_networkx(nx.complete_graph(10))}[graph]
    observed = fixation_frequency(rule, lambda s: np.where(s == 0, 2.0, 1.0), 10, 4000, 13,
                                  neighbours)
    assert within_binomial_band(observed, theory.moran_fixation(2.0, 10, rule="db"), 4000)


@pytest.mark.parametrize(("A", "beta"), [
    (PD, 0.3),
    ([[4.0, 0.0], [3.0, 2.0]], 0.2),  # stag hunt
    ([[1.0, 3.0], [0.0, 2.0]], 1.0),  # strategy 0 dominant
])
def test_fermi_rule_fixation_matches_the_pairwise_comparison_chain(A, beta):
    rule = make_dynamics({"rule": "fermi", "beta": beta})
    observed = fixation_frequency(rule, lambda s: matrix_payoffs(s, None, A, average=True),
                                  8, 4000, 14)
    assert within_binomial_band(observed, theory.fixation_probability(A, 8, beta), 4000)


@pytest.mark.parametrize("name", ["fermi", "moran_bd", "moran_db"])
def test_rules_with_mutation_reach_the_stationary_distribution_of_the_full_chain(name):
    """Mutation semantics: an updated agent draws any strategy with probability mu."""
    key = "beta" if name == "fermi" else "w"
    rule = make_dynamics({"rule": name, key: 0.5, "mutation": 0.2})
    rng = np.random.default_rng(15)
    s = rng.integers(2, size=(4000, 6))
    for _ in range(300):  # far past the chain's mixing time
        s = rule.step(s, matrix_payoffs(s, None, PD, average=True), rng, n_strategies=2)
    observed = np.bincount((s == 0).sum(axis=1), minlength=7) / 4000
    exact = theory.stationary_distribution(PD, 6, 0.5, name, mu=0.2)
    for k in range(7):
        assert within_binomial_band(observed[k], exact[k], 4000), (k, observed, exact)


# -- networks: Nowak & May (1992), Ohtsuki et al. (2006) ------------------------------------

def moore_lattice(side: int) -> Neighbours:
    """A periodic square lattice where each cell has its 8 surrounding cells as neighbours."""
    graph = nx.grid_2d_graph(side, side, periodic=True)
    graph.add_edges_from(((i, j), ((i + 1) % side, (j + dj) % side))
                         for i in range(side) for j in range(side) for dj in (1, -1))
    return Neighbours.from_networkx(graph)


def nowak_may(b: float, generations: int, side: int = 100, seed: int = 0) -> np.ndarray:
    """Cooperator share per generation: C-C 1, D-C b, otherwise 0, played with the 8
    neighbours and oneself, synchronous imitation of the best, 10% defectors at start."""
    lattice = moore_lattice(side)
    A = [[1.0, 0.0], [b, 0.0]]
    rule = make_dynamics({"rule": "imitate_best"})
    rng = np.random.default_rng(seed)
    s = (rng.random(side * side) < 0.1).astype(np.int64)
    shares = []
    for _ in range(generations):
        pay = matrix_payoffs(s, lattice, A, self_interaction=True)
        s = rule.step(s, pay, rng, neighbours=lattice, n_strategies=2)
        shares.append(float((s == 0).mean()))
    return np.array(shares)


@pytest.mark.slow
def test_nowak_may_spatial_chaos_keeps_about_a_third_cooperating():
    """For 1.8 < b < 2 the cooperator share fluctuates around 12 ln 2 - 8 = 0.318 (Nowak &
    May 1993, Int. J. Bifurcation Chaos 3, 35-78; Nowak 2006, Evolutionary Dynamics, ch. 9)
    on a large lattice from random starts; we average generations 101-200 on 100 x 100."""
    shares = nowak_may(1.9, 200)
    assert 0.29 < shares[100:].mean() < 0.34
    assert shares[100:].min() > 0.2  # coexistence, not a slow collapse


def test_nowak_may_extremes():
    assert nowak_may(0.9, 10, side=50)[-1] == 1.0  # b < 1: cooperators take over
    assert nowak_may(3.0, 10, side=50)[-1] == 0.0  # b large: defectors take over


@pytest.mark.slow
@pytest.mark.parametrize(("b_over_c", "favoured"), [(12.0, True), (3.0, False)])
def test_ohtsuki_rule_death_birth_favours_cooperators_when_b_over_c_exceeds_k(b_over_c,
                                                                               favoured):
    """Donation game on a ring where each agent has k = 4 neighbours (two each side), N = 30,
    death-birth with weak linear selection w = 0.05, one cooperator placed at random.
    Ohtsuki et al. (2006) give b/c > k for large N; on a transitive graph of finite N the
    threshold is (N - 2) / (N/k - 2) = 5.1 (Taylor, Day & Wild 2007), so b/c = 12 is
    clearly above and b/c = 3 clearly below both."""
    n, k, replicates = 30, 4, 3000
    ring = Neighbours.from_networkx(nx.circulant_graph(n, [1, 2]))
    assert set(ring.degrees.tolist()) == {k}
    A = [[b_over_c - 1.0, -1.0], [b_over_c, 0.0]]  # cost c = 1, row = me, 0 = cooperate
    rule = make_dynamics({"rule": "moran_db", "selection": "linear", "w": 0.05})
    observed = fixation_frequency(rule, lambda s: matrix_payoffs(s, ring, A), n, replicates,
                                  16, ring)
    margin = 4 * np.sqrt((1 / n) * (1 - 1 / n) / replicates)
    if favoured:
        assert observed > 1 / n + margin
    else:
        assert observed < 1 / n - margin
