"""An ALP-GMM teacher (Portelas et al. 2019): env parameters chosen by learning progress.

The teacher treats a box of env parameters (a :class:`ParamSpace`: continuous ranges, and
integer ranges such as ``n_firms`` that are rounded and clipped) as a continuous bandit.
Each finished episode reports its task and return; its *absolute learning progress* (ALP)
is ``|return - return of the nearest previously sampled task|`` (nearest in the unit cube
the space maps onto). Every ``fit_rate`` episodes Gaussian mixtures of 2..``max_components``
components are fitted by EM to the last ``fit_rate`` (task, ALP) points and the one with the
lowest AIC is kept; a new task comes from one of its Gaussians, chosen in proportion to the
Gaussian's mean ALP. During the first ``bootstrap`` episodes, with probability
``random_fraction`` afterwards, and whenever the last window made no progress at all (every
ALP zero), the task is uniform over the space instead.

The mixture fit (:func:`fit_gmm`, :func:`best_gmm`) is our own small numpy EM with k-means++
seeding and full covariances, so the teacher needs no scikit-learn. ALP enters the fit
divided by the window's largest ALP, so that it weighs like one unit-cube coordinate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium
import numpy as np
import pandas as pd
from pydantic import BaseModel
from pydantic import Field as PydanticField

from agora.envs import ConfigError
from agora.experiments.config import STRICT
from agora.experiments.store import write_atomically

CURRICULUM_COLUMNS = ("episode", "task", "episodic_return", "alp", "source")
"""The leading columns of ``curriculum.parquet``; one column per parameter follows."""


@dataclass(frozen=True)
class ParamSpace:
    """A box of env parameters: ``name -> (low, high)``; integer bounds make an integer
    parameter (sampled values are rounded and clipped to the range).

    Example:
        >>> space = ParamSpace.parse({"n_firms": [2, 6], "a": [100.0, 160.0]})
        >>> space.from_unit(np.array([0.5, 0.5]))
        {'n_firms': 4, 'a': 130.0}
    """

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    integer: tuple[bool, ...]

    @classmethod
    def parse(cls, ranges: Mapping[str, Sequence[Any]], key: str = "params") -> ParamSpace:
        """Build a space from ``{name: [low, high]}``.

        Raises:
            ConfigError: naming ``key.name`` for a range that is not two numbers low < high.
        """
        if not ranges:
            raise ConfigError(f"{key}: want at least one parameter range, got {ranges!r}")
        low, high, integer = [], [], []
        for name, bounds in ranges.items():
            ok = (isinstance(bounds, list | tuple) and len(bounds) == 2
                  and all(isinstance(b, int | float) and not isinstance(b, bool)
                          for b in bounds) and bounds[0] < bounds[1])
            if not ok:
                raise ConfigError(f"{key}.{name}: want [low, high] with low < high, "
                                  f"got {bounds!r}")
            low.append(float(bounds[0]))
            high.append(float(bounds[1]))
            integer.append(all(isinstance(b, int) for b in bounds))
        return cls(tuple(ranges), np.array(low), np.array(high), tuple(integer))

    @property
    def dim(self) -> int:
        """The number of parameters."""
        return len(self.names)

    def to_unit(self, task: Mapping[str, Any]) -> np.ndarray:
        """A task's point in the unit cube."""
        x = np.array([float(task[n]) for n in self.names])
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: np.ndarray) -> dict[str, Any]:
        """The task at a unit-cube point (clipped to the cube; integers rounded)."""
        x = self.low + np.clip(u, 0.0, 1.0) * (self.high - self.low)
        return {n: int(round(v)) if is_int else float(v)
                for n, v, is_int in zip(self.names, x, self.integer)}


@dataclass(frozen=True)
class GMM:
    """A fitted Gaussian mixture with full covariances."""

    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, d)
    covs: np.ndarray  # (k, d, d)
    log_likelihood: float

    @property
    def n_params(self) -> int:
        """Free parameters: k - 1 weights, k d means, k d (d + 1) / 2 covariance terms."""
        k, d = self.means.shape
        return (k - 1) + k * d + k * d * (d + 1) // 2

    @property
    def aic(self) -> float:
        """Akaike's information criterion, 2 p - 2 log L (lower is better)."""
        return 2.0 * self.n_params - 2.0 * self.log_likelihood


def _log_densities(x: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """log N(x_i; mu_j, Sigma_j) for every point i and component j: shape (n, k)."""
    d = x.shape[1]
    _, log_det = np.linalg.slogdet(covs)
    diff = x[:, None, :] - means[None]  # (n, k, d)
    maha = (np.einsum("nkd,kde->nke", diff, np.linalg.inv(covs)) * diff).sum(axis=2)
    return -0.5 * (d * np.log(2 * np.pi) + log_det[None] + maha)


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeds: each next centre drawn in proportion to squared distance."""
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d2 = np.min([((x - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = d2.sum()
        p = d2 / total if total > 0 else np.full(len(x), 1.0 / len(x))
        centres.append(x[rng.choice(len(x), p=p)])
    return np.array(centres)


def fit_gmm(x: np.ndarray, k: int, rng: np.random.Generator, *, iterations: int = 100,
            tol: float = 1e-3, reg: float = 1e-6) -> GMM:
    """Fit a ``k``-component Gaussian mixture to the rows of ``x`` by EM.

    Responsibilities start from the nearest k-means++ seed; EM stops when the mean
    log-likelihood per point gains less than ``tol``; ``reg`` is added to every
    covariance's diagonal so that none collapses.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = np.concatenate([rng.normal(-5, 1, (200, 1)), rng.normal(5, 1, (200, 1))])
        >>> np.round(np.sort(fit_gmm(x, 2, rng).means[:, 0]))
        array([-5.,  5.])
    """
    n, d = x.shape
    seeds = _kmeans_pp(x, k, rng)
    nearest = np.argmin(((x[:, None, :] - seeds[None]) ** 2).sum(axis=2), axis=1)
    resp = np.eye(k)[nearest]
    previous = ll = -np.inf
    for _ in range(iterations):
        counts = resp.sum(axis=0) + 1e-12
        weights = counts / n
        means = (resp.T @ x) / counts[:, None]
        diff = x[:, None, :] - means[None]
        covs = (np.einsum("nkd,nke->kde", resp[:, :, None] * diff, diff)
                / counts[:, None, None]
                + reg * np.eye(d))
        logp = _log_densities(x, means, covs) + np.log(weights + 1e-300)
        top = logp.max(axis=1, keepdims=True)
        norm = top[:, 0] + np.log(np.exp(logp - top).sum(axis=1))
        ll = float(norm.sum())
        resp = np.exp(logp - norm[:, None])
        if (ll - previous) / n < tol:
            break
        previous = ll
    return GMM(weights, means, covs, ll)


def best_gmm(x: np.ndarray, rng: np.random.Generator, min_components: int = 2,
             max_components: int = 10) -> GMM:
    """The mixture of ``min_components..max_components`` components with the lowest AIC
    (sizes that would leave fewer than two points per component are skipped)."""
    sizes = range(min_components, max(min_components, min(max_components, len(x) // 2)) + 1)
    return min((fit_gmm(x, k, rng) for k in sizes), key=lambda g: g.aic)


@dataclass
class ALPGMM:
    """The ALP-GMM teacher over a :class:`ParamSpace` (see the module doc).

    Example:
        >>> teacher = ALPGMM(ParamSpace.parse({"a": [0.0, 1.0]}), fit_rate=20, seed=0)
        >>> for _ in range(60):
        ...     task = teacher.sample()
        ...     _ = teacher.update(task, episodic_return=task["a"])
        >>> teacher.gmm is not None and len(teacher.history) == 60
        True
    """

    space: ParamSpace
    fit_rate: int = 250
    max_components: int = 10
    random_fraction: float = 0.2
    bootstrap: int | None = None
    """Uniform episodes before the first fit (default: ``fit_rate``)."""
    min_alp: float = 0.0
    """A window whose mean ALP is at most this made no progress: sample uniformly until
    the next fit (0: only a window of all-zero ALP; an agora extension of ALP-GMM)."""
    seed: int | None = 0
    gmm: GMM | None = field(default=None, init=False)
    history: list[dict[str, Any]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.fit_rate < 4:
            raise ConfigError(f"fit_rate: want >= 4 episodes per fit, got {self.fit_rate}")
        if self.max_components < 2:
            raise ConfigError(f"max_components: want >= 2, got {self.max_components}")
        if not 0.0 <= self.random_fraction <= 1.0:
            raise ConfigError(f"random_fraction: want a probability, got "
                              f"{self.random_fraction}")
        self._rng = np.random.default_rng(self.seed)
        self._units = np.empty((0, self.space.dim))
        self._returns = np.empty(0)
        self._alps = np.empty(0)
        self._sources: dict[tuple[float, ...], str] = {}
        self._stalled = False

    def _uniform(self) -> bool:
        start = self.fit_rate if self.bootstrap is None else self.bootstrap
        return (self.gmm is None or len(self._alps) < start or self._stalled
                or self._rng.random() < self.random_fraction)

    def sample(self) -> dict[str, Any]:
        """The next task (a dict of env parameters)."""
        alp = np.maximum(self.gmm.means[:, -1], 0.0) if self.gmm is not None else None
        if self._uniform() or alp is None or alp.sum() <= 0:
            u, source = self._rng.random(self.space.dim), "random"
        else:
            assert self.gmm is not None
            j = self._rng.choice(len(alp), p=alp / alp.sum())
            point = self._rng.multivariate_normal(self.gmm.means[j], self.gmm.covs[j])
            u, source = point[:-1], "gmm"
        task = self.space.from_unit(u)
        self._sources[tuple(self.space.to_unit(task))] = source
        return task

    def alp(self, unit: np.ndarray, episodic_return: float) -> float:
        """|return - the return of the nearest earlier task| (0 for the first task)."""
        if not len(self._units):
            return 0.0
        nearest = int(np.argmin(((self._units - unit) ** 2).sum(axis=1)))
        return abs(float(episodic_return) - float(self._returns[nearest]))

    def update(self, task: Mapping[str, Any], episodic_return: float) -> float:
        """Record a finished episode on ``task``; refit every ``fit_rate`` episodes.

        Returns:
            The episode's ALP.
        """
        unit = self.space.to_unit(task)
        alp = self.alp(unit, episodic_return)
        self._units = np.vstack([self._units, unit])
        self._returns = np.append(self._returns, float(episodic_return))
        self._alps = np.append(self._alps, alp)
        self.history.append({"episode": len(self.history), "task": dict(task),
                             "episodic_return": float(episodic_return), "alp": alp,
                             "source": self._sources.pop(tuple(unit), "given")})
        if len(self._alps) % self.fit_rate == 0:
            self._fit()
        return alp

    def _fit(self) -> None:
        window = self._alps[-self.fit_rate:]
        top = window.max()
        self._stalled = top <= 0.0 or window.mean() <= self.min_alp
        if self._stalled:
            return
        x = np.column_stack([self._units[-self.fit_rate:], window / top])
        self.gmm = best_gmm(x, self._rng, 2, self.max_components)


class TeacherOptions(BaseModel):
    """The ``teacher:`` section of a training config (sb3 backend)."""

    model_config = STRICT

    kind: Literal["alp_gmm"] = "alp_gmm"
    params: dict[str, list[int | float]] = PydanticField(min_length=1)
    fit_rate: int = PydanticField(default=250, ge=4)
    max_components: int = PydanticField(default=10, ge=2)
    random_fraction: float = PydanticField(default=0.2, ge=0, le=1)
    bootstrap: int | None = PydanticField(default=None, ge=0)
    min_alp: float = PydanticField(default=0.0, ge=0)

    def teacher(self, seed: int) -> ALPGMM:
        """A fresh teacher for one training seed."""
        return ALPGMM(ParamSpace.parse(self.params, "teacher.params"),
                      fit_rate=self.fit_rate, max_components=self.max_components,
                      random_fraction=self.random_fraction, bootstrap=self.bootstrap,
                      min_alp=self.min_alp, seed=seed)


class CurriculumEnv(gymnasium.Env):  # type: ignore[type-arg]
    """A Gymnasium env whose every episode is a fresh env built on the teacher's task.

    ``make(task)`` builds the env of a task (a dict of parameters); each ``reset`` asks
    ``teacher.sample()`` for the task, and the episode's summed reward goes back through
    ``teacher.update`` when it ends. Every task's env must have the first one's spaces.

    Example:
        >>> from agora.envs import make_gym
        >>> teacher = ALPGMM(ParamSpace.parse({"a": [100.0, 160.0]}), fit_rate=8)
        >>> env = CurriculumEnv(lambda task: make_gym("Cournot-v1", params={
        ...     "rounds": 1, **task}, opponents={1: "cournot_nash"}), teacher)
        >>> _ = env.reset(seed=0)
        >>> _ = env.step(40)
        >>> [round(h["task"]["a"], 1) for h in teacher.history]
        [138.2]
    """

    def __init__(self, make: Callable[[dict[str, Any]], gymnasium.Env], teacher: ALPGMM
                 ) -> None:
        self.make, self.teacher = make, teacher
        self.task = teacher.space.from_unit(np.full(teacher.space.dim, 0.5))
        self.env = make(self.task)
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space
        self._rng = np.random.default_rng()
        self._return = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.task = self.teacher.sample()
        self.env = self.make(self.task)
        if (self.env.observation_space != self.observation_space
                or self.env.action_space != self.action_space):
            raise ConfigError(f"teacher.params: the task {self.task} changes the env's "
                              "spaces; vary only parameters that keep them")
        self._return = 0.0
        obs, info = self.env.reset(seed=int(self._rng.integers(2**31)))
        return obs, {**info, "task": dict(self.task)}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        if terminated or truncated:
            self.teacher.update(self.task, self._return)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def action_masks(self) -> np.ndarray:
        """The inner env's legal-action mask (for MaskablePPO)."""
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined, no-any-return]


def write_records(root: Path, histories: Mapping[int, list[dict[str, Any]]]) -> pd.DataFrame:
    """``curriculum.parquet``: a seed column, :data:`CURRICULUM_COLUMNS` (the task as
    JSON), then one column per parameter."""
    rows = [{"seed": seed, **{k: v for k, v in h.items() if k != "task"},
             "task": json.dumps(h["task"], sort_keys=True), **h["task"]}
            for seed, history in sorted(histories.items()) for h in history]
    frame = pd.DataFrame(rows)
    frame = frame[["seed", *CURRICULUM_COLUMNS,
                   *[c for c in frame.columns if c not in ("seed", *CURRICULUM_COLUMNS)]]]
    write_atomically(root / "curriculum.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
    return frame
