"""The numbers of a design episode and how it splits its random streams.

:class:`DesignParams` are the episode's parameters (the model's own ride along);
:class:`DesignStreams` is the one split of an episode's rules stream that the world, the
episode player and the Gymnasium env share; :func:`checkpoint_rng` is the generator of one
checkpoint's questions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import Params, is_int, require
from agora.envs.design.model import Model
from agora.envs.design.worlds import model_class, model_keys

REWARDS = ("eig", "prediction", "both")
CHECKPOINTS = (0, 1, 3, 5, 7, 10)
"""BoxingGym's checkpoints (experiments done when predictions are scored)."""


@dataclass(frozen=True)
class DesignParams(Params):
    """Numbers of a design episode (the model's own params ride along in ``model_params``).

    Build it from a flat mapping with :meth:`from_dict`: keys that are not fields here go to
    the model's params class, so ``{"model": "linear_gaussian", "noise_sd": 0.1}`` works and
    a sweep over ``params.noise_sd`` needs no nesting.

    Attributes:
        model: key of the declared model (:func:`~agora.envs.design.worlds.model_keys`).
        budget: experiments per episode.
        checkpoints: experiment counts at which predictions are scored (each <= budget;
            the budget itself is always scored at the end). Default: BoxingGym's
            :data:`CHECKPOINTS` up to the budget.
        n_eval: eval queries per outcome goal and checkpoint (a parameter goal asks once).
        story: story framing (True) or the abstract input -> output framing, for text.
        reward: ``"eig"`` (per experiment), ``"prediction"`` (``-mean z`` at the end) or
            ``"both"``.
        explanation: run the explanation test after the budget.
        word_limit: words allowed in the explanation (enforced).
        n_particles: particles of the posterior.
        eig_outer, eig_inner: nested Monte Carlo sizes of the EIG reported per experiment.
        n_candidates: random candidate designs for the best-EIG reference (regret).
        verbaliser_model: language model for models whose ``verbaliser`` param is ``"llm"``.
        model_params: the model's params as sorted ``(name, value)`` pairs.

    Example:
        >>> p = DesignParams.from_dict({"model": "linear_gaussian", "noise_sd": 0.1})
        >>> p.model_params, p.to_dict()["noise_sd"]
        ((('noise_sd', 0.1),), 0.1)
    """

    model: str = "linear_gaussian"
    budget: int = 10
    checkpoints: tuple[int, ...] | None = None
    n_eval: int = 10
    story: bool = True
    reward: str = "both"
    explanation: bool = True
    word_limit: int = 200
    n_particles: int = 4096
    eig_outer: int = 1000
    eig_inner: int = 1000
    n_candidates: int = 100
    verbaliser_model: str = "local/gemma-3-270m"
    model_params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.checkpoints is None and is_int(self.budget):
            object.__setattr__(self, "checkpoints",
                               tuple(c for c in CHECKPOINTS if c <= self.budget))
        super().__post_init__()

    def validate(self) -> None:
        require(self.model in model_keys(), "model", self.model,
                f"must be one of {model_keys()}")
        for name in ("budget", "n_eval", "word_limit", "n_particles", "eig_outer",
                     "eig_inner", "n_candidates"):
            v = getattr(self, name)
            require(is_int(v) and v >= 1, name, v, "must be a positive integer")
        cps = self.checkpoints
        require(isinstance(cps, tuple) and all(is_int(c) and 0 <= c <= self.budget for c in cps),
                "checkpoints", cps, f"must be integers in 0..budget={self.budget}")
        require(self.reward in REWARDS, "reward", self.reward, f"must be one of {REWARDS}")
        for name in ("story", "explanation"):
            require(isinstance(getattr(self, name), bool), name, getattr(self, name),
                    "must be true or false")
        require(isinstance(self.verbaliser_model, str), "verbaliser_model",
                self.verbaliser_model, "must be a model id")
        self.model_cls().params_cls.from_dict(dict(self.model_params))  # names bad keys

    def model_cls(self) -> type[Model]:
        """The declared model class."""
        return model_class(self.model)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None = None) -> DesignParams:
        values = dict(values or {})
        own = {f.name for f in fields(cls)} - {"model_params"}
        extra = dict(values.pop("model_params", None) or {})
        extra.update({k: values.pop(k) for k in sorted(set(values) - own)})
        values["model_params"] = tuple(sorted(extra.items()))
        params = super().from_dict(values)
        assert isinstance(params, DesignParams)
        return params

    def to_dict(self) -> dict[str, Any]:
        """Flat plain data (the model's params beside the episode's): from_dict's inverse."""
        out = super().to_dict()
        out.pop("model_params")
        return {**out, **dict(self.model_params)}

    @property
    def eval_points(self) -> tuple[int, ...]:
        """Sorted checkpoints, always ending with the budget."""
        return tuple(sorted({*(self.checkpoints or ()), self.budget}))


def checkpoint_rng(eval_seed: int, checkpoint: int) -> np.random.Generator:
    """The generator of one checkpoint's eval queries: a child (spawn key ``checkpoint``)
    of the episode's eval seed, independent of the experiment stream and of which other
    checkpoints are scored.

    Example:
        >>> a = checkpoint_rng(7, 3).random()
        >>> a == checkpoint_rng(7, 3).random() != checkpoint_rng(7, 5).random()
        True
    """
    return np.random.default_rng(np.random.SeedSequence(eval_seed, spawn_key=(checkpoint,)))


class DesignStreams(NamedTuple):
    """How a design episode splits its rules stream, the same for ``agora run`` and the
    Gymnasium env (so one seed is one episode through both).

    Attributes:
        truth: covariates, the true parameters and the prior particles.
        experiments: every experiment's outcome, EIG estimates and posterior update.
        eval_seed: the seed of the checkpoints' questions (:func:`checkpoint_rng`).
        policy: fallback designs and answers (the runner's, never the world's).
        misc: anything else the runner draws (the explanation test's fresh agent).
    """

    truth: np.random.Generator
    experiments: np.random.Generator
    eval_seed: int
    policy: np.random.Generator
    misc: np.random.Generator
