"""Run an experiment: cells x episodes, locally or on Ray, written incrementally.

Example:
    >>> from agora.experiments import parse_config, run_experiment
    >>> cfg = parse_config({"name": "demo", "env": "RepeatedPD-v1",
    ...                     "agents": {"default": "tit_for_tat"}, "episodes": 4})
    >>> import tempfile; out = tempfile.mkdtemp()
    >>> summary = run_experiment(cfg, out, progress=False)
    >>> summary.episodes_done, summary.failed
    (4, 0)
"""

from __future__ import annotations

import logging
import math
import os
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from agora.agents.policy import checkpoint_hashes
from agora.analysis.records import CELL, EPISODE, OK, STATUS
from agora.envs import ConfigError, RunAbortedError
from agora.envs.seeding import episode_seed
from agora.experiments.batch import BatchResult, BatchTask, run_batch
from agora.experiments.config import Cell, ExperimentConfig
from agora.experiments.store import RunStore

MAX_AUTO_BATCH = 200
"""Upper bound of the automatic batch size (episodes lost at most per worker on a kill)."""


@dataclass
class RunSummary:
    """What a finished call of :func:`run_experiment` reports."""

    run_dir: Path
    episodes_planned: int
    episodes_done: int
    failed: int
    status: str
    episodes: pd.DataFrame


def plan_batches(cfg: ExperimentConfig, cells: list[Cell], done: set[tuple[int, int]],
                 workers: int, call_gate: str | None = None) -> list[BatchTask]:
    """Tasks for every (cell, episode) not yet done, about four per worker for balance.

    Large batches matter on small machines: with many short tasks in flight, Ray's
    per-task work competes with the episodes (measured in benchmarks/bench_runner.py).
    """
    todo = [(c, e) for c in cells for e in range(cfg.episodes) if (c.index, e) not in done]
    size = cfg.batch_size or max(1, min(MAX_AUTO_BATCH, math.ceil(len(todo) / (workers * 4))))
    tasks = []
    for cell in cells:
        eps = [e for c, e in todo if c.index == cell.index]
        if not eps:
            continue
        even = math.ceil(len(eps) / math.ceil(len(eps) / size))  # equal chunks, none tiny
        for i in range(0, len(eps), even):
            chunk = tuple(eps[i:i + even])
            tasks.append(BatchTask(
                env=cfg.env, params=cell.params, agents=cell.agents, cell=cell.index,
                swept=cell.swept, episodes=chunk,
                seeds=tuple(episode_seed(cfg.seed, cell.index, e) for e in chunk),
                on_invalid=cfg.on_invalid_action, record_events=cfg.record_events,
                episode_concurrency=cfg.episode_concurrency, call_gate=call_gate,
                imports=tuple(cfg.imports),
            ))
    return tasks


class LocalExecutor:
    """Runs batches one after another in this process."""

    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        """Start no further batch (the one running finishes)."""
        self.stopped = True

    def map(self, tasks: Iterable[BatchTask]) -> Iterator[BatchResult]:
        for task in tasks:
            if self.stopped:
                return
            yield run_batch(task)

    def close(self) -> None:
        pass


class RayExecutor:
    """Runs batches as Ray tasks; starts Ray once (or joins a running cluster).

    ``address`` (or the ``RAY_ADDRESS`` variable) connects to an existing cluster;
    otherwise a local Ray with ``workers`` CPUs is started and shut down at the end. A Ray
    that is already initialised in this process is used as it is.
    """

    def __init__(self, workers: int, address: str | None = None) -> None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        import ray

        self.ray = ray
        self.workers = workers
        self.owns = not ray.is_initialized()
        if self.owns:
            address = address or os.environ.get("RAY_ADDRESS")
            if address:
                ray.init(address=address, log_to_driver=False)
            else:  # "local": never join a cluster that `ray start` left on this machine
                ray.init(address="local", num_cpus=workers, include_dashboard=False,
                         log_to_driver=False, logging_level=logging.ERROR)
        self.remote = ray.remote(num_cpus=1)(run_batch)
        self._gates: list[Any] = []
        self.stopped = False

    def stop(self) -> None:
        """Submit no further batch; those in flight still finish and are yielded."""
        self.stopped = True

    def call_gate(self, slots: int) -> str:
        """Start a run-wide model-call gate actor; returns the name workers look up."""
        from agora.agents.llm.gate import start_gate

        name = f"agora-call-gate-{uuid.uuid4().hex[:12]}"
        self._gates.append(start_gate(name, slots))
        return name

    def gate_stats(self, name: str) -> dict[str, Any]:
        """A gate's slots, observed peak in flight and budgets spent."""
        stats: dict[str, Any] = self.ray.get(self.ray.get_actor(name).stats.remote())
        return stats

    def map(self, tasks: Iterable[BatchTask]) -> Iterator[BatchResult]:
        queue = list(tasks)
        limit = max(2, self.workers * 3)
        pending = [self.remote.remote(t) for t in queue[:limit]]
        queue = queue[limit:]
        while pending:
            ready, pending = self.ray.wait(pending, num_returns=1)
            if queue and not self.stopped:
                pending.append(self.remote.remote(queue.pop(0)))
            yield self.ray.get(ready[0])

    def close(self) -> None:
        for gate in self._gates:
            self.ray.kill(gate)
        self._gates = []
        if self.owns:
            self.ray.shutdown()


def make_executor(cfg: ExperimentConfig, workers: int) -> LocalExecutor | RayExecutor:
    """Local for one worker without a cluster address; Ray otherwise."""
    address = cfg.ray.address or os.environ.get("RAY_ADDRESS")
    if workers <= 1 and not address:
        return LocalExecutor()
    return RayExecutor(workers, address)


def run_experiment(cfg: ExperimentConfig, out: str | Path, workers: int | None = None,
                   resume: bool = False, progress: bool = True) -> RunSummary:
    """Run (or resume) ``cfg`` into the directory ``out``.

    Args:
        cfg: a validated config.
        out: the run directory (created; must not hold another run unless resuming).
        workers: parallel workers; overrides ``cfg.workers``.
        resume: finish a run in ``out``: episodes missing or failed are (re)played.
        progress: show a progress bar (episodes done, episodes/s, ETA).

    Raises:
        RunAbortedError: an episode failed on a fatal error (a provider rejecting the key or
            the model); no further batch was started, what ran is written, and the
            manifest's status is ``"aborted"``.
    """
    workers = cfg.workers if workers is None else workers
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"workers={workers!r} is invalid: want an int >= 1")
    cells = cfg.cells()
    store = RunStore(out)
    planned = len(cells) * cfg.episodes
    done: set[tuple[int, int]] = set()
    if resume and not (store.root / "manifest.json").exists():
        raise ConfigError(f"--resume: {store.root} holds no run to finish (no manifest.json); "
                          "drop --resume to start one there")
    if resume:
        store.open_for_resume(cfg)
        prior, _ = store.read_parts(with_events=False)
        if len(prior):
            ok = prior[prior[STATUS] == OK]
            done = set(zip(ok[CELL].tolist(), ok[EPISODE].tolist(), strict=True))
    else:
        store.create(cfg, planned, checkpoint_hashes(s for c in cells for s in c.agents))
    executor = make_executor(cfg, workers) if len(done) < planned else LocalExecutor()
    gate = None  # one process: each model's Limited(max_concurrency) already bounds it
    if cfg.llm_concurrency is not None and isinstance(executor, RayExecutor):
        gate = executor.call_gate(cfg.llm_concurrency)
    tasks = plan_batches(cfg, cells, done, workers, gate)
    bar = tqdm(total=planned, initial=len(done), unit="ep", desc=cfg.name,
               disable=not progress, mininterval=0.2 if sys.stderr.isatty() else 5.0,
               dynamic_ncols=True)
    fatal = None
    try:
        for result in executor.map(tasks):
            store.write_part(result.episodes, result.events, result.calls)
            bar.update(result.episodes.num_rows)
            if result.fatal and fatal is None:  # batches in flight are still written
                fatal = result.fatal
                executor.stop()
    except BaseException:
        bar.close()
        store.finish("interrupted")
        executor.close()
        raise
    bar.close()
    executor.close()
    episodes = store.consolidate()
    failed = int((episodes[STATUS] != OK).sum()) if len(episodes) else 0
    status = "completed" if failed == 0 else "completed_with_failures"
    if fatal is not None:
        store.finish("aborted", episodes_done=len(episodes), episodes_failed=failed,
                     error=fatal)
        raise RunAbortedError(f"run aborted on a fatal error ({fatal}); the {len(episodes)} "
                              f"episodes played are recorded in {store.root}; fix the cause, "
                              f"then finish with --resume --out {store.root}")
    store.finish(status, episodes_done=len(episodes), episodes_failed=failed)
    return RunSummary(store.root, planned, len(episodes), failed, status, episodes)
