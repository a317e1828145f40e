"""The Lotka-Volterra world's ODE solver and its trajectory cache.

The log populations ``(u, v)`` follow ``du/dt = alpha - beta e^v``, ``dv/dt = delta e^u -
gamma``; :func:`rk4_step` takes one classical RK4 step for many thetas at once, and
:class:`TrajectoryCache` keeps the grid trajectories of recently solved thetas so that
rows asked again are never solved twice. This module's name starts with ``_`` so the
world discovery skips it.

Example:
    >>> theta = np.array([[0.1, 0.02, 0.4, 0.01]])  # at equilibrium (40, 5) nothing moves
    >>> state = np.log([[40.0], [5.0]])
    >>> bool(np.allclose(rk4_step(state, 0.5, *rates(theta)), state))
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

CACHE_BYTES = 48 << 20
"""Memory for the kept grid trajectories of solved thetas (particles, proposals, draws):
six batches of 4,096 thetas solved to t = 50."""
PLANS = 8
"""Recent queries whose row-to-batch plans are remembered."""
_HASH = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                  0x27D4EB2F165667C5], dtype=np.uint64)


class GridSetup(Protocol):
    """The numbers a trajectory needs (the world's params provide them)."""

    @property
    def prey0(self) -> float: ...

    @property
    def predators0(self) -> float: ...

    @property
    def max_time(self) -> float: ...

    @property
    def step(self) -> float: ...


@dataclass
class Trajectories:
    """Log states of a batch of thetas ``(B, 4)`` at grid points ``0 .. size - 1``, kept in
    ``states (capacity, 2, B)``, allocated (not touched) up to ``max_time`` at once."""

    theta: np.ndarray
    states: np.ndarray
    size: int

    @classmethod
    def start(cls, theta: np.ndarray, params: GridSetup) -> Trajectories:
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
        const, coef = rates(self.theta)
        with np.errstate(over="ignore"):
            for k in range(self.size, k_max + 1):
                rk4_step(self.states[k - 1], step, const, coef, out=self.states[k])
        self.size = k_max + 1

    def at(self, ks: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """States ``(len(ks), 2, len(cols))`` of columns ``cols`` at grid indices ``ks``."""
        return self.states[ks][:, :, cols]


class TrajectoryCache:
    """The trajectories of recently solved thetas, found again row by row: particles that
    were resampled or not moved, and draws from the particles, are never solved twice.

    One sorted index of row hashes over the kept batches (``keys``, with each entry's
    batch id and column) makes a lookup one ``searchsorted``. The row-to-batch plans of
    the last :data:`PLANS` queries are remembered, and a query asked a fourth time (EIG
    asks about one set of draws for many designs) gets its rows gathered into one batch.
    The oldest batches are dropped beyond :data:`CACHE_BYTES`.
    """

    def __init__(self, params: GridSetup) -> None:
        self.params = params
        self.batches: dict[int, Trajectories] = {}
        self.keys = np.empty(0, dtype=np.uint64)
        self.ids = np.empty(0, dtype=np.int64)
        self.cols = np.empty(0, dtype=np.int64)
        self.next_id = 0
        self.plans: dict[tuple, tuple[np.ndarray, list[Part], int]] = {}
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

    def _plan(self, theta: np.ndarray, k_max: int) -> list[Part]:
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

    def _lookup(self, theta: np.ndarray, k_max: int) -> list[Part]:
        """Where each row's trajectory is kept, solving the rows found nowhere."""
        plan: list[Part] = []
        keys = row_keys(theta)
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
            fresh = Trajectories.start(theta[rows], self.params)
            fresh.extend(k_max, self.params.step)
            self._remember(fresh, keys[rows])
            plan.append((fresh, rows, np.arange(len(rows))))
        return plan

    def _gather(self, theta: np.ndarray, plan: list[Part]) -> Part:
        """The rows of a plan copied into one batch of their own (and indexed)."""
        size = min(batch.size for batch, _, _ in plan)
        states = np.empty((size, 2, len(theta)))
        for batch, rows, cols in plan:
            states[:, :, rows] = batch.states[:size][:, :, cols]
        whole = Trajectories(theta, states, size)
        self._remember(whole, row_keys(theta))
        return whole, np.arange(len(theta)), np.arange(len(theta))

    def _remember(self, batch: Trajectories, keys: np.ndarray) -> None:
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

    def _kept(self, plan: list[Part]) -> bool:
        return all(any(part[0] is b for b in self.batches.values()) for part in plan)


Part = tuple[Trajectories, np.ndarray, np.ndarray]
"""A batch, the query rows it holds and their columns in it."""


def row_keys(theta: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's bytes ``(B,)`` (collisions are checked by the caller)."""
    bits = theta.view(np.uint64)
    out = bits[:, 0] * _HASH[0]
    for j in range(1, bits.shape[1]):
        out ^= (bits[:, j] * _HASH[j]) >> np.uint64(j)
    return out


def rates(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``const`` (alpha, -gamma) and ``coef`` (-beta, delta) ``(2, B)`` of the log ODE."""
    return (np.stack([theta[:, 0], -theta[:, 2]]), np.stack([-theta[:, 1], theta[:, 3]]))


def rk4_step(state: np.ndarray, h: float, const: np.ndarray, coef: np.ndarray,
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
