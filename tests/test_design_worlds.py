"""BoxingGym's ten worlds as :class:`Model` declarations, checked against theory.

Two implementations of one quantity must agree: ``simulate`` against ``exp(log_lik)``
(frequencies, moments, numerical normalisation), the broadcast ``log_lik`` against an
elementwise loop, each prior marginal against scipy's density, the RK4 solution against
an adaptive ODE solver, and the Bayes predictor under prior particles against the
Monte Carlo prior-predictive mean.
"""

from __future__ import annotations

import doctest
import importlib
import itertools
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from agora.envs.design.catalog import task_id
from agora.envs.design.model import Model
from agora.envs.design.worlds import emotion, lotka_volterra, model_class, model_keys
from agora.envs.design.worlds._boxing_common import (
    GridDensity,
    HalfNormal,
    LogGamma,
    Marginal,
    Normal,
    TruncNormal,
    diag_normal_loglik,
)
from agora.envs.errors import ConfigError, IllegalActionError

KEYS = ("hyperbolic_discounting", "location_finding", "death_process", "item_response",
        "survival", "dugongs", "peregrines", "lotka_volterra", "moral_machine", "emotion")
MODULES = ("_boxing_common", "hyperbolic_discounting", "location_finding", "death_process",
           "item_response", "survival", "dugongs", "peregrines", "lotka_volterra",
           "moral_machine", "emotion")
DISCRETE = ("hyperbolic_discounting", "death_process", "item_response", "survival",
            "moral_machine")
Z = 4.0  # z bound for Monte Carlo agreement (a false alarm is ~6e-5 per comparison)


def make(key: str, seed: int = 0, **params: object) -> Model:
    """A model with its covariates drawn from ``seed``."""
    model = model_class(key)(params or None)
    model.instantiate(np.random.default_rng(seed))
    return model


def draws(model: Model, seed: int, n_theta: int = 3, n_design: int = 3
          ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return model.sample_prior(rng, n_theta), model.sample_designs(rng, n_design)


# ----- declarations -------------------------------------------------------------------
def test_all_ten_worlds_are_discovered() -> None:
    assert set(KEYS) <= set(model_keys())


@pytest.mark.parametrize("key", KEYS)
def test_declaration_is_consistent(key: str) -> None:
    model = make(key)
    theta, designs = draws(model, 1)
    assert theta.shape == (3, len(model.param_names))
    assert designs.shape == (3, len(model.design_space.names))
    assert model.info.family == "design" and model.info.action_kind == "box"
    assert "BoxingGym" in model.info.reference
    assert model.story and model.abstract and model.story != model.abstract
    assert all(f.description for f in model.design_space.fields)
    for goal in model.goals:
        assert goal.kind in ("outcome", "parameter")
        assert goal.error in ("squared", "misclassification", "custom")
        if goal.kind == "outcome" and goal.error != "custom":
            assert len(goal.answer_names) == max(1, math.prod(model.outcome_shape))


@pytest.mark.parametrize("key", KEYS)
def test_abstract_has_no_domain_words(key: str) -> None:
    words = {"person", "reward", "signal", "source", "disease", "infect", "student",
             "question", "patient", "cancer", "dugong", "falcon", "peregrine", "prey",
             "predator", "car", "wheel", "emotion", "prize", "happi"}
    abstract = make(key).abstract.lower()
    assert not [w for w in words if w in abstract]


@pytest.mark.parametrize(("key", "bad"), [
    ("hyperbolic_discounting", {"epsilon": 0.5}), ("location_finding", {"sources": 0}),
    ("location_finding", {"noise": -1.0}), ("death_process", {"population": 0}),
    ("item_response", {"students": 1}), ("survival", {"form": "logistic"}),
    ("dugongs", {"noise": 0.0}), ("peregrines", {"max_time": -1.0}),
    ("lotka_volterra", {"noise": 0.0}), ("moral_machine", {"verbaliser": "gpt"}),
    ("emotion", {"verbaliser": "gpt"}), ("emotion", {"nope": 1}),
])
def test_bad_params_raise_config_error_naming_them(key: str, bad: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        model_class(key)(bad)


# ----- simulate against log_lik -------------------------------------------------------
@pytest.mark.parametrize("key", DISCRETE)
def test_discrete_frequencies_match_likelihood(key: str) -> None:
    model = make(key)
    theta, designs = draws(model, 2)
    rng = np.random.default_rng(3)
    n = 4000
    for th, d in itertools.product(theta, designs):
        support = model.outcome_support(d)
        probs = np.exp(model.log_lik(support, th, d))
        assert probs.sum() == pytest.approx(1.0, abs=1e-9)
        ys = model.simulate(np.repeat(th[None], n, axis=0), d, rng)
        counts = np.array([(ys == s).sum() for s in support])
        assert counts.sum() == n  # nothing outside the support
        big = probs * n >= 5
        chi2 = np.sum((counts[big] - n * probs[big]) ** 2 / (n * probs[big]))
        assert chi2 < stats.chi2.ppf(1 - 1e-4, max(1, big.sum() - 1)) + 5


def test_poisson_counts_match_likelihood() -> None:
    model = make("peregrines")
    theta, designs = draws(model, 4)
    rng = np.random.default_rng(5)
    for th, d in itertools.product(theta, designs):
        rate = float(model.mean_outcome(th, d))
        ks = np.arange(0, int(rate + 12 * math.sqrt(rate) + 30))
        pmf = np.exp(model.log_lik(ks.astype(float), th, d))
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        np.testing.assert_allclose(pmf, stats.poisson.pmf(ks, rate), rtol=1e-9, atol=1e-300)
        ys = model.simulate(np.repeat(th[None], 4000, axis=0), d, rng)
        assert abs(ys.mean() - rate) < Z * math.sqrt(rate / 4000)


def _integrate_1d(model: Model, th: np.ndarray, d: np.ndarray, lo: float, hi: float
                  ) -> tuple[float, float, float]:
    """Mass, mean and variance of ``exp(log_lik)`` by quadrature on ``[lo, hi]``."""
    grid = np.linspace(lo, hi, 200_001)
    dens = np.exp(model.log_lik(grid, th, d))
    mass = integrate.trapezoid(dens, grid)
    mean = integrate.trapezoid(grid * dens, grid) / mass
    var = integrate.trapezoid((grid - mean) ** 2 * dens, grid) / mass
    return mass, mean, var


@pytest.mark.parametrize(("key", "params"), [
    ("location_finding", {"log_intensity": False}), ("location_finding", {}),
    ("dugongs", {}), ("dugongs", {"noise": 1.0}),
])
def test_continuous_density_normalises_and_matches_draws(key: str, params: dict) -> None:
    model = make(key, **params)
    theta, designs = draws(model, 6)
    rng = np.random.default_rng(7)
    n = 20_000
    for th, d in itertools.product(theta, designs):
        centre = float(model.mean_outcome(th, d))
        lo = 0.0 if key == "dugongs" else centre - 12 * model.params.noise
        mass, mean, var = _integrate_1d(model, th, d, lo, centre + 12 * model.params.noise)
        assert mass == pytest.approx(1.0, abs=1e-6)
        assert mean == pytest.approx(centre, abs=1e-6)  # the analytic mean_outcome
        ys = model.simulate(np.repeat(th[None], n, axis=0), d, rng)
        assert abs(ys.mean() - mean) < Z * math.sqrt(var / n)
        assert ys.var() == pytest.approx(var, rel=0.06)


def test_folded_normal_against_scipy() -> None:
    model = make("dugongs")
    th, d = np.array([1.0, 1.5, 0.4]), np.array([0.5])
    mu = float(model.curve(th, d))  # negative: folding matters
    ys = np.linspace(0.0, 2.0, 9)
    ref = stats.foldnorm.logpdf(ys, abs(mu) / 0.25, scale=0.25)
    np.testing.assert_allclose(model.log_lik(ys, th, d), ref, rtol=1e-10)
    assert model.log_lik(np.array(-0.1), th, d) == -np.inf


def test_lotka_volterra_density_and_noise() -> None:
    model = make("lotka_volterra")
    theta, designs = draws(model, 8)
    rng = np.random.default_rng(9)
    s = model.params.noise
    for th, d in itertools.product(theta, designs):
        log_pop = model.log_populations(th, d)
        u = np.linspace(-7 * s, 7 * s, 701)
        gx, gy = np.meshgrid(np.exp(log_pop[0] + u), np.exp(log_pop[1] + u), indexing="ij")
        dens = np.exp(model.log_lik(np.stack([gx, gy], axis=-1), th, d))
        mass = integrate.trapezoid(integrate.trapezoid(dens, gy[0], axis=1), gx[:, 0])
        assert mass == pytest.approx(1.0, abs=1e-4)
        ys = model.simulate(np.repeat(th[None], 4000, axis=0), d, rng)
        assert np.all(np.abs(np.log(ys).mean(axis=0) - log_pop) < Z * s / math.sqrt(4000))
        assert np.log(ys).std(axis=0) == pytest.approx([s, s], rel=0.06)
        y0 = model.simulate(th, d, rng)
        ll = model.log_lik(np.stack([y0, 1.01 * y0]), th, d)
        assert np.all(np.isfinite(ll)) and abs(ll[0] - ll[1]) < 20  # noisy, not a delta


def test_lotka_volterra_rk4_matches_adaptive_solver() -> None:
    model = make("lotka_volterra")
    theta = model.sample_prior(np.random.default_rng(10), 4)
    for th in theta:
        a, b, g, dl = th

        def rhs(_t: float, s: np.ndarray, a: float = a, b: float = b, g: float = g,
                dl: float = dl) -> list[float]:
            return [a * s[0] - b * s[0] * s[1], dl * s[0] * s[1] - g * s[1]]

        sol = integrate.solve_ivp(rhs, (0.0, 50.0), [40.0, 9.0], t_eval=[7.3, 31.0, 50.0],
                                  rtol=1e-10, atol=1e-10)
        for j, t in enumerate([7.3, 31.0, 50.0]):
            ours = model.log_populations(th, np.array([t]))
            np.testing.assert_allclose(ours, np.log(sol.y[:, j]), atol=2e-3)


def test_lotka_volterra_history_is_one_pass_with_the_same_values() -> None:
    model = make("lotka_volterra")
    rng = np.random.default_rng(28)
    theta = model.sample_prior(rng, 50)
    designs = np.array([[12.3], [0.0], [40.0], [12.3], [0.5], [49.99]])
    truth = model.sample_prior(rng, 1)[0]
    ys = np.stack([model.simulate(truth, d, rng) for d in designs])
    loop = sum(model.log_lik(y, theta, d) for y, d in zip(ys, designs))
    np.testing.assert_allclose(model.log_lik_history(ys, theta, designs), loop, rtol=1e-12)


def test_lotka_volterra_cache_serves_rows_exactly() -> None:
    """Resampled, permuted and fresh rows mixed in one query, asked again at times past
    the cached grid: the values are bitwise those of a model that never saw the rows."""
    model, cold = make("lotka_volterra"), make("lotka_volterra")
    rng = np.random.default_rng(31)
    solved = model.sample_prior(rng, 300)
    model.log_lik_history(np.full((2, 2), 5.0), solved, np.array([[3.0], [10.0]]))
    mixed = np.concatenate([solved[rng.integers(0, 300, 200)], model.sample_prior(rng, 50)])
    for t in (2.25, 10.0, 37.3, 49.0):
        np.testing.assert_array_equal(model.log_populations(mixed, np.array([t])),
                                      cold.log_populations(mixed, np.array([t])))
    cache = model._cache  # 50 fresh rows solved; the query asked a 4th time gathered
    assert len(cache.keys) == 600 and len(cache.batches) == 3
    assert len(cache.plans) == 2  # the first batch and the mixed query
    for _ in range(8):
        model.log_populations(model.sample_prior(rng, 4096), np.array([50.0]))
    kept = sum(b.nbytes for b in cache.batches.values())
    assert kept <= lotka_volterra.CACHE_BYTES and len(cache.batches) >= 5
    assert len(cache.keys) == sum(len(b.theta) for b in cache.batches.values())
    model.log_populations(model.sample_prior(rng, 40_000), np.array([50.0]))
    assert sum(b.nbytes for b in cache.batches.values()) == kept  # too big to keep
    clone = pickle.loads(pickle.dumps(model))
    assert len(clone._cache.keys) == 0 and clone.params == model.params


def test_grid_density_is_exact_between_its_nodes() -> None:
    """Log densities known at nodes, log-linear between them: normalised, sampled by exact
    inversion (KS against the integrated density), tails far below the peak kept."""
    nodes = np.linspace(-6.0, 4.0, 401)
    log_dens = np.stack([stats.gamma.logpdf(np.exp(nodes), 3.0) + nodes,  # log of Gamma(3)
                         stats.norm.logpdf(nodes, 1.0, 0.05)], axis=1)  # sharp: few cells
    q = GridDensity.fit(-6.0, 0.025, log_dens)
    fine = np.linspace(-6.0, 4.0 - 1e-9, 200_001)[:, None].repeat(2, axis=1)
    dens = np.exp(q.logpdf(fine))
    np.testing.assert_allclose(integrate.trapezoid(dens, fine, axis=0), 1.0, rtol=1e-6)
    at_nodes = q.logpdf(nodes[:-1, None].repeat(2, axis=1))
    kept = log_dens[:-1] > log_dens.max(axis=0) - 700.0  # deeper tails are floored there
    for j in range(2):  # the given shape, up to the normalising constant
        assert np.ptp((at_nodes - log_dens[:-1])[kept[:, j], j]) < 1e-9
    draws = q.sample(np.random.default_rng(38), 20_000)
    for j in range(2):
        cdf = integrate.cumulative_trapezoid(dens[:, j], fine[:, j], initial=0.0)
        assert stats.kstest(draws[:, j], lambda v, j=j, c=cdf: np.interp(v, fine[:, j], c)
                            ).pvalue > 1e-4
    assert np.isfinite(q.logpdf(np.array([[-5.9, 0.0]]))).all()  # 300 nats below the top
    assert q.logpdf(np.array([[4.5, -7.0]])).tolist() == [[-np.inf, -np.inf]]


def test_emotion_history_is_one_product_with_the_same_values() -> None:
    model = make("emotion")
    rng = np.random.default_rng(32)
    theta = model.sample_prior(rng, 40)
    theta[3, 33] = -0.5  # off the support
    designs = model.sample_designs(rng, 6)
    ys = np.stack([model.simulate(theta[0], d, rng) for d in designs])
    loop = sum(model.log_lik(y, theta, d) for y, d in zip(ys, designs))
    np.testing.assert_allclose(model.log_lik_history(ys, theta, designs), loop, rtol=1e-12)


def _emotion_history(seed: int, t: int) -> tuple[Model, np.ndarray, np.ndarray, np.ndarray]:
    model = make("emotion")
    rng = np.random.default_rng(seed)
    designs = model.sample_designs(rng, t)
    ys = np.stack([model.simulate(model.sample_prior(rng, 1)[0], d, rng) for d in designs])
    powers = np.append(np.ones(t - 1), 0.3)  # a tempered last observation
    return model, designs, ys, powers


def test_emotion_coefficients_given_noise_are_the_closed_form() -> None:
    """With the noise scales held fixed, the 32 coefficients are Gaussian: prior precision
    plus ``X' W X / s^2``, and mean by Bayes' rule, for each emotion."""
    model, designs, ys, powers = _emotion_history(33, 6)
    sd = np.abs(model.sample_prior(np.random.default_rng(34), 3)[:, 32:])
    mean, cov = model.coefficient_posterior(sd, model.regression(designs, ys, powers))
    x = model.features(designs)
    prior_prec = np.diag(1.0 / emotion.PRIOR_SDS**2)
    for n, e in itertools.product(range(3), range(8)):
        prec = prior_prec + x.T @ (powers[:, None] * x) / sd[n, e] ** 2
        rhs = prior_prec @ emotion.PRIOR_MEANS[:, e] + x.T @ (powers * ys[:, e]) / sd[n, e] ** 2
        np.testing.assert_allclose(mean[n, :, e], np.linalg.solve(prec, rhs), rtol=1e-9)
        np.testing.assert_allclose(cov[n, e], np.linalg.inv(prec), rtol=1e-8, atol=1e-15)


def test_emotion_noise_posterior_is_the_marginal_likelihood() -> None:
    """``p(s | history)`` with the coefficients integrated out, against the data-space
    marginal ``N(r; X m, s^2 W^-1 + X S0^2 X')`` (times ``s^sum(1 - w)`` for tempering)."""
    model, designs, ys, powers = _emotion_history(35, 7)
    x = model.features(designs)
    gram = x @ np.diag(emotion.PRIOR_SDS**2) @ x.T
    s = np.array([0.2, 0.7, 1.5, 3.0])
    ours = model.noise_log_posterior(np.repeat(s[:, None], 8, axis=1),
                                     model.regression(designs, ys, powers))
    for e in range(8):
        r = ys[:, e] - x @ emotion.PRIOR_MEANS[:, e]
        ref = np.array([stats.multivariate_normal.logpdf(r, cov=v**2 * np.diag(1 / powers)
                                                         + gram)
                        + stats.halfnorm.logpdf(v) + np.sum(1 - powers) * math.log(v)
                        for v in s])
        np.testing.assert_allclose(np.diff(ours[:, e]), np.diff(ref), rtol=1e-9, atol=1e-9)


def test_emotion_conjugate_move_draws_the_exact_posterior() -> None:
    """One move from prior particles: each noise scale follows its marginal posterior
    (Kolmogorov-Smirnov against the integrated density) and the coefficients, standardised
    by their conditional posterior, are independent N(0, 1)."""
    model, designs, ys, powers = _emotion_history(36, 8)
    rng = np.random.default_rng(37)
    moved = model.conjugate_move(model.sample_prior(rng, 4000), designs, ys, powers, rng)
    reg = model.regression(designs, ys, powers)
    grid = np.exp(np.linspace(np.log(1e-3), np.log(10.0), 20001))
    dens = np.exp(model.noise_log_posterior(np.repeat(grid[:, None], 8, axis=1), reg)
                  + np.log(grid)[:, None])  # in log s
    cdf = integrate.cumulative_trapezoid(dens, np.log(grid), axis=0, initial=0.0)
    for e in range(8):
        ks = stats.kstest(moved[:, 32 + e], lambda v, e=e: np.interp(v, grid, cdf[:, e] /
                                                                   cdf[-1, e]))
        assert ks.pvalue > 1e-4
    mean, cov = model.coefficient_posterior(moved[:, 32:], reg)
    dev = moved[:, :32].reshape(-1, 4, 8) - mean
    z = np.linalg.solve(np.linalg.cholesky(cov), dev.transpose(0, 2, 1)[..., None])[..., 0]
    assert abs(z.mean()) < Z / math.sqrt(z.size) and z.var() == pytest.approx(1.0, abs=0.03)
    assert abs(np.corrcoef(z[:, :, 0].ravel(), z[:, :, 1].ravel())[0, 1]) < 0.03


def test_off_support_thetas_give_minus_inf_not_nan() -> None:
    death = make("death_process")
    ll = death.log_lik(np.array([3.0]), np.array([[-0.5], [1.0]]), np.array([1.0]))
    assert ll[0] == -np.inf and np.isfinite(ll[1])
    emotion = make("emotion")
    theta = emotion.sample_prior(np.random.default_rng(29), 2)
    theta[0, 35] = -1.0  # a negative noise scale
    d = emotion.sample_designs(np.random.default_rng(30), 1)[0]
    ll = emotion.log_lik(np.full(8, 4.0), theta, d)
    assert ll[0] == -np.inf and np.isfinite(ll[1])


def test_emotion_density_and_draws() -> None:
    model = make("emotion")
    theta, designs = draws(model, 11)
    rng = np.random.default_rng(12)
    for th, d in itertools.product(theta, designs):
        mean, sd = model.mean_outcome(th, d), th[32:]
        y = model.simulate(th, d, rng)
        ref = stats.norm.logpdf(y, mean, sd).sum()
        assert model.log_lik(y, th, d) == pytest.approx(ref, rel=1e-10)
        ys = model.simulate(np.repeat(th[None], 4000, axis=0), d, rng)
        assert np.all(np.abs(ys.mean(axis=0) - mean) < Z * sd / math.sqrt(4000))
        np.testing.assert_allclose(ys.std(axis=0), sd, rtol=0.06)


# ----- broadcasting ------------------------------------------------------------------
@pytest.mark.parametrize("key", KEYS)
def test_log_lik_broadcasts_like_a_loop(key: str) -> None:
    model = make(key)
    rng = np.random.default_rng(13)
    theta, d = model.sample_prior(rng, 5), model.sample_designs(rng, 1)[0]
    ys = model.simulate(model.sample_prior(rng, 4), d, rng)
    grid = model.log_lik(ys[:, None], theta[None, :], d)
    assert grid.shape == (4, 5)
    loop = np.array([[model.log_lik(y, th, d) for th in theta] for y in ys])
    np.testing.assert_allclose(grid, loop, rtol=1e-9, atol=1e-9)
    assert model.simulate(theta, d, rng).shape == (5, *model.outcome_shape)
    assert model.log_prior(theta[None]).shape == (1, 5)


def test_diag_normal_fast_path_equals_elementwise() -> None:
    rng = np.random.default_rng(14)
    y, m = rng.normal(size=(6, 1, 3)), rng.normal(size=(1, 7, 3))
    sd = rng.uniform(0.1, 2.0, size=(1, 7, 3))
    fast = diag_normal_loglik(y, m, sd)
    slow = stats.norm.logpdf(y, m, sd).sum(axis=-1)
    np.testing.assert_allclose(fast, slow, rtol=1e-9)


# ----- seeding -----------------------------------------------------------------------
@pytest.mark.parametrize("key", KEYS)
def test_same_seed_same_world(key: str) -> None:
    runs = []
    for _ in range(2):
        model = model_class(key)()
        rng = np.random.default_rng(15)
        model.instantiate(rng)
        theta = model.sample_prior(rng, 3)
        d = model.sample_designs(rng, 2)
        y = model.simulate(theta, d[0], rng)
        runs.append((dict(model.context), theta, d, y))
    (c1, *a1), (c2, *a2) = runs
    assert c1.keys() == c2.keys() and all(np.array_equal(c1[k], c2[k]) for k in c1)
    assert all(np.array_equal(x, y) for x, y in zip(a1, a2))


# ----- priors ------------------------------------------------------------------------
def _scipy_logpdf(m: Marginal, x: np.ndarray) -> np.ndarray:
    if isinstance(m, Normal):
        return stats.norm.logpdf(x, m.mean, m.sd)
    if isinstance(m, HalfNormal):
        return stats.halfnorm.logpdf(x, scale=m.sd)
    if isinstance(m, TruncNormal):
        a, b = (m.low - m.mean) / m.sd, (m.high - m.mean) / m.sd
        return stats.truncnorm.logpdf(x, a, b, loc=m.mean, scale=m.sd)
    assert isinstance(m, LogGamma)
    return stats.loggamma.logpdf(x, m.shape, loc=-math.log(m.rate))


@pytest.mark.parametrize("key", KEYS)
def test_log_prior_is_the_product_of_scipy_marginals(key: str) -> None:
    model = make(key)
    theta = model.sample_prior(np.random.default_rng(16), 50)
    lp = model.log_prior(theta)
    assert np.all(np.isfinite(lp))
    ref = sum(_scipy_logpdf(m, theta[:, i]) for i, m in enumerate(model.priors))
    np.testing.assert_allclose(lp, ref, rtol=1e-9)


MARGINALS = {str(m): m for key in KEYS for m in make(key).priors}


def _range(m: Marginal) -> tuple[float, float]:
    """An interval holding all but ~1e-30 of the marginal's mass."""
    if isinstance(m, LogGamma):  # tails: exp(shape u) on the left, exp(-rate e^u) right
        return -70.0 / m.shape, math.log(200.0 / m.rate)
    centre = 0.0 if isinstance(m, HalfNormal) else m.mean
    assert isinstance(m, (Normal, HalfNormal, TruncNormal))
    return max(m.low, centre - 12 * m.sd), min(m.high, centre + 12 * m.sd)


@pytest.mark.parametrize("name", sorted(MARGINALS))
def test_marginal_normalises_and_matches_its_sampler(name: str) -> None:
    m = MARGINALS[name]
    lo, hi = _range(m)
    pdf = lambda x: float(np.exp(m.logpdf(np.array(x))))  # noqa: E731
    mass = integrate.quad(pdf, lo, hi, limit=400)[0]
    assert mass == pytest.approx(1.0, abs=1e-6)
    mean = integrate.quad(lambda x: x * pdf(x), lo, hi, limit=400)[0]
    x = m.sample(np.random.default_rng(17), 40_000)
    assert np.all((x >= m.low) & (x <= m.high))
    assert abs(x.mean() - mean) < Z * x.std() / math.sqrt(len(x))
    assert m.logpdf(np.array(m.low - 1.0)) == -np.inf or math.isinf(m.low)


# ----- designs -----------------------------------------------------------------------
@pytest.mark.parametrize("key", KEYS)
def test_sampled_designs_validate_and_box_errors_name_the_field(key: str) -> None:
    model = make(key)
    designs = model.sample_designs(np.random.default_rng(18), 200)
    for d in designs:
        np.testing.assert_array_equal(model.validate_design(d), d)
    for j, field in enumerate(model.design_space.fields):
        bad = designs[0].copy()
        bad[j] = field.high + 1
        with pytest.raises(IllegalActionError, match=field.name):
            model.validate_design(bad)


@pytest.mark.parametrize(("key", "change", "field"), [
    ("hyperbolic_discounting", {0: 50.0, 1: 50.0}, "immediate_reward"),
    ("death_process", {0: 0.0}, "t"),
    ("moral_machine", {j: 0.0 for j in range(18)}, "g1_"),
    ("emotion", {3: 0.5, 4: 0.1, 5: 0.1}, "prob_"),
    ("emotion", {3: 0.0, 4: 0.5, 5: 0.5, 6: 0.0}, "win"),
])
def test_constraint_violations_raise_naming_the_field(key: str, change: dict, field: str
                                                      ) -> None:
    model = make(key)
    bad = model.sample_designs(np.random.default_rng(19), 1)[0]
    for j, v in change.items():
        bad[j] = v
    with pytest.raises(IllegalActionError, match=field):
        model.validate_design(bad)


@pytest.mark.parametrize("key", DISCRETE)
def test_outcome_support_sums_to_one_for_many_thetas(key: str) -> None:
    model = make(key)
    theta, designs = draws(model, 20, n_theta=200, n_design=5)
    for d in designs:
        support = model.outcome_support(d)
        probs = np.exp(model.log_lik(support[:, None], theta[None, :], d))
        np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=1e-9)


# ----- goals -------------------------------------------------------------------------
@pytest.mark.parametrize("key", KEYS)
def test_prior_prediction_is_the_prior_predictive_mean(key: str) -> None:
    model = make(key)
    rng = np.random.default_rng(21)
    particles = model.sample_prior(rng, 4000)
    w = np.full(len(particles), 1.0 / len(particles))
    for goal in model.goals:
        queries = model.eval_queries(goal, rng, 3)
        pred = model.predict(goal, particles, w, queries, rng)
        if goal.kind == "parameter":
            assert len(queries) == 1 and pred.shape == (1, len(goal.answer_names))
            continue
        assert pred.shape == (3, *model.outcome_shape)
        for q, p in zip(queries, pred):
            ys = model.simulate(particles, q, rng)  # one draw per prior particle
            if goal.error == "squared":
                se = ys.std(axis=0) / math.sqrt(len(ys))
                assert np.all(np.abs(ys.mean(axis=0) - p) <= Z * se + 1e-9)
            else:
                support = model.outcome_support(q)
                freq = np.array([(ys == s).mean() for s in support])
                if np.sort(freq)[-1] - np.sort(freq)[-2] > 0.05:
                    assert p == support[int(np.argmax(freq))]


@pytest.mark.parametrize("key", KEYS)
def test_perfect_answers_score_zero(key: str) -> None:
    model = make(key)
    rng = np.random.default_rng(22)
    theta = model.sample_prior(rng, 1)[0]
    for goal in model.goals:
        queries = model.eval_queries(goal, rng, 4)
        truth = model.true_answer(goal, theta, queries, rng)
        assert model.goal_error(goal, truth, truth) == 0.0
        assert model.goal_error(goal, truth + 1.0, truth) > 0.0


@pytest.mark.parametrize("key", ["hyperbolic_discounting", "death_process", "item_response"])
def test_parameter_goals_use_weighted_mean_or_mode(key: str) -> None:
    model = make(key)
    rng = np.random.default_rng(23)
    particles = model.sample_prior(rng, 500)
    w = rng.random(500)
    w /= w.sum()
    for goal in (g for g in model.goals if g.kind == "parameter"):
        values = model.parameter_answer(goal, particles)
        pred = model.predict(goal, particles, w, model.eval_queries(goal, rng, 5), rng)[0]
        if goal.error == "squared":
            np.testing.assert_allclose(pred, w @ values)
        else:
            mass = np.bincount(values[:, 0].astype(int), weights=w)
            assert pred[0] == np.argmax(mass)


def test_discounting_estimates_k_not_log_k() -> None:
    model = make("hyperbolic_discounting")
    theta = np.array([math.log(0.02), 1.0])
    truth = model.true_answer(model.goal("estimate_k"), theta, np.zeros((1, 3)), None)
    assert truth.tolist() == [[pytest.approx(0.02)]]


# ----- world-specific facts -----------------------------------------------------------
def test_location_intensity_sums_over_sources() -> None:
    model = make("location_finding", sources=3, log_intensity=False)
    theta = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 2.0])
    xi = np.array([0.0, 1.0])
    expected = 0.1 + 1 / (1e-4 + 1) + 1 / (1e-4 + 2) + 1 / (1e-4 + 1)
    assert float(model.intensity(theta, xi)) == pytest.approx(expected)
    log_model = make("location_finding", log_intensity=True)
    y = np.array([0.3])
    assert log_model.log_lik(y, theta, xi)[0] == pytest.approx(
        stats.norm.logpdf(0.3, math.log(expected), 0.5))
    assert model.log_lik(y, theta, xi)[0] == pytest.approx(stats.norm.logpdf(0.3, expected, 0.5))


def test_location_source_error_is_permutation_invariant() -> None:
    model = make("location_finding")
    goal = model.goal("locate_sources")
    truth = np.array([[0.0, 0.0, 1.0, 2.0, -1.0, 3.0]])
    for perm in itertools.permutations(range(3)):
        answer = truth.reshape(3, 2)[list(perm)].reshape(1, 6)
        assert model.goal_error(goal, answer, truth) == 0.0
    shifted = truth.reshape(3, 2)[[2, 0, 1]].reshape(1, 6) + 0.5
    assert model.goal_error(goal, shifted, truth) == pytest.approx(0.25)


def test_location_predict_relabels_particles() -> None:
    model = make("location_finding")
    rng = np.random.default_rng(24)
    truth = np.array([-2.0, 0.0, 0.0, 2.0, 2.0, -1.0])
    src = truth.reshape(3, 2)
    parts = np.stack([src[rng.permutation(3)].ravel() for _ in range(300)])
    parts += 0.05 * rng.standard_normal(parts.shape)
    goal = model.goal("locate_sources")
    pred = model.predict(goal, parts, np.ones(300), np.zeros((1, 2)), rng)
    assert model.goal_error(goal, pred, truth[None]) < 1e-3
    naive = np.repeat(parts.mean(axis=0)[None], 1, axis=0)  # label-switched mean
    assert model.goal_error(goal, naive, truth[None]) > 0.5


def test_survival_centred_form_can_fall_below_half() -> None:
    centred, original = make("survival", seed=25), make("survival", seed=25, form="boxinggym")
    theta = centred.sample_prior(np.random.default_rng(26), 500)
    pc = np.stack([centred.prob_death(theta, np.array([i])) for i in range(100)])
    po = np.stack([original.prob_death(theta, np.array([i])) for i in range(100)])
    assert (pc < 0.5).mean() > 0.1 and po.min() >= 0.5
    t, m = centred.context["time"], centred.context["metastasized"]
    lam = np.exp(theta[:, 0] + theta[:, 1] * m[:, None])
    np.testing.assert_allclose(pc, -np.expm1(-t[:, None] * lam), rtol=1e-12)
    assert "0: " in centred.describe_context() and len(t) == 100


def test_death_process_counts_and_question() -> None:
    model = make("death_process")
    goal = model.goal("predict_infected")
    assert "t=0.75" in model.question(goal, np.array([0.75]))
    theta = np.array([[1.2]])
    ys = model.simulate(np.repeat(theta, 2000, axis=0), np.array([0.5]),
                        np.random.default_rng(27))
    assert set(np.unique(ys)) <= set(range(51))  # raw counts, not rescaled
    assert ys.mean() == pytest.approx(50 * (1 - math.exp(-0.6)), abs=0.5)


def test_item_response_has_18_parameters_and_argmax_goals() -> None:
    model = make("item_response")
    assert len(model.param_names) == 18 and model.design_space.integer.all()
    theta = np.zeros(18)
    theta[4], theta[6 + 2], theta[12 + 5] = 2.0, 1.5, -3.0
    answers = [model.parameter_answer(model.goal(g), theta)[0]
               for g in ("best_student", "hardest_question", "most_discriminating")]
    assert answers == [4, 2, 5]


def test_moral_machine_templates_and_prompt() -> None:
    model = make("moral_machine")
    d = model.scenario(["boy", "girl"], ["dog"], swerve=True)
    model.validate_design(d)
    assert model.format_outcome(d, np.array(1.0), story=True).startswith(
        "The participant chose to save group 1 (the passengers: 1 boy, 1 girl)")
    assert "stay on course" in model.format_outcome(d, np.array(2.0), story=True)
    assert model.format_outcome(d, np.array(2.0), story=False) == "output 2"
    prompt = model.verbalise_prompt(d, np.array(2.0))
    assert "1 dog" in prompt and "save group 2" in prompt
    assert make("moral_machine", verbaliser="llm").params.verbaliser == "llm"


def test_emotion_template_and_prompt() -> None:
    model = make("emotion")
    d = np.array([10.0, 20.0, 30.0, 0.2, 0.3, 0.5, 0.0])
    y = np.arange(1.0, 9.0)
    text = model.format_outcome(d, y, story=True)
    assert text.startswith("The player reports feeling: happiness 1.0/9, sadness 2.0/9")
    assert "won $10" in model.verbalise_prompt(d, y)
    assert model.appraisal(d).tolist() == [10.0, -13.0, 13.0]


# ----- robustness and doctests ---------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(key=st.sampled_from(KEYS), seed=st.integers(0, 2**32 - 1))
def test_simulated_outcomes_have_finite_likelihood(key: str, seed: int) -> None:
    model = make(key, seed=seed % 1000)
    rng = np.random.default_rng(seed)
    theta, d = model.sample_prior(rng, 8), model.sample_designs(rng, 1)[0]
    y = model.simulate(theta, d, rng)
    ll = model.log_lik(y[:, None], theta[None, :], d)
    assert np.all(np.isfinite(np.diag(ll)))
    assert not np.any(np.isnan(ll))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"agora.envs.design.worlds.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0


def test_location_default_is_the_log_form_under_a_new_id() -> None:
    """v1 observes log intensity by default (raw-scale EIG was not estimable); BoxingGym's
    raw form stays one param away, and the id's version says the default changed."""
    assert make("location_finding").params.log_intensity is True
    assert make("location_finding", log_intensity=False).params.log_intensity is False
    assert task_id("location_finding") == "LocationFinding-v1"
    assert task_id("dugongs") == "Dugongs-v1"
