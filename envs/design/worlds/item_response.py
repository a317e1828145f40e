"""Item response (2PL): which students answer which questions correctly.

Description: student ``s`` answers question ``q`` correctly with probability
``sigmoid(gamma_q (alpha_s - beta_q))`` (the two-parameter logistic IRT model).
Latent parameters (``3 x 6 = 18`` by default, in this order): abilities
``alpha_1..alpha_S``, difficulties ``beta_1..beta_Q``, discriminations
``gamma_1..gamma_Q``, all ``N(0, 1)`` as in BoxingGym (a negative discrimination is
allowed: such a question favours weaker students).
Designs: ``[student, question]`` integer indices.
Outcome: 1 correct, 0 wrong (exact EIG over ``{0, 1}``). Every query is a fresh
Bernoulli draw (the generative 2PL model); BoxingGym fixed one response matrix at reset,
so repeating a query there returned the same answer.
Goals (misclassification rates): ``predict_correct`` at a query pair; ``best_student``
(largest ability), ``hardest_question`` (largest difficulty), ``most_discriminating``
(largest ``|gamma|``). BoxingGym scored the last three from the realised response
matrix; here they are properties of the latent parameters.
Reference: BoxingGym (Gandhi et al. 2025) ``irt``; Birnbaum (1968).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_int, require
from agora.envs.design.model import DesignField, DesignSpace, Goal
from agora.envs.design.worlds._boxing_common import (
    BoxingModel,
    Marginal,
    Normal,
    log_sigmoid,
    two_class_loglik,
)


@dataclass(frozen=True)
class ItemResponseParams(Params):
    """Numbers of the item-response world.

    Attributes:
        students: the number of students ``S``.
        questions: the number of questions ``Q``.
    """

    students: int = 6
    questions: int = 6

    def validate(self) -> None:
        for name in ("students", "questions"):
            value = getattr(self, name)
            require(is_int(value) and 2 <= value <= 100, name, value,
                    "must be an integer in 2..100")


class ItemResponse(BoxingModel):
    """The 2PL model over a grid of students and questions (see the module doc).

    Example:
        >>> model = ItemResponse({"students": 2, "questions": 2})
        >>> theta = np.array([1.0, 0.0, 0.0, 0.0, 2.0, 1.0])  # alphas, betas, gammas
        >>> round(float(model.prob_correct(theta, np.array([0.0, 0.0]))), 4)  # sigmoid(2)
        0.8808
    """

    key = "item_response"
    info = GameInfo(
        name="Item response (2PL)",
        timing=Timing.SEQUENTIAL,
        description="Query student-question pairs; learn abilities, difficulties and "
                    "discriminations.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) irt; Birnbaum (1968)")
    params_cls = ItemResponseParams
    outcome_discrete = True
    goals = (
        Goal("predict_correct", "outcome", "misclassification", ("correct",),
             "Predict the binary output (1 or 0) for the queried pair of inputs."),
        Goal("best_student", "parameter", "misclassification", ("student",),
             "Which value of the first input has the highest latent level (it gives "
             "output 1 most readily)? Answer with its index."),
        Goal("hardest_question", "parameter", "misclassification", ("question",),
             "Which value of the second input has the highest threshold (it gives "
             "output 1 least readily)? Answer with its index."),
        Goal("most_discriminating", "parameter", "misclassification", ("question",),
             "Which value of the second input responds most steeply (largest absolute "
             "slope) to the first input's latent level? Answer with its index."),
    )

    params: ItemResponseParams

    @property
    def param_names(self) -> tuple[str, ...]:  # type: ignore[override]
        s, q = self.params.students, self.params.questions
        return (tuple(f"ability_{i}" for i in range(s))
                + tuple(f"difficulty_{j}" for j in range(q))
                + tuple(f"discrimination_{j}" for j in range(q)))

    @property
    def priors(self) -> tuple[Marginal, ...]:  # type: ignore[override]
        return (Normal(0.0, 1.0),) * (self.params.students + 2 * self.params.questions)

    @property
    def story(self) -> str:  # type: ignore[override]
        s, q = self.params.students, self.params.questions
        return (f"There are {s} students (ids 0..{s - 1}) and {q} questions (ids "
                f"0..{q - 1}). Students differ in ability, questions in difficulty and in "
                "how sharply they separate strong from weak students. You pick a student "
                "and a question and observe whether the student answers it correctly (1) "
                "or not (0); answers are random, so asking twice may differ.")

    @property
    def abstract(self) -> str:  # type: ignore[override]
        s, q = self.params.students, self.params.questions
        return (f"An unknown random function maps two integers (x1 in 0..{s - 1}, x2 in "
                f"0..{q - 1}) to a binary output (0 or 1). You choose inputs and observe "
                "outputs.")

    @property
    def design_space(self) -> DesignSpace:
        s, q = self.params.students, self.params.questions
        return DesignSpace((
            DesignField("student", 0, s - 1, True, "student id"),
            DesignField("question", 0, q - 1, True, "question id"),
        ))

    def _logit(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        s_count, q_count = self.params.students, self.params.questions
        theta = np.asarray(theta, dtype=float)
        s, q = int(design[0]), int(design[1])
        ability = theta[..., s]
        difficulty = theta[..., s_count + q]
        discrimination = theta[..., s_count + q_count + q]
        return discrimination * (ability - difficulty)

    def prob_correct(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``P(correct | theta, design)`` ``(...,)``."""
        return np.exp(log_sigmoid(self._logit(theta, design)))

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        p = self.prob_correct(theta, design)
        return (rng.random(p.shape) < p).astype(float)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        z = self._logit(theta, design)
        return two_class_loglik(y, 1.0, log_sigmoid(z), 0.0, log_sigmoid(-z))

    def outcome_support(self, design: np.ndarray) -> np.ndarray:
        return np.array([0.0, 1.0])

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return self.prob_correct(theta, design)

    def parameter_answer(self, goal: Goal, theta: np.ndarray) -> np.ndarray:
        s, q = self.params.students, self.params.questions
        theta = np.asarray(theta, dtype=float)
        if goal.name == "best_student":
            block = theta[..., :s]
        elif goal.name == "hardest_question":
            block = theta[..., s:s + q]
        else:
            block = np.abs(theta[..., s + q:])
        return np.argmax(block, axis=-1)[..., None].astype(float)

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        if not story:
            return f"output {int(y)}"
        verdict = "correct (1)" if int(y) == 1 else "wrong (0)"
        return f"student {int(design[0])} on question {int(design[1])}: {verdict}"


MODELS = (ItemResponse,)
