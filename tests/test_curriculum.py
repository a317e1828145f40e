"""The ALP-GMM teacher (issue 14): its mixture fit recovers known mixtures and scores them by
AIC, its ALP is the return gap to the nearest earlier task, and on a toy student whose
learnable half improves with practice it samples that half well above uniform, then
samples widely again once progress stops there."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from agora.envs import ConfigError
from agora.experiments.curriculum import ALPGMM, ParamSpace, best_gmm, fit_gmm

MEANS = np.array([[0.0, 0.0], [6.0, 1.0], [1.0, 7.0]])
COVS = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.4, 0.0], [0.0, 0.4]],
                 [[0.8, -0.2], [-0.2, 1.2]]])
WEIGHTS = np.array([0.5, 0.3, 0.2])


def _mixture(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    which = rng.choice(3, size=n, p=WEIGHTS)
    return np.array([rng.multivariate_normal(MEANS[j], COVS[j]) for j in which]), which


def test_em_recovers_a_known_three_component_mixture() -> None:
    """Well-separated components: the fit is each true cluster's own sample moments
    (up to EM's tolerance), and those are near the generating ones."""
    rng = np.random.default_rng(1)
    x, which = _mixture(1500, rng)
    gmm = fit_gmm(x, 3, rng)
    order = [int(np.argmin(((gmm.means - m) ** 2).sum(axis=1))) for m in MEANS]
    assert sorted(order) == [0, 1, 2]
    for j, o in enumerate(order):
        mine = x[which == j]
        np.testing.assert_allclose(gmm.means[o], mine.mean(axis=0), atol=0.01)
        np.testing.assert_allclose(gmm.covs[o], np.cov(mine.T, bias=True), atol=0.02)
        assert gmm.weights[o] == pytest.approx(len(mine) / len(x), abs=0.005)
    np.testing.assert_allclose(gmm.means[order], MEANS, atol=0.15)


def test_log_likelihood_and_aic_match_the_closed_form() -> None:
    """log L is the mixture density summed with scipy's own normal pdf; AIC = 2p - 2 log L
    with p = (k - 1) + k d + k d (d + 1) / 2 = 17 for k = 3, d = 2."""
    rng = np.random.default_rng(2)
    x, _ = _mixture(400, rng)
    gmm = fit_gmm(x, 3, rng)
    density = sum(w * stats.multivariate_normal(m, c).pdf(x)
                  for w, m, c in zip(gmm.weights, gmm.means, gmm.covs))
    assert gmm.log_likelihood == pytest.approx(np.log(density).sum(), rel=1e-9)
    assert gmm.n_params == 17
    assert gmm.aic == pytest.approx(34 - 2 * np.log(density).sum(), rel=1e-9)


def test_aic_picks_the_true_number_of_components() -> None:
    rng = np.random.default_rng(3)
    x, _ = _mixture(600, rng)
    assert len(best_gmm(x, rng, 2, 6).weights) == 3


def test_alp_is_the_return_gap_to_the_nearest_earlier_task() -> None:
    """Brute force: for each update, scan every earlier task in the unit cube."""
    space = ParamSpace.parse({"n_firms": [2, 6], "a": [100.0, 160.0]})
    teacher = ALPGMM(space, fit_rate=1000, seed=4)
    rng = np.random.default_rng(4)
    seen: list[tuple[tuple[float, float], float]] = []
    for _ in range(200):
        task = teacher.sample()
        ret = float(rng.normal())
        unit = ((task["n_firms"] - 2) / 4, (task["a"] - 100.0) / 60.0)
        if seen:
            dist = [(unit[0] - u[0]) ** 2 + (unit[1] - u[1]) ** 2 for u, _ in seen]
            expected = abs(ret - seen[int(np.argmin(dist))][1])
        else:
            expected = 0.0
        assert teacher.update(task, ret) == pytest.approx(expected, abs=1e-12)
        seen.append((unit, ret))
    assert [h["alp"] for h in teacher.history][1:4] == pytest.approx(
        [abs(seen[i][1] - seen[int(np.argmin([(seen[i][0][0] - u[0]) ** 2 + (
            seen[i][0][1] - u[1]) ** 2 for u, _ in seen[:i]]))][1]) for i in (1, 2, 3)])


def test_the_space_rounds_and_clips_integers_and_names_bad_ranges() -> None:
    space = ParamSpace.parse({"n_firms": [2, 6], "discount": [0.5, 0.99]})
    assert space.from_unit(np.array([-0.3, 1.7])) == {"n_firms": 2, "discount": 0.99}
    assert space.from_unit(np.array([0.6, 0.0])) == {"n_firms": 4, "discount": 0.5}
    with pytest.raises(ConfigError, match=r"teacher.params.discount: want \[low, high\]"):
        ParamSpace.parse({"discount": [0.9, 0.5]}, "teacher.params")
    with pytest.raises(ConfigError, match="random_fraction"):
        ALPGMM(space, random_fraction=1.5)


def _practice(teacher: ALPGMM, episodes: int, rng: np.random.Generator) -> np.ndarray:
    """A synthetic student on x in [0, 1]: below 0.5 (ten bins) its return is the bin's
    practice count capped at 3, over 3 (it learns, then has learnt); above 0.5 it is 0
    whatever it does (unlearnable). Returns the sampled x's."""
    counts = np.zeros(10)
    xs = np.empty(episodes)
    for i in range(episodes):
        task = teacher.sample()
        x = xs[i] = task["x"]
        ret = 0.0
        if x < 0.5:
            b = min(int(x * 20), 9)
            ret = min(counts[b], 3) / 3
            counts[b] += 1
        teacher.update(task, ret)
    return xs


def test_the_teacher_concentrates_on_the_learnable_half_then_spreads_again() -> None:
    """fit_rate 250, 20% random, min_alp 0.05: episodes 0-249 are uniform; the fits at
    250 and 500 see progress below 0.5 and sample there (binomial test against the
    uniform 1/2, and a margin: at least 75%); by 750 the window's mean ALP has fallen
    under 0.05 (the half is learnt), so episodes 750-1249 are uniform again (45-55%)."""
    teacher = ALPGMM(ParamSpace.parse({"x": [0.0, 1.0]}), min_alp=0.05, seed=0)
    xs = _practice(teacher, 1250, np.random.default_rng(0))
    focused = int((xs[250:750] < 0.5).sum())
    assert focused >= 0.75 * 500
    assert stats.binomtest(focused, 500, 0.5, alternative="greater").pvalue < 1e-12
    alps = np.array([h["alp"] for h in teacher.history])
    assert alps[250:500].mean() > 0.05 >= alps[500:750].mean()
    late = xs[750:]
    assert 0.40 <= (late < 0.5).mean() <= 0.60
    assert {h["source"] for h in teacher.history[750:]} == {"random"}
    assert stats.kstest(late, "uniform").pvalue > 1e-3
