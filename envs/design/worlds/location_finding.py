"""Location finding: place a sensor, read the summed signal of K hidden point sources.

Description: ``K`` sources sit at unknown points ``theta_k`` of the plane. A reading at
``xi`` has mean intensity ``mu(xi) = b + sum_k alpha / (m + |theta_k - xi|^2)`` (every
source contributes; BoxingGym's likelihood looped over dimensions instead of sources).
Two observation forms:

* ``log_intensity=True`` (the default since v1; the DAD paper's form):
  ``y ~ N(log mu, noise^2)``. ``log mu`` spans ``[log b, log(b + K alpha / m)]`` (12.6
  at the defaults), so one reading can tell at most
  ``0.5 log(1 + 12.6^2 / (4 noise^2)) = 2.5`` nats, and a reading's information is spread
  over the whole plane rather than concentrated on the few designs next to a source:
  EIG, regret and the greedy scientist's ranking are well estimated here;
* ``log_intensity=False`` (BoxingGym's raw form, v0's default): ``y ~ N(mu, noise^2)``,
  heavy-tailed (a reading next to a source reaches ``alpha / m = 1e4``). Its limit is
  ``0.5 log(1 + (K alpha / m)^2 / (4 noise^2)) = 10.3`` nats and its EIGs are reported
  inside that and the particle entropy, but the prior spread of the prediction error is
  set by rare readings next to a source (``sigma0`` of ``predict_signal`` is 1.1e5,
  against 0.87 on the log scale), so its z-scores say little.

Latent parameters: ``theta = (x_1, y_1, ..., x_K, y_K)``, every coordinate ``N(0, 1)``.
Designs: ``[x, y]`` in ``[-extent, extent]^2``.
Goals: ``predict_signal`` (squared error of the reading at a query point drawn from
``N(0, I)``) and ``locate_sources`` (mean squared coordinate error, minimised over the
``K!`` matchings of predicted to true sources, as BoxingGym scores it).
Reference: BoxingGym (Gandhi et al. 2025) ``location_finding``; Foster et al. (2021),
Deep Adaptive Design (DAD).
Version history: v0, first release (raw); v1, the log-intensity form is the default
(raw-scale EIG was not estimable: values of thousands of nats above its 10.3-nat limit),
and ``reset(seed=...)`` follows the one seeding rule (:mod:`agora.envs.seeding`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_int, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import (
    LOG_SQRT_2PI,
    BoxingModel,
    Marginal,
    Normal,
)


@dataclass(frozen=True)
class LocationParams(Params):
    """Numbers of the location-finding world.

    Attributes:
        sources: the number ``K`` of hidden sources.
        noise: the observation noise ``sigma`` (raw scale, or log scale with
            ``log_intensity``).
        b: the background intensity.
        m: the saturation constant (the peak of one source is ``alpha / m``).
        alpha: the strength of every source.
        log_intensity: observe ``log mu`` plus noise (DAD, the default) instead of ``mu``
            plus noise (BoxingGym's raw form: ``False``).
        extent: designs lie in ``[-extent, extent]^2``.
    """

    sources: int = 3
    noise: float = 0.5
    b: float = 0.1
    m: float = 1e-4
    alpha: float = 1.0
    log_intensity: bool = True
    extent: float = 4.0

    def validate(self) -> None:
        require(is_int(self.sources) and 1 <= self.sources <= 6, "sources", self.sources,
                "must be an integer in 1..6")
        for name in ("noise", "b", "m", "alpha", "extent"):
            value = getattr(self, name)
            require(is_real(value) and value > 0, name, value, "must be a positive number")
        require(isinstance(self.log_intensity, bool), "log_intensity", self.log_intensity,
                "must be true or false")


class LocationFinding(BoxingModel):
    """K hidden sources of a summed signal (see the module doc).

    Example:
        >>> model = LocationFinding({"sources": 2})
        >>> theta = np.array([0.0, 0.0, 3.0, 4.0])
        >>> round(float(model.intensity(theta, np.array([0.0, 0.0]))), 2)  # b + 1/m + 1/(m+25)
        10000.14
    """

    key = "location_finding"
    info = GameInfo(
        name="Location finding",
        timing=Timing.SEQUENTIAL,
        description="Locate hidden point sources from noisy readings of their summed "
                    "signal.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) location_finding; Foster et al. (2021) "
                  "Deep Adaptive Design")
    params_cls = LocationParams

    params: LocationParams

    def __init__(self, params: Params | dict | None = None) -> None:
        super().__init__(params)
        k = self.params.sources
        self._perms = np.array(list(itertools.permutations(range(k))), dtype=int)

    # ----- declarations that depend on K ---------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(f"{c}{k + 1}" for k in range(self.params.sources) for c in "xy")

    @property
    def priors(self) -> tuple[Marginal, ...]:  # type: ignore[override]
        return (Normal(0.0, 1.0),) * (2 * self.params.sources)

    @property
    def goals(self) -> tuple[Goal, ...]:  # type: ignore[override]
        scale = "the log signal" if self.params.log_intensity else "the signal"
        return (
            Goal("predict_signal", "outcome", "squared", ("signal",),
                 f"Predict the output ({scale} reading) at the queried point."),
            Goal("locate_sources", "parameter", "custom", self.param_names,
                 f"Give the 2-D coordinates of all {self.params.sources} hidden points "
                 "(any order)."),
        )

    @property
    def story(self) -> str:  # type: ignore[override]
        k = self.params.sources
        kind = ("the logarithm of the signal intensity" if self.params.log_intensity
                else "the signal intensity")
        return (f"{k} signal sources are hidden at unknown locations in a 2-D plane. Each "
                "source emits a signal that falls off with the squared distance from it, "
                "and the intensity at a point is the sum over sources plus a small "
                f"background. You place a sensor at a point (x, y) and read {kind}, with "
                "measurement noise.")

    @property
    def abstract(self) -> str:  # type: ignore[override]
        return ("An unknown function maps a 2-D input (x, y) to a noisy real-valued output. "
                f"It is determined by {self.params.sources} unknown 2-D points. You choose "
                "inputs and observe outputs.")

    @property
    def design_space(self) -> DesignSpace:
        e = float(self.params.extent)
        return DesignSpace((
            DesignField("x", -e, e, False, "sensor x coordinate"),
            DesignField("y", -e, e, False, "sensor y coordinate"),
        ))

    # ----- the model -----------------------------------------------------------------
    def intensity(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``mu(xi)`` for every theta ``(...,)``: one pass over the ``K`` sources."""
        p = self.params
        src = np.asarray(theta, dtype=float).reshape(
            np.shape(theta)[:-1] + (p.sources, 2))
        d2 = np.sum((src - np.asarray(design, dtype=float)) ** 2, axis=-1)
        return p.b + np.sum(p.alpha / (p.m + d2), axis=-1)

    def _location(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        mu = self.intensity(theta, design)
        return np.log(mu) if self.params.log_intensity else mu

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        loc = self._location(theta, design)
        return loc + self.params.noise * rng.standard_normal(loc.shape)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        loc = self._location(theta, design)
        scale = -0.5 / self.params.noise ** 2
        d = np.asarray(np.subtract(np.asarray(y, dtype=float), loc))
        np.multiply(d, d, out=d)
        d *= scale
        d -= math.log(self.params.noise) + LOG_SQRT_2PI
        return d

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return self._location(theta, design)

    def gaussian_channel(self, theta: np.ndarray, design: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """The reading is its location plus Gaussian noise of known scale."""
        return self._location(theta, design), np.asarray(self.params.noise)

    def eval_queries(self, goal: Goal, rng: np.random.Generator, n: int) -> np.ndarray:
        """Query points from ``N(0, I)`` as in BoxingGym (clipped to the design box)."""
        if goal.kind == "parameter":
            return self.sample_designs(rng, 1)
        e = self.params.extent
        return np.clip(rng.standard_normal((n, 2)), -e, e)

    # ----- locating the sources --------------------------------------------------------
    def parameter_answer(self, goal: Goal, theta: np.ndarray) -> np.ndarray:
        return np.asarray(theta, dtype=float)

    def matched_sq_errors(self, answers: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """Per-row mean squared coordinate error under the best matching of sources,
        ``answers`` ``(..., 2K)`` against ``truth`` ``(..., 2K)``."""
        k = self.params.sources
        a = np.asarray(answers, dtype=float).reshape(np.shape(answers)[:-1] + (k, 2))
        t = np.asarray(truth, dtype=float).reshape(np.shape(truth)[:-1] + (k, 2))
        d2 = np.sum((a[..., :, None, :] - t[..., None, :, :]) ** 2, axis=-1)  # (..., K, K)
        costs = d2[..., self._perms, np.arange(k)].sum(axis=-1)  # (..., K!)
        return costs.min(axis=-1) / (2 * k)

    def goal_error(self, goal: Goal, answers: np.ndarray, truth: np.ndarray) -> float:
        if goal.name == "locate_sources":
            return float(np.mean(self.matched_sq_errors(answers, truth)))
        return super().goal_error(goal, answers, truth)

    def predict(self, goal: Goal, particles: np.ndarray, weights: np.ndarray,
                queries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For ``locate_sources``: relabel every particle's sources to match the current
        estimate (starting from the heaviest particle), take the weighted mean, repeat.
        The prior is exchangeable, so a plain mean would collapse all sources to one
        centroid; this is the usual relabelling fix, close to Bayes-optimal."""
        if goal.name != "locate_sources":
            return super().predict(goal, particles, weights, queries, rng)
        w = np.asarray(weights, dtype=float) / np.sum(weights)
        parts = np.asarray(particles, dtype=float)
        k = self.params.sources
        src = parts.reshape(len(parts), k, 2)
        est = src[int(np.argmax(w))]
        for _ in range(5):
            d2 = np.sum((src[:, :, None, :] - est[None, None, :, :]) ** 2, axis=-1)
            costs = d2[:, self._perms, np.arange(k)].sum(axis=-1)  # (M, K!)
            best = self._perms[np.argmin(costs, axis=1)]  # (M, K): source of est slot j
            aligned = np.take_along_axis(src, best[:, :, None], axis=1)
            est = np.tensordot(w, aligned, axes=(0, 0))
        return np.repeat(est.reshape(1, 2 * k), len(queries), axis=0)


MODELS = (LocationFinding,)
