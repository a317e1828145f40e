"""Linear-Gaussian regression: the world whose posterior and EIG have closed forms.

A hidden quadratic ``f(x) = theta0 + theta1 x + theta2 x^2`` is measured with Gaussian
noise at inputs ``x`` the scientist picks in ``[-1, 1]``. The prior on ``theta`` is
``N(prior_mean, prior_sd^2 I)``, so after any history the posterior is Gaussian and the
expected information gain of a design is ``0.5 log(1 + phi' Sigma phi / sigma^2)``. Every
other world's inference and EIG are checked against this ruler.

Players: one scientist.
Actions: a design ``x`` in ``[-1, 1]``.
Observations: ``y = theta . phi(x) + N(0, noise_sd^2)`` with ``phi(x) = [1, x, x^2]``.
Payoffs: per-experiment information gain; the final prediction error (lower is better).
Episode end: after the experiment budget, then the prediction queries.
Parameters: ``prior_mean``, ``prior_sd``, ``noise_sd``.
Benchmark: :meth:`LinearGaussian.exact_posterior` and :meth:`LinearGaussian.exact_eig`;
the one-step optimal design maximises ``phi' Sigma phi`` (an end point at the start).
Reference: Chaloner & Verdinelli (1995), Bayesian experimental design: a review.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal, Model

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class LinearGaussianParams(Params):
    """Numbers of the linear-Gaussian world.

    Attributes:
        prior_mean: prior mean of every coefficient.
        prior_sd: prior standard deviation of every coefficient (> 0).
        noise_sd: measurement noise ``sigma`` (> 0).
    """

    prior_mean: float = 0.0
    prior_sd: float = 1.0
    noise_sd: float = 0.5

    def validate(self) -> None:
        require(is_real(self.prior_mean), "prior_mean", self.prior_mean, "must be a number")
        require(is_real(self.prior_sd) and self.prior_sd > 0, "prior_sd", self.prior_sd,
                "must be a positive number")
        require(is_real(self.noise_sd) and self.noise_sd > 0, "noise_sd", self.noise_sd,
                "must be a positive number")


def features(x: np.ndarray | float) -> np.ndarray:
    """The regression features ``[1, x, x^2]`` of inputs ``(...,)`` as ``(..., 3)``.

    Example:
        >>> features(0.5)
        array([1.  , 0.5 , 0.25])
    """
    x = np.asarray(x, dtype=float)
    return np.stack([np.ones_like(x), x, x * x], axis=-1)


class LinearGaussian(Model):
    """``y = theta . [1, x, x^2] + N(0, sigma^2)`` with a Gaussian prior on ``theta``.

    Example:
        >>> m = LinearGaussian()
        >>> mean, cov = m.exact_posterior(np.zeros((0, 1)), np.zeros(0))
        >>> bool(np.allclose(cov, np.eye(3)))
        True
        >>> round(m.exact_eig(np.array([1.0]), cov), 4)  # 0.5 log(1 + 3 / 0.25)
        1.2825
    """

    key: ClassVar[str] = "linear_gaussian"
    info: ClassVar[GameInfo] = GameInfo(
        name="Linear-Gaussian regression",
        timing=Timing.SEQUENTIAL,
        description="Measure a noisy quadratic at chosen inputs; closed-form posterior "
                    "and EIG (the ruler for the other worlds).",
        family="design",
        action_kind="continuous",
        observation_kind="outcome",
        reference="Chaloner & Verdinelli (1995)",
    )
    params_cls: ClassVar[type[Params]] = LinearGaussianParams
    param_names: ClassVar[tuple[str, ...]] = ("theta0", "theta1", "theta2")
    goals: ClassVar[tuple[Goal, ...]] = (
        Goal("predict_y", "outcome", "squared", ("y",),
             "Predict the measured output y at the input x."),
        Goal("estimate_theta", "parameter", "squared", ("theta0", "theta1", "theta2"),
             "Estimate the coefficients theta0, theta1, theta2 of "
             "f(x) = theta0 + theta1 x + theta2 x^2."),
    )
    story: ClassVar[str] = (
        "You are calibrating a sensor whose reading drifts with the temperature setting x "
        "(scaled to [-1, 1]). The mean reading is a smooth quadratic function of x with "
        "unknown coefficients, and every reading carries independent Gaussian noise. "
        "Choose settings to learn how the reading depends on x.")
    abstract: ClassVar[str] = (
        "There is an unknown function f(x) = theta0 + theta1 x + theta2 x^2 on [-1, 1]. "
        "You may query an input x and observe f(x) plus independent Gaussian noise.")

    @property
    def lg(self) -> LinearGaussianParams:
        """The params, typed."""
        assert isinstance(self.params, LinearGaussianParams)
        return self.params

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("x", -1.0, 1.0, description="the input setting"),))

    # ----- the generative model -----------------------------------------------------
    def sample_prior(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.lg
        return p.prior_mean + p.prior_sd * rng.standard_normal((n, 3))

    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        p = self.lg
        z = (np.asarray(theta, dtype=float) - p.prior_mean) / p.prior_sd
        return -0.5 * np.sum(z * z, axis=-1) - 3 * (np.log(p.prior_sd) + 0.5 * _LOG_2PI)

    def mean_output(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """The noise-free output ``theta . phi(x)``, ``(...,)``."""
        return np.asarray(theta, dtype=float) @ features(float(np.asarray(design).flat[0]))

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        mu = self.mean_output(theta, design)
        return mu + self.lg.noise_sd * rng.standard_normal(np.shape(mu))

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        s = self.lg.noise_sd
        z = (np.asarray(y, dtype=float) - self.mean_output(theta, design)) / s
        return -0.5 * z * z - (np.log(s) + 0.5 * _LOG_2PI)

    def gaussian_channel(self, theta: np.ndarray, design: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """The output plus Gaussian noise of known scale."""
        return self.mean_output(theta, design), np.asarray(self.lg.noise_sd)

    # ----- closed forms --------------------------------------------------------------
    def exact_posterior(self, designs: np.ndarray | Sequence[Sequence[float]],
                        ys: np.ndarray | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """The conjugate posterior ``(mean (3,), cov (3, 3))`` after ``designs (t, 1)``
        and outcomes ``ys (t,)``."""
        p = self.lg
        phi = features(np.asarray(designs, dtype=float).reshape(-1))
        y = np.asarray(ys, dtype=float).reshape(-1)
        precision = np.eye(3) / p.prior_sd**2 + phi.T @ phi / p.noise_sd**2
        cov = np.linalg.inv(precision)
        mean = cov @ (np.full(3, p.prior_mean) / p.prior_sd**2 + phi.T @ y / p.noise_sd**2)
        return mean, 0.5 * (cov + cov.T)

    def exact_eig(self, design: np.ndarray | Sequence[float], cov: np.ndarray) -> float:
        """``0.5 log(1 + phi' cov phi / sigma^2)``: the EIG of ``design`` when the current
        posterior covariance is ``cov``."""
        phi = features(float(np.asarray(design, dtype=float).flat[0]))
        return float(0.5 * np.log1p(phi @ cov @ phi / self.lg.noise_sd**2))

    # ----- goals ---------------------------------------------------------------------
    def true_answer(self, goal: Goal, theta: np.ndarray, queries: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
        if goal.kind == "parameter":
            return np.asarray(theta, dtype=float).reshape(1, 3)
        return super().true_answer(goal, theta, queries, rng)

    def predict(self, goal: Goal, particles: np.ndarray, weights: np.ndarray,
                queries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Posterior means: of ``y`` at each query ``(n,)``, or of ``theta`` ``(1, 3)``."""
        mean = np.asarray(weights, dtype=float) @ np.asarray(particles, dtype=float)
        if goal.kind == "parameter":
            return mean.reshape(1, 3)
        x = np.asarray(queries, dtype=float).reshape(len(queries), -1)[:, 0]
        return features(x) @ mean


MODELS = (LinearGaussian,)
