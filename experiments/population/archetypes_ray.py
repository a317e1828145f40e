"""An archetype population's model calls on Ray workers, under the run's one call gate.

Each step's calls (archetypes x samples, as plain :data:`~.archetypes.Job` data) are split
into one :class:`AskTask` per worker; a worker builds the model from its spec under the
gate (:func:`~agora.agents.llm.factory.set_run_gate`), answers its share concurrently and
sends back the answers and their ``calls`` rows (:class:`AskOutcome`). The driver keeps
the order, so the step is tallied, drawn and paid exactly as in one process.

The gate is the one a society uses (:func:`~.society_ray.run_seeds_on_ray`): its
``llm_concurrency`` slots bound the calls in flight across all workers, and each model's
``max_calls`` / ``max_tokens_budget`` is one count for the run. A spent budget stops the
run after the last whole step; every call of the unfinished step that was answered ran
to its end first, so with the response cache a ``--resume`` sends none of them again.

Example:
    >>> [len(c) for c in split_jobs(list(range(7)), 3)]
    [3, 2, 2]
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from agora.agents.llm.model import ModelError
from agora.experiments.population.archetypes import (
    Answer,
    ArchetypeConfig,
    Job,
    _Asker,
    ask_all,
    parse_archetype_config,
)
from agora.experiments.population.society_ray import NO_CAP

T = TypeVar("T")


@dataclass(frozen=True)
class AskTask:
    """Some calls of one step, as plain data for a worker."""

    config: dict[str, Any]
    jobs: tuple[Job, ...]
    call_gate: str


@dataclass(frozen=True)
class AskOutcome:
    """A worker's answers in the order asked, or the model error that stopped them
    (``kind``, ``detail``, ``retryable``: a ``ModelError`` does not cross as itself)."""

    answers: list[Answer] | None
    error: tuple[str, str, bool] | None = None


def ask_on_worker(task: AskTask) -> AskOutcome:
    """Answer ``task``'s calls in this process (a Ray worker), every call through the gate."""
    from agora.agents.llm.factory import build_model, set_run_gate

    set_run_gate(task.call_gate)
    cfg = parse_archetype_config(task.config)
    try:
        return AskOutcome(asyncio.run(ask_all(_Asker(cfg, build_model(cfg.model)),
                                              task.jobs)))
    except ModelError as exc:
        return AskOutcome(None, (exc.kind, exc.detail, exc.retryable))


def split_jobs(jobs: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``jobs`` in at most ``parts`` contiguous, near-equal, non-empty slices."""
    n = max(1, min(parts, len(jobs)))
    size, extra = divmod(len(jobs), n)
    bounds = [i * size + min(i, extra) for i in range(n + 1)]
    return [jobs[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


class OnRay:
    """Answers each step's calls over ``cfg.workers`` Ray tasks under one call gate (a
    context manager: the gate and a Ray it started end with it)."""

    def __init__(self, cfg: ArchetypeConfig) -> None:
        from agora.experiments.runner import RayExecutor

        self.executor = RayExecutor(cfg.workers)
        self.parts = cfg.workers
        self.data = cfg.model_dump(mode="json")
        try:
            self.gate = self.executor.call_gate(cfg.llm_concurrency or NO_CAP)
            self.remote = self.executor.ray.remote(num_cpus=1)(ask_on_worker)
        except BaseException:
            self.executor.close()
            raise

    async def __call__(self, jobs: list[Job]) -> list[Answer]:
        refs = [self.remote.remote(AskTask(self.data, tuple(part), self.gate))
                for part in split_jobs(jobs, self.parts)]
        outcomes: list[AskOutcome] = await asyncio.gather(*refs)
        errors = [o.error for o in outcomes if o.error is not None]
        if errors:
            failed = [ModelError(*e, sent=False) for e in errors]
            raise next((e for e in failed if e.fatal), failed[0])
        return [a for o in outcomes for a in o.answers or ()]

    def stats(self) -> dict[str, Any] | None:
        """The gate's slots, observed peak in flight and budgets spent."""
        return self.executor.gate_stats(self.gate)

    def __enter__(self) -> OnRay:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.executor.close()
