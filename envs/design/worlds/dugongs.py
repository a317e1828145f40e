"""Dugongs: the length of a sea cow as a saturating function of its age.

Description: a dugong of age ``x`` has length ``y = |N(a - b |l|^x, noise^2)|``, a
growth curve that rises from ``a - b`` towards the asymptote ``a`` at rate ``|l|``,
observed with Gaussian noise and folded at zero (lengths are positive).
Latent parameters: ``a ~ N(2, 0.2^2)``, ``b ~ N(1.5, 0.5^2)``, ``l ~ N(0.4, 0.5^2)``
(only ``|l|`` enters the curve).
Designs: ``[age]`` in ``[0, max_age]``.
Outcome: the length, a folded normal: ``log p(y) = log(phi((y - mu)/s) + phi((y + mu)/s))
- log s`` for ``y >= 0``.
Goals: ``predict_length`` (squared error at query ages ``4 Beta(2, 5)``, as in BoxingGym).
Reference: BoxingGym (Gandhi et al. 2025) ``dugongs``; Carlin & Gelfand (1991), the
dugong growth data of Ratkowsky (1983).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import special

from agora.envs.core import GameInfo, Params, Timing, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import LOG_SQRT_2PI, BoxingModel, Marginal, Normal


@dataclass(frozen=True)
class DugongParams(Params):
    """Numbers of the dugong world.

    Attributes:
        noise: the standard deviation of a measured length (before folding).
        max_age: the oldest age a design may ask about.
    """

    noise: float = 0.25
    max_age: float = 5.0

    def validate(self) -> None:
        for name in ("noise", "max_age"):
            value = getattr(self, name)
            require(is_real(value) and value > 0, name, value, "must be positive")


class Dugongs(BoxingModel):
    """A folded-normal growth curve (see the module doc).

    Example:
        >>> model = Dugongs()
        >>> theta = np.array([2.0, 1.5, 0.5])
        >>> float(model.curve(theta, np.array([1.0])))   # 2 - 1.5 * 0.5
        1.25
    """

    key = "dugongs"
    info = GameInfo(
        name="Dugongs",
        timing=Timing.SEQUENTIAL,
        description="Measure sea cows of chosen ages; learn the growth curve.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) dugongs; Carlin & Gelfand (1991)")
    params_cls = DugongParams
    param_names = ("a", "b", "l")
    priors: ClassVar[tuple[Marginal, ...]] = (Normal(2.0, 0.2), Normal(1.5, 0.5),
                                              Normal(0.4, 0.5))
    goals = (
        Goal("predict_length", "outcome", "squared", ("length",),
             "Predict the output at the queried input."),
    )
    story = ("Dugongs (sea cows) grow quickly when young and then level off. You choose an "
             "age (years) and measure the length of a dugong of that age; measurements "
             "are noisy.")
    abstract = ("An unknown random function maps a non-negative real input to a positive "
                "real output. You choose inputs and observe outputs.")

    params: DugongParams

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("age", 0.0, float(self.params.max_age), False,
                                        "age of the dugong in years"),))

    def curve(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """The noise-free length ``a - b |l|^x`` ``(...,)``."""
        theta = np.asarray(theta, dtype=float)
        return theta[..., 0] - theta[..., 1] * np.abs(theta[..., 2]) ** float(design[0])

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        mu = self.curve(theta, design)
        return np.abs(mu + self.params.noise * rng.standard_normal(mu.shape))

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``log(phi((y - mu)/s) + phi((y + mu)/s)) - log s``. With ``q = y mu / s^2`` the
        sum is ``2 cosh(q) exp(-(y^2 + mu^2) / 2s^2) / sqrt(2 pi)``, so the ``(y, theta)``
        grid takes one product, a cosh and a log, all in one array."""
        s = self.params.noise
        k = 1.0 / s**2
        mu = self.curve(theta, design)
        y = np.asarray(y, dtype=float)
        out = np.asarray(y * (k * mu))
        excess = None
        if out.size and max(out.max(), -out.min()) > 700.0:  # cosh would overflow
            big = (out > 700.0) | (out < -700.0)  # there log(2 cosh q) = |q| (to e^-1400)
            excess = np.abs(out[big]) - 700.0
            np.clip(out, -700.0, 700.0, out=out)
        np.cosh(out, out=out)
        np.log(out, out=out)
        out += math.log(2.0)
        if excess is not None:
            out[big] += excess
        out -= 0.5 * k * y * y + (math.log(s) + LOG_SQRT_2PI)
        out -= 0.5 * k * mu * mu
        return out if (y >= 0.0).all() else np.where(y >= 0.0, out, -np.inf)

    def gaussian_channel(self, theta: np.ndarray, design: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """The length before folding: the curve plus Gaussian noise (``y = |z|``)."""
        return self.curve(theta, design), np.asarray(self.params.noise)

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """The folded-normal mean ``s sqrt(2/pi) exp(-mu^2 / 2 s^2) + mu (1 - 2 Phi(-mu/s))``."""
        s = self.params.noise
        mu = self.curve(theta, design)
        return (s * math.sqrt(2.0 / math.pi) * np.exp(-0.5 * (mu / s) ** 2)
                + mu * (1.0 - 2.0 * special.ndtr(-mu / s)))

    def eval_queries(self, goal: Goal, rng: np.random.Generator, n: int) -> np.ndarray:
        """Ages ``4 Beta(2, 5)`` (BoxingGym's evaluation ages), within the design box."""
        return np.minimum(4.0 * rng.beta(2.0, 5.0, (n, 1)), self.params.max_age)

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        value = float(np.asarray(y))
        return f"length {value:.4g}" if story else f"output {value:.4g}"


MODELS = (Dugongs,)
