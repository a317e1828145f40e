"""Coin worlds: a conjugate Beta-Binomial case and a non-conjugate dial-controlled coin.

:class:`Coins` (``"coin"``): three coins with unknown heads rates ``p_j ~ Beta(a, b)``;
an experiment picks a coin and flips it ``flips`` times (``flips=1``: Bernoulli). The
posterior is ``Beta(a + heads_j, b + tails_j)`` per coin and the EIG has a closed form
(:meth:`Coins.exact_eig`), which validates the particle posterior and the exact EIG sum.

:class:`DialCoin` (``"coin_dial"``): a coin machine whose heads rate follows a dial
setting ``x``, ``P(heads) = sigmoid(exp(log_slope) (x - threshold))``; two parameters,
no conjugacy: the long reference is a posterior integrated on a fine grid.

Players: one scientist.
Actions: a coin index (``coin``) or a dial setting ``x`` in ``[-3, 3]`` (``coin_dial``).
Observations: the number of heads in ``flips`` flips.
Payoffs: per-experiment information gain; the final prediction error (lower is better).
Episode end: after the experiment budget, then the prediction queries.
Parameters: ``prior_a``, ``prior_b``, ``flips`` (coin); ``threshold_sd``,
``log_slope_mean``, ``log_slope_sd``, ``flips`` (dial).
Benchmark: the Beta-Binomial posterior and EIG in closed form (coin).
Reference: Lindley (1956), On a measure of the information provided by an experiment.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, xlog1py, xlogy

from agora.envs.core import GameInfo, Params, Timing, is_int, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal, Model

_LOG_2PI = float(np.log(2.0 * np.pi))


def binomial_log_pmf(k: np.ndarray, n: int, p: np.ndarray) -> np.ndarray:
    """``log Binomial(k | n, p)`` broadcasting ``k`` against ``p`` (``p`` clipped to [0, 1]).

    Example:
        >>> float(np.exp(binomial_log_pmf(np.array(1.0), 2, np.array(0.5))))
        0.5
    """
    k = np.asarray(k, dtype=float)
    p = np.clip(p, 0.0, 1.0)
    log_choose = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
    return log_choose + xlogy(k, p) + xlog1py(n - k, -p)


def _require_flips(flips: int) -> None:
    require(is_int(flips) and 1 <= flips <= 1000, "flips", flips,
            "must be an integer in 1..1000")


# ----- three coins, Beta-Binomial ---------------------------------------------------------
@dataclass(frozen=True)
class CoinParams(Params):
    """Numbers of the three-coin world.

    Attributes:
        prior_a, prior_b: the Beta prior of every heads rate (> 0).
        flips: flips per experiment (1: one Bernoulli outcome).
    """

    prior_a: float = 1.0
    prior_b: float = 1.0
    flips: int = 10

    def validate(self) -> None:
        for name in ("prior_a", "prior_b"):
            v = getattr(self, name)
            require(is_real(v) and v > 0, name, v, "must be a positive number")
        _require_flips(self.flips)


class Coins(Model):
    """Three coins with Beta-distributed heads rates; a design picks the coin to flip.

    Example:
        >>> m = Coins({"flips": 1})
        >>> a, b = m.exact_posterior(np.zeros((0, 1)), np.zeros(0))
        >>> round(m.exact_eig(np.array([0.0]), a, b), 4)  # log 2 - 1/2
        0.1931
    """

    key: ClassVar[str] = "coin"
    info: ClassVar[GameInfo] = GameInfo(
        name="Three coins", timing=Timing.SEQUENTIAL,
        description="Pick one of three biased coins to flip; learn their heads rates "
                    "(conjugate Beta-Binomial).",
        family="design", action_kind="discrete", observation_kind="outcome",
        reference="Lindley (1956)")
    params_cls: ClassVar[type[Params]] = CoinParams
    param_names: ClassVar[tuple[str, ...]] = ("p0", "p1", "p2")
    outcome_discrete: ClassVar[bool] = True
    goals: ClassVar[tuple[Goal, ...]] = (
        Goal("predict_heads", "outcome", "squared", ("heads",),
             "Predict the number of heads when the given coin is flipped."),
        Goal("estimate_rates", "parameter", "squared", ("p0", "p1", "p2"),
             "Estimate the probability of heads of each coin."),
    )
    story: ClassVar[str] = (
        "A magician hands you three coins, 0, 1 and 2, each possibly biased. In each "
        "experiment you choose a coin, it is flipped a fixed number of times and you are "
        "told how many flips landed heads. Learn how biased each coin is.")
    abstract: ClassVar[str] = (
        "There are three unknown probabilities p0, p1, p2 in [0, 1]. You may query an "
        "index j in {0, 1, 2} and observe a Binomial(n, p_j) count for a fixed n.")

    @property
    def cp(self) -> CoinParams:
        """The params, typed."""
        assert isinstance(self.params, CoinParams)
        return self.params

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("coin", 0, 2, integer=True,
                                        description="which coin to flip"),))

    def sample_prior(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.beta(self.cp.prior_a, self.cp.prior_b, size=(n, 3))

    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        a, b = self.cp.prior_a, self.cp.prior_b
        p = np.asarray(theta, dtype=float)
        inside = np.all((p >= 0.0) & (p <= 1.0), axis=-1)
        q = np.clip(p, 0.0, 1.0)
        dens = np.sum(xlogy(a - 1.0, q) + xlog1py(b - 1.0, -q), axis=-1) - 3 * betaln(a, b)
        return np.where(inside, dens, -np.inf)

    def _rate(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return np.asarray(theta, dtype=float)[..., int(np.asarray(design).flat[0])]

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        p = np.clip(self._rate(theta, design), 0.0, 1.0)
        return np.asarray(rng.binomial(self.cp.flips, p), dtype=float)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return binomial_log_pmf(y, self.cp.flips, self._rate(theta, design))

    def outcome_support(self, design: np.ndarray) -> np.ndarray | None:
        return np.arange(self.cp.flips + 1, dtype=float)

    # ----- closed forms --------------------------------------------------------------
    def exact_posterior(self, designs: np.ndarray | Sequence[Sequence[float]],
                        ys: np.ndarray | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Per-coin Beta posterior parameters ``(alpha (3,), beta (3,))``."""
        coin = np.asarray(designs, dtype=float).reshape(-1).astype(int)
        heads = np.asarray(ys, dtype=float).reshape(-1)
        h = np.bincount(coin, weights=heads, minlength=3)
        n = np.bincount(coin, minlength=3) * self.cp.flips
        return self.cp.prior_a + h, self.cp.prior_b + n - h

    def exact_eig(self, design: np.ndarray | Sequence[float], alpha: np.ndarray,
                  beta: np.ndarray) -> float:
        """The Beta-Binomial mutual information of flipping coin ``design`` when its
        heads rate is ``Beta(alpha[j], beta[j])``:
        ``H[BetaBinomial] - E_p H[Binomial(n, p)]`` via Beta integrals and digammas."""
        j = int(np.asarray(design, dtype=float).flat[0])
        return beta_binomial_mi(self.cp.flips, float(alpha[j]), float(beta[j]))

    # ----- goals ---------------------------------------------------------------------
    def true_answer(self, goal: Goal, theta: np.ndarray, queries: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
        if goal.kind == "parameter":
            return np.asarray(theta, dtype=float).reshape(1, 3)
        return super().true_answer(goal, theta, queries, rng)

    def predict(self, goal: Goal, particles: np.ndarray, weights: np.ndarray,
                queries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Posterior means: heads counts at the queried coins, or the rates ``(1, 3)``."""
        mean = np.asarray(weights, dtype=float) @ np.asarray(particles, dtype=float)
        if goal.kind == "parameter":
            return mean.reshape(1, 3)
        coins = np.asarray(queries, dtype=float).reshape(len(queries), -1)[:, 0].astype(int)
        return self.cp.flips * mean[coins]


def beta_binomial_mi(n: int, a: float, b: float) -> float:
    """Mutual information (nats) between ``p ~ Beta(a, b)`` and ``y ~ Binomial(n, p)``.

    Example:
        >>> bool(np.isclose(beta_binomial_mi(1, 1.0, 1.0), np.log(2) - 0.5))
        True
    """
    k = np.arange(n + 1, dtype=float)
    log_choose = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
    log_ratio = betaln(k + a, n - k + b) - betaln(a, b)
    marginal = np.exp(log_choose + log_ratio)
    e_plogp = a / (a + b) * (digamma(a + 1) - digamma(a + b + 1))
    e_qlogq = b / (a + b) * (digamma(b + 1) - digamma(a + b + 1))
    return float(-np.sum(marginal * log_ratio) + n * (e_plogp + e_qlogq))


# ----- the dial coin (non-conjugate) --------------------------------------------------
@dataclass(frozen=True)
class DialCoinParams(Params):
    """Numbers of the dial-coin world.

    Attributes:
        threshold_sd: prior sd of the dial setting where heads is 50% (mean 0).
        log_slope_mean, log_slope_sd: normal prior on the log steepness.
        flips: flips per experiment.
    """

    threshold_sd: float = 1.0
    log_slope_mean: float = 0.5
    log_slope_sd: float = 0.5
    flips: int = 10

    def validate(self) -> None:
        for name in ("threshold_sd", "log_slope_sd"):
            v = getattr(self, name)
            require(is_real(v) and v > 0, name, v, "must be a positive number")
        require(is_real(self.log_slope_mean), "log_slope_mean", self.log_slope_mean,
                "must be a number")
        _require_flips(self.flips)


class DialCoin(Model):
    """``heads ~ Binomial(flips, sigmoid(exp(log_slope) (x - threshold)))``.

    Example:
        >>> m = DialCoin()
        >>> lik = np.exp(m.log_lik(np.array(5.0), np.array([0.0, 0.0]), np.array([0.0])))
        >>> round(float(lik) * 1024, 6)  # C(10, 5) / 2^10
        252.0
    """

    key: ClassVar[str] = "coin_dial"
    info: ClassVar[GameInfo] = GameInfo(
        name="Dial coin", timing=Timing.SEQUENTIAL,
        description="A coin machine whose heads rate follows a dial (logistic link); "
                    "find its threshold.",
        family="design", action_kind="continuous", observation_kind="outcome",
        reference="psychometric functions; Lindley (1956)")
    params_cls: ClassVar[type[Params]] = DialCoinParams
    param_names: ClassVar[tuple[str, ...]] = ("threshold", "log_slope")
    outcome_discrete: ClassVar[bool] = True
    goals: ClassVar[tuple[Goal, ...]] = (
        Goal("predict_heads", "outcome", "squared", ("heads",),
             "Predict the number of heads at the given dial setting."),
        Goal("estimate_threshold", "parameter", "squared", ("threshold",),
             "Estimate the dial setting at which the coin lands heads half the time."),
    )
    story: ClassVar[str] = (
        "A coin-flipping machine has a dial from -3 to 3. Turning it up makes the coin "
        "land heads more often, in a smooth S-shaped way. Each experiment sets the dial, "
        "flips the coin a fixed number of times and reports the number of heads. Find "
        "where the machine is fair and how sharply it changes.")
    abstract: ClassVar[str] = (
        "An unknown increasing S-shaped function p(x) maps x in [-3, 3] to [0, 1]. You "
        "may query x and observe a Binomial(n, p(x)) count for a fixed n.")

    @property
    def dp(self) -> DialCoinParams:
        """The params, typed."""
        assert isinstance(self.params, DialCoinParams)
        return self.params

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("x", -3.0, 3.0, description="the dial setting"),))

    def sample_prior(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.dp
        z = rng.standard_normal((n, 2))
        return np.column_stack([p.threshold_sd * z[:, 0],
                                p.log_slope_mean + p.log_slope_sd * z[:, 1]])

    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        p = self.dp
        t = np.asarray(theta, dtype=float)
        z0 = t[..., 0] / p.threshold_sd
        z1 = (t[..., 1] - p.log_slope_mean) / p.log_slope_sd
        return (-0.5 * (z0 * z0 + z1 * z1) - np.log(p.threshold_sd * p.log_slope_sd)
                - _LOG_2PI)

    def heads_rate(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``P(heads)`` at the dial setting, ``(...,)``."""
        t = np.asarray(theta, dtype=float)
        x = float(np.asarray(design).flat[0])
        return expit(np.exp(t[..., 1]) * (x - t[..., 0]))

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        return np.asarray(rng.binomial(self.dp.flips, self.heads_rate(theta, design)),
                          dtype=float)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return binomial_log_pmf(y, self.dp.flips, self.heads_rate(theta, design))

    def outcome_support(self, design: np.ndarray) -> np.ndarray | None:
        return np.arange(self.dp.flips + 1, dtype=float)

    def true_answer(self, goal: Goal, theta: np.ndarray, queries: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
        if goal.kind == "parameter":
            return np.asarray(theta, dtype=float)[:1].reshape(1, 1)
        return super().true_answer(goal, theta, queries, rng)

    def predict(self, goal: Goal, particles: np.ndarray, weights: np.ndarray,
                queries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Posterior means: heads counts at the queries ``(n,)``, or the threshold."""
        w = np.asarray(weights, dtype=float)
        theta = np.asarray(particles, dtype=float)
        if goal.kind == "parameter":
            return np.array([[w @ theta[:, 0]]])
        return np.array([self.dp.flips * (w @ self.heads_rate(theta, q)) for q in queries])


MODELS = (Coins, DialCoin)
