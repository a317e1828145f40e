"""The graph worlds are one-player ``World`` s of the one contract, played by the one
episode loop: status and returns from the state, benchmarks an oracle reaches exactly,
the declared invalid move through the loop, and the loop's faces."""

from __future__ import annotations

import asyncio
from collections import deque

import numpy as np
import pytest

from agora.agents import Agent, Face, make_agent
from agora.envs import Status, World, make_game, task_spec
from agora.envs.kg.query import QueryWorld, WalkState
from agora.envs.kg.types import KGAction, WalkAction
from agora.envs.kg.world import CompletionWorld
from agora.experiments.episode import aplay_world, play_episode


def test_graph_worlds_are_one_player_worlds_and_games_keep_the_default_hooks() -> None:
    for world in (CompletionWorld({"num_entities": 20}), QueryWorld({"num_entities": 20})):
        assert isinstance(world, World) and world.num_players == 1
        s = world.initial_state(np.random.default_rng(0))
        assert world.to_move(s) == (0,) and world.returns(s) == (0.0,)
        assert world.invalid_action(s, 0).kind == "invalid"
        assert not world.is_legal(s, 0, world.invalid_action(s, 0))  # only the rules play it
        assert not world.is_legal(s, 0, 3)  # not a graph action
    game, _ = make_game("RepeatedPD-v1", {"rounds": 2})
    rng = np.random.default_rng(0)
    s = game.initial_state(rng)
    assert game.streams(rng) == (rng, rng) and game.invalid_action(s, 0) is None
    assert game.progress(s) == {}


def test_completion_status_and_returns_come_from_the_state() -> None:
    world = CompletionWorld({"num_entities": 20, "max_steps": 2, "budget": 100.0})
    s = world.initial_state(np.random.default_rng(0))
    rewards = []
    for action in (KGAction.query(int(np.flatnonzero(s.visible)[0])), world.invalid_action(s, 0)):
        s, (r,) = world.step(s, (action,), np.random.default_rng(1))
        rewards.append(r)
    assert world.status(s) is Status.TRUNCATED and world.to_move(s) == ()
    assert world.returns(s) == (pytest.approx(sum(rewards)),)
    assert rewards[1] == pytest.approx(-0.1 * 1.0)  # invalid_cost 1, cost_weight 0.1
    stopped = world.initial_state(np.random.default_rng(0))
    stopped, (r,) = world.step(stopped, (KGAction.stop(),), np.random.default_rng(1))
    assert world.status(stopped) is Status.TERMINATED
    assert world.returns(stopped) == (r,) == (world.benchmark().values["stop_now_return"],)


def test_an_oracle_reaches_the_completion_benchmark() -> None:
    """Adding every missing true triple and retracting every false one ends with the
    hidden graph: the benchmark's F1, precision and recall of 1, exactly."""
    world = CompletionWorld({"num_entities": 30, "budget": 1e6,
                             "corruption": "missing_edges+extra_edges"})
    s = world.initial_state(np.random.default_rng(3))
    truth = s.kg.triple_set()
    known = {tuple(t) for t in s.graph.rows[:s.graph.n].tolist()}
    moves = ([KGAction.retract(*t) for t in sorted(known - truth)]
             + [KGAction.propose(*t) for t in sorted(truth - known)])
    assert known - truth and truth - known
    for action in moves:
        s, _ = world.step(s, (action,), np.random.default_rng(0))
    bench, m = world.benchmark().values, world.metrics(s)
    assert (m["f1"], m["precision"], m["recall"]) == (
        bench["oracle_f1"], bench["oracle_precision"], bench["oracle_recall"])


def test_a_fixed_source_states_its_true_graph_score() -> None:
    world = task_spec("KGNations-v1").make_world()
    assert world.benchmark().values["true_graph_score"] == 1992.0  # Nations: 1992 triples


def _shortest(world: QueryWorld, s: WalkState) -> list[WalkAction]:
    back: dict[int, tuple[int, int] | None] = {s.current: None}
    queue = deque([s.current])
    while queue:
        u = queue.popleft()
        if u in s.answers:
            path = []
            while back[u] is not None:
                prev, r = back[u]  # type: ignore[misc]
                path.append(WalkAction.move(r, u))
                u = prev
            return path[::-1]
        for r, t in world.edges(s, u).tolist():
            if t not in back:
                back[t] = (u, r)
                queue.append(t)
    raise AssertionError("no reachable answer")


@pytest.mark.parametrize("reward", ["binary", "deeppath"])
def test_a_shortest_path_walker_reaches_the_query_benchmark(reward: str) -> None:
    world = QueryWorld({"num_entities": 40, "reward": reward})
    bench = world.benchmark().values
    for seed in range(5):
        s = world.initial_state(np.random.default_rng(seed))
        path = _shortest(world, s)
        for action in [*path, WalkAction.stop()]:
            s, _ = world.step(s, (action,), np.random.default_rng(0))
        assert world.metrics(s)["success"] == bench["oracle_success"]
        expected = 1.0 if reward == "binary" else 0.1 + 0.9 / len(path)
        assert world.returns(s) == (pytest.approx(expected),)
        if len(path) == 1 or reward == "binary":
            key = "oracle_return" if reward == "binary" else "oracle_return_one_move"
            assert world.returns(s)[0] == pytest.approx(bench[key])


class _Junk(Agent):
    face = Face.TEXT

    def act(self, obs: object) -> str:
        return "no idea"


def test_the_one_loop_plays_the_declared_invalid_move_and_counts_it() -> None:
    """Every answer is unreadable: the query world wastes a step each time (counted in
    the state and the record), and the walk ends at max_steps having earned nothing."""
    world = QueryWorld({"num_entities": 30, "max_steps": 3})
    res = play_episode(world, world.text, [_Junk()], seed=2)
    assert res.status == "ok" and res.invalid == [3] and res.length == 3
    assert res.metrics["invalid"] == 3.0 and res.metrics["moves"] == 0.0
    assert res.events["kind"] == ["invalid"] * 3 and res.events["invalid"] == [True] * 3
    assert all("JSON" in p for p in res.events["problem"])
    assert res.events["action_text"] == ["no idea"] * 3


def test_the_sync_and_async_faces_of_the_loop_agree_on_a_graph_world() -> None:
    world = CompletionWorld({"num_entities": 24, "budget": 6.0})
    sync = play_episode(world, world.text, [make_agent("random_text", world)], seed=4)
    run = asyncio.run(aplay_world(world, [make_agent("random_text", world)], 4, True))
    assert sync.status == run.status == "ok"
    assert (sync.returns, sync.metrics, sync.events) == (run.returns, run.metrics, run.events)
    assert sync.returns[0] == pytest.approx(sum(sync.events["reward"]))
    assert sync.events["f1"][-1] == sync.metrics["f1"]  # the world's progress column


class _Tensor(Agent):
    face = Face.TENSOR

    def act(self, obs: object) -> int:
        return 0


def test_a_tensor_agent_is_refused_with_the_reason() -> None:
    world = QueryWorld({"num_entities": 20})
    res = play_episode(world, world.text, [_Tensor()], seed=0)
    assert res.status == "failed" and res.length == 0 and not res.fatal
    assert res.error is not None and res.error.startswith(
        "AgoraError: KGQuery has no tensor face for agents; use the Gymnasium env")
