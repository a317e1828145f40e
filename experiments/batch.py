"""A batch of episodes as plain data in, Arrow tables out: the unit of work on any worker.

Only :class:`BatchTask` (ids, params, specs, seeds) goes to a worker and only Arrow tables
come back, so the same function runs in-process and as a Ray task.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from functools import partial
from typing import Any

import pyarrow as pa

from agora.agents import AgentSpec, make_agent
from agora.analysis import records as rec
from agora.analysis.records import (
    AGENT,
    CALLS,
    CELL,
    EPISODE,
    EPISODES,
    EVENTS,
    INVALID,
    METRIC,
    PARAM,
    RETURN,
    STAT,
    STEP,
    player_column,
)
from agora.envs import is_task, make_game, task_spec
from agora.experiments.config import import_modules
from agora.experiments.episode import (
    EpisodeResult,
    aplay_episode,
    extend_columns,
    gather_episodes,
    is_async,
    play_episode,
)


@dataclass(frozen=True)
class BatchTask:
    """Episodes of one cell to play."""

    env: str
    params: dict[str, Any]
    agents: tuple[AgentSpec, ...]
    cell: int
    swept: dict[str, Any]
    episodes: tuple[int, ...]
    seeds: tuple[int, ...]
    on_invalid: str = "fail"
    record_events: bool = True
    episode_concurrency: int = 16
    call_gate: str | None = None  # name of the run-wide model-call gate (a Ray actor)
    imports: tuple[str, ...] = ()  # modules that register agents (a Ray worker lacks them)


@dataclass
class BatchResult:
    episodes: pa.Table
    events: pa.Table | None
    failed: int
    calls: pa.Table | None = None
    fatal: str | None = None
    """The first fatal failure (which episode, what error): the run stops after it."""


Episodes = list[tuple[int, int, list[Any]]]
"""(episode index, seed, fresh agents) of each episode in a batch."""


async def _play_concurrently(game: Any, text: Any, task: BatchTask,
                             episodes: Episodes) -> list[EpisodeResult | None]:
    return await gather_episodes(
        [partial(aplay_episode, game, text, agents, seed, task.on_invalid,
                 task.record_events) for _, seed, agents in episodes],
        task.episode_concurrency)


def _scalar(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return json.dumps(value, default=list)


def episode_row(task: BatchTask, episode: int, res: EpisodeResult) -> dict[str, Any]:
    """One row of the episodes table (columns as :mod:`agora.analysis.records` names them)."""
    row: dict[str, Any] = {CELL: task.cell, EPISODE: episode, "seed": res.seed,
                           rec.STATUS: res.status, rec.ERROR: res.error, "length": res.length}
    for k, v in task.params.items():
        row[f"{PARAM}{k}"] = _scalar(v)
    for i, spec in enumerate(task.agents):
        row[player_column(AGENT, i)] = spec.to_json()
        row[player_column(RETURN, i)] = res.returns[i]
        row[player_column(INVALID, i)] = res.invalid[i]
        for k, v in res.agent_stats[i].items():
            row[player_column(STAT, i, k)] = float(v)
    for k, v in res.metrics.items():
        row[f"{METRIC}{k}"] = v
    row[rec.DURATION] = res.duration_s
    return row


def _located(cell: int, episode: int, columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """An episode's event or call columns, preceded by its cell and episode."""
    n = len(columns[STEP])
    return {CELL: [cell] * n, EPISODE: [episode] * n, **columns}


def _play_game(task: BatchTask) -> tuple[Episodes, list[EpisodeResult | None]]:
    game, text = make_game(task.env, task.params)
    episodes = [(e, s, [make_agent(spec, game) for spec in task.agents])
                for e, s in zip(task.episodes, task.seeds, strict=True)]
    if any(is_async(a) for _, _, agents in episodes for a in agents):
        return episodes, asyncio.run(_play_concurrently(game, text, task, episodes))
    results: list[EpisodeResult | None] = []
    for _, seed, agents in episodes:  # after a fatal failure the rest are skipped
        fatal = any(r is not None and r.fatal for r in results)
        results.append(None if fatal else play_episode(game, text, agents, seed,
                                                       task.on_invalid, task.record_events))
    return episodes, results


def _play_task(task: BatchTask) -> tuple[Episodes, list[EpisodeResult | None]]:
    from agora.experiments.tasks import play_task_episodes

    spec = task_spec(task.env)
    world = spec.make_world(task.params)
    episodes = [(e, s, [make_agent(a, world) for a in task.agents])
                for e, s in zip(task.episodes, task.seeds, strict=True)]
    concurrent = any(is_async(a) for _, _, agents in episodes for a in agents)
    results = asyncio.run(play_task_episodes(
        spec.family, world, [(s, agents) for _, s, agents in episodes], task.record_events,
        task.episode_concurrency if concurrent else 1))
    return episodes, results


def run_batch(task: BatchTask) -> BatchResult:
    """Play every episode of ``task``; fresh agents each episode, so batching never matters.

    With asynchronous agents (language models) up to ``episode_concurrency`` episodes run
    at once in one event loop; records are assembled in episode order either way.
    """
    import_modules(task.imports)  # a Ray worker has not read the config
    if task.call_gate is not None:
        from agora.agents.llm.factory import set_run_gate

        set_run_gate(task.call_gate)
    if is_task(task.env):
        episodes, results = _play_task(task)
    else:
        episodes, results = _play_game(task)
    rows: list[dict[str, Any]] = []
    events: dict[str, list[Any]] = {}
    calls: dict[str, list[Any]] = {}
    failed = 0
    fatal = None
    for (episode, _, _), res in zip(episodes, results, strict=True):
        if res is None:  # skipped after a fatal failure: missing, so a resume plays it
            continue
        failed += res.status != rec.OK
        if res.fatal and fatal is None:
            fatal = f"cell {task.cell} episode {episode}: {res.error}"
        rows.append(episode_row(task, episode, res))
        if task.record_events and res.events:  # (an episode may fail before any event)
            # task episodes' columns may differ: pad them
            extend_columns(events, _located(task.cell, episode, res.events))
        if res.calls:
            extend_columns(calls, _located(task.cell, episode, res.calls))
    keys = list(dict.fromkeys(k for r in rows for k in r))  # union, first-seen order
    cols = {k: [r.get(k) for r in rows] for k in keys}
    ev_table = rec.to_table(EVENTS, events) if task.record_events else None
    call_table = rec.to_table(CALLS, calls) if calls else None
    return BatchResult(rec.to_table(EPISODES, cols), ev_table, failed, call_table, fatal)


