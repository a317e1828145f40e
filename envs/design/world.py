"""The design-world protocol: one scientist, an experiment budget, then prediction queries.

A :class:`DesignWorld` is a one-player :class:`~agora.envs.core.World` over one declared
:class:`~agora.envs.design.model.Model`; its phases live in its immutable
:class:`DesignState`:

* :meth:`DesignWorld.initial_state` splits the episode's rules stream
  (:meth:`DesignWorld.split`), draws the covariates, the true parameters and the prior
  particle posterior from the truth stream, and keeps the world's own seeds in the state;
* the **design phase**: the action is a design, which :meth:`DesignWorld.check` validates
  against the model's box and constraints; :meth:`DesignWorld.step` runs it
  (:meth:`DesignWorld.experiment`: the EIG of the design and the best EIG over random
  candidate designs, both under the posterior *before* the outcome, so regret is computed
  on the agent's own trajectory, then the outcome and the posterior update);
* the **question phase**, after ``k`` experiments for every ``k`` in ``eval_points``: the
  state holds the checkpoint's questions (:meth:`DesignWorld.questions`, drawn from their
  own generator, :func:`checkpoint_rng`, so evaluating never changes the trajectory); the
  action is the answers, one array per question, and ``step`` scores them
  (:meth:`DesignWorld.score`). Scoring the final checkpoint (after the budget) ends the
  episode.

Errors are standardised, ``z = (err - mu0) / sigma0``, against the prior-predictive-mean
predictor (:mod:`agora.envs.design.normalizers`): ``z = 0`` is "no better than the prior",
negative is better. Rewards (``reward`` param): the EIG of each experiment (nats) and/or
``-mean z`` of the Bayes-optimal predictions after the budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from agora.envs.core import Benchmark, GameInfo, Status, StepResult, Timing, World
from agora.envs.design.eig import eig, eig_many
from agora.envs.design.inference import Posterior, prior_posterior, update
from agora.envs.design.model import Model
from agora.envs.design.normalizers import Normalizer, normalizer_for
from agora.envs.design.params import DesignParams, DesignStreams, checkpoint_rng
from agora.envs.design.types import (
    DesignSeeds,
    DesignState,
    Evaluation,
    ExperimentInfo,
    Question,
    ScientistView,
)
from agora.envs.errors import ConfigError, IllegalActionError

__all__ = ["Answers", "DesignParams", "DesignState", "DesignStreams", "DesignWorld", "SCREEN",
           "checkpoint_rng"]

SCREEN = 500
"""Cap on the outer and inner samples when screening the candidates for the best EIG."""


Answers = Sequence[np.ndarray]
"""A question-phase action: one array of answers per question of the checkpoint."""


class DesignWorld(World[DesignParams, DesignState, ScientistView, Any]):
    """Rules of a design episode over one declared model (see the module doc).

    Example:
        >>> world = DesignWorld({"model": "linear_gaussian", "budget": 1, "checkpoints": (),
        ...                      "n_particles": 256, "eig_outer": 64, "eig_inner": 64,
        ...                      "n_candidates": 8})
        >>> state = world.initial_state(np.random.default_rng(0))
        >>> state.phase, world.to_move(state)
        ('design', (0,))
        >>> state, (reward,) = world.step(state, (np.array([1.0]),), None)
        >>> state.phase, reward == state.reports[0].eig.value > 0
        ('questions', True)
        >>> truths = [q.truth for q in state.questions]
        >>> state, _ = world.step(state, (truths,), None)
        >>> world.status(state).name, world.metrics(state)["z_final"] < 0
        ('TERMINATED', True)
    """

    info = GameInfo(
        name="Experimental design", timing=Timing.SEQUENTIAL,
        description="Spend an experiment budget on a hidden generative model, then predict "
                    "and explain (BoxingGym's protocol, with EIG you can trust).",
        family="design", action_kind="box", observation_kind="dict(history)",
        reference="Gandhi, Li et al. (2025), BoxingGym")
    params_type = DesignParams
    loop_seats = "agora.experiments.discovery:DesignSeats"

    def __init__(self, params: DesignParams | Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.model_cls = self.params.model_cls()
        self.model = self.new_model()
        """A prototype instance (no covariates drawn); episodes use their own."""
        self.normalizer: Normalizer = normalizer_for(self.model)

    @property
    def num_players(self) -> int:
        return 1

    def new_model(self) -> Model:
        """A fresh instance of the model with this world's params."""
        try:
            return self.model_cls(dict(self.params.model_params))
        except ConfigError as exc:
            raise ConfigError(f"{self.params.model}: {exc}") from None

    # ----- the episode ------------------------------------------------------------
    @staticmethod
    def split(rng: np.random.Generator) -> DesignStreams:
        """Split an episode's rules stream (see :class:`DesignStreams`).

        Example:
            >>> a = DesignWorld.split(np.random.default_rng(3))
            >>> b = DesignWorld.split(np.random.default_rng(3))
            >>> a.eval_seed == b.eval_seed, a.truth.random() == b.truth.random()
            (True, True)
        """
        truth, experiments, evals, policy, misc = rng.spawn(5)
        return DesignStreams(truth, experiments, int(evals.integers(2**63)), policy, misc)

    def streams(self, rng: np.random.Generator) -> tuple[DesignStreams, np.random.Generator]:
        """The contract's split: :meth:`initial_state` is dealt from the
        :class:`DesignStreams` (the episode loop's seats take the policy and misc streams
        from it); :meth:`step` draws from no stream (``rng`` is passed on unused)."""
        return self.split(rng), rng

    def initial_state(self, rng: np.random.Generator | DesignStreams) -> DesignState:
        """The episode of a rules stream: covariates, the true parameters and the prior
        posterior from its truth stream, the world's seeds kept in the state, and
        checkpoint 0's questions when it is scored.

        Args:
            rng: the episode's rules stream, or its :meth:`split` already made (the
                episode loop deals from the first of :meth:`streams`, whose policy and
                misc streams its seats also use).
        """
        streams = rng if isinstance(rng, DesignStreams) else self.split(rng)
        model, truth = self.new_model(), streams.truth
        model.instantiate(truth)
        theta = model.sample_prior(truth, 1)[0]
        posterior = prior_posterior(model, truth, self.params.n_particles)
        bits = streams.experiments.bit_generator
        seeds = DesignSeeds(cast(np.random.SeedSequence, bits.seed_seq), type(bits),
                            streams.eval_seed)
        return self._open(DesignState(model, theta, posterior, seeds=seeds))

    def step(self, state: DesignState, actions: tuple[Any, ...],
             rng: np.random.Generator | None) -> StepResult:
        """Run the design, or score the answers, of the one player (assumed legal:
        :meth:`check` it first).

        ``rng`` is not drawn from: the world's chance was dealt into ``state.seeds`` (see
        :class:`DesignSeeds`), so a stored state goes on the same way whoever steps it.
        """
        (action,) = actions
        if state.questions:
            return self._score_checkpoint(state, action)
        assert state.seeds is not None, "a bare state has no experiments stream"
        new, _, report = self.experiment(state, action, state.seeds.experiment_rng(state.step))
        reward = self.design_reward(report)
        new = new._replace(reports=(*state.reports, report), total=state.total + reward)
        return StepResult(self._open(new), (reward,))

    def _open(self, state: DesignState) -> DesignState:
        """Open a checkpoint (its questions) when ``state.step`` is an eval point."""
        if state.seeds is None or state.step not in self.params.eval_points:
            return state
        rng = checkpoint_rng(state.seeds.eval_seed, state.step)
        return state._replace(questions=self.questions(state, rng))

    def _score_checkpoint(self, state: DesignState, answers: Answers) -> StepResult:
        ev = self.score(state, state.questions, answers)
        final = state.step >= self.params.budget
        reward = self.prediction_reward(ev) if final else 0.0
        new = state._replace(
            scores=(*state.scores, (state.step, ev)), total=state.total + reward,
            questions=state.questions if final else (),
            status=Status.TERMINATED if final else Status.RUNNING)
        return StepResult(new, (reward,))

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
        new = state._replace(posterior=posterior, designs=(*state.designs, x),
                             outcomes=(*state.outcomes, y))
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

    # ----- the validator ----------------------------------------------------------
    def check(self, state: DesignState, player: int, action: Any) -> None:
        """Raise :class:`IllegalActionError` saying why ``action`` is not legal now: a
        design outside the box or breaking the model's constraints, or answers that are
        not one array per question of the truth's size.

        Example:
            >>> w = DesignWorld({"model": "hyperbolic_discounting", "n_particles": 64})
            >>> s = w.initial_state(np.random.default_rng(0))._replace(questions=())
            >>> w.is_legal(s, 0, [10.0, 20.0, 3.0]), w.is_legal(s, 0, [30.0, 20.0, 3.0])
            (True, False)
            >>> try:
            ...     w.check(s, 0, [30.0, 20.0, 3.0])
            ... except IllegalActionError as exc:
            ...     print(exc)
            design immediate_reward=30 must be less than delayed_reward=20
        """
        if player != 0 or self.status(state) is not Status.RUNNING:
            raise IllegalActionError(f"player {player} does not move now")
        if state.questions:
            return self._check_answers(state, action)
        try:
            state.model.validate_design(action)
        except IllegalActionError:
            raise
        except (TypeError, ValueError):
            raise IllegalActionError(f"a design is {state.model.design_space.low.size} "
                                     f"numbers, got {action!r}") from None

    def _check_answers(self, state: DesignState, answers: Any) -> None:
        if not isinstance(answers, (list, tuple)) or len(answers) != len(state.questions):
            raise IllegalActionError(f"the answers are one array per question "
                                     f"({len(state.questions)}), got {answers!r}")
        for q, a in zip(state.questions, answers, strict=True):
            try:
                size = np.asarray(a, dtype=float).size
            except (TypeError, ValueError):
                raise IllegalActionError(f"answers to {q.goal.name} are numbers, "
                                         f"got {a!r}") from None
            if size != q.truth.size:
                raise IllegalActionError(f"{q.goal.name} wants {q.truth.size} answers, "
                                         f"got {size}")

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

    def bayes_answers(self, state: DesignState) -> list[np.ndarray]:
        """The Bayes-optimal answers to the open checkpoint's questions under the state's
        posterior (the reference predictor that the Gymnasium env answers with), drawn
        from the checkpoint's generator after its questions, as :meth:`evaluate` does."""
        assert state.seeds is not None and state.questions
        rng = checkpoint_rng(state.seeds.eval_seed, state.step)
        self.questions(state, rng)  # the same draws as when the checkpoint opened
        return [self.predict(state, q, state.posterior, rng) for q in state.questions]

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

    # ----- outcomes ---------------------------------------------------------------
    def returns(self, state: DesignState) -> tuple[float, ...]:
        return (state.total,)

    def metrics(self, state: DesignState) -> dict[str, float]:
        """``z.<goal>@<k>`` and ``z@<k>`` per scored checkpoint, ``eig_total`` (nats) and
        ``regret_mean`` of the experiments so far, and ``z_final`` once the episode ends."""
        out: dict[str, float] = {}
        for k, ev in state.scores:
            for goal, z in ev.z.items():
                out[f"z.{goal}@{k}"] = z
            out[f"z@{k}"] = ev.z_mean
        regrets = [r.regret for r in state.reports]
        out["eig_total"] = float(np.sum([r.eig.value for r in state.reports]))
        out["regret_mean"] = float(np.mean(regrets)) if regrets else 0.0
        if self.status(state) is Status.TERMINATED:
            out["z_final"] = state.scores[-1][1].z_mean
        return out

    def benchmark(self) -> Benchmark:
        """The proven information limit of one experiment and the prior predictor's z.

        Example:
            >>> b = DesignWorld({"n_particles": 256}).benchmark()
            >>> round(b.values["eig_limit"], 4), b.values["z_prior"]
            (5.5452, 0.0)
        """
        return Benchmark(
            "information limit; prior-predictive predictor",
            {"eig_limit": math.log(self.params.n_particles), "z_prior": 0.0},
            "No experiment's EIG exceeds the entropy of the particle posterior, at most "
            "log(n_particles) nats (agora.envs.design.eig.information_limit). Predicting "
            "the prior-predictive mean scores z = 0 in expectation, by the normalisers' "
            "definition, so z < 0 is what the experiments taught.")

    # ----- faces ------------------------------------------------------------------
    def view(self, state: DesignState, player: int = 0) -> ScientistView:
        """What the scientist sees (never the truth): the history and the posterior; in
        the question phase also the checkpoint's goals and queries."""
        asked = tuple((q.goal, q.queries) for q in state.questions)
        return ScientistView(self, state.model, state.posterior, state.designs,
                             state.outcomes, questions=asked)

    def query_view(self, state: DesignState, question: Question,
                   posterior: Posterior | None = None, history: bool = True) -> ScientistView:
        """One goal's query turn (its truth left out). ``posterior`` replaces the state's
        and ``history=False`` hides the experiments (a novice's view)."""
        return ScientistView(
            self, state.model, state.posterior if posterior is None else posterior,
            state.designs if history else (), state.outcomes if history else (),
            question.goal, question.queries)
