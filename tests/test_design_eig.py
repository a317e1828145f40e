"""Expected information gain (envs/design/eig.py) against closed forms and bounds."""

from __future__ import annotations

import pickle
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln, gammaln, roots_jacobi

from agora.envs.design.eig import EIGEstimate, eig, eig_many
from agora.envs.design.inference import Posterior, fit, prior_posterior
from agora.envs.design.worlds import model_class
from agora.envs.design.worlds.coin import Coins, DialCoin, beta_binomial_mi
from agora.envs.design.worlds.linear_gaussian import LinearGaussian, features
from agora.envs.errors import ConfigError

X1 = np.array([1.0])


def gaussian_posterior(mean: np.ndarray, cov: np.ndarray, n: int, seed: int) -> Posterior:
    """Exact posterior draws as equally weighted particles (isolates the EIG estimator
    from inference error)."""
    draws = np.random.default_rng(seed).multivariate_normal(mean, cov, size=n)
    return Posterior(draws, np.full(n, -np.log(n)), np.zeros((0, 1)), np.zeros(0))


def beta_grid_posterior(a: float, b: float, nodes: int = 200) -> Posterior:
    """Gauss-Jacobi quadrature of Beta(a, b) for coin 0 as weighted particles."""
    x, w = roots_jacobi(nodes, b - 1.0, a - 1.0)
    p = np.column_stack([(1 + x) / 2, np.full(nodes, 0.5), np.full(nodes, 0.5)])
    return Posterior(p, np.log(w / w.sum()), np.zeros((0, 1)), np.zeros(0))


def beta_binomial_entropy(n: int, a: float, b: float) -> float:
    k = np.arange(n + 1.0)
    logm = (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
            + betaln(k + a, n - k + b) - betaln(a, b))
    return float(-np.sum(np.exp(logm) * logm))


# ----- linear-Gaussian: the closed form ----------------------------------------------
def test_nmc_and_pce_bracket_closed_form_at_1000x1000() -> None:
    m = LinearGaussian()
    post = gaussian_posterior(np.zeros(3), np.eye(3), 20_000, 0)
    truth = m.exact_eig(X1, np.eye(3))
    est = eig(m, post, X1, np.random.default_rng(1))
    assert est.method == "nmc" and (est.n_outer, est.n_inner) == (1000, 1000)
    assert est.value == est.upper and est.lower <= est.upper
    assert est.lower - 3 * est.stderr <= truth <= est.upper + 3 * est.stderr
    assert 0.005 < est.stderr < 0.1


def test_small_inner_count_shows_the_bias_in_both_directions() -> None:
    """At M = 10 the NMC bias (up) and the PCE bias (down) exceed the outer noise."""
    m = LinearGaussian()
    post = gaussian_posterior(np.zeros(3), np.eye(3), 20_000, 2)
    truth = m.exact_eig(X1, np.eye(3))
    est = eig(m, post, X1, np.random.default_rng(3), n_outer=20_000, n_inner=10)
    assert est.lower + 3 * est.stderr < truth < est.upper - 3 * est.stderr
    assert est.lower <= np.log(11)  # PCE never exceeds log(M + 1)
    tiny = eig(m, post, X1, np.random.default_rng(3), n_outer=500, n_inner=3, method="pce")
    assert tiny.method == "pce" and tiny.value == tiny.lower <= np.log(4)


def test_nmc_converges_to_closed_form_as_inner_samples_grow() -> None:
    m = LinearGaussian()
    post = gaussian_posterior(np.zeros(3), np.eye(3), 20_000, 4)
    truth = m.exact_eig(X1, np.eye(3))
    ests = [eig(m, post, X1, np.random.default_rng(5), n_outer=2000, n_inner=k)
            for k in (1, 10, 100, 1000)]
    gaps = [e.value - truth for e in ests]  # same outer draws: the gaps share their noise
    assert gaps[0] > gaps[1] > gaps[2] and gaps[0] > 1.0
    assert abs(gaps[3]) < 3 * ests[3].stderr + 0.01
    widths = [e.upper - e.lower for e in ests]
    assert all(w1 > w2 >= 0 for w1, w2 in zip(widths, widths[1:]))


def test_eig_under_inferred_posterior_matches_closed_form() -> None:
    m = LinearGaussian()
    rng = np.random.default_rng(6)
    theta = m.sample_prior(rng, 1)
    xs = np.array([[-1.0], [1.0], [0.9], [-0.8], [0.1]])
    ys = np.array([m.simulate(theta, x, rng)[0] for x in xs])
    post = fit(m, xs, ys, np.random.default_rng(7))
    _, cov = m.exact_posterior(xs, ys)
    for x in (np.array([0.0]), np.array([0.5])):
        est = eig(m, post, x, np.random.default_rng(8), n_outer=2000, n_inner=1000)
        assert abs(est.value - m.exact_eig(x, cov)) < 4 * est.stderr + 0.02


class TwinReadings(LinearGaussian):
    """Two independent readings per experiment: outcome_shape (2,), EIG in closed form
    ``0.5 log(1 + 2 phi' Sigma phi / sigma^2)``."""

    key: ClassVar[str] = "twin_readings_test"
    outcome_shape: ClassVar[tuple[int, ...]] = (2,)

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        mu = self.mean_output(theta, design)[..., None]
        return mu + self.lg.noise_sd * rng.standard_normal((*np.shape(mu)[:-1], 2))

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        mu = self.mean_output(theta, design)[..., None]
        z = (np.asarray(y) - mu) / self.lg.noise_sd
        return np.sum(-0.5 * z * z - np.log(self.lg.noise_sd) - 0.5 * np.log(2 * np.pi), -1)


def test_vector_outcomes_broadcast() -> None:
    m = TwinReadings()
    post = gaussian_posterior(np.zeros(3), np.eye(3), 20_000, 9)
    f = features(0.5)
    truth = 0.5 * np.log1p(2 * f @ f / 0.25)
    est = eig(m, post, np.array([0.5]), np.random.default_rng(10))
    assert abs(est.value - truth) < 4 * est.stderr + 0.01


# ----- exact sums over outcomes ------------------------------------------------------
@pytest.mark.parametrize(("flips", "a", "b"), [(1, 1.0, 1.0), (1, 3.0, 2.0), (10, 2.0, 5.0),
                                               (50, 1.0, 1.0)])
def test_exact_sum_equals_beta_binomial_closed_form(flips: int, a: float, b: float) -> None:
    m = Coins({"flips": flips})
    est = eig(m, beta_grid_posterior(a, b), np.array([0.0]), np.random.default_rng(0))
    assert est.method == "exact" and est.stderr == 0.0 and est.lower == est.upper
    assert est.value == pytest.approx(beta_binomial_mi(flips, a, b), abs=1e-7)
    assert est.value == pytest.approx(m.exact_eig([0.0], np.full(3, a), np.full(3, b)),
                                      abs=1e-7)


def test_exact_sum_under_inferred_posterior() -> None:
    m = Coins({"flips": 10, "prior_a": 2.0, "prior_b": 2.0})
    rng = np.random.default_rng(11)
    theta = m.sample_prior(rng, 1)
    xs = np.array([[0.0], [0.0], [1.0], [2.0], [1.0]])
    ys = np.array([m.simulate(theta, x, rng)[0] for x in xs])
    post = fit(m, xs, ys, np.random.default_rng(12))
    a, b = m.exact_posterior(xs, ys)
    for j in range(3):
        x = np.array([float(j)])
        assert eig(m, post, x, rng).value == pytest.approx(m.exact_eig(x, a, b), abs=0.01)


def test_nmc_agrees_with_exact_sum_on_discrete_outcomes() -> None:
    m = DialCoin()
    post = prior_posterior(m, np.random.default_rng(13), n=4096)
    for x in (np.array([-2.0]), np.array([0.3])):
        exact = eig(m, post, x, np.random.default_rng(14), method="exact").value
        nmc = eig(m, post, x, np.random.default_rng(14), n_outer=2000, method="nmc")
        assert abs(nmc.value - exact) < 4 * nmc.stderr + 0.01
        assert nmc.lower - 4 * nmc.stderr <= exact


@settings(max_examples=30, deadline=None)
@given(flips=st.integers(1, 60), a=st.floats(0.2, 20.0), b=st.floats(0.2, 20.0))
def test_property_eig_between_zero_and_outcome_entropy(flips: int, a: float,
                                                        b: float) -> None:
    m = Coins({"flips": flips})
    value = eig(m, beta_grid_posterior(a, b, 60), np.array([0.0]),
                np.random.default_rng(0)).value
    assert 0.0 <= value <= beta_binomial_entropy(flips, a, b) + 1e-9
    assert beta_binomial_entropy(flips, a, b) <= np.log(flips + 1) + 1e-9
    if flips == 1:
        assert value <= np.log(2)


def test_eig_nonnegative_on_particles_and_nmc() -> None:
    m = DialCoin({"flips": 1})
    post = prior_posterior(m, np.random.default_rng(15), n=2048)
    xs = np.linspace(-3, 3, 13)[:, None]
    exact = eig_many(m, post, xs, np.random.default_rng(16))
    assert np.all(exact >= 0) and np.all(exact <= np.log(2))
    lg = LinearGaussian()
    lg_post = prior_posterior(lg, np.random.default_rng(17), n=4096)
    for x in (-1.0, 0.0, 0.6):
        assert eig(lg, lg_post, np.array([x]), np.random.default_rng(18)).value > 0


# ----- screening, determinism, errors ------------------------------------------------
def test_eig_many_matches_single_estimates_and_ranks_designs() -> None:
    coins = Coins({"flips": 10})
    post = fit(coins, np.array([[0.0]] * 4), np.array([3.0, 4.0, 2.0, 5.0]),
               np.random.default_rng(19))
    xs = np.array([[0.0], [1.0], [2.0]])
    many = eig_many(coins, post, xs, np.random.default_rng(20))
    single = [eig(coins, post, x, np.random.default_rng(0)).value for x in xs]
    np.testing.assert_allclose(many, single)
    assert many[0] < min(many[1], many[2])  # the flipped coin is the best known

    lg = LinearGaussian()
    lg_post = gaussian_posterior(np.zeros(3), np.eye(3), 8192, 21)
    cand = np.linspace(-1, 1, 41)[:, None]
    scores = eig_many(lg, lg_post, cand, np.random.default_rng(22))
    truth = np.array([lg.exact_eig(x, np.eye(3)) for x in cand])
    assert np.max(np.abs(scores - truth)) < 0.15
    assert truth[np.argmax(scores)] >= 0.97 * truth.max()
    assert np.corrcoef(scores, truth)[0, 1] > 0.95


def test_determinism_with_a_fixed_seed() -> None:
    m = LinearGaussian()
    post = prior_posterior(m, np.random.default_rng(23), n=1024)
    a = eig(m, post, np.array([0.2]), np.random.default_rng(24), 300, 300)
    b = eig(m, post, np.array([0.2]), np.random.default_rng(24), 300, 300)
    assert isinstance(a, EIGEstimate) and a == b
    xs = np.array([[0.1], [0.9]])
    np.testing.assert_array_equal(eig_many(m, post, xs, np.random.default_rng(25)),
                                  eig_many(m, post, xs, np.random.default_rng(25)))


def test_lotka_volterra_eig_is_the_same_with_a_warm_trajectory_cache() -> None:
    """The ODE world keeps the trajectories of particles and draws and gathers a set of
    draws asked about repeatedly: EIG must be bitwise what a cold model computes."""
    warm = model_class("lotka_volterra")()
    rng = np.random.default_rng(26)
    truth = warm.sample_prior(rng, 1)[0]
    xs = warm.sample_designs(rng, 3)
    ys = np.stack([warm.simulate(truth, x, rng) for x in xs])
    post = fit(warm, xs, ys, np.random.default_rng(27), n=1024)
    cands = warm.sample_designs(np.random.default_rng(28), 6)
    cold = pickle.loads(pickle.dumps(warm))  # the cache is not pickled
    np.testing.assert_array_equal(eig_many(warm, post, cands, np.random.default_rng(29)),
                                  eig_many(cold, post, cands, np.random.default_rng(29)))
    assert eig(warm, post, cands[0], np.random.default_rng(30), 200, 200) == eig(
        cold, post, cands[0], np.random.default_rng(30), 200, 200)


def test_errors_are_typed() -> None:
    m = LinearGaussian()
    post = prior_posterior(m, np.random.default_rng(0), n=64)
    with pytest.raises(ConfigError, match="no small outcome support"):
        eig(m, post, X1, np.random.default_rng(0), method="exact")
    with pytest.raises(ConfigError, match="not one of"):
        eig(m, post, X1, np.random.default_rng(0), method="bald")
    with pytest.raises(ConfigError, match="n_outer"):
        eig(m, post, X1, np.random.default_rng(0), n_outer=1)
