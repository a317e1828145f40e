"""The exact theory of populations against closed forms and egttools' own computation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from egttools.analytical import PairwiseComparison, StochDynamics
from egttools.games import Matrix2PlayerGameHolder

from agora.envs.errors import ConfigError
from agora.experiments.population import theory

PD = [[3.0, 0.0], [5.0, 1.0]]  # 0 = cooperate
STAG_HUNT = [[4.0, 0.0], [3.0, 2.0]]  # 0 = stag
HAWK_DOVE = [[-1.0, 4.0], [0.0, 2.0]]  # 0 = hawk; V = 4, C = 6
GAMES = {"pd": PD, "stag_hunt": STAG_HUNT, "hawk_dove": HAWK_DOVE}


@pytest.mark.parametrize("n", [2, 7, 10, 40])
@pytest.mark.parametrize("r", [0.5, 1.0, 1.5, 2.0])
def test_moran_closed_forms_equal_the_birth_death_chain(r, n):
    constant = [[r, r], [1.0, 1.0]]  # linear selection with w = 1: fitness = payoff
    for rule, chain in (("bd", "moran_bd"), ("db", "moran_db")):
        exact = theory.fixation_probability(constant, n, 1.0, chain, selection="linear")
        assert theory.moran_fixation(r, n, rule=rule) == pytest.approx(exact, rel=1e-12)
    assert theory.moran_fixation(1.0, n) == 1 / n


def test_neutral_fixation_is_one_over_n_for_every_rule():
    for rule in theory.RULES:
        rho = theory.fixation_probability([[2.0, 2.0], [2.0, 2.0]], 12, 0.7, rule)
        assert rho == pytest.approx(1 / 12, rel=1e-12)


def _egt_models(A: np.ndarray, n: int):
    game = Matrix2PlayerGameHolder(len(A), A)  # the model keeps a raw pointer: keep it alive
    return game, StochDynamics(len(A), A, n), PairwiseComparison(n, game)


@pytest.mark.parametrize(("name", "n", "beta"),
                         list(itertools.product(GAMES, [10, 25, 50], [0.05, 0.3, 1.0])))
def test_pairwise_comparison_fixation_equals_egttools(name, n, beta):
    A = np.array(GAMES[name])
    _game, stoch, pairwise = _egt_models(A, n)
    for invader, resident in ((0, 1), (1, 0)):
        ours = theory.fixation_probability(A, n, beta, invader=invader, resident=resident)
        for peer in (stoch.fixation_probability(invader, resident, beta),
                     pairwise.calculate_fixation_probability(invader, resident, beta)):
            if peer == 0.0:  # egttools rounds to 0 once the sum of products passes 1e7
                assert ours < 1e-7
            else:
                assert ours == pytest.approx(peer, rel=1e-9, abs=1e-15)


# egttools warns of entries "close to 1" with numpy's default rtol 1e-5 (1 - 3e-6 for the PD)
@pytest.mark.filterwarnings("ignore:Some of the entries in the transition matrix")
@pytest.mark.parametrize(("name", "n", "beta"),
                         list(itertools.product(GAMES, [10, 25], [0.05, 0.3])))
def test_small_mutation_stationary_distribution_equals_egttools(name, n, beta):
    A = np.array(GAMES[name])
    _game, stoch, _ = _egt_models(A, n)
    assert min(theory.fixation_probability(A, n, beta), theory.fixation_probability(
        A, n, beta, invader=1, resident=0)) > 1e-6  # a chain egttools does not round
    ours = theory.stationary_distribution(A, n, beta)
    np.testing.assert_allclose(ours, stoch.calculate_stationary_distribution(beta), atol=1e-10)


def test_three_strategy_stationary_distribution_equals_egttools():
    A = np.array([[1.0, 0.2, 2.0], [1.5, 1.0, 0.1], [0.3, 1.8, 1.0]])
    _game, stoch, pairwise = _egt_models(A, 20)
    ours = theory.stationary_distribution(A, 20, 0.4)
    np.testing.assert_allclose(ours, stoch.calculate_stationary_distribution(0.4), atol=1e-10)
    _, fixation = pairwise.calculate_transition_and_fixation_matrix_sml(0.4)
    for i, j in itertools.permutations(range(3), 2):  # row = resident, column = invader
        assert theory.fixation_probability(A, 20, 0.4, invader=j, resident=i) == pytest.approx(
            fixation[i, j], rel=1e-9)


@pytest.mark.parametrize("name", list(GAMES))
def test_full_chain_with_mutation_equals_egttools(name):
    A = np.array(GAMES[name])
    _game, _, pairwise = _egt_models(A, 12)
    ours = theory.transition_matrix(A, 12, 0.5, 0.05, mutate_to="other")
    theirs = pairwise.calculate_transition_matrix(0.5, 0.05).toarray()
    # egttools numbers states by the count of strategy 1; ours by the count of strategy 0
    np.testing.assert_allclose(ours[::-1, ::-1], theirs, atol=1e-14)
    pi = theory.stationary_distribution(A, 12, 0.5, mu=0.05, mutate_to="other")
    np.testing.assert_allclose(pi @ ours, pi, atol=1e-14)
    assert pi.sum() == pytest.approx(1.0)


def test_mutation_to_any_strategy_halves_the_mutation_flow():
    up_any, down_any = theory.transition_probabilities(PD, 10, 1.0, mu=0.2)
    up_other, down_other = theory.transition_probabilities(PD, 10, 1.0, mu=0.2,
                                                           mutate_to="other")
    k = np.arange(11)
    np.testing.assert_allclose(up_other - up_any, 0.1 * (10 - k) / 10, atol=1e-15)
    np.testing.assert_allclose(down_other - down_any, 0.1 * k / 10, atol=1e-15)


def _only(points, x):
    matches = [p for p in points if np.allclose(p.x, x, atol=1e-9)]
    assert len(matches) == 1, points
    return matches[0]


def test_prisoners_dilemma_rest_points():
    points = theory.rest_points(PD)
    assert len(points) == 2
    assert _only(points, [0, 1]).stability == "stable"
    assert _only(points, [1, 0]).stability == "unstable"


def test_stag_hunt_rest_points():
    (a, b), (c, d) = STAG_HUNT
    x_star = (d - b) / (a - c + d - b)  # equal payoffs of stag and hare
    points = theory.rest_points(STAG_HUNT)
    assert len(points) == 3
    assert _only(points, [1, 0]).stability == "stable"
    assert _only(points, [0, 1]).stability == "stable"
    assert _only(points, [x_star, 1 - x_star]).stability == "unstable"


def test_hawk_dove_interior_is_stable_at_v_over_c():
    V, C = 4.0, 6.0
    points = theory.rest_points(HAWK_DOVE)
    assert _only(points, [V / C, 1 - V / C]).stability == "stable"
    assert _only(points, [1, 0]).stability == "unstable"
    assert _only(points, [0, 1]).stability == "unstable"


def test_rock_paper_scissors_centre_is_neutral_and_orbits_keep_the_product():
    rps = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
    centre = _only(theory.rest_points(rps), [1 / 3, 1 / 3, 1 / 3])
    assert centre.stability == "neutral"
    np.testing.assert_allclose(sorted(e.imag for e in centre.eigenvalues),
                               [-1 / np.sqrt(3), 1 / np.sqrt(3)], atol=1e-12)
    assert max(abs(e.real) for e in centre.eigenvalues) < 1e-12
    for vertex in np.eye(3):
        assert _only(theory.rest_points(rps), vertex).stability == "unstable"
    _, x = theory.replicator_trajectory([0.5, 0.3, 0.2], rps, 30.0)
    np.testing.assert_allclose(x.prod(axis=1), 0.5 * 0.3 * 0.2, rtol=1e-8)
    np.testing.assert_allclose(x.sum(axis=1), 1.0, atol=1e-10)


def test_replicator_trajectory_converges_to_the_stable_rest_point():
    _, x = theory.replicator_trajectory([0.1, 0.9], HAWK_DOVE, 60.0)
    np.testing.assert_allclose(x[-1], [4 / 6, 2 / 6], atol=1e-6)


def test_invalid_arguments_raise_config_errors_naming_the_key():
    with pytest.raises(ConfigError, match="rule="):
        theory.fixation_probability(PD, 10, 1.0, "moran")
    with pytest.raises(ConfigError, match="resident="):
        theory.fixation_probability(PD, 10, 1.0, invader=1, resident=1)
    with pytest.raises(ConfigError, match="beta="):
        theory.fixation_probability(PD, 10, 2.0, "moran_bd", selection="linear")
    with pytest.raises(ConfigError, match="n="):
        theory.moran_fixation(2.0, 1)
