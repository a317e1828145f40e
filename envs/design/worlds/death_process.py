"""Death process: a disease spreads through a population; count the infected at time t.

Description: each of ``population`` healthy individuals is infected by time ``t``
independently with probability ``1 - exp(-theta t)``, so the count is
``y ~ Binomial(population, 1 - exp(-theta t))``.
Latent parameter: the infection rate ``theta ~ N(1, 1)`` truncated to ``[0, 2]``.
Designs: the observation time ``t`` in ``(0, max_time]``.
Outcome: the number infected, ``0..population`` (exact EIG by summing over all counts;
EIG is in nats, nothing is rescaled: BoxingGym divided it by 50).
Goals: ``predict_infected`` (squared error of the count at a query time; the question
states the time, which BoxingGym's overwritten question never showed) and
``estimate_rate`` (squared error on ``theta``).
Reference: BoxingGym (Gandhi et al. 2025) ``death_process``; Cook, Gibson & Gilligan
(2008), optimal observation times in epidemic models.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import special

from agora.envs.core import GameInfo, Params, Timing, is_int, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import BoxingModel, Marginal, TruncNormal
from agora.envs.errors import IllegalActionError


@dataclass(frozen=True)
class DeathParams(Params):
    """Numbers of the death-process world.

    Attributes:
        population: individuals at risk (the binomial ``n``).
        max_time: the latest observation time.
    """

    population: int = 50
    max_time: float = 2.0

    def validate(self) -> None:
        require(is_int(self.population) and self.population >= 1, "population",
                self.population, "must be a positive integer")
        require(is_real(self.max_time) and self.max_time > 0, "max_time", self.max_time,
                "must be positive")


class DeathProcess(BoxingModel):
    """Binomial counts of infections by time ``t`` (see the module doc).

    Example:
        >>> model = DeathProcess()
        >>> float(model.mean_outcome(np.array([1.0]), np.array([np.log(2.0)])))
        25.0
    """

    key = "death_process"
    info = GameInfo(
        name="Death process",
        timing=Timing.SEQUENTIAL,
        description="Count infections in a population at chosen times; infer the "
                    "infection rate.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) death_process; Cook et al. (2008)")
    params_cls = DeathParams
    param_names = ("theta",)
    priors: ClassVar[tuple[Marginal, ...]] = (TruncNormal(1.0, 1.0, 0.0, 2.0),)
    outcome_discrete = True
    goals = (
        Goal("predict_infected", "outcome", "squared", ("count",),
             "Predict the integer output at the queried input t."),
        Goal("estimate_rate", "parameter", "squared", ("theta",),
             "Estimate the rate theta, where the output counts units that have "
             "switched by input t, each with probability 1 - exp(-theta t)."),
    )

    params: DeathParams

    def __init__(self, params: Params | dict | None = None) -> None:
        super().__init__(params)
        n = self.params.population
        self._support = np.arange(n + 1, dtype=float)
        self._log_choose = (special.gammaln(n + 1.0) - special.gammaln(self._support + 1.0)
                            - special.gammaln(n - self._support + 1.0))

    @property
    def story(self) -> str:  # type: ignore[override]
        n = self.params.population
        return (f"A disease is spreading in a population of {n} healthy individuals. You "
                f"choose a time t after the start and observe how many of the {n} "
                "individuals are infected by then. Each individual is infected "
                "independently, at an unknown infection rate.")

    @property
    def abstract(self) -> str:  # type: ignore[override]
        return ("An unknown random function maps a positive real input t to an integer "
                f"output between 0 and {self.params.population}. You choose inputs and "
                "observe outputs.")

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("t", 0.0, float(self.params.max_time), False,
                                        "time of the observation (t > 0)"),))

    def check_design(self, design: np.ndarray) -> None:
        if not design[0] > 0.0:
            raise IllegalActionError(f"design t={design[0]:g} must be greater than 0")

    def sample_designs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        t = self.params.max_time * (1.0 - rng.random((n, 1)))  # in (0, max_time]
        return t

    def _rates(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return np.asarray(theta, dtype=float)[..., 0] * float(design[0])

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        p = -np.expm1(-self._rates(theta, design))
        return np.asarray(rng.binomial(self.params.population, np.clip(p, 0.0, 1.0)), dtype=float)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """Binomial log pmf with ``log p = log(-expm1(-theta t))``, ``log(1-p) = -theta t``."""
        n = self.params.population
        rate = self._rates(theta, design)
        with np.errstate(divide="ignore", invalid="ignore"):  # theta t = 0: p = 0
            log_p = np.maximum(np.log(-np.expm1(-rate)), -1e300)
        y = np.asarray(y, dtype=float)
        valid = (y >= 0) & (y <= n) & (y == np.round(y))
        yi = np.where(valid, y, 0.0)
        with np.errstate(over="ignore"):  # y log p + (n - y) log(1 - p), in place
            out = yi * (log_p + rate)
            out -= n * rate
            out += self._log_choose[yi.astype(int)]
        if np.any(rate < 0):  # theta < 0 is off the prior's support: impossible
            out = np.where(rate < 0, -np.inf, out)
        return out if valid.all() else np.where(valid, out, -np.inf)

    def outcome_support(self, design: np.ndarray) -> np.ndarray:
        return self._support

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return self.params.population * -np.expm1(-self._rates(theta, design))

    def parameter_answer(self, goal: Goal, theta: np.ndarray) -> np.ndarray:
        return np.asarray(theta, dtype=float)[..., :1]

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        count = int(np.asarray(y))
        if story:
            return f"{count} of {self.params.population} individuals infected at t={design[0]:.4g}"
        return f"output {count}"


MODELS = (DeathProcess,)
