"""Moral machine: which of two groups a participant saves in a self-driving-car dilemma.

Description: a car must kill one of two groups of characters (group 1 the passengers,
group 2 the pedestrians). The participant saves group 1 with probability
``sigmoid(theta . f)``, where ``f`` holds group-1-minus-group-2 differences of the
characters' attributes (below), a constant for the passengers' side, the intervention
(+1 when saving group 1 means swerving, -1 when it means staying) and an intercept.
Latent parameters (coefficients of ``f``, in this order): ``count ~ N(0.7, 0.1^2)``
(humans), ``species ~ N(0.6, 0.1^2)`` (humans +1, pets -1), ``group ~ N(0.4, 0.1^2)``
(passengers), ``fitness ~ N(0.4, 0.1^2)`` (athletes +1, large people -1),
``intervention ~ N(-0.3, 0.1^2)`` (a preference for not swerving), ``gender ~
N(-0.3, 0.1^2)`` (males +1, females -1: sparing females), ``social ~ N(0.1, 0.1^2)``
(doctors and executives +1, homeless and criminals -1), ``age ~ N(0.1, 0.1^2)`` (children
and the stroller +1, old people -1), ``intercept ~ N(0, 0.3^2)``. The group and intercept
terms are both constant, so only their sum is identified by choices (as in BoxingGym).
Our attribute table is our own coding (BoxingGym's marks nobody as elderly).
Designs: the count of each of the 18 character kinds in each group (``g1_<kind>``,
``g2_<kind>``, integers, each group 1..``max_group`` characters in all) and ``swerve``
(1: saving group 1 requires swerving).
Outcome: the group saved, 1 or 2 (exact EIG over two outcomes).
Verbaliser: BoxingGym has an LLM turn each choice into a sentence; here
:meth:`MoralMachine.format_outcome` is a deterministic template, and with
``verbaliser="llm"`` the experiments layer may send :meth:`MoralMachine.verbalise_prompt`
to a (cached) model instead; the environment itself never calls a model.
Goals: ``predict_choice`` (misclassification rate on random scenarios).
Reference: BoxingGym (Gandhi et al. 2025) ``moral_machines``; Awad et al. (2018), The Moral
Machine experiment, Nature 563.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

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
from agora.envs.errors import IllegalActionError

VERBALISERS = ("template", "llm")

#: kind: (human, gender, age, social, fitness); gender male +1 / female -1, age young +1 /
#: old -1, social high +1 / low -1, fitness fit +1 / large -1.
CHARACTERS: dict[str, tuple[int, int, int, int, int]] = {
    "stroller": (1, 0, 1, 0, 0), "boy": (1, 1, 1, 0, 0), "girl": (1, -1, 1, 0, 0),
    "pregnant_woman": (1, -1, 0, 0, 0), "male_doctor": (1, 1, 0, 1, 0),
    "female_doctor": (1, -1, 0, 1, 0), "female_athlete": (1, -1, 0, 0, 1),
    "male_athlete": (1, 1, 0, 0, 1), "female_executive": (1, -1, 0, 1, 0),
    "male_executive": (1, 1, 0, 1, 0), "large_woman": (1, -1, 0, 0, -1),
    "large_man": (1, 1, 0, 0, -1), "homeless": (1, 0, 0, -1, 0),
    "old_man": (1, 1, -1, 0, 0), "old_woman": (1, -1, -1, 0, 0),
    "criminal": (1, 0, 0, -1, 0), "dog": (0, 0, 0, 0, 0), "cat": (0, 0, 0, 0, 0),
}
KINDS = tuple(CHARACTERS)


def _feature_map() -> np.ndarray:
    """``(9, 18)``: the coefficient features of one character of each kind in group 1."""
    a = np.array([CHARACTERS[k] for k in KINDS], dtype=float).T  # (5, 18)
    human, gender, age, social, fitness = a
    zero = np.zeros(len(KINDS))
    return np.stack([human, 2 * human - 1, zero, fitness, zero, gender, social, age, zero])


_FEATURES = _feature_map()


@dataclass(frozen=True)
class MoralParams(Params):
    """Numbers of the moral-machine world.

    Attributes:
        max_group: the most characters in one group.
        verbaliser: ``"template"`` (deterministic sentences) or ``"llm"`` (the experiments
            layer verbalises :meth:`MoralMachine.verbalise_prompt` with a model).
    """

    max_group: int = 5
    verbaliser: str = "template"

    def validate(self) -> None:
        require(is_int(self.max_group) and 1 <= self.max_group <= 20, "max_group",
                self.max_group, "must be an integer in 1..20")
        require(self.verbaliser in VERBALISERS, "verbaliser", self.verbaliser,
                f"must be one of {VERBALISERS}")


class MoralMachine(BoxingModel):
    """Logistic choices between two groups of characters (see the module doc).

    Example:
        >>> model = MoralMachine()
        >>> d = model.scenario(["boy"], ["old_man", "dog"], swerve=False)
        >>> model.features(d).tolist()   # count, species, group, fitness, ...
        [0.0, 1.0, 1.0, 0.0, -1.0, 0.0, 0.0, 2.0, 1.0]
    """

    key = "moral_machine"
    info = GameInfo(
        name="Moral machine",
        timing=Timing.SEQUENTIAL,
        description="Pose self-driving-car dilemmas; learn whom a participant spares.",
        family="design", action_kind="box", observation_kind="history",
        reference="BoxingGym (Gandhi et al. 2025) moral_machines; Awad et al. (2018)")
    params_cls = MoralParams
    param_names = ("count", "species", "group", "fitness", "intervention", "gender",
                   "social", "age", "intercept")
    priors: ClassVar[tuple[Marginal, ...]] = (
        Normal(0.7, 0.1), Normal(0.6, 0.1), Normal(0.4, 0.1), Normal(0.4, 0.1),
        Normal(-0.3, 0.1), Normal(-0.3, 0.1), Normal(0.1, 0.1), Normal(0.1, 0.1),
        Normal(0.0, 0.3))
    outcome_discrete = True
    goals = (
        Goal("predict_choice", "outcome", "misclassification", ("group",),
             "Predict the output (1 or 2) for the queried input."),
    )
    story = ("In the Moral Machine experiment a self-driving car with failed brakes must "
             "kill one of two groups: group 1 (the passengers) or group 2 (the "
             "pedestrians). Saving group 1 requires the car to either swerve or stay on "
             "course. You compose both groups from these characters: "
             + ", ".join(KINDS) + ", and choose whether saving group 1 requires "
             "swerving; a participant says which group they would save (1 or 2).")
    abstract = ("An unknown random function maps two lists of item counts (18 item kinds "
                "each) and a binary flag to an output, 1 or 2. You choose inputs and "
                "observe outputs.")

    params: MoralParams

    @property
    def design_space(self) -> DesignSpace:
        top = self.params.max_group
        fields = [DesignField(f"g{g}_{k}", 0, top, True,
                              f"number of {k.replace('_', ' ')} characters in group {g}")
                  for g in (1, 2) for k in KINDS]
        fields.append(DesignField("swerve", 0, 1, True,
                                  "1 if saving group 1 requires swerving, 0 if staying"))
        return DesignSpace(tuple(fields))

    def scenario(self, group1: list[str], group2: list[str], swerve: bool) -> np.ndarray:
        """The design of a scenario given as lists of character kinds."""
        counts = np.zeros(2 * len(KINDS) + 1)
        for g, members in enumerate((group1, group2)):
            for kind in members:
                counts[g * len(KINDS) + KINDS.index(kind)] += 1
        counts[-1] = float(swerve)
        return counts

    def check_design(self, design: np.ndarray) -> None:
        n = len(KINDS)
        for g, block in enumerate((design[:n], design[n:2 * n]), start=1):
            if not 1 <= block.sum() <= self.params.max_group:
                raise IllegalActionError(
                    f"group {g} has {int(block.sum())} characters; it needs 1 to "
                    f"{self.params.max_group} (fields g{g}_*)")

    def sample_designs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Group sizes uniform on ``1..max_group``, kinds uniform, the swerve flag fair."""
        kinds = len(KINDS)
        probs = np.full(kinds, 1.0 / kinds)
        sizes = rng.integers(1, self.params.max_group + 1, (n, 2))
        g1 = rng.multinomial(sizes[:, 0], probs)
        g2 = rng.multinomial(sizes[:, 1], probs)
        swerve = rng.integers(0, 2, (n, 1))
        return np.concatenate([g1, g2, swerve], axis=1).astype(float)

    def features(self, design: np.ndarray) -> np.ndarray:
        """The 9 features ``f`` of a design (group 1 minus group 2, constants)."""
        n = len(KINDS)
        f = _FEATURES @ (design[:n] - design[n:2 * n])
        f[2], f[4], f[8] = 1.0, 1.0 if design[-1] == 1 else -1.0, 1.0
        return f

    def _logit(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        return np.asarray(theta, dtype=float) @ self.features(np.asarray(design, dtype=float))

    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        p1 = np.exp(log_sigmoid(self._logit(theta, design)))
        return np.where(rng.random(p1.shape) < p1, 1.0, 2.0)

    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        z = self._logit(theta, design)
        return two_class_loglik(y, 1.0, log_sigmoid(z), 2.0, log_sigmoid(-z))

    def outcome_support(self, design: np.ndarray) -> np.ndarray:
        return np.array([1.0, 2.0])

    # ----- words -------------------------------------------------------------------
    def describe_group(self, design: np.ndarray, group: int) -> str:
        """``"1 boy, 2 dogs"``: the characters of group 1 or 2."""
        n = len(KINDS)
        block = design[(group - 1) * n:group * n]
        parts = [f"{int(c)} {k.replace('_', ' ')}{'s' if c > 1 else ''}"
                 for k, c in zip(KINDS, block) if c > 0]
        return ", ".join(parts) if parts else "nobody"

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        group = int(np.asarray(y))
        if not story:
            return f"output {group}"
        side = "the passengers" if group == 1 else "the pedestrians"
        action = "swerve" if (design[-1] == 1) == (group == 1) else "stay on course"
        return (f"The participant chose to save group {group} ({side}: "
                f"{self.describe_group(design, group)}), letting the car {action}.")

    def verbalise_prompt(self, design: np.ndarray, y: np.ndarray) -> str:
        """A prompt asking a language model to voice the participant's choice."""
        move = "swerve" if design[-1] == 1 else "stay on course"
        return ("You are a participant in the Moral Machine experiment. A self-driving car "
                "must kill one of two groups.\n"
                f"Group 1 (passengers): {self.describe_group(design, 1)}\n"
                f"Group 2 (pedestrians): {self.describe_group(design, 2)}\n"
                f"Saving group 1 requires the car to {move}.\n"
                f"You chose to save group {int(np.asarray(y))}. In one short sentence that "
                "starts with \"I chose to save group\", say which group you saved and the "
                "most salient reason. Do not mention numbers or weights.")


MODELS = (MoralMachine,)
