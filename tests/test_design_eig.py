"""Expected information gain (envs/design/eig.py) against closed forms and bounds."""

from __future__ import annotations

import pickle
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln, gammaln, roots_jacobi

from agora.envs.design.eig import EIGEstimate, eig, eig_many, nmc_terms
from agora.envs.design.inference import Posterior, fit, prior_posterior
from agora.envs.design.world import DesignWorld
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
    """At M = 10 the raw NMC bias (up) and the PCE bias (down) exceed the outer noise; the
    reported estimate is clipped to the Gaussian-channel limit, which for a linear-Gaussian
    model is the EIG itself."""
    m = LinearGaussian()
    post = gaussian_posterior(np.zeros(3), np.eye(3), 20_000, 2)
    truth = m.exact_eig(X1, np.eye(3))
    nmc, pce, limit = nmc_terms(m, post, X1, np.random.default_rng(3), 20_000, 10)
    se = nmc.std(ddof=1) / np.sqrt(len(nmc))
    assert pce.mean() + 3 * se < truth < nmc.mean() - 3 * se
    est = eig(m, post, X1, np.random.default_rng(3), n_outer=20_000, n_inner=10)
    assert est.capped and est.value == est.upper == est.limit == pytest.approx(truth, abs=0.02)
    assert est.lower <= np.log(11)  # PCE never exceeds log(M + 1)
    tiny = eig(m, post, X1, np.random.default_rng(3), n_outer=500, n_inner=3, method="pce")
    assert tiny.method == "pce" and tiny.value == tiny.lower <= np.log(4)


def test_nmc_converges_to_closed_form_as_inner_samples_grow() -> None:
    m = LinearGaussian()
    post = gaussian_posterior(np.zeros(3), np.eye(3), 20_000, 4)
    truth = m.exact_eig(X1, np.eye(3))
    raw = [nmc_terms(m, post, X1, np.random.default_rng(5), 2000, k) for k in (1, 10, 100, 1000)]
    gaps = [nmc.mean() - truth for nmc, _, _ in raw]  # same outer draws: shared noise
    assert gaps[0] > gaps[1] > gaps[2] and gaps[0] > 1.0
    se = raw[3][0].std(ddof=1) / np.sqrt(2000)
    assert abs(gaps[3]) < 3 * se + 0.01
    widths = [nmc.mean() - pce.mean() for nmc, pce, _ in raw]
    assert all(w1 > w2 >= 0 for w1, w2 in zip(widths, widths[1:]))
    ests = [eig(m, post, X1, np.random.default_rng(5), n_outer=2000, n_inner=k)
            for k in (1, 10, 100, 1000)]  # what is reported never passes the limit
    assert all(0 <= e.lower <= e.value == e.upper <= e.limit for e in ests)
    assert abs(ests[3].value - truth) < 3 * se + 0.01


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


# ----- never an impossible number ----------------------------------------------------
def _lf_states(log_intensity: bool, seeds: range):
    w = DesignWorld({"model": "location_finding", "log_intensity": log_intensity})
    for s in seeds:
        rng = np.random.default_rng(s)
        state = w.initial_state(rng)
        near = [state.theta[2 * k:2 * k + 2] + 0.01 for k in range(w.model.params.sources)]
        yield state, [*w.model.sample_designs(rng, 3), *near], rng


@pytest.mark.parametrize("log_intensity", [True, False])
def test_location_finding_eig_stays_inside_its_bounds(log_intensity: bool) -> None:
    """BoxingGym's raw form put NMC estimates up to 1e5 nats next to a source, where the
    Gaussian-channel limit is a few nats; every reported number now lies in [0, limit]
    and inside its own bracket, on both forms, next to the sources too."""
    for state, designs, rng in _lf_states(log_intensity, range(4)):
        for d in designs:
            e = eig(state.model, state.posterior, np.asarray(d), rng, n_outer=500, n_inner=500)
            assert 0.0 <= e.lower <= e.value <= e.upper <= e.limit < 12.0
        screened = eig_many(state.model, state.posterior, np.asarray(designs), rng, 300, 300)
        assert np.all((screened >= 0) & (screened < 12.0))


def test_location_finding_default_eig_agrees_with_twenty_times_the_samples() -> None:
    for state, designs, rng in _lf_states(True, range(2)):
        for d in designs[:3]:
            small = eig(state.model, state.posterior, d, rng, n_outer=500, n_inner=500)
            big = eig(state.model, state.posterior, d, rng, n_outer=2000, n_inner=5000)
            assert abs(small.value - big.value) < 4 * small.stderr + 0.03


def test_greedy_designs_beat_random_designs_on_default_location_finding() -> None:
    gains = []
    for state, _, rng in _lf_states(True, range(4)):
        pool = state.model.sample_designs(rng, 16)
        scores = eig_many(state.model, state.posterior, pool, rng, 300, 300)
        best = eig(state.model, state.posterior, pool[int(np.argmax(scores))], rng, 1000, 1000)
        rand = np.mean([eig(state.model, state.posterior, d, rng, 1000, 1000).value
                        for d in pool[:4]])
        gains.append(best.value - rand)
    assert np.mean(gains) > 0.05 and min(gains) > -0.05


@pytest.mark.parametrize("key", ["linear_gaussian", "dugongs", "lotka_volterra",
                                 "location_finding"])
def test_worlds_with_gaussian_noise_report_no_eig_above_their_limit(key: str) -> None:
    w = DesignWorld({"model": key})
    for s in range(3):
        rng = np.random.default_rng(s)
        state = w.initial_state(rng)
        for d in w.model.sample_designs(rng, 4):
            e = eig(state.model, state.posterior, d, rng, n_outer=400, n_inner=400)
            assert np.isfinite(e.limit) and 0.0 <= e.value <= e.limit


@pytest.mark.parametrize("key", ["hyperbolic_discounting", "death_process", "item_response",
                                 "survival", "moral_machine", "emotion", "coin"])
def test_discrete_worlds_eig_is_at_most_the_outcome_entropy(key: str) -> None:
    """Worlds with a small outcome support get the exact sum: never above log |support|."""
    w = DesignWorld({"model": key})
    rng = np.random.default_rng(0)
    state = w.initial_state(rng)
    for d in w.model.sample_designs(rng, 4):
        support = state.model.outcome_support(d)
        if support is None:
            continue
        e = eig(state.model, state.posterior, d, rng)
        assert e.method == "exact" and 0.0 <= e.value <= np.log(len(support)) + 1e-9
