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
from agora.envs import is_task, make_game, task_spec
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
    """One row of the episodes table."""
    row: dict[str, Any] = {"cell": task.cell, "episode": episode, "seed": res.seed,
                           "status": res.status, "error": res.error, "length": res.length}
    for k, v in task.params.items():
        row[f"param.{k}"] = _scalar(v)
    for i, spec in enumerate(task.agents):
        role = f"player_{i}"
        row[f"agent.{role}"] = spec.to_json()
        row[f"return.{role}"] = res.returns[i]
        row[f"invalid.{role}"] = res.invalid[i]
        for k, v in res.agent_stats[i].items():
            row[f"stat.{role}.{k}"] = float(v)
    for k, v in res.metrics.items():
        row[f"metric.{k}"] = v
    row["duration_s"] = res.duration_s
    return row


def _table(columns: dict[str, list[Any]], strings: tuple[str, ...]) -> pa.Table:
    """Arrow table whose text columns stay strings even when a batch has only nulls."""
    arrays = {}
    for k, v in columns.items():
        arrays[k] = pa.array(v, type=pa.string()) if k in strings else pa.array(v)
    return pa.table(arrays)


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
        failed += res.status != "ok"
        if res.fatal and fatal is None:
            fatal = f"cell {task.cell} episode {episode}: {res.error}"
        rows.append(episode_row(task, episode, res))
        if task.record_events and res.events:  # (an episode may fail before any event)
            n = len(res.events["step"])  # task episodes' columns may differ: pad them
            extend_columns(events, {"cell": [task.cell] * n, "episode": [episode] * n,
                                    **res.events})
        if res.calls:
            extend_columns(calls, {"cell": [task.cell] * len(res.calls["step"]),
                            "episode": [episode] * len(res.calls["step"]), **res.calls})
    keys = list(dict.fromkeys(k for r in rows for k in r))  # union, first-seen order
    cols = {k: [r.get(k) for r in rows] for k in keys}
    ep_table = _table(cols, ("error", "status"))
    ev_table = _table(events, ("reply", "message", "action_text")) if task.record_events else None
    call_table = _table(calls, CALL_STRINGS) if calls else None
    return BatchResult(ep_table, ev_table, failed, call_table, fatal)


CALL_STRINGS = ("model", "messages", "completion", "retry_errors", "error")


