"""The design-world protocol: one scientist, an experiment budget, then prediction queries.

A :class:`DesignWorld` wraps one declared :class:`~agora.envs.design.model.Model` with the
episode rules, as pure functions of an immutable :class:`DesignState`:

* :meth:`DesignWorld.initial_state` draws the world's covariates and the true parameters
  from the prior (same generator state, same truth and outcomes) and starts from the prior
  particle posterior;
* :meth:`DesignWorld.experiment` runs one design: the EIG of the design and the best EIG
  over random candidate designs, both under the posterior *before* the outcome (so regret is
  computed on the agent's own trajectory), then the outcome and the posterior update;
* :meth:`DesignWorld.questions` and :meth:`DesignWorld.score` evaluate a checkpoint: eval
  queries and true answers come from their own generator (see :func:`checkpoint_rng`), so
  evaluating never changes the trajectory, and nothing of it enters the history.

Errors are standardised, ``z = (err - mu0) / sigma0``, against the prior-predictive-mean
predictor (:mod:`agora.envs.design.normalizers`): ``z = 0`` is "no better than the prior",
negative is better. Rewards (``reward`` param): the EIG of each experiment (nats) and/or
``-mean z`` of the Bayes-optimal predictions after the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_int, require
from agora.envs.design.eig import eig, eig_many
from agora.envs.design.inference import Posterior, prior_posterior, update
from agora.envs.design.model import Model
from agora.envs.design.normalizers import Normalizer, normalizer_for
from agora.envs.design.types import (
    DesignState,
    Evaluation,
    ExperimentInfo,
    Question,
    ScientistView,
)
from agora.envs.design.worlds import model_class, model_keys
from agora.envs.errors import ConfigError

REWARDS = ("eig", "prediction", "both")
SCREEN = 500
"""Cap on the outer and inner samples when screening the candidates for the best EIG."""
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


class DesignWorld:
    """Rules of a design episode over one declared model (see the module doc).

    Example:
        >>> world = DesignWorld({"model": "linear_gaussian", "budget": 2, "checkpoints": (0,),
        ...                      "n_particles": 256, "eig_outer": 64, "eig_inner": 64,
        ...                      "n_candidates": 8})
        >>> state = world.initial_state(np.random.default_rng(0))
        >>> state, y, info = world.experiment(state, np.array([1.0]), np.random.default_rng(1))
        >>> state.step, info.eig.value > 0
        (1, True)
    """

    info = GameInfo(
        name="Experimental design", timing=Timing.SEQUENTIAL,
        description="Spend an experiment budget on a hidden generative model, then predict "
                    "and explain (BoxingGym's protocol, with EIG you can trust).",
        family="design", action_kind="box", observation_kind="dict(history)",
        reference="Gandhi, Li et al. (2025), BoxingGym")
    num_players = 1

    def __init__(self, params: DesignParams | Mapping[str, Any] | None = None) -> None:
        if not isinstance(params, DesignParams):
            params = DesignParams.from_dict(params)
        self.params: DesignParams = params
        self.model_cls = params.model_cls()
        self.model = self.new_model()
        """A prototype instance (no covariates drawn); episodes use their own."""
        self.normalizer: Normalizer = normalizer_for(self.model)

    def new_model(self) -> Model:
        """A fresh instance of the model with this world's params."""
        try:
            return self.model_cls(dict(self.params.model_params))
        except ConfigError as exc:
            raise ConfigError(f"{self.params.model}: {exc}") from None

    # ----- episode ----------------------------------------------------------------
    @staticmethod
    def streams(rng: np.random.Generator) -> DesignStreams:
        """Split an episode's rules stream (see :class:`DesignStreams`).

        Example:
            >>> a = DesignWorld.streams(np.random.default_rng(3))
            >>> b = DesignWorld.streams(np.random.default_rng(3))
            >>> a.eval_seed == b.eval_seed, a.truth.random() == b.truth.random()
            (True, True)
        """
        truth, experiments, evals, policy, misc = rng.spawn(5)
        return DesignStreams(truth, experiments, int(evals.integers(2**63)), policy, misc)

    def initial_state(self, rng: np.random.Generator) -> DesignState:
        """Covariates, the true parameters and the prior posterior, all from ``rng``."""
        model = self.new_model()
        model.instantiate(rng)
        theta = model.sample_prior(rng, 1)[0]
        posterior = prior_posterior(model, rng, self.params.n_particles)
        return DesignState(model, theta, posterior)

    def experiment(self, state: DesignState, design: Sequence[float] | np.ndarray,
                   rng: np.random.Generator) -> tuple[DesignState, np.ndarray, ExperimentInfo]:
        """Run ``design`` (validated) and return the new state, the outcome and the EIGs.

        ``rng`` is split into child streams for the outcome, the EIG estimates and the
        update, so the outcomes of a seed never depend on the estimator settings.
        """
        model = state.model
        x = model.validate_design(design)
        sim_rng, eig_rng, update_rng = rng.spawn(3)
        info = self.eig_report(state, x, eig_rng)
        y = np.asarray(model.simulate(state.theta, x, sim_rng), dtype=float)
        posterior = update(model, state.posterior, x, y, update_rng)
        new = DesignState(model, state.theta, posterior, (*state.designs, x),
                          (*state.outcomes, y))
        return new, y, info

    def design_reward(self, info: ExperimentInfo) -> float:
        """An experiment's reward under the ``reward`` param: its EIG (``eig``/``both``)."""
        return info.eig.value if self.params.reward in ("eig", "both") else 0.0

    def prediction_reward(self, ev: Evaluation) -> float:
        """The final checkpoint's reward (``prediction``/``both``): ``-mean z``, lower
        errors than the prior's earning more."""
        return -ev.z_mean if self.params.reward in ("prediction", "both") else 0.0

    def eig_report(self, state: DesignState, design: np.ndarray,
                   rng: np.random.Generator) -> ExperimentInfo:
        """EIG of ``design`` and of the best of ``n_candidates`` random designs (screened
        with :func:`eig_many` at up to :data:`SCREEN` samples, the winner re-estimated like
        the chosen design, so the selection does not bias the best EIG upwards)."""
        p, model, post = self.params, state.model, state.posterior
        own_rng, pool_rng, best_rng = rng.spawn(3)
        own = eig(model, post, design, own_rng, n_outer=p.eig_outer, n_inner=p.eig_inner)
        pool = model.sample_designs(pool_rng, p.n_candidates)
        scores = eig_many(model, post, pool, pool_rng, n_outer=min(p.eig_outer, SCREEN),
                          n_inner=min(p.eig_inner, SCREEN))
        best_design = pool[int(np.argmax(scores))]
        best = eig(model, post, best_design, best_rng, n_outer=p.eig_outer,
                   n_inner=p.eig_inner)
        return ExperimentInfo(own, best, best_design)

    # ----- evaluation -------------------------------------------------------------
    def questions(self, state: DesignState, rng: np.random.Generator) -> tuple[Question, ...]:
        """Eval queries and true answers for every goal (one query for parameter goals)."""
        model, out = state.model, []
        for goal in model.goals:
            n = self.params.n_eval if goal.kind == "outcome" else 1
            queries = np.asarray(model.eval_queries(goal, rng, n), dtype=float)
            truth = np.asarray(model.true_answer(goal, state.theta, queries, rng), dtype=float)
            out.append(Question(goal, queries, truth))
        return tuple(out)

    def predict(self, state: DesignState, question: Question, posterior: Posterior,
                rng: np.random.Generator) -> np.ndarray:
        """The Bayes-optimal answers to ``question`` under ``posterior``."""
        return np.asarray(state.model.predict(question.goal, posterior.particles,
                                              posterior.weights, question.queries, rng))

    def score(self, state: DesignState, questions: Sequence[Question],
              answers: Sequence[np.ndarray]) -> Evaluation:
        """Error and z of each goal's answers (shapes as the truths)."""
        errors, z = {}, {}
        for q, a in zip(questions, answers, strict=True):
            a = np.asarray(a, dtype=float).reshape(q.truth.shape)
            err = float(state.model.goal_error(q.goal, a, q.truth))
            errors[q.goal.name] = err
            z[q.goal.name] = self.normalizer.z(q.goal.name, err)
        return Evaluation(errors, z)

    def evaluate(self, state: DesignState, rng: np.random.Generator,
                 posterior: Posterior | None = None) -> Evaluation:
        """Score the Bayes-optimal predictor under ``posterior`` (default: the state's)."""
        post = state.posterior if posterior is None else posterior
        qs = self.questions(state, rng)
        return self.score(state, qs, [self.predict(state, q, post, rng) for q in qs])

    def prior(self, state: DesignState, rng: np.random.Generator) -> Posterior:
        """The prior particle posterior of this episode's model (a novice's knowledge)."""
        return prior_posterior(state.model, rng, self.params.n_particles)

    def view(self, state: DesignState, posterior: Posterior | None = None,
             question: Question | None = None, history: bool = True) -> ScientistView:
        """A scientist's view of ``state`` (no truth): a design turn, or a query turn when
        ``question`` is given (its truth is left out). ``history=False`` hides the
        experiments (a novice's view)."""
        return ScientistView(
            self, state.model, state.posterior if posterior is None else posterior,
            state.designs if history else (), state.outcomes if history else (),
            None if question is None else question.goal,
            None if question is None else question.queries)
