"""A society's generations as Ray tasks, every model call under the run's one call gate.

The driver keeps one task in flight per seed: a :class:`GenerationTask` (the config as
data, the seed, the generation, its survivors and vacant places) goes to a worker, and a
:class:`~agora.experiments.population.culture.GenerationOutcome` (the records, the next
survivors) comes back; the driver commits it and sends the seed's next generation. Only
data crosses; the run directory is written by the driver alone.

The gate is the runner's (:meth:`~agora.experiments.runner.RayExecutor.call_gate`): its
``llm_concurrency`` slots bound the calls in flight across all workers, and it keeps each
model's ``max_calls`` / ``max_tokens_budget`` as one run-wide count
(:class:`~agora.agents.llm.gate.RunBudgeted`). A stopped generation is not committed; the
driver sends nothing further, commits what was in flight, and ``--resume`` continues with
the response cache replaying the calls already answered.

Example:
    >>> task = GenerationTask({"name": "x"}, seed=0, generation=1, survivors=(),
    ...                       vacant=(0, 0), call_gate=None)
    >>> task.generation, task.vacant
    (1, (0, 0))
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from agora.envs import RunAbortedError
from agora.experiments.population.culture import (
    GenerationOutcome,
    Member,
    Society,
    SocietyConfig,
    parse_society_config,
)
from agora.experiments.population.society_store import SocietyStore

NO_CAP = 1_000_000
"""The gate's slots when ``llm_concurrency`` is unset (the gate then only keeps budgets)."""


@dataclass(frozen=True)
class GenerationTask:
    """One generation of one seed, as plain data for a worker."""

    config: dict[str, Any]
    seed: int
    generation: int
    survivors: tuple[Member, ...]
    vacant: tuple[int, ...]
    call_gate: str | None


def play_generation(task: GenerationTask) -> GenerationOutcome:
    """Play ``task`` in this process (a Ray worker), every call through the gate."""
    from agora.agents.llm.factory import set_run_gate

    set_run_gate(task.call_gate)
    society = Society(parse_society_config(task.config))
    return asyncio.run(society.generation(task.seed, task.generation, task.survivors,
                                          task.vacant))


def run_seeds_on_ray(cfg: SocietyConfig, store: SocietyStore, bar: tqdm
                     ) -> tuple[dict[str, Any], str | None]:
    """Every seed's remaining generations on Ray; returns the gate's stats and why the
    run stopped (a spent budget, a failing provider; None when every seed finished).

    Raises:
        RunAbortedError: a provider rejected the key, model or request.
    """
    from agora.experiments.runner import RayExecutor

    executor = RayExecutor(cfg.workers)
    try:
        gate = executor.call_gate(cfg.llm_concurrency or NO_CAP)
        stop = _drive(cfg, store, bar, executor.ray, gate)
        stats = executor.gate_stats(gate)
    finally:
        executor.close()
    if isinstance(stop, RunAbortedError):
        raise stop
    return stats, stop


def _drive(cfg: SocietyConfig, store: SocietyStore, bar: tqdm, ray: Any, gate: str
           ) -> str | RunAbortedError | None:
    """Submit, commit and resubmit until every seed is done or a generation stopped."""
    remote = ray.remote(num_cpus=1)(play_generation)
    data = cfg.model_dump(mode="json")
    society = Society(cfg)
    pending: dict[Any, GenerationTask] = {}

    def submit(seed: int, gen: int, survivors: Any, vacant: Any) -> None:
        if gen <= cfg.generations:
            task = GenerationTask(data, seed, gen, tuple(survivors), tuple(vacant), gate)
            pending[remote.remote(task)] = task

    for seed in cfg.seeds:
        submit(seed, *society.start(store, seed))
    stop: str | RunAbortedError | None = None
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        task = pending.pop(ready[0])
        out: GenerationOutcome = ray.get(ready[0])
        if out.rows is None:
            if not isinstance(stop, RunAbortedError):
                stop = RunAbortedError(out.fatal) if out.fatal else (stop or out.stop)
            continue
        store.write_generation(task.seed, task.generation, out.rows)
        bar.update(1)
        if stop is None:
            submit(task.seed, task.generation + 1, out.kept, out.vacant)
    return stop
