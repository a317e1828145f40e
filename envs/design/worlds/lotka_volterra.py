"""Lotka-Volterra: predator and prey populations observed at chosen times.

Description: prey ``x`` and predators ``y`` follow ``dx/dt = alpha x - beta x y`` and
``dy/dt = delta x y - gamma y`` from ``(x0, y0) = (40, 9)``. The ODE is solved in log
populations (``du/dt = alpha - beta e^v``, ``dv/dt = delta e^u - gamma``, which keeps them
positive) by classical RK4 with a fixed step, vectorised over all thetas at once; that
solution *is* the world's definition, so ``simulate`` and ``log_lik`` agree exactly (at the
default step it is within 1e-3 in log population of a tight adaptive solver up to t = 50,
a hundredth of the observation noise). A whole history is one pass along the grid, and
the grid trajectories of recently solved parameter rows are kept and found again row by
row, so resampled or unmoved particles and draws from the particles are never solved
twice (the particle posterior's cost is its Metropolis proposals); the solver and the
cache live in :mod:`._trajectories`.
BoxingGym observed the populations without noise, so the likelihood was a delta and EIG
did not exist; here each population is observed with multiplicative log-normal noise:
``log y_obs ~ N(log y(t), noise^2)`` independently for prey and predators.
Latent parameters: ``alpha ~ N(0.1, 0.01^2)``, ``beta ~ N(0.02, 0.01^2)``,
``gamma ~ N(0.4, 0.04^2)``, ``delta ~ N(0.01, 0.001^2)``, each truncated to positive values
(a negative rate makes the populations explode; BoxingGym's untruncated ``beta`` is
negative with probability 2%).
Designs: ``[t]`` in ``[0, max_time]``.
Outcome: ``(prey, predators)``, positive reals.
Goals: ``predict_populations`` (squared error averaged over both species, at query
times ``4 Beta(2, 5)`` as in BoxingGym).
Reference: BoxingGym (Gandhi et al. 2025) ``lotka_volterra``; Lotka (1925), Volterra
(1926).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import (
    LOG_SQRT_2PI,
    BoxingModel,
    Marginal,
    TruncNormal,
    diag_normal_loglik,
)
from agora.envs.design.worlds._trajectories import (
    CACHE_BYTES,
    PLANS,
    TrajectoryCache,
    rates,
    rk4_step,
)

__all__ = ["CACHE_BYTES", "MODELS", "PLANS", "LotkaVolterra", "LotkaVolterraParams"]


@dataclass(frozen=True)
class LotkaVolterraParams(Params):
    """Numbers of the Lotka-Volterra world.

    Attributes:
        noise: the standard deviation of the log of an observed population.
        prey0: prey at time 0.
        predators0: predators at time 0.
        max_time: the latest observation time.
        step: the RK4 grid step (a last, shorter step lands on the observation time).
    """

    noise: float = 0.1
    prey0: float = 40.0
    predators0: float = 9.0
    max_time: float = 50.0
    step: float = 0.5

    def validate(self) -> None:
        for name in ("noise", "prey0", "predators0", "max_time", "step"):
            value = getattr(self, name)
            require(is_real(value) and value > 0, name, value, "must be positive")


class LotkaVolterra(BoxingModel):
    """Noisy observations of a predator-prey ODE (see the module doc).

    Example:
        >>> model = LotkaVolterra()
        >>> theta = np.array([0.1, 0.02, 0.4, 0.01])   # equilibrium: (40, 5)
        >>> np.round(model.populations(theta, np.array([10.0])), 2).tolist()
        [29.35, 3.73]
    """

    key = "lotka_volterra"
    info = GameInfo(
        name="Lotka-Volterra",
        timing=Timing.SEQUENTIAL,
        description="Observe predator and prey populations at chosen times; learn the "
                    "interaction rates.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) lotka_volterra; Lotka (1925), "
                  "Volterra (1926)")
    params_cls = LotkaVolterraParams
    param_names = ("alpha", "beta", "gamma", "delta")
    priors: ClassVar[tuple[Marginal, ...]] = (
        TruncNormal(0.1, 0.01, 0.0), TruncNormal(0.02, 0.01, 0.0),
        TruncNormal(0.4, 0.04, 0.0), TruncNormal(0.01, 0.001, 0.0))
    outcome_shape = (2,)
    goals = (
        Goal("predict_populations", "outcome", "squared", ("prey", "predators"),
             "Predict the two outputs at the queried input."),
    )
    story = ("An ecosystem holds a prey species and a predator species. Prey multiply and "
             "are eaten; predators grow by eating prey and otherwise die off, so the two "
             "populations cycle. You choose a time t (days) and observe both population "
             "sizes, measured with some noise.")
    abstract = ("An unknown function of a non-negative real input t gives two positive "
                "real outputs, observed with noise. You choose inputs and observe outputs.")

    params: LotkaVolterraParams

    def __init__(self, params: Params | dict | None = None) -> None:
        super().__init__(params)
        self._cache = TrajectoryCache(self.params)

    def __getstate__(self) -> dict:
        """Pickles without the trajectory cache."""
        return {**self.__dict__, "_cache": TrajectoryCache(self.params)}

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("t", 0.0, float(self.params.max_time), False,
                                        "time of the observation in days"),))

    def log_populations(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """Log ``(prey, predators)`` at ``t = design[0]`` for every theta ``(..., 2)``: one
        RK4 solve over all thetas at once (each theta is integrated once per call)."""
        theta = np.asarray(theta, dtype=float)
        state = self._states_at(theta.reshape(-1, 4), np.array([float(design[0])]))[0]
        return state.T.reshape(theta.shape[:-1] + (2,))

    def _states_at(self, theta: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Log states ``(T, 2, B)`` at each of ``times`` for thetas ``(B, 4)``.

        The solution is defined on a fixed grid: full RK4 steps of ``step`` from 0 to the
        last grid point ``k * step <= t``, then one shortened step to ``t``. So a whole
        history is one pass along the grid, with exactly the values of separate solves.
        """
        h = self.params.step
        times = np.asarray(times, dtype=float)
        ks = np.floor(times / h).astype(int)
        at_grid = self._cache.grid_states(np.ascontiguousarray(theta, dtype=float), ks)
        const, coef = rates(theta)
        out = np.empty_like(at_grid)
        with np.errstate(over="ignore"):
            for i, (k, t) in enumerate(zip(ks, times)):
                rest = float(t) - k * h
                out[i] = rk4_step(at_grid[i], rest, const, coef) if rest > 0 else at_grid[i]
        return out

    def populations(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """The noise-free ``(prey, predators)`` at ``t`` ``(..., 2)``."""
        return np.exp(self.log_populations(theta, design))

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        log_pop = self.log_populations(theta, design)
        return np.exp(log_pop + self.params.noise * rng.standard_normal(log_pop.shape))

    def gaussian_channel(self, theta: np.ndarray, design: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """The log populations plus Gaussian noise (``y = exp(z)``)."""
        return self.log_populations(theta, design), np.asarray(self.params.noise)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """Log-normal density of both populations (with the ``-log y`` Jacobian)."""
        y = np.asarray(y, dtype=float)
        positive = np.all(y > 0, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_y = np.log(np.where(y > 0, y, 1.0))
        out = np.asarray(diag_normal_loglik(log_y, self.log_populations(theta, design),
                                            self.params.noise))
        out -= np.sum(log_y, axis=-1)
        return out if positive.all() else np.where(positive, out, -np.inf)

    def log_lik_history(self, outcomes: np.ndarray, theta: np.ndarray,
                        designs: np.ndarray) -> np.ndarray:
        """``sum_i log p(y_i | theta, t_i)`` ``(B,)`` for thetas ``(B, 4)`` with one pass
        along the time grid (the inference layer uses it for whole histories)."""
        theta = np.asarray(theta, dtype=float).reshape(-1, 4)
        ys = np.asarray(outcomes, dtype=float).reshape(-1, 2)
        if not np.all(ys > 0):
            return np.full(len(theta), -np.inf)
        states = self._states_at(theta, np.asarray(designs, dtype=float).reshape(-1))
        log_y = np.log(ys)
        z = (log_y[:, :, None] - states) / self.params.noise
        const = ys.size * (math.log(self.params.noise) + LOG_SQRT_2PI) + log_y.sum()
        return -0.5 * np.sum(z * z, axis=(0, 1)) - const

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return np.exp(self.log_populations(theta, design) + 0.5 * self.params.noise**2)

    def eval_queries(self, goal: Goal, rng: np.random.Generator, n: int) -> np.ndarray:
        """Times ``4 Beta(2, 5)`` (BoxingGym's evaluation times)."""
        return np.minimum(4.0 * rng.beta(2.0, 5.0, (n, 1)), self.params.max_time)

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        prey, pred = (float(v) for v in np.asarray(y))
        if story:
            return f"prey {prey:.4g}, predators {pred:.4g}"
        return f"output ({prey:.4g}, {pred:.4g})"


MODELS = (LotkaVolterra,)
