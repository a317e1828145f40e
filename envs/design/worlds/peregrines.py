"""Peregrines: counts of a falcon population over time, a Poisson cubic trend.

Description: the number of peregrine pairs observed at (scaled) time ``t`` is
``y ~ Poisson(exp(alpha + b1 t + b2 t^2 + b3 t^3))``: growth, a peak, then decline.
Latent parameters: ``alpha ~ N(4.5, 0.1^2)``, ``b1 ~ N(1.2, 0.1^2)``,
``b2 ~ N(0.07, 0.01^2)``, ``b3 ~ N(-0.24, 0.05^2)``.
Designs: ``[t]`` in ``[0, max_time]``.
Outcome: a count (unbounded support, so EIG is estimated by nested Monte Carlo).
Goals: ``predict_count`` (squared error at query times ``4 Beta(2, 5)``, as in BoxingGym).
Reference: BoxingGym (Gandhi et al. 2025) ``peregrines``; Kéry & Schaub (2012), Bayesian
Population Analysis, ch. 4.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import special

from agora.envs.core import GameInfo, Params, Timing, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import BoxingModel, Marginal, Normal


@dataclass(frozen=True)
class PeregrineParams(Params):
    """Numbers of the peregrine world.

    Attributes:
        max_time: the latest time a design may ask about.
    """

    max_time: float = 5.0

    def validate(self) -> None:
        require(is_real(self.max_time) and self.max_time > 0, "max_time", self.max_time,
                "must be positive")


class Peregrines(BoxingModel):
    """Poisson counts with a log-cubic trend (see the module doc).

    Example:
        >>> model = Peregrines()
        >>> theta = np.array([4.5, 1.2, 0.07, -0.24])
        >>> round(float(model.log_rate(theta, np.array([1.0]))), 2)   # 4.5+1.2+0.07-0.24
        5.53
    """

    key = "peregrines"
    info = GameInfo(
        name="Peregrines",
        timing=Timing.SEQUENTIAL,
        description="Count falcons at chosen times; learn the population trend.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) peregrines; Kery & Schaub (2012)")
    params_cls = PeregrineParams
    param_names = ("alpha", "b1", "b2", "b3")
    priors: ClassVar[tuple[Marginal, ...]] = (Normal(4.5, 0.1), Normal(1.2, 0.1),
                                              Normal(0.07, 0.01), Normal(-0.24, 0.05))
    outcome_discrete = True
    goals = (
        Goal("predict_count", "outcome", "squared", ("count",),
             "Predict the integer output at the queried input."),
    )
    story = ("Ecologists track a population of peregrine falcons. You choose a time t "
             "(scaled years since monitoring began) and count the breeding pairs seen "
             "then; counts are random around an unknown population trend.")
    abstract = ("An unknown random function maps a non-negative real input to a "
                "non-negative integer output. You choose inputs and observe outputs.")

    params: PeregrineParams

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("t", 0.0, float(self.params.max_time), False,
                                        "time of the count"),))

    def log_rate(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``alpha + b1 t + b2 t^2 + b3 t^3`` ``(...,)``."""
        t = float(design[0])
        return np.asarray(theta, dtype=float) @ np.array([1.0, t, t * t, t**3])

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        return np.asarray(rng.poisson(np.exp(self.log_rate(theta, design))), dtype=float)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        log_rate = self.log_rate(theta, design)
        y = np.asarray(y, dtype=float)
        valid = (y >= 0) & (y == np.round(y))
        yv = np.where(valid, y, 0.0)
        out = yv * log_rate
        out -= np.exp(log_rate)
        out -= special.gammaln(yv + 1.0)
        return out if valid.all() else np.where(valid, out, -np.inf)

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return np.exp(self.log_rate(theta, design))

    def eval_queries(self, goal: Goal, rng: np.random.Generator, n: int) -> np.ndarray:
        """Times ``4 Beta(2, 5)`` (BoxingGym's evaluation times), within the design box."""
        return np.minimum(4.0 * rng.beta(2.0, 5.0, (n, 1)), self.params.max_time)

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        count = int(np.asarray(y))
        return f"{count} pairs counted" if story else f"output {count}"


MODELS = (Peregrines,)
