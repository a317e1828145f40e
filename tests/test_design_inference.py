"""Particle posterior (envs/design/inference.py) against closed forms and a grid reference,
plus the two ruler worlds it is validated on (linear-Gaussian, coins)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from agora.envs.design.inference import (
    Posterior,
    ess_of,
    fit,
    log_joint,
    prior_posterior,
    systematic_resample,
    update,
)
from agora.envs.design.model import Model
from agora.envs.design.worlds import model_class, model_keys
from agora.envs.design.worlds.coin import Coins, DialCoin
from agora.envs.design.worlds.linear_gaussian import LinearGaussian, features
from agora.envs.errors import ConfigError, IllegalActionError


def _history(model: Model, seed: int, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = model.sample_prior(rng, 1)[0]
    xs = model.sample_designs(rng, t)
    ys = np.array([model.simulate(theta[None], x, rng)[0] for x in xs])
    return theta, xs, ys


# ----- the ruler worlds themselves -------------------------------------------------------
@pytest.mark.parametrize("cls", [LinearGaussian, Coins, DialCoin])
def test_model_contract(cls: type[Model]) -> None:
    m = cls()
    assert model_class(m.key) is cls and m.key in model_keys()
    rng = np.random.default_rng(0)
    theta = m.sample_prior(rng, 64)
    assert theta.shape == (64, len(m.param_names))
    assert np.all(np.isfinite(m.log_prior(theta)))
    x = m.sample_designs(rng, 1)[0]
    m.validate_design(x)
    y = m.simulate(theta, x, rng)
    assert y.shape == (64, *m.outcome_shape)
    matrix = m.log_lik(y[:, None], theta[None], x)  # the NMC broadcast
    assert matrix.shape == (64, 64)
    loop = np.array([[m.log_lik(y[i], theta[j], x) for j in range(64)] for i in range(64)])
    np.testing.assert_allclose(matrix, loop, rtol=1e-12)
    assert m.story and m.abstract and {g.kind for g in m.goals} == {"outcome", "parameter"}


def test_linear_gaussian_densities_match_scipy() -> None:
    m = LinearGaussian({"prior_mean": 0.3, "prior_sd": 2.0, "noise_sd": 0.7})
    theta = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, 0.0]])
    x = np.array([0.4])
    mu = theta @ np.array([1.0, 0.4, 0.16])
    np.testing.assert_allclose(m.log_lik(np.array(1.1), theta, x),
                               stats.norm.logpdf(1.1, mu, 0.7))
    np.testing.assert_allclose(m.log_prior(theta),
                               stats.norm.logpdf(theta, 0.3, 2.0).sum(axis=1))
    ys = m.simulate(np.tile(theta[0], (20000, 1)), x, np.random.default_rng(1))
    assert abs(ys.mean() - mu[0]) < 4 * 0.7 / np.sqrt(20000)
    assert abs(ys.std() / 0.7 - 1) < 0.03


def test_linear_gaussian_exact_posterior_is_bayes_rule() -> None:
    m = LinearGaussian({"noise_sd": 0.5})
    xs = np.array([[-1.0], [0.0], [0.5], [1.0]])
    ys = np.array([0.2, -0.4, 1.0, 2.5])
    mean, cov = m.exact_posterior(xs, ys)
    phi = features(xs[:, 0])
    # Gaussian conditioning of the joint (theta, y): the textbook Kalman form.
    s = phi @ phi.T + 0.25 * np.eye(4)
    gain = phi.T @ np.linalg.inv(s)
    np.testing.assert_allclose(mean, gain @ ys, atol=1e-12)
    np.testing.assert_allclose(cov, np.eye(3) - gain @ phi, atol=1e-12)
    d = np.array([0.3])
    f = features(0.3)
    assert m.exact_eig(d, cov) == pytest.approx(0.5 * np.log((f @ cov @ f + 0.25) / 0.25))


def test_linear_gaussian_predict_and_design_errors() -> None:
    m = LinearGaussian()
    particles = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    w = np.array([0.25, 0.75])
    rng = np.random.default_rng(0)
    out = m.predict(m.goals[0], particles, w, np.array([[0.5], [-1.0]]), rng)
    np.testing.assert_allclose(out, [0.25 + 1.5 * 0.5, 0.25 - 1.5])
    np.testing.assert_allclose(m.predict(m.goals[1], particles, w, np.zeros((0, 1)), rng),
                               [[0.25, 1.5, 0.0]])
    with pytest.raises(IllegalActionError, match="x=2.0"):
        m.validate_design([2.0])
    with pytest.raises(ConfigError, match="noise_sd"):
        LinearGaussian({"noise_sd": 0.0})


def test_coin_densities_match_scipy() -> None:
    m = Coins({"prior_a": 2.0, "prior_b": 3.0, "flips": 7})
    theta = np.array([[0.2, 0.5, 0.9], [0.6, 0.1, 0.3]])
    np.testing.assert_allclose(m.log_lik(np.array(4.0), theta, np.array([2.0])),
                               stats.binom.logpmf(4, 7, theta[:, 2]))
    np.testing.assert_allclose(m.log_prior(theta), stats.beta.logpdf(theta, 2, 3).sum(1))
    assert m.log_prior(np.array([1.2, 0.5, 0.5])) == -np.inf
    np.testing.assert_array_equal(m.outcome_support(np.array([0.0])), np.arange(8.0))
    dial = DialCoin()
    t = np.array([[0.3, 0.2]])
    p = 1 / (1 + np.exp(-np.exp(0.2) * (1.0 - 0.3)))
    np.testing.assert_allclose(dial.log_lik(np.array(3.0), t, np.array([1.0])),
                               stats.binom.logpmf(3, 10, p))


# ----- posterior against closed forms ----------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_gaussian_posterior_matches_closed_form(seed: int) -> None:
    m = LinearGaussian()
    _, xs, ys = _history(m, seed, 10)
    post = fit(m, xs, ys, np.random.default_rng(100 + seed))
    mean, cov = m.exact_posterior(xs, ys)
    se = np.sqrt(np.diag(cov) / post.n)
    assert np.all(np.abs(post.mean() - mean) < 5 * se)
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert np.all(np.abs(post.cov() - cov) / scale < 0.15)  # variances and correlations
    assert post.designs.shape == (10, 1) and post.outcomes.shape == (10,)


def test_linear_gaussian_sharp_observations_temper() -> None:
    """Small noise: one observation shrinks the variance ~100x, far beyond what plain
    reweighting of 4096 prior draws resolves; the tempered sampler must still be right."""
    m = LinearGaussian({"noise_sd": 0.05})
    _, xs, ys = _history(m, 3, 6)
    post = fit(m, xs, ys, np.random.default_rng(7))
    mean, cov = m.exact_posterior(xs, ys)
    assert np.all(np.abs(post.mean() - mean) < 6 * np.sqrt(np.diag(cov) / post.n))
    np.testing.assert_allclose(np.diag(post.cov()), np.diag(cov), rtol=0.2)


@pytest.mark.parametrize("flips", [1, 10])
def test_beta_binomial_posterior_matches_conjugate(flips: int) -> None:
    m = Coins({"prior_a": 2.0, "prior_b": 1.5, "flips": flips})
    _, xs, ys = _history(m, 5, 12)
    post = fit(m, xs, ys, np.random.default_rng(9))
    a, b = m.exact_posterior(xs, ys)
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert np.all(np.abs(post.mean() - mean) < 5 * np.sqrt(var / post.n))
    np.testing.assert_allclose(np.diag(post.cov()), var, rtol=0.15)
    assert np.all((post.particles > 0) & (post.particles < 1))  # the truncated support


def _grid_posterior(model: DialCoin, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Mean and sd of (threshold, log_slope) by brute force on a 401 x 401 grid."""
    g0 = np.linspace(-4.0, 4.0, 401)
    g1 = np.linspace(-2.0, 3.0, 401)
    grid = np.stack(np.meshgrid(g0, g1, indexing="ij"), axis=-1).reshape(-1, 2)
    logp = model.log_prior(grid) + sum(model.log_lik(y, grid, x) for x, y in zip(xs, ys))
    w = np.exp(logp - logp.max())
    w /= w.sum()
    mean = w @ grid
    return mean, np.sqrt(w @ (grid - mean) ** 2)


@pytest.mark.parametrize("seed", [0, 4])
def test_non_conjugate_posterior_matches_grid(seed: int) -> None:
    m = DialCoin()
    _, xs, ys = _history(m, seed, 8)
    post = fit(m, xs, ys, np.random.default_rng(seed + 50))
    mean, sd = _grid_posterior(m, xs, ys)
    assert np.all(np.abs(post.mean() - mean) < 5 * sd / np.sqrt(post.n))
    np.testing.assert_allclose(np.sqrt(np.diag(post.cov())), sd, rtol=0.1)


def test_death_process_matches_grid_if_declared() -> None:
    if "death_process" not in model_keys():
        pytest.skip("death_process is not declared yet")
    m = model_class("death_process")()
    _, xs, ys = _history(m, 2, 6)
    post = fit(m, xs, ys, np.random.default_rng(3))
    grid = np.linspace(1e-6, 2.0 - 1e-6, 20001)[:, None]
    logp = m.log_prior(grid) + sum(m.log_lik(y, grid, x) for x, y in zip(xs, ys))
    w = np.exp(logp - logp.max())
    w /= w.sum()
    mean = float(w @ grid[:, 0])
    sd = float(np.sqrt(w @ (grid[:, 0] - mean) ** 2))
    assert abs(post.mean()[0] - mean) < 5 * sd / np.sqrt(post.n)
    assert np.sqrt(post.cov()[0, 0]) == pytest.approx(sd, rel=0.1)


# ----- the Posterior object and the sampler's invariants ---------------------------------
def test_posterior_basics_and_determinism() -> None:
    m = LinearGaussian()
    post = prior_posterior(m, np.random.default_rng(0), n=1000)
    assert post.ess == pytest.approx(1000) and post.designs.shape == (0, 1)
    a = update(m, post, np.array([0.5]), np.array(1.0), np.random.default_rng(4))
    b = update(m, post, np.array([0.5]), np.array(1.0), np.random.default_rng(4))
    np.testing.assert_array_equal(a.particles, b.particles)
    np.testing.assert_array_equal(a.log_weights, b.log_weights)
    draws = a.sample(np.random.default_rng(1), 50_000)
    assert draws.shape == (50_000, 3)
    assert np.all(np.abs(draws.mean(0) - a.mean()) < 5 * np.sqrt(np.diag(a.cov()) / 50_000))
    with pytest.raises(ConfigError):
        prior_posterior(m, np.random.default_rng(0), n=1)


def test_cached_log_joint_stays_exact() -> None:
    """update() carries log_prior + history log-likelihood per particle through
    reweighting, resampling and moves; it must equal a fresh computation."""
    m = DialCoin()
    _, xs, ys = _history(m, 8, 6)
    post = fit(m, xs, ys, np.random.default_rng(8), n=512)
    assert post.log_joint is not None
    np.testing.assert_allclose(post.log_joint,
                               log_joint(m, post.particles, post.designs, post.outcomes),
                               rtol=1e-10)


def test_systematic_resample_counts() -> None:
    w = np.array([0.5, 0.3, 0.15, 0.05])
    idx = systematic_resample(np.log(w), np.random.default_rng(3))
    counts = np.bincount(idx, minlength=4)
    # systematic resampling keeps each count within one of n * w
    assert np.all(np.abs(counts - 4 * w) < 1) and counts.sum() == 4
    assert ess_of(np.log(w)) == pytest.approx(1 / np.sum(w**2))
    assert ess_of(np.array([-np.inf, -np.inf])) == 0.0


def test_impossible_observation_recovers() -> None:
    """Every particle gives the observation zero likelihood: the sampler resets the
    weights and lets the moves find the support instead of returning NaN."""
    m = Coins({"flips": 5})
    stuck = Posterior(np.tile([0.0, 0.5, 0.5], (200, 1)), np.full(200, -np.log(200)),
                      np.zeros((0, 1)), np.zeros(0))
    post = update(m, stuck, np.array([0.0]), np.array(3.0), np.random.default_rng(0))
    assert np.all(np.isfinite(post.log_weights)) and np.all(np.isfinite(post.particles))
    assert np.exp(post.log_weights).sum() == pytest.approx(1.0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       obs=st.lists(st.tuples(st.floats(-1, 1), st.floats(-12, 12)), min_size=1, max_size=4),
       noise=st.sampled_from([0.02, 0.5, 3.0]))
def test_property_linear_gaussian_updates_stay_valid(seed: int, obs: list[tuple[float, float]],
                                                      noise: float) -> None:
    m = LinearGaussian({"noise_sd": noise})
    rng = np.random.default_rng(seed)
    post = prior_posterior(m, rng, n=256)
    for x, y in obs:
        post = update(m, post, np.array([x]), np.array(y), rng)
        assert np.logaddexp.reduce(post.log_weights) == pytest.approx(0.0, abs=1e-9)
        assert 1.0 - 1e-9 <= post.ess <= post.n + 1e-9
        assert not np.isnan(post.particles).any() and not np.isnan(post.log_weights).any()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       obs=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 20)), min_size=1, max_size=6))
def test_property_coin_updates_stay_valid(seed: int, obs: list[tuple[int, int]]) -> None:
    m = Coins({"flips": 20, "prior_a": 0.5, "prior_b": 0.5})
    rng = np.random.default_rng(seed)
    post = prior_posterior(m, rng, n=256)
    for coin, heads in obs:
        post = update(m, post, np.array([float(coin)]), np.array(float(heads)), rng)
        assert np.logaddexp.reduce(post.log_weights) == pytest.approx(0.0, abs=1e-9)
        assert 1.0 - 1e-9 <= post.ess <= post.n + 1e-9
        assert np.all((post.particles >= 0) & (post.particles <= 1))
        assert not np.isnan(post.log_weights).any()


# ----- the moves: independence proposals, a bimodal target, conjugate and ODE worlds ------
class _SquaredMean(LinearGaussian):
    """``y ~ N(theta0^2, sigma^2)``: a posterior with two mirror modes ``+-sqrt(y)``, where
    the Gaussian independence proposal fails and the random walk must take over."""

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return stats.norm.logpdf(y, np.asarray(theta)[..., 0] ** 2, self.lg.noise_sd)


def test_bimodal_posterior_keeps_both_modes_and_their_shape() -> None:
    m = _SquaredMean({"noise_sd": 0.3})
    ys = np.array([2.1, 1.8, 2.0])
    post = fit(m, np.zeros((3, 1)), ys, np.random.default_rng(11))
    grid = np.linspace(-4.0, 4.0, 8001)
    logp = stats.norm.logpdf(grid) + sum(stats.norm.logpdf(y, grid**2, 0.3) for y in ys)
    w = np.exp(logp - logp.max())
    w /= w.sum()
    abs_mean = float(w @ np.abs(grid))
    abs_sd = float(np.sqrt(w @ (np.abs(grid) - abs_mean) ** 2))
    t0 = post.particles[:, 0]
    assert abs(float(post.weights @ (t0 > 0)) - 0.5) < 0.1  # the modes weigh the same
    assert abs(float(post.weights @ np.abs(t0)) - abs_mean) < 5 * abs_sd / np.sqrt(post.n)
    assert np.sqrt(post.weights @ (np.abs(t0) - abs_mean) ** 2) == pytest.approx(abs_sd,
                                                                                rel=0.15)
    np.testing.assert_allclose(np.sqrt(np.diag(post.cov()))[1:], 1.0, rtol=0.1)  # prior


def _emotion_reference(m: Model, xs: np.ndarray, ys: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of the 40 emotion parameters by quadrature over each noise
    scale, the coefficients integrated out in *data* space (``y ~ N(X m, s^2 I +
    X S0^2 X')``), independently of the model's own parameter-space algebra."""
    from agora.envs.design.worlds.emotion import PRIOR_MEANS, PRIOR_SDS
    x = m.features(xs)  # type: ignore[attr-defined]
    s0x = PRIOR_SDS[:, None] ** 2 * x.T  # S0^2 X'
    gram = x @ s0x
    log_s = np.linspace(np.log(1e-3), np.log(6.0), 600)
    s = np.exp(log_s)
    means, sds = np.zeros((5, 8)), np.zeros((5, 8))
    for e in range(8):
        r = ys[:, e] - x @ PRIOR_MEANS[:, e]
        covs = gram[None] + s[:, None, None] ** 2 * np.eye(len(x))
        logm = stats.halfnorm.logpdf(s) + np.array(
            [stats.multivariate_normal.logpdf(r, cov=c) for c in covs])
        w = np.exp(logm - logm.max()) * s  # a density in log s
        w /= w.sum()
        solved = np.linalg.solve(covs, np.broadcast_to(r, (len(s), len(r)))[..., None])
        cmean = PRIOR_MEANS[:, e] + (s0x @ solved)[..., 0]
        cvar = PRIOR_SDS**2 - np.einsum("kt,stk->sk", s0x, np.linalg.solve(covs, s0x.T))
        means[:4, e] = w @ cmean
        sds[:4, e] = np.sqrt(w @ (cvar + cmean**2) - means[:4, e] ** 2)
        means[4, e] = w @ s
        sds[4, e] = np.sqrt(w @ s**2 - means[4, e] ** 2)
    return means.ravel(), sds.ravel()


@pytest.mark.parametrize("seed", [0, 1])
def test_emotion_posterior_matches_quadrature(seed: int) -> None:
    """The conjugate move makes the 40-parameter posterior as good as independent draws
    (the random-walk sampler it replaced was off by tens of standard errors)."""
    m = model_class("emotion")()
    _, xs, ys = _history(m, seed, 10)
    post = fit(m, xs, ys, np.random.default_rng(seed + 7))
    mean, sd = _emotion_reference(m, xs, ys)
    z = (post.mean() - mean) / (sd / np.sqrt(post.n))
    assert np.sqrt(np.mean(z**2)) < 2.0 and np.abs(z).max() < 5.0
    np.testing.assert_allclose(np.sqrt(np.diag(post.cov())), sd, rtol=0.1)


def test_lotka_volterra_posterior_matches_importance_sampling() -> None:
    """Against self-normalised importance sampling from a wide Student-t (100,000 draws,
    one vectorised ODE solve), which is consistent whatever the particle sampler does."""
    m = model_class("lotka_volterra")()
    _, xs, ys = _history(m, 3, 10)
    post = fit(m, xs, ys, np.random.default_rng(8))
    proposal = stats.multivariate_t(post.mean(), 2.25 * post.cov(), df=5, seed=9)
    draws = proposal.rvs(100_000)
    lw = log_joint(m, draws, xs, ys) - proposal.logpdf(draws)
    w = np.exp(lw - lw.max())
    w /= w.sum()
    assert 1.0 / np.sum(w * w) > 20_000  # the reference itself is well resolved
    mean = w @ draws
    sd = np.sqrt(w @ (draws - mean) ** 2)
    assert np.all(np.abs(post.mean() - mean) < 5 * sd / np.sqrt(post.n))
    np.testing.assert_allclose(np.sqrt(np.diag(post.cov())), sd, rtol=0.1)
