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
twice (the particle posterior's cost is its Metropolis proposals).
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
Version history: v0, first release.
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

CACHE_BYTES = 48 << 20
"""Memory for the kept grid trajectories of solved thetas (particles, proposals, draws):
six batches of 4,096 thetas solved to t = 50."""
PLANS = 8
"""Recent queries whose row-to-batch plans are remembered."""
_HASH = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                  0x27D4EB2F165667C5], dtype=np.uint64)


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
        self._cache = _TrajectoryCache(self.params)

    def __getstate__(self) -> dict:
        """Pickles without the trajectory cache."""
        return {**self.__dict__, "_cache": _TrajectoryCache(self.params)}

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
        const, coef = _rates(theta)
        out = np.empty_like(at_grid)
        with np.errstate(over="ignore"):
            for i, (k, t) in enumerate(zip(ks, times)):
                rest = float(t) - k * h
                out[i] = _rk4_step(at_grid[i], rest, const, coef) if rest > 0 else at_grid[i]
        return out

    def populations(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """The noise-free ``(prey, predators)`` at ``t`` ``(..., 2)``."""
        return np.exp(self.log_populations(theta, design))

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        log_pop = self.log_populations(theta, design)
        return np.exp(log_pop + self.params.noise * rng.standard_normal(log_pop.shape))

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


@dataclass
class _Trajectories:
    """Log states of a batch of thetas ``(B, 4)`` at grid points ``0 .. size - 1``, kept in
    ``states (capacity, 2, B)``, allocated (not touched) up to ``max_time`` at once."""

    theta: np.ndarray
    states: np.ndarray
    size: int

    @classmethod
    def start(cls, theta: np.ndarray, params: LotkaVolterraParams) -> _Trajectories:
        """The initial state ``(log prey0, log predators0)`` of every theta."""
        states = np.empty((int(params.max_time / params.step) + 2, 2, len(theta)))
        states[0, 0] = math.log(params.prey0)
        states[0, 1] = math.log(params.predators0)
        return cls(theta, states, 1)

    @property
    def nbytes(self) -> int:
        """Bytes of the states solved so far."""
        return 16 * self.size * len(self.theta)

    def extend(self, k_max: int, step: float) -> None:
        """Solve on along the grid up to index ``k_max``."""
        if self.size > k_max:
            return
        if k_max >= len(self.states):
            grown = np.empty((max(2 * len(self.states), k_max + 1), *self.states.shape[1:]))
            grown[:self.size] = self.states[:self.size]
            self.states = grown
        const, coef = _rates(self.theta)
        with np.errstate(over="ignore"):
            for k in range(self.size, k_max + 1):
                _rk4_step(self.states[k - 1], step, const, coef, out=self.states[k])
        self.size = k_max + 1

    def at(self, ks: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """States ``(len(ks), 2, len(cols))`` of columns ``cols`` at grid indices ``ks``."""
        return self.states[ks][:, :, cols]


class _TrajectoryCache:
    """The trajectories of recently solved thetas, found again row by row: particles that
    were resampled or not moved, and draws from the particles, are never solved twice.

    One sorted index of row hashes over the kept batches (``keys``, with each entry's
    batch id and column) makes a lookup one ``searchsorted``. The row-to-batch plans of
    the last :data:`PLANS` queries are remembered, and a query asked a fourth time (EIG
    asks about one set of draws for many designs) gets its rows gathered into one batch.
    The oldest batches are dropped beyond :data:`CACHE_BYTES`.
    """

    def __init__(self, params: LotkaVolterraParams) -> None:
        self.params = params
        self.batches: dict[int, _Trajectories] = {}
        self.keys = np.empty(0, dtype=np.uint64)
        self.ids = np.empty(0, dtype=np.int64)
        self.cols = np.empty(0, dtype=np.int64)
        self.next_id = 0
        self.plans: dict[tuple, tuple[np.ndarray, list[_Part], int]] = {}
        self.answers: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def grid_states(self, theta: np.ndarray, ks: np.ndarray) -> np.ndarray:
        """Grid states ``(len(ks), 2, B)`` at grid indices ``ks`` (read-only: the last
        few answers are handed out again for the same question)."""
        key = (theta.shape, hash(theta.tobytes()), ks.tobytes())
        known = self.answers.get(key)
        if known is not None and np.array_equal(known[0], theta):
            return known[1]
        k_max = int(ks.max()) if len(ks) else 0
        out = np.empty((len(ks), 2, len(theta)))
        for batch, rows, cols in self._plan(theta, k_max):
            batch.extend(k_max, self.params.step)
            out[:, :, rows] = batch.at(ks, cols)
        self.answers[key] = (theta.copy(), out)
        while len(self.answers) > PLANS:
            self.answers.pop(next(iter(self.answers)))
        return out

    def _plan(self, theta: np.ndarray, k_max: int) -> list[_Part]:
        key = (theta.shape, hash(theta.tobytes()))
        known = self.plans.get(key)
        if known is not None and self._kept(known[1]) and np.array_equal(known[0], theta):
            if len(known[1]) == 1 or known[2] < 2:
                self.plans[key] = (known[0], known[1], known[2] + 1)
                return known[1]
            plan = [self._gather(known[0], known[1])]  # asked a fourth time: one batch
        else:
            plan = self._lookup(theta, k_max)
        if self._kept(plan):
            self.plans[key] = (theta.copy(), plan, 0)
            while len(self.plans) > PLANS:
                self.plans.pop(next(iter(self.plans)))
        return plan

    def _lookup(self, theta: np.ndarray, k_max: int) -> list[_Part]:
        """Where each row's trajectory is kept, solving the rows found nowhere."""
        plan: list[_Part] = []
        keys = _row_keys(theta)
        todo = np.ones(len(theta), dtype=bool)
        if len(self.keys):
            pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            hit = self.keys[pos] == keys
            for bid in np.unique(self.ids[pos[hit]]):
                rows = np.flatnonzero(hit & (self.ids[pos] == bid))
                cols = self.cols[pos[rows]]
                batch = self.batches[int(bid)]
                same = np.all(batch.theta[cols] == theta[rows], axis=1)
                plan.append((batch, rows[same], cols[same]))
                todo[rows[same]] = False
        if todo.any():
            rows = np.flatnonzero(todo)
            fresh = _Trajectories.start(theta[rows], self.params)
            fresh.extend(k_max, self.params.step)
            self._remember(fresh, keys[rows])
            plan.append((fresh, rows, np.arange(len(rows))))
        return plan

    def _gather(self, theta: np.ndarray, plan: list[_Part]) -> _Part:
        """The rows of a plan copied into one batch of their own (and indexed)."""
        size = min(batch.size for batch, _, _ in plan)
        states = np.empty((size, 2, len(theta)))
        for batch, rows, cols in plan:
            states[:, :, rows] = batch.states[:size][:, :, cols]
        whole = _Trajectories(theta, states, size)
        self._remember(whole, _row_keys(theta))
        return whole, np.arange(len(theta)), np.arange(len(theta))

    def _remember(self, batch: _Trajectories, keys: np.ndarray) -> None:
        """Keep a batch and index its rows, unless it alone exceeds the memory; drop the
        oldest beyond it."""
        if batch.nbytes > CACHE_BYTES:
            return
        bid, self.next_id = self.next_id, self.next_id + 1
        self.batches[bid] = batch
        order = np.argsort(keys)  # merged into the sorted index
        dest = np.searchsorted(self.keys, keys[order], side="right") + np.arange(len(keys))
        kept = np.ones(len(self.keys) + len(keys), dtype=bool)
        kept[dest] = False
        for name, added in (("keys", keys[order]), ("ids", bid), ("cols", order)):
            merged = np.empty(len(kept), dtype=getattr(self, name).dtype)
            merged[dest], merged[kept] = added, getattr(self, name)
            setattr(self, name, merged)
        while sum(b.nbytes for b in self.batches.values()) > CACHE_BYTES:
            oldest = min(self.batches)
            del self.batches[oldest]
            keep = self.ids != oldest
            self.keys, self.ids, self.cols = self.keys[keep], self.ids[keep], self.cols[keep]

    def _kept(self, plan: list[_Part]) -> bool:
        return all(any(part[0] is b for b in self.batches.values()) for part in plan)


_Part = tuple[_Trajectories, np.ndarray, np.ndarray]
"""A batch, the query rows it holds and their columns in it."""


def _row_keys(theta: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's bytes ``(B,)`` (collisions are checked by the caller)."""
    bits = theta.view(np.uint64)
    out = bits[:, 0] * _HASH[0]
    for j in range(1, bits.shape[1]):
        out ^= (bits[:, j] * _HASH[j]) >> np.uint64(j)
    return out


def _rates(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``const`` (alpha, -gamma) and ``coef`` (-beta, delta) ``(2, B)`` of the log ODE."""
    return (np.stack([theta[:, 0], -theta[:, 2]]), np.stack([-theta[:, 1], theta[:, 3]]))


def _rk4_step(state: np.ndarray, h: float, const: np.ndarray, coef: np.ndarray,
              out: np.ndarray | None = None) -> np.ndarray:
    """One classical RK4 step of ``d(u, v)/dt = const + coef * exp(v, u)`` (the caller
    silences overflow: an exploding population is an ``inf`` log-likelihood, not an error)."""

    def rate(s: np.ndarray) -> np.ndarray:
        e = np.exp(s[::-1])
        e *= coef
        e += const
        return e

    k1 = rate(state)
    k2 = rate(state + (0.5 * h) * k1)
    k3 = rate(state + (0.5 * h) * k2)
    k4 = rate(state + h * k3)
    k2 += k3
    k2 *= 2.0
    k1 += k2
    k1 += k4
    k1 *= h / 6.0
    return np.add(state, k1, out=out)


MODELS = (LotkaVolterra,)
