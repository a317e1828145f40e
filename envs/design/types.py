"""Typed data of a design episode: state, eval questions, scores, what agents see.

Everything here is immutable and free of rules; :mod:`agora.envs.design.world` computes
it. :class:`ScientistView` is the typed observation of the baseline scientists (face GAME):
the episode's model and known covariates, the history and the world's posterior, never the
true parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import Status
from agora.envs.design.eig import EIGEstimate
from agora.envs.design.inference import Posterior
from agora.envs.design.model import Goal, Model


class DesignSeeds(NamedTuple):
    """The world's own chance, dealt with the episode and kept in its state, so a stored
    state goes on the same way whoever steps it.

    Attributes:
        experiments: seeds of the experiments stream; experiment ``k`` draws from its
            children ``3k, 3k + 1, 3k + 2`` (outcome, EIG estimates, update), exactly as
            ``spawn(3)`` once per experiment would.
        bit_generator: the stream's bit generator class.
        eval_seed: the seed of the checkpoints' questions
            (:func:`~agora.envs.design.world.checkpoint_rng`).
    """

    experiments: np.random.SeedSequence
    bit_generator: type[np.random.BitGenerator]
    eval_seed: int

    def experiment_rng(self, k: int) -> np.random.Generator:
        """The generator whose ``spawn(3)`` gives experiment ``k``'s three streams."""
        seq = self.experiments
        at = np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key,
                                    pool_size=seq.pool_size, n_children_spawned=3 * k)
        return np.random.Generator(self.bit_generator(at))


class DesignState(NamedTuple):
    """One episode's state (immutable; the model object holds this episode's covariates).

    The phase lives here: while ``questions`` is empty the scientist designs; at a
    checkpoint it holds that checkpoint's questions (with their truths, never shown) and
    the scientist answers them. The final checkpoint's questions stay after the end (the
    explanation test asks them again).

    Attributes:
        model: the episode's model instance (its ``context`` drawn at reset).
        theta: the true parameters ``(P,)``.
        posterior: the particle posterior given the history.
        designs: the designs so far, each ``(D,)``.
        outcomes: the outcomes so far, each ``outcome_shape``.
        questions: the open checkpoint's questions, one per goal (question phase).
        reports: each experiment's EIG report.
        scores: ``(checkpoint, evaluation)`` of every checkpoint scored so far.
        total: the scientist's return so far.
        seeds: the world's own chance (:class:`DesignSeeds`), None for a bare state.
        status: RUNNING until the final checkpoint is scored.
    """

    model: Model
    theta: np.ndarray
    posterior: Posterior
    designs: tuple[np.ndarray, ...] = ()
    outcomes: tuple[np.ndarray, ...] = ()
    questions: tuple[Question, ...] = ()
    reports: tuple[ExperimentInfo, ...] = ()
    scores: tuple[tuple[int, Evaluation], ...] = ()
    total: float = 0.0
    seeds: DesignSeeds | None = None
    status: Status = Status.RUNNING

    @property
    def step(self) -> int:
        """Experiments done so far."""
        return len(self.designs)

    @property
    def phase(self) -> str:
        """``"design"`` or ``"questions"`` (a checkpoint's)."""
        return "questions" if self.questions else "design"


class Question(NamedTuple):
    """The eval queries of one goal at one checkpoint and their true answers."""

    goal: Goal
    queries: np.ndarray
    truth: np.ndarray


class Evaluation(NamedTuple):
    """Errors (lower is better) and standardised errors per goal at one checkpoint."""

    errors: dict[str, float]
    z: dict[str, float]

    @property
    def z_mean(self) -> float:
        """Mean standardised error over the goals."""
        return float(np.mean(list(self.z.values())))


class ExperimentInfo(NamedTuple):
    """What one experiment reports: its EIG and the best candidate's EIG (same posterior)."""

    eig: EIGEstimate
    best_eig: EIGEstimate
    best_design: np.ndarray

    @property
    def regret(self) -> float:
        """Best candidate EIG minus the chosen design's EIG (>= 0 up to Monte Carlo noise;
        both are inside their proven limits, so neither term is ever impossible)."""
        return self.best_eig.value - self.eig.value


@dataclass(frozen=True)
class ScientistView:
    """What a baseline scientist sees on a turn.

    A design turn has ``goal is None`` and wants a design ``(D,)``; a query turn names the
    ``goal`` and its ``queries`` and wants the answers, shaped as ``model.predict``'s.
    ``posterior`` is the world's particle posterior given this history (the prior for a
    novice who only read an explanation).

    Attributes:
        world: the :class:`~agora.envs.design.world.DesignWorld` (params, budget).
        model: this episode's model (covariates in ``model.context``).
        posterior: the particle posterior the scientist may use.
        designs, outcomes: the history so far.
        goal, queries: the question on a query turn.
        questions: the open checkpoint's ``(goal, queries)`` pairs (the world's view in
            its question phase; the truths are never shown).
    """

    world: Any
    model: Model
    posterior: Posterior
    designs: tuple[np.ndarray, ...] = ()
    outcomes: tuple[np.ndarray, ...] = ()
    goal: Goal | None = None
    queries: np.ndarray | None = None
    questions: tuple[tuple[Goal, np.ndarray], ...] = ()

    @property
    def step(self) -> int:
        """Experiments done so far."""
        return len(self.designs)

    @property
    def budget(self) -> int:
        """Experiments in the episode."""
        return int(self.world.params.budget)

    @property
    def is_query(self) -> bool:
        """Whether this turn asks for answers rather than a design."""
        return self.goal is not None
