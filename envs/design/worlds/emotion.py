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
random walk in 40 dimensions.
Reference: BoxingGym (Gandhi et al. 2025) ``emotion``; Houlihan, Kleiman-Weiner et al.
(2023), emotion reasoning as inverse planning.
Version history: v0, first release.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import (
    LOG_SQRT_2PI,
    BoxingModel,
    GridDensity,
    HalfNormal,
    Marginal,
    Normal,
    diag_normal_loglik,
)
from agora.envs.errors import IllegalActionError

VERBALISERS = ("template", "llm")
EMOTIONS = ("happiness", "sadness", "anger", "surprise", "fear", "disgust", "contentment",
            "disappointment")
_BLOCKS = {
    "intercept": ((4.5, 3.5, 1.7, 3.3, 1.4, 1.8, 3.7, 2.0), 0.1),
    "win": ((0.04, -0.025, -0.005, 0.02, 0.0, -0.005, 0.03, -0.03), 0.01),
    "pe": ((0.035, -0.02, -0.025, 0.01, 0.0, -0.02, 0.02, -0.045), 0.01),
    "abs_pe": ((-0.015, 0.025, 0.025, 0.035, 0.005, 0.02, -0.01, 0.02), 0.01),
}
PROB_TOLERANCE = 0.01
PRIOR_MEANS = np.array([means for means, _ in _BLOCKS.values()])
"""``(4, 8)`` prior means of the coefficient blocks (intercept, win, PE, |PE|)."""
PRIOR_SDS = np.array([sd for _, sd in _BLOCKS.values()])
"""``(4,)`` prior standard deviations of the coefficient blocks."""
NOISE_PRIOR_SD = 1.0
"""The noise scales' prior is ``HalfNormal(NOISE_PRIOR_SD)``."""
NOISE_RANGE = (1e-4, 30.0)
"""Noise scales covered by the proposal of :meth:`Emotion.noise_step` (the prior mass
outside is below 1e-4)."""
GRID_CELLS = 1024
"""Cells (uniform in ``log s``) of the grid on which that proposal is fitted."""


@dataclass(frozen=True)
class Regression:
    """Sufficient statistics of a (tempered) history for the conjugate update, in the
    standardised coefficients ``z = (beta - prior mean) / prior sd`` and the eigenbasis of
    their weighted Gram matrix ``X~' W X~ = basis diag(eigvals) basis'``.

    Attributes:
        eigvals: ``(4,)``; basis: ``(4, 4)`` (columns).
        proj: ``(4, 8)`` ``basis' X~' W r`` per emotion, ``r`` the residual at the prior
            mean.
        sse: ``(8,)`` ``sum_i w_i r_i^2``; total_power: ``sum_i w_i``.
    """

    eigvals: np.ndarray
    basis: np.ndarray
    proj: np.ndarray
    sse: np.ndarray
    total_power: float


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
    param_names = tuple(f"{b}_{e}" for b in (*_BLOCKS, "sd") for e in EMOTIONS)
    priors: ClassVar[tuple[Marginal, ...]] = (
        tuple(Normal(m, sd) for means, sd in _BLOCKS.values() for m in means)
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
        x = self.features(designs) * PRIOR_SDS  # regressors of the standardised blocks
        resid = np.asarray(outcomes, dtype=float).reshape(len(x), -1) - x @ (
            PRIOR_MEANS / PRIOR_SDS[:, None])
        w = np.ones(len(x)) if powers is None else np.asarray(powers, dtype=float)
        lam, basis = np.linalg.eigh((x * w[:, None]).T @ x)
        proj = basis.T @ (x * w[:, None]).T @ resid
        return Regression(np.maximum(lam, 0.0), basis, proj, w @ (resid * resid),
                          float(w.sum()))

    def noise_log_posterior(self, sd: np.ndarray, reg: Regression) -> np.ndarray:
        """``log p(s_e | history)`` ``(..., 8)`` up to a constant, the coefficients
        integrated out (Gaussian prior times Gaussian likelihood), ``s`` positive."""
        v = np.asarray(sd, dtype=float) ** 2
        out = (-0.5 * v / NOISE_PRIOR_SD**2 - 0.5 * reg.total_power * np.log(v)
               - 0.5 * reg.sse / v)
        for lam, c in zip(reg.eigvals, reg.proj):
            out += 0.5 * c * c / (v * (v + lam)) - 0.5 * np.log1p(lam / v)
        return out

    def coefficient_posterior(self, sd: np.ndarray, reg: Regression
                              ) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(n, 4, 8)`` and covariance ``(n, 8, 4, 4)`` of the coefficient blocks
        given noise scales ``sd (n, 8)``: the conjugate Gaussian update."""
        v = np.asarray(sd, dtype=float)[:, None, :] ** 2  # (n, 1, 8)
        gain = 1.0 / (v + reg.eigvals[None, :, None])  # (n, 4, 8), eigenbasis
        mean_z = np.einsum("jk,nke->nje", reg.basis, gain * reg.proj)
        cov_z = np.einsum("jk,nke,lk->nejl", reg.basis, gain * v, reg.basis)
        sds = PRIOR_SDS[:, None]
        return PRIOR_MEANS + sds * mean_z, cov_z * np.outer(PRIOR_SDS, PRIOR_SDS)

    def conjugate_move(self, theta: np.ndarray, designs: np.ndarray, outcomes: np.ndarray,
                       powers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A Markov move leaving ``prior x prod_i p(y_i | theta, x_i)^powers_i`` invariant:
        each noise scale by :meth:`noise_step` (coefficients integrated out), then an exact
        draw of all 32 coefficients given the scales."""
        theta = np.asarray(theta, dtype=float)
        reg = self.regression(designs, outcomes, powers)
        log_s = self.noise_step(np.log(np.where(theta[:, 32:] > 0, theta[:, 32:], 1.0)),
                                reg, rng)
        v = np.exp(2.0 * log_s)[None]  # (1, n, 8)
        gain = 1.0 / (v + reg.eigvals[:, None, None])  # (4, n, 8) in the eigenbasis
        z = gain * reg.proj[:, None] + np.sqrt(gain * v) * rng.standard_normal(gain.shape)
        z = (reg.basis @ z.reshape(4, -1)).reshape(z.shape)
        blocks = PRIOR_MEANS[:, None] + PRIOR_SDS[:, None, None] * z
        return np.concatenate([blocks.transpose(1, 0, 2).reshape(len(theta), 32),
                               np.exp(log_s)], axis=1)

    def noise_step(self, log_s: np.ndarray, reg: Regression, rng: np.random.Generator
                   ) -> np.ndarray:
        """One independence Metropolis-Hastings step on every log noise scale ``(n, 8)``
        targeting :meth:`noise_log_posterior`, proposing from that density made piecewise
        log-linear on a fine grid of ``log s`` over :data:`NOISE_RANGE`
        (:class:`GridDensity`): nearly every step is accepted, and the new values are
        independent draws whatever the old ones were."""
        lo, hi = (math.log(b) for b in NOISE_RANGE)
        width = (hi - lo) / GRID_CELLS
        nodes = lo + width * np.arange(GRID_CELLS + 1.0)[:, None]
        q = GridDensity.fit(lo, width, self._log_noise_target(nodes, reg))
        prop = q.sample(rng, len(log_s))
        log_ratio = (self._log_noise_target(prop, reg) - self._log_noise_target(log_s, reg)
                     + q.logpdf(log_s) - q.logpdf(prop))
        with np.errstate(invalid="ignore"):
            accept = np.log(rng.random(log_s.shape)) < log_ratio
        return np.where(accept, prop, log_s)

    def _log_noise_target(self, log_s: np.ndarray, reg: Regression) -> np.ndarray:
        """:meth:`noise_log_posterior` as a density of ``log s`` (with the Jacobian)."""
        return self.noise_log_posterior(np.exp(log_s), reg) + log_s

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
