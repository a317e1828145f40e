"""Hyperbolic temporal discounting: a person picks a reward now or a larger one later.

Description: the person values the immediate reward at ``V0 = iR`` and the delayed reward
at ``V1 = dR / (1 + k D)`` (hyperbolic discounting with rate ``k``) and chooses the
delayed one with probability ``eps + (1 - 2 eps) Phi((V1 - V0) / alpha)``: a probit choice
with noise scale ``alpha`` and a lapse rate ``eps``.
Latent parameters (declared parameterisation): ``log_k ~ N(-4.25, 0.5^2)``,
``alpha ~ HalfNormal(2)``.
Designs: ``[immediate_reward, delayed_reward, delay_days]``, integers (rewards in
``1..max_reward``, delay in ``1..max_delay``) with ``immediate_reward < delayed_reward``.
Outcome: 1 when the delayed reward is chosen, else 0 (exact EIG over ``{0, 1}``).
Goals: ``predict_choice`` (misclassification rate; BoxingGym reports accuracy) and
``estimate_k`` (squared error on ``k`` itself, not ``log k``).
Reference: BoxingGym (Gandhi et al. 2025) ``hyperbolic_temporal_discount``; Mazur (1987).
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
from agora.envs.design.worlds._boxing_common import (
    BoxingModel,
    HalfNormal,
    Marginal,
    Normal,
    two_class_loglik,
)
from agora.envs.errors import IllegalActionError


@dataclass(frozen=True)
class DiscountingParams(Params):
    """Numbers of the discounting world.

    Attributes:
        epsilon: lapse rate (probability of a random choice on either side), in [0, 0.5).
        max_reward: the largest reward in dollars a design may offer.
        max_delay: the longest delay in days.
    """

    epsilon: float = 0.01
    max_reward: int = 300
    max_delay: int = 365

    def validate(self) -> None:
        require(is_real(self.epsilon) and 0.0 <= self.epsilon < 0.5, "epsilon", self.epsilon,
                "must be in [0, 0.5)")
        require(is_int(self.max_reward) and self.max_reward >= 2, "max_reward",
                self.max_reward, "must be an integer >= 2")
        require(is_int(self.max_delay) and self.max_delay >= 1, "max_delay", self.max_delay,
                "must be an integer >= 1")


class HyperbolicDiscounting(BoxingModel):
    """Choices between an immediate and a delayed reward (see the module doc).

    Example:
        >>> model = HyperbolicDiscounting()
        >>> theta = np.array([np.log(0.01), 1.0])
        >>> p = np.exp(model.log_lik(np.array(1.0), theta, np.array([100.0, 200.0, 10.0])))
        >>> round(float(p), 4)   # V1 = 200 / 1.1 = 181.8 > 100: nearly always delayed
        0.99
    """

    key = "hyperbolic_discounting"
    info = GameInfo(
        name="Hyperbolic temporal discounting",
        timing=Timing.SEQUENTIAL,
        description="Choices between an immediate and a delayed reward; infer the "
                    "discount rate.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) hyperbolic_temporal_discount; "
                  "Mazur (1987)")
    params_cls = DiscountingParams
    param_names = ("log_k", "alpha")
    priors: ClassVar[tuple[Marginal, ...]] = (Normal(-4.25, 0.5), HalfNormal(2.0))
    outcome_discrete = True
    goals = (
        Goal("predict_choice", "outcome", "misclassification", ("choice",),
             "Predict the binary output (1 or 0) at the queried input."),
        Goal("estimate_k", "parameter", "squared", ("k",),
             "Estimate the rate k, where the output tends to 1 when x2 / (1 + k x3) "
             "exceeds x1."),
    )
    story = ("A person chooses between an immediate reward of iR dollars today and a "
             "delayed reward of dR dollars in D days. Their choices are not deterministic: "
             "they tend to take the delayed reward when its discounted value is higher. "
             "You choose the offers (iR, dR, D) and observe the choice: 1 for the delayed "
             "reward, 0 for the immediate one.")
    abstract = ("An unknown random function maps three positive integers (x1, x2, x3) with "
                "x1 < x2 to a binary output (0 or 1). You choose inputs and observe outputs.")

    params: DiscountingParams

    @property
    def design_space(self) -> DesignSpace:
        p = self.params
        return DesignSpace((
            DesignField("immediate_reward", 1, p.max_reward - 1, True,
                        "dollars offered today (iR)"),
            DesignField("delayed_reward", 2, p.max_reward, True,
                        "dollars offered after the delay (dR), more than iR"),
            DesignField("delay_days", 1, p.max_delay, True, "days until the delayed reward (D)"),
        ))

    def check_design(self, design: np.ndarray) -> None:
        if not design[0] < design[1]:
            raise IllegalActionError(
                f"design immediate_reward={design[0]:g} must be less than "
                f"delayed_reward={design[1]:g}")

    def sample_designs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        top = self.params.max_reward
        ir = rng.integers(1, top, n)
        dr = rng.integers(ir + 1, top + 1)
        days = rng.integers(1, self.params.max_delay + 1, n)
        return np.stack([ir, dr, days], axis=1).astype(float)

    def prob_delayed(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``P(choose delayed | theta, design)`` ``(...,)``."""
        theta = np.asarray(theta, dtype=float)
        ir, dr, days = design
        v1 = dr / (1.0 + np.exp(theta[..., 0]) * days)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = special.ndtr((v1 - ir) / theta[..., 1])
        eps = self.params.epsilon
        return eps + (1.0 - 2.0 * eps) * phi

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        p = self.prob_delayed(theta, design)
        return (rng.random(p.shape) < p).astype(float)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        p = self.prob_delayed(theta, design)
        with np.errstate(divide="ignore"):
            return two_class_loglik(y, 1.0, np.log(p), 0.0, np.log1p(-p))

    def outcome_support(self, design: np.ndarray) -> np.ndarray:
        return np.array([0.0, 1.0])

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return self.prob_delayed(theta, design)

    def parameter_answer(self, goal: Goal, theta: np.ndarray) -> np.ndarray:
        return np.exp(np.asarray(theta, dtype=float)[..., :1])

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        if not story:
            return f"output {int(y)}"
        return ("chose the delayed reward (1)" if int(y) == 1
                else "chose the immediate reward (0)")


MODELS = (HyperbolicDiscounting,)
