"""The one declaration of a scientific world: prior, simulator, likelihood, designs, goals.

Everything else is derived from a :class:`Model`: posterior inference
(:mod:`agora.envs.design.inference`), expected information gain
(:mod:`agora.envs.design.eig`), baselines, the Gymnasium env and the text face. No model
is written twice.

Shapes (numpy broadcasting over leading dimensions ``...``):

* ``theta``: ``(..., P)`` with ``P = len(model.param_names)``, in the *declared*
  parameterisation (the one ``log_prior`` is a density of, e.g. ``log k`` for discounting);
* ``design``: ``(D,)``, one design, ``D = len(model.design_space.names)``;
* ``y``: ``(..., *model.outcome_shape)``; scalar outcomes have ``outcome_shape == ()``.

``log_lik(y, theta, design)`` broadcasts ``y``'s leading dims against ``theta``'s, so the
nested Monte Carlo matrix is one call: ``log_lik(y[:, None], theta[None, :], design)``
gives ``(N, M)``.

Two optional hooks speed up inference (:mod:`agora.envs.design.inference` looks for them):

* ``log_lik_history(outcomes, theta, designs) -> (B,)``: the summed log-likelihood of a
  whole history in one pass (Lotka-Volterra solves its ODE once, to the latest time);
* ``conjugate_move(theta, designs, outcomes, powers, rng) -> theta``: a Markov move that
  leaves ``prior x prod_i p(y_i | theta)^powers_i`` invariant and forgets its start (an
  exact Gibbs sweep; emotion's coefficients are conditionally Gaussian). A model with one
  gets a single move per update and no tempering.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from agora.envs.core import GameInfo, Params
from agora.envs.errors import IllegalActionError


@dataclass(frozen=True)
class DesignField:
    """One coordinate of a design.

    Attributes:
        name: key in the text face's JSON answer (``"delay_days"``).
        low, high: inclusive bounds.
        integer: whether the value is an integer (an index, a count).
        description: what the value means, for the text face (story framing).
    """

    name: str
    low: float
    high: float
    integer: bool = False
    description: str = ""


@dataclass(frozen=True)
class DesignSpace:
    """A box of designs (some coordinates integer), plus the model's own constraints.

    Example:
        >>> space = DesignSpace((DesignField("t", 0.0, 2.0),))
        >>> space.validate([0.5])
        array([0.5])
        >>> space.validate([3.0])
        Traceback (most recent call last):
        ...
        agora.envs.errors.IllegalActionError: design t=3.0 is outside [0.0, 2.0]
    """

    fields: tuple[DesignField, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def low(self) -> np.ndarray:
        return np.array([f.low for f in self.fields], dtype=float)

    @property
    def high(self) -> np.ndarray:
        return np.array([f.high for f in self.fields], dtype=float)

    @property
    def integer(self) -> np.ndarray:
        return np.array([f.integer for f in self.fields], dtype=bool)

    def validate(self, design: Sequence[float] | np.ndarray) -> np.ndarray:
        """The design as a float array, or :class:`IllegalActionError` naming the field."""
        x = np.asarray(design, dtype=float).reshape(-1)
        if x.shape != (len(self.fields),):
            raise IllegalActionError(
                f"a design has {len(self.fields)} values {list(self.names)}, got {x.size}")
        for f, v in zip(self.fields, x):
            if not np.isfinite(v):
                raise IllegalActionError(f"design {f.name}={v} is not a finite number")
            if not f.low <= v <= f.high:
                raise IllegalActionError(
                    f"design {f.name}={v} is outside [{f.low}, {f.high}]")
            if f.integer and v != round(v):
                raise IllegalActionError(f"design {f.name}={v} must be an integer")
        return x

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` uniform designs ``(n, D)`` in the box (integers uniform over their range);
        models with constraints override :meth:`Model.sample_designs`."""
        u = rng.random((n, len(self.fields)))
        x = self.low + u * (self.high - self.low)
        ints = self.integer
        x[:, ints] = np.floor(self.low[ints] + u[:, ints] * (self.high[ints] - self.low[ints] + 1))
        return np.minimum(x, self.high)


@dataclass(frozen=True)
class Goal:
    """A prediction task the scientist is scored on after experimenting.

    Attributes:
        name: ``"predict_choice"``, ``"estimate_k"`` ...
        kind: ``"outcome"`` (query = a design, answer = a predicted outcome) or
            ``"parameter"`` (answer = values of model quantities, no query design).
        error: ``"squared"``, ``"absolute"``, ``"misclassification"`` or ``"custom"``
            (the model's :meth:`Model.goal_error` decides); lower is always better.
        answer_names: the fields of an answer (``("choice",)``, ``("x1", "y1", ...)``).
        description: the question as asked (no-story wording; the text face adds story).
    """

    name: str
    kind: str
    error: str
    answer_names: tuple[str, ...]
    description: str


class Model(ABC):
    """A generative model an agent experiments on (see the module doc for shapes).

    Subclasses declare ``info``, ``params_cls``, ``param_names``, ``outcome_shape``,
    ``design_space`` and ``goals``, and implement the abstract methods. The constructor
    takes the model's own frozen :class:`Params` (noise levels, form options).
    """

    key: ClassVar[str]
    """Snake-case name, the value of a design world's ``model`` parameter."""
    info: ClassVar[GameInfo]
    params_cls: ClassVar[type[Params]]
    param_names: ClassVar[tuple[str, ...]]
    outcome_shape: ClassVar[tuple[int, ...]] = ()
    outcome_discrete: ClassVar[bool] = False
    """True when outcomes are integers (binary, counts)."""
    goals: ClassVar[tuple[Goal, ...]]
    story: ClassVar[str] = ""
    """The story framing of the world (what is studied, in the domain's words)."""
    abstract: ClassVar[str] = ""
    """The no-story framing (the same facts as an abstract input -> output function)."""

    def __init__(self, params: Params | Mapping[str, Any] | None = None) -> None:
        if not isinstance(params, Params):
            params = self.params_cls.from_dict(params)
        self.params = params
        self.context: Mapping[str, np.ndarray] = {}

    # ----- declaration ---------------------------------------------------------------
    @property
    @abstractmethod
    def design_space(self) -> DesignSpace:
        """The designs the scientist may choose."""

    @abstractmethod
    def sample_prior(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of theta from the prior, ``(n, P)``."""

    @abstractmethod
    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        """Log prior density ``(...,)`` (``-inf`` outside the support)."""

    @abstractmethod
    def simulate(self, theta: np.ndarray, design: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        """One outcome per theta: ``(..., *outcome_shape)``."""

    @abstractmethod
    def log_lik(self, y: np.ndarray, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``log p(y | theta, design)``, broadcasting leading dims of ``y`` and ``theta``."""

    # ----- optional refinements ------------------------------------------------------
    def instantiate(self, rng: np.random.Generator) -> None:  # noqa: B027  (optional hook)
        """Draw the world's known covariates (patients, characters) into ``self.context``
        at reset; they are shown to the scientist, not inferred. Default: none."""

    def check_design(self, design: np.ndarray) -> None:  # noqa: B027  (optional hook)
        """Constraints beyond the box (e.g. immediate < delayed reward); raise
        :class:`IllegalActionError` naming the violated rule."""

    def sample_designs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` valid random designs ``(n, D)`` (default: the box)."""
        return self.design_space.sample(rng, n)

    def validate_design(self, design: Sequence[float] | np.ndarray) -> np.ndarray:
        """Box, integrality and the model's constraints, with a typed error."""
        x = self.design_space.validate(design)
        self.check_design(x)
        return x

    def outcome_support(self, design: np.ndarray) -> np.ndarray | None:
        """All outcomes, ``(K, *outcome_shape)``, when they are few (Bernoulli, Binomial(50))
        so EIG can sum over them exactly; ``None`` otherwise."""
        return None

    def gaussian_channel(self, theta: np.ndarray, design: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray] | None:
        """Means and standard deviations ``(..., k)`` of a Gaussian vector ``z`` with
        independent coordinates given theta, one per outcome value, such that the outcome
        is a fixed function of ``z`` (``y = z``, ``exp(z)``, ``|z|``): then
        ``I(theta; y) <= I(theta; z)``, which the EIG estimator bounds in closed form
        (:func:`~agora.envs.design.eig.information_limit`).
        ``None`` (the default): the outcome is not such a channel."""
        return None

    def eval_queries(self, goal: Goal, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` query designs ``(n, D)`` for an outcome goal (default: random designs)."""
        return self.sample_designs(rng, n)

    def true_answer(self, goal: Goal, theta: np.ndarray, queries: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
        """The answers to score against, for the true ``theta`` ``(P,)``: for outcome goals a
        fresh outcome per query ``(n, *outcome_shape)``; parameter goals override."""
        return np.stack([self.simulate(theta, q, rng) for q in queries])

    def predict(self, goal: Goal, particles: np.ndarray, weights: np.ndarray,
                queries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The Bayes-optimal answer under a weighted particle posterior (the mean for
        squared error, the most probable class for misclassification ...). Used by the
        baselines and, with prior particles, by the prior-predictive-mean normaliser."""
        raise NotImplementedError(f"{type(self).__name__}.predict({goal.name})")

    def goal_error(self, goal: Goal, answers: np.ndarray, truth: np.ndarray) -> float:
        """Mean error of ``answers`` against ``truth`` (lower is better)."""
        a = np.asarray(answers, dtype=float)
        t = np.asarray(truth, dtype=float)
        if goal.error == "squared":
            return float(np.mean((a - t) ** 2))
        if goal.error == "absolute":
            return float(np.mean(np.abs(a - t)))
        if goal.error == "misclassification":
            return float(np.mean(np.round(a) != t))
        raise NotImplementedError(f"{type(self).__name__} must define goal_error({goal.name})")

    def describe_context(self) -> str:
        """The known covariates as prose or a table (empty if none)."""
        return ""

    def format_outcome(self, design: np.ndarray, y: np.ndarray, story: bool) -> str:
        """An outcome in words (moral machine and emotion verbalise; default: numbers)."""
        return np.array2string(np.asarray(y), precision=4)
