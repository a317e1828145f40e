"""Survival analysis: which breast-cancer patients have died since their surgery.

Description: ``patients`` patients each have a known time since surgery ``t ~ U(0,
max_time)`` and a known metastasis status ``m ~ Bernoulli(0.5)``, drawn by
:meth:`SurvivalAnalysis.instantiate` at reset (covariates shown to the scientist, not
inferred). The hazard is ``lambda0 exp(beta m)``. The death probability has two forms:

* ``"centred"`` (default): the proper exponential-hazard survival curve
  ``P(dead by t) = 1 - exp(-t lambda0 exp(beta m))``, which starts at 0 at surgery and can
  be anywhere in ``[0, 1)``;
* ``"boxinggym"``: BoxingGym's ``sigmoid(t lambda0 exp(beta m))``, which is never below
  0.5 (its argument is positive), kept for comparison.

Latent parameters (declared parameterisation): ``log_lambda0`` with
``lambda0 ~ Gamma(0.1, rate 0.1)`` (the log makes the tiny values this prior favours easy
to move through) and ``beta ~ HalfNormal(10)``.
Designs: ``[patient]``, an index into the covariates. Every query is a fresh Bernoulli
draw (BoxingGym fixed one outcome per patient at reset).
Outcome: 1 dead, 0 alive (exact EIG over ``{0, 1}``).
Goals: ``predict_death`` (misclassification rate at a query patient).
Reference: BoxingGym (Gandhi et al. 2025) ``survival_analysis``.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_int, is_real, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import (
    BoxingModel,
    HalfNormal,
    LogGamma,
    Marginal,
    log_sigmoid,
    two_class_loglik,
)
from agora.envs.errors import AgoraError

FORMS = ("centred", "boxinggym")


@dataclass(frozen=True)
class SurvivalParams(Params):
    """Numbers of the survival world.

    Attributes:
        form: ``"centred"`` (exponential hazard) or ``"boxinggym"`` (sigmoid >= 0.5).
        patients: the number of patients.
        max_time: times since surgery are uniform on ``[0, max_time]`` (years).
        metastasis_rate: the probability that a patient's cancer has metastasised.
    """

    form: str = "centred"
    patients: int = 100
    max_time: float = 10.0
    metastasis_rate: float = 0.5

    def validate(self) -> None:
        require(self.form in FORMS, "form", self.form, f"must be one of {FORMS}")
        require(is_int(self.patients) and self.patients >= 1, "patients", self.patients,
                "must be a positive integer")
        require(is_real(self.max_time) and self.max_time > 0, "max_time", self.max_time,
                "must be positive")
        require(is_real(self.metastasis_rate) and 0 <= self.metastasis_rate <= 1,
                "metastasis_rate", self.metastasis_rate, "must be in [0, 1]")


class SurvivalAnalysis(BoxingModel):
    """Deaths of patients with known covariates (see the module doc).

    Example:
        >>> model = SurvivalAnalysis()
        >>> model.instantiate(np.random.default_rng(0))
        >>> theta = np.array([np.log(0.05), 1.0])
        >>> p = model.prob_death(theta, np.array([0.0]))
        >>> t, m = model.context["time"][0], model.context["metastasized"][0]
        >>> bool(np.isclose(p, 1 - np.exp(-t * 0.05 * np.exp(m))))
        True
    """

    key = "survival"
    info = GameInfo(
        name="Survival analysis",
        timing=Timing.SEQUENTIAL,
        description="Check which patients died since surgery; infer how metastasis "
                    "changes the hazard.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) survival_analysis")
    params_cls = SurvivalParams
    param_names = ("log_lambda0", "beta")
    priors: ClassVar[tuple[Marginal, ...]] = (LogGamma(0.1, 0.1), HalfNormal(10.0))
    outcome_discrete = True
    goals = (
        Goal("predict_death", "outcome", "misclassification", ("dead",),
             "Predict the binary output (1 or 0) for the queried index."),
    )
    story = ("Breast-cancer patients had surgery some time ago; for each you know the time "
             "since surgery (years) and whether the cancer had metastasised (1) or not (0). "
             "You pick a patient id and learn whether that patient has died (1) or is "
             "alive (0).")
    abstract = ("You see a table of inputs, each a pair (x1 real, x2 binary). An unknown "
                "random function maps an input to a binary output (0 or 1). You choose a "
                "row id and observe the output for that row.")

    params: SurvivalParams

    @property
    def design_space(self) -> DesignSpace:
        return DesignSpace((DesignField("patient", 0, self.params.patients - 1, True,
                                        "patient id (a row of the table)"),))

    def instantiate(self, rng: np.random.Generator) -> None:
        """Draw every patient's time since surgery and metastasis status."""
        p = self.params
        self.context = {
            "time": p.max_time * rng.random(p.patients),
            "metastasized": (rng.random(p.patients) < p.metastasis_rate).astype(float),
        }

    def describe_context(self) -> str:
        if not self.context:
            return ""
        rows = [f"{i}: {t:.2f}, {int(m)}" for i, (t, m) in
                enumerate(zip(self.context["time"], self.context["metastasized"]))]
        return "id: time since surgery, metastasized\n" + "\n".join(rows)

    def _covariates(self, design: np.ndarray) -> tuple[float, float]:
        if not self.context:
            raise AgoraError("survival: call instantiate(rng) to draw the patients first")
        i = int(design[0])
        return float(self.context["time"][i]), float(self.context["metastasized"][i])

    def _log_probs(self, theta: np.ndarray, design: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``(log P(dead), log P(alive))`` ``(...,)``."""
        t, m = self._covariates(design)
        theta = np.asarray(theta, dtype=float)
        with np.errstate(over="ignore"):
            x = t * np.exp(theta[..., 0] + theta[..., 1] * m)  # t * hazard
        if self.params.form == "boxinggym":
            return log_sigmoid(x), log_sigmoid(-x)
        with np.errstate(divide="ignore"):
            return np.log(-np.expm1(-x)), -x

    def prob_death(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``P(dead | theta, patient)`` ``(...,)``."""
        return np.exp(self._log_probs(theta, design)[0])

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        p = self.prob_death(theta, design)
        return (rng.random(p.shape) < p).astype(float)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        dead, alive = self._log_probs(theta, design)
        return two_class_loglik(y, 1.0, dead, 0.0, alive)

    def outcome_support(self, design: np.ndarray) -> np.ndarray:
        return np.array([0.0, 1.0])

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return self.prob_death(theta, design)

    def eval_queries(self, goal: Goal, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, self.params.patients, (n, 1)).astype(float)

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        if not story:
            return f"output {int(y)}"
        return f"patient {int(design[0])} is {'dead (1)' if int(y) == 1 else 'alive (0)'}"


MODELS = (SurvivalAnalysis,)
