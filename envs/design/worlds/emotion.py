"""Emotion from outcome: how a participant thinks a wheel-of-fortune player feels.

Description: a wheel has three prizes ``v_1..v_3`` with probabilities ``p_1..p_3``; the
player wins prize ``v_w``. A participant rates eight emotions of the player (happiness,
sadness, anger, surprise, fear, disgust, contentment, disappointment). Each rating is
linear-Gaussian in the win ``v_w``, the prediction error ``PE = v_w - sum_i p_i v_i`` and
``|PE|``: ``r_e ~ N(a_e + w_e v_w + c_e PE + d_e |PE|, s_e^2)``.
Latent parameters (40, in blocks of 8 emotions): intercepts ``a ~ N((4.5, 3.5, 1.7, 3.3,
1.4, 1.8, 3.7, 2.0), 0.1^2)``, win slopes ``w ~ N((0.04, -0.025, -0.005, 0.02, 0, -0.005,
0.03, -0.03), 0.01^2)``, PE slopes ``c ~ N((0.035, -0.02, -0.025, 0.01, 0, -0.02, 0.02,
-0.045), 0.01^2)``, |PE| slopes ``d ~ N((-0.015, 0.025, 0.025, 0.035, 0.005, 0.02, -0.01,
0.02), 0.01^2)``, noise ``s ~ HalfNormal(1)``: BoxingGym's priors.
Outcome: the 8 ratings on the 1-9 scale, kept continuous (BoxingGym truncated them to
integers and clipped them to 1..9; the continuous rating keeps the likelihood exact).
Designs: ``prize_1..3`` in ``[0, max_prize]``, ``prob_1..3`` summing to 1 (checked within
0.01; the expectation uses the normalised probabilities) and ``win``, the index of the
prize won, which must have positive probability.
Verbaliser: BoxingGym has an LLM describe the ratings in a sentence; here
:meth:`Emotion.format_outcome` is a deterministic template, and with ``verbaliser="llm"``
the experiments layer may send :meth:`Emotion.verbalise_prompt` to a (cached) model; the
environment itself never calls a model.
Goals: ``predict_emotions`` (squared error averaged over the 8 ratings, at random wheels).
Inference: given the noise scales the ratings are linear-Gaussian in the 32 coefficients,
and the emotions are independent, so :meth:`Emotion.conjugate_move` draws each noise
scale from its posterior with the coefficients integrated out (an independence step
accepted almost always), then all coefficients exactly; the particle posterior needs no
random walk in 40 dimensions. The prior and these conjugate pieces live in
:mod:`._emotion_conjugate`.
Reference: BoxingGym (Gandhi et al. 2025) ``emotion``; Houlihan, Kleiman-Weiner et al.
(2023), emotion reasoning as inverse planning.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds import _emotion_conjugate as conj
from agora.envs.design.worlds._boxing_common import (
    LOG_SQRT_2PI,
    BoxingModel,
    HalfNormal,
    Marginal,
    Normal,
    diag_normal_loglik,
)
from agora.envs.design.worlds._emotion_conjugate import (
    BLOCKS,
    GRID_CELLS,
    NOISE_PRIOR_SD,
    NOISE_RANGE,
    PRIOR_MEANS,
    PRIOR_SDS,
    Regression,
)
from agora.envs.errors import IllegalActionError

VERBALISERS = ("template", "llm")
EMOTIONS = ("happiness", "sadness", "anger", "surprise", "fear", "disgust", "contentment",
            "disappointment")
PROB_TOLERANCE = 0.01

__all__ = ["EMOTIONS", "GRID_CELLS", "MODELS", "NOISE_PRIOR_SD", "NOISE_RANGE",
           "PRIOR_MEANS", "PRIOR_SDS", "PROB_TOLERANCE", "VERBALISERS", "Emotion",
           "EmotionParams", "Regression"]


@dataclass(frozen=True)
class EmotionParams(Params):
    """Numbers of the emotion world.

    Attributes:
        max_prize: the largest prize value.
        verbaliser: ``"template"`` (deterministic sentences) or ``"llm"`` (the experiments
            layer verbalises :meth:`Emotion.verbalise_prompt` with a model).
    """

    max_prize: float = 100.0
    verbaliser: str = "template"

    def validate(self) -> None:
        require(is_real(self.max_prize) and self.max_prize > 0, "max_prize", self.max_prize,
                "must be positive")
        require(self.verbaliser in VERBALISERS, "verbaliser", self.verbaliser,
                f"must be one of {VERBALISERS}")


class Emotion(BoxingModel):
    """Linear-Gaussian emotion ratings of a wheel-of-fortune outcome (see the module doc).

    Example:
        >>> model = Emotion()
        >>> model.appraisal(np.array([10.0, 20.0, 30.0, 0.2, 0.3, 0.5, 2.0])).tolist()
        [30.0, 7.0, 7.0]
    """

    key = "emotion"
    info = GameInfo(
        name="Emotion from outcome",
        timing=Timing.SEQUENTIAL,
        description="Spin chosen wheels of fortune; learn how a participant rates the "
                    "player's emotions.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) emotion; Houlihan et al. (2023)")
    params_cls = EmotionParams
    param_names = tuple(f"{b}_{e}" for b in (*BLOCKS, "sd") for e in EMOTIONS)
    priors: ClassVar[tuple[Marginal, ...]] = (
        tuple(Normal(m, sd) for means, sd in BLOCKS.values() for m in means)
        + (HalfNormal(NOISE_PRIOR_SD),) * len(EMOTIONS))
    outcome_shape = (len(EMOTIONS),)
    goals = (
        Goal("predict_emotions", "outcome", "squared", EMOTIONS,
             "Predict the 8 outputs for the queried input."),
    )
    story = ("A player spins a wheel of fortune with three prizes (dollars) and known "
             "probabilities, and wins one prize. A participant watches and rates how the "
             "player feels on eight emotions (happiness, sadness, anger, surprise, fear, "
             "disgust, contentment, disappointment), each from 1 (not at all) to 9 (very "
             "much). You design the wheel and the prize won, and read the ratings.")
    abstract = ("An unknown random function maps 3 non-negative values, 3 weights summing "
                "to 1 and an index (0, 1 or 2) to 8 real outputs. You choose inputs and "
                "observe outputs.")

    params: EmotionParams

    @property
    def design_space(self) -> DesignSpace:
        top = float(self.params.max_prize)
        prizes = [DesignField(f"prize_{i}", 0.0, top, False, f"value of prize {i} in dollars")
                  for i in (1, 2, 3)]
        probs = [DesignField(f"prob_{i}", 0.0, 1.0, False,
                             f"probability of prize {i} (the three sum to 1)")
                 for i in (1, 2, 3)]
        win = DesignField("win", 0, 2, True, "index of the prize won: 0, 1 or 2")
        return DesignSpace((*prizes, *probs, win))

    def check_design(self, design: np.ndarray) -> None:
        total = float(np.sum(design[3:6]))
        if abs(total - 1.0) > PROB_TOLERANCE:
            raise IllegalActionError(
                f"design prob_1 + prob_2 + prob_3 = {total:.4g}; the probabilities must "
                "sum to 1")
        w = int(design[6])
        if design[3 + w] <= 0.0:
            raise IllegalActionError(
                f"design win={w}: prize {w + 1} has prob_{w + 1}=0 and cannot be won")

    def sample_designs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Prizes uniform, probabilities ``Dirichlet(1, 1, 1)``, the winning index uniform."""
        prizes = self.params.max_prize * rng.random((n, 3))
        probs = rng.dirichlet(np.ones(3), n)
        win = rng.integers(0, 3, (n, 1))
        return np.concatenate([prizes, probs, win], axis=1).astype(float)

    def features(self, designs: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """``(1, win, PE, |PE|)`` for each design ``(t, 7)``: the regressors ``(t, 4)``.

        Example:
            >>> Emotion().features([[10.0, 20.0, 30.0, 0.2, 0.3, 0.5, 2.0]]).tolist()
            [[1.0, 30.0, 7.0, 7.0]]
        """
        return np.stack([np.concatenate([[1.0], self.appraisal(d)])
                         for d in np.asarray(designs, dtype=float).reshape(-1, 7)])

    def appraisal(self, design: np.ndarray) -> np.ndarray:
        """``(win, PE, |PE|)``: the prize won and its surprise against the expectation."""
        design = np.asarray(design, dtype=float)
        probs = design[3:6] / np.sum(design[3:6])
        won = design[int(design[6])]
        pe = won - float(probs @ design[:3])
        return np.array([won, pe, abs(pe)])

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """The mean ratings ``(..., 8)``."""
        theta = np.asarray(theta, dtype=float)
        blocks = theta[..., :32].reshape(theta.shape[:-1] + (4, len(EMOTIONS)))
        x = np.concatenate([[1.0], self.appraisal(design)])
        return np.einsum("k,...ke->...e", x, blocks)

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        mean = self.mean_outcome(theta, design)
        sd = np.abs(np.asarray(theta, dtype=float)[..., 32:])
        return mean + sd * rng.standard_normal(mean.shape)

    def gaussian_channel(self, theta: np.ndarray, design: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """The eight ratings: their means plus Gaussian noise of the drawn scales."""
        theta = np.asarray(theta, dtype=float)
        return self.mean_outcome(theta, design), np.abs(theta[..., 32:])

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        sd = theta[..., 32:]
        out = diag_normal_loglik(y, self.mean_outcome(theta, design), np.abs(sd))
        ok = np.all(sd > 0, axis=-1)
        return out if ok.all() else np.where(ok, out, -np.inf)

    def log_lik_history(self, outcomes: np.ndarray, theta: np.ndarray,
                        designs: np.ndarray) -> np.ndarray:
        """``sum_i log p(y_i | theta, x_i)`` ``(B,)`` for thetas ``(B, 40)``, all designs
        in one product (the inference layer uses it for whole histories)."""
        theta = np.asarray(theta, dtype=float).reshape(-1, 40)
        k = len(EMOTIONS)
        feats = self.features(designs)  # (t, 4)
        blocks = theta[:, :32].reshape(-1, 4, k).transpose(0, 2, 1).reshape(-1, 4)
        z = np.asarray(outcomes, dtype=float).reshape(-1, k).T - (blocks @ feats.T).reshape(
            len(theta), k, -1)  # (B, 8, t) residuals
        sd = theta[:, 32:]
        z /= np.abs(sd)[:, :, None]
        out = (-0.5 * np.sum((z * z).reshape(len(theta), -1), axis=1)
               - len(feats) * (np.sum(np.log(np.abs(sd)), axis=1) + k * LOG_SQRT_2PI))
        ok = np.all(sd > 0, axis=-1)
        return out if ok.all() else np.where(ok, out, -np.inf)

    def regression(self, designs: np.ndarray, outcomes: np.ndarray,
                   powers: np.ndarray | None = None) -> Regression:
        """The sufficient statistics of a history for the conjugate coefficient update,
        each observation's likelihood raised to ``powers`` (default 1, tempering < 1)."""
        return conj.regression(self.features(designs), outcomes, powers)

    def noise_log_posterior(self, sd: np.ndarray, reg: Regression) -> np.ndarray:
        """``log p(s_e | history)`` ``(..., 8)`` up to a constant, the coefficients
        integrated out (:func:`._emotion_conjugate.noise_log_posterior`)."""
        return conj.noise_log_posterior(sd, reg)

    def coefficient_posterior(self, sd: np.ndarray, reg: Regression
                              ) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(n, 4, 8)`` and covariance ``(n, 8, 4, 4)`` of the coefficient blocks
        given noise scales ``sd (n, 8)``: the conjugate Gaussian update."""
        return conj.coefficient_posterior(sd, reg)

    def conjugate_move(self, theta: np.ndarray, designs: np.ndarray, outcomes: np.ndarray,
                       powers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A Markov move leaving ``prior x prod_i p(y_i | theta, x_i)^powers_i`` invariant:
        each noise scale by :meth:`noise_step` (coefficients integrated out), then an exact
        draw of all 32 coefficients given the scales."""
        theta = np.asarray(theta, dtype=float)
        reg = self.regression(designs, outcomes, powers)
        log_s = self.noise_step(np.log(np.where(theta[:, 32:] > 0, theta[:, 32:], 1.0)),
                                reg, rng)
        return conj.draw_coefficients(log_s, reg, rng)

    def noise_step(self, log_s: np.ndarray, reg: Regression, rng: np.random.Generator
                   ) -> np.ndarray:
        """One independence Metropolis-Hastings step on every log noise scale ``(n, 8)``
        (:func:`._emotion_conjugate.noise_step`): new values independent of the old."""
        return conj.noise_step(log_s, reg, rng)

    # ----- words -------------------------------------------------------------------
    def describe_wheel(self, design: np.ndarray) -> str:
        """``"$10 (p=0.20), $20 (p=0.30), $30 (p=0.50); won $30"``."""
        d = np.asarray(design, dtype=float)
        parts = [f"${d[i]:.4g} (p={d[3 + i]:.2f})" for i in range(3)]
        return f"{', '.join(parts)}; won ${d[int(d[6])]:.4g}"

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        values = np.asarray(y, dtype=float)
        if not story:
            return "outputs " + ", ".join(f"y{i + 1}={v:.2f}" for i, v in enumerate(values))
        ratings = ", ".join(f"{e} {v:.1f}/9" for e, v in zip(EMOTIONS, values))
        return f"The player reports feeling: {ratings}."

    def verbalise_prompt(self, design: np.ndarray, y: np.ndarray) -> str:
        """A prompt asking a language model to describe the ratings in a sentence."""
        ratings = "\n".join(f"{e.capitalize()}: {v:.1f}/9"
                            for e, v in zip(EMOTIONS, np.asarray(y, dtype=float)))
        return ("A player spun a wheel of fortune: "
                f"{self.describe_wheel(design)}.\nYou think the player feels (1: not at "
                f"all, 9: very much):\n{ratings}\nIn one short sentence that starts with "
                "\"The player might be feeling\", describe the most salient emotions and "
                "why, without numbers.")


MODELS = (Emotion,)
