"""Baseline scientists for the design worlds (face GAME).

Each receives a :class:`~agora.envs.design.types.ScientistView`: on a design turn it returns
a design ``(D,)``; on a query turn (``view.goal`` set) it returns the Bayes-optimal answers
``model.predict`` gives under the view's particle posterior (the world's posterior of this
history; the prior for a novice that only read an explanation, i.e. the prior-predictive
mean). All randomness comes from the agent's own seeded generator.

* ``random_designer``: a uniformly random valid design.
* ``space_filling``: a plan of ``budget`` designs spread over the box, a Latin hypercube
  (``method="lhs"``) or a grid visited farthest-point first (``method="grid"``); a planned
  design that breaks a model constraint is replaced by the nearest valid random design.
* ``greedy_eig``: one-step Bayes-optimal: screens ``n_candidates`` random designs with
  :func:`~agora.envs.design.eig.eig_many`, re-estimates the best ``n_refine`` with a full
  :func:`~agora.envs.design.eig.eig` and plays the winner.
* ``posterior_sampling``: Thompson-style: draws one hypothesis ``theta_s`` from the
  posterior and plays the candidate design where that hypothesis and the posterior
  predictive disagree most, ``KL(p(y | theta_s, x) || p(y | data, x))`` (estimated by Monte
  Carlo). Averaged over ``theta_s`` this KL is the EIG, so the agent explores like
  greedy-EIG but randomised by its posterior draw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import logsumexp

from agora.agents.base import Agent, register_agent
from agora.envs.design.eig import eig, eig_many
from agora.envs.design.model import Model
from agora.envs.design.types import ScientistView
from agora.envs.design.world import DesignWorld
from agora.envs.errors import ConfigError, IllegalActionError


def _positive_int(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"parameter {name}={value!r} must be a positive integer")
    return value


class Scientist(Agent):
    """Base of the baselines: answers queries with the posterior; subclasses design."""

    games = (DesignWorld,)

    def act(self, obs: ScientistView) -> np.ndarray:
        if obs.is_query:
            return self.answer(obs)
        return self.design(obs)

    def answer(self, obs: ScientistView) -> np.ndarray:
        """Bayes-optimal answers under the view's posterior."""
        assert obs.goal is not None and obs.queries is not None
        post = obs.posterior
        return np.asarray(obs.model.predict(obs.goal, post.particles, post.weights,
                                            obs.queries, self.rng))

    def design(self, obs: ScientistView) -> np.ndarray:
        """The next design ``(D,)``."""
        raise NotImplementedError


@register_agent("random_designer")
class RandomDesigner(Scientist):
    """Uniformly random valid designs; answers with the posterior."""

    def design(self, obs: ScientistView) -> np.ndarray:
        return np.asarray(obs.model.sample_designs(self.rng, 1)[0], dtype=float)


def latin_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` points in ``[0, 1)^d``, one per row stratum in every coordinate.

    Example:
        >>> u = latin_hypercube(np.random.default_rng(0), 5, 2)
        >>> sorted(np.floor(u[:, 0] * 5).astype(int).tolist())
        [0, 1, 2, 3, 4]
    """
    strata = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return (strata + rng.random((n, d))) / n


def grid_order(n: int, d: int) -> np.ndarray:
    """``n`` points of a regular grid in ``[0, 1]^d`` (cell centres, ``ceil(n^(1/d))`` per
    axis), visited farthest-point first from the centre-most point.

    Example:
        >>> grid_order(3, 1).ravel().tolist()
        [0.5, 0.16666666666666666, 0.8333333333333334]
    """
    m = max(1, math.ceil(n ** (1.0 / d) - 1e-9))
    axes = [(np.arange(m) + 0.5) / m] * d
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    chosen = [int(np.argmin(np.sum((grid - 0.5) ** 2, axis=1)))]
    dist = np.sum((grid - grid[chosen[0]]) ** 2, axis=1)
    while len(chosen) < min(n, len(grid)):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.sum((grid - grid[nxt]) ** 2, axis=1))
    return grid[chosen]


@register_agent("space_filling")
class SpaceFilling(Scientist):
    """A space-filling plan (Latin hypercube or grid) of ``budget`` designs.

    Args:
        method: ``"lhs"`` or ``"grid"``.
        pool: valid random designs to repair planned designs that break a constraint.
    """

    def __init__(self, method: str = "lhs", pool: int = 256) -> None:
        super().__init__()
        if method not in ("lhs", "grid"):
            raise ConfigError(f"parameter method={method!r} must be 'lhs' or 'grid'")
        self.method = method
        self.pool = _positive_int("pool", pool)
        self._plan: np.ndarray | None = None

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self._plan = None

    def design(self, obs: ScientistView) -> np.ndarray:
        if self._plan is None:
            self._plan = self.plan(obs.model, obs.budget)
        return self._plan[obs.step % len(self._plan)]

    def plan(self, model: Model, n: int) -> np.ndarray:
        """``n`` valid designs spread over the design box."""
        space = model.design_space
        d = len(space.fields)
        u = (latin_hypercube(self.rng, n, d) if self.method == "lhs" else grid_order(n, d))
        low, high, ints = space.low, space.high, space.integer
        x = low + u * (high - low)
        x[:, ints] = np.minimum(np.floor(low + u * (high - low + 1)), high)[:, ints]
        pool = None
        for i in range(n):
            try:
                x[i] = model.validate_design(x[i])
            except IllegalActionError:
                if pool is None:
                    pool = np.asarray(model.sample_designs(self.rng, self.pool), dtype=float)
                scale = np.where(high > low, high - low, 1.0)
                x[i] = pool[int(np.argmin(np.sum(((pool - x[i]) / scale) ** 2, axis=1)))]
        return x


@register_agent("greedy_eig")
class GreedyEIG(Scientist):
    """One-step Bayes-optimal design over random candidates (screen, then refine).

    Args:
        n_candidates: random candidate designs per step.
        n_outer, n_inner: samples of the screening estimator (:func:`eig_many`).
        n_refine: best screened candidates re-estimated with a full :func:`eig` (the
            world's ``eig_outer`` x ``eig_inner``).
    """

    def __init__(self, n_candidates: int = 100, n_outer: int = 500, n_inner: int = 500,
                 n_refine: int = 3) -> None:
        super().__init__()
        self.n_candidates = _positive_int("n_candidates", n_candidates)
        self.n_outer = _positive_int("n_outer", n_outer)
        self.n_inner = _positive_int("n_inner", n_inner)
        self.n_refine = _positive_int("n_refine", n_refine)

    def design(self, obs: ScientistView) -> np.ndarray:
        model, post, p = obs.model, obs.posterior, obs.world.params
        pool = np.asarray(model.sample_designs(self.rng, self.n_candidates), dtype=float)
        scores = eig_many(model, post, pool, self.rng, n_outer=max(2, self.n_outer),
                          n_inner=self.n_inner)
        top = np.argsort(-scores, kind="stable")[:self.n_refine]
        if len(top) == 1:
            return pool[top[0]]
        full = [eig(model, post, pool[i], self.rng, n_outer=p.eig_outer,
                    n_inner=p.eig_inner).value for i in top]
        return pool[top[int(np.argmax(full))]]


@register_agent("posterior_sampling")
class PosteriorSampling(Scientist):
    """Thompson-style: the design where a posterior draw and the posterior disagree most.

    Args:
        n_candidates: random candidate designs per step.
        n_draws: outcomes simulated from the drawn hypothesis per candidate.
        n_inner: posterior samples for the predictive density.
    """

    def __init__(self, n_candidates: int = 100, n_draws: int = 16, n_inner: int = 256
                 ) -> None:
        super().__init__()
        self.n_candidates = _positive_int("n_candidates", n_candidates)
        self.n_draws = _positive_int("n_draws", n_draws)
        self.n_inner = _positive_int("n_inner", n_inner)

    def design(self, obs: ScientistView) -> np.ndarray:
        model, post = obs.model, obs.posterior
        theta_s = post.sample(self.rng, 1)[0]
        inner = post.sample(self.rng, self.n_inner)
        pool = np.asarray(model.sample_designs(self.rng, self.n_candidates), dtype=float)
        scores = [disagreement(model, theta_s, inner, x, self.n_draws, self.rng)
                  for x in pool]
        return pool[int(np.argmax(scores))]


def disagreement(model: Model, theta_s: np.ndarray, inner: np.ndarray, design: np.ndarray,
                 n_draws: int, rng: np.random.Generator) -> float:
    """Monte Carlo ``KL(p(y | theta_s, design) || mean_m p(y | inner_m, design))`` (nats)."""
    thetas = np.repeat(theta_s[None, :], n_draws, axis=0)
    y = np.asarray(model.simulate(thetas, design, rng), dtype=float)
    own = np.asarray(model.log_lik(y, theta_s, design), dtype=float)
    shape = (n_draws, 1, *model.outcome_shape)
    cross = np.asarray(model.log_lik(y.reshape(shape), inner[None, :, :], design), dtype=float)
    mix = logsumexp(cross, axis=1) - np.log(len(inner))
    value = float(np.mean(own - mix))
    return value if math.isfinite(value) else (math.inf if value > 0 else -math.inf)
