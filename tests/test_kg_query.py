"""The MINERVA-style query world: hidden answer edges, walks, rewards, faces, player."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import Agent, make_agent
from agora.envs import ActionParseError, ConfigError, IllegalActionError, Status
from agora.envs.kg.env import KGQueryEnv
from agora.envs.kg.family import FAMILY_RULES, close_under
from agora.envs.kg.graph import KnowledgeGraph, Rule
from agora.envs.kg.query import QueryWorld, WalkState
from agora.envs.kg.types import WalkAction, WalkView
from agora.experiments.episode import aplay_world

# a -r0-> b -r1-> c, plus the query fact (a, r2, c): the answer is two moves away
PATH = KnowledgeGraph.from_named("path", [("a", "r0", "b"), ("b", "r1", "c"),
                                          ("a", "r2", "c")])
A, B, C = 0, 1, 2


def path_world(**params: object) -> tuple[QueryWorld, WalkState]:
    world = QueryWorld({"anonymise": "none", **params}, graph=PATH)
    state = world.initial_state(np.random.default_rng(0))
    return world, state._replace(head=A, relation=2, answers=frozenset({C}), current=A,
                                 shortest=2)


def shortest_walk(world: QueryWorld, state: WalkState) -> list[WalkAction]:
    """Breadth-first search from the current node over the walkable edges to the nearest
    answer."""
    back: dict[int, tuple[int, int, int] | None] = {state.current: None}
    queue = deque([state.current])
    while queue:
        u = queue.popleft()
        if u in state.answers:
            steps = []
            while back[u] is not None:
                prev, r, node = back[u]  # type: ignore[misc]
                steps.append(WalkAction.move(r, node))
                u = prev
            return steps[::-1]
        for r, t in world.edges(state, u).tolist():
            if t not in back:
                back[t] = (u, r, t)
                queue.append(t)
    return []


def walk(world: QueryWorld, state: WalkState, actions: list[WalkAction]) -> tuple[WalkState,
                                                                                  float]:
    total = 0.0
    for a in actions:
        state, reward, _ = world.apply(state, a, np.random.default_rng(0))
        total += reward
    return state, total


def test_the_direct_answer_edge_is_hidden_both_ways() -> None:
    world, s = path_world()
    assert world.edges(s).tolist() == [[0, B]]  # (r2, c) hidden; a has no in-edges
    back = world.edges(s, C).tolist()
    assert [1 + 3, B] in back and [2 + 3, A] not in back  # inverse of (a, r2, c) hidden


def test_binary_and_deeppath_rewards_on_the_path_world() -> None:
    for reward, value in [("binary", 1.0), ("deeppath", 0.1 + 0.9 / 2)]:
        world, s = path_world(reward=reward, max_steps=3)
        s, total = walk(world, s, [WalkAction.move(0, B), WalkAction.move(1, C),
                                   WalkAction.stop()])
        assert world.status(s) is not Status.RUNNING and total == pytest.approx(value)
        assert world.metrics(s)["success"] == 1.0 and world.metrics(s)["moves"] == 2.0
    world, s = path_world(reward="deeppath")
    assert walk(world, s, [WalkAction.stop()])[1] == pytest.approx(-0.05)
    world, s = path_world(max_steps=2)
    s, total = walk(world, s, [WalkAction.move(0, B), WalkAction.stay()])
    assert world.status(s) is Status.TERMINATED and total == 0.0
    assert world.metrics(s)["steps"] == 2.0


@pytest.mark.parametrize("source", ["rule_world", "umls", "networkx:karate_club"])
def test_a_shortest_path_walker_reaches_the_answer(source: str) -> None:
    world = QueryWorld({"source": source, "num_entities": 60, "max_steps": 3,
                        "reward": "deeppath"})
    for seed in range(15):
        s = world.initial_state(np.random.default_rng(seed))
        steps = shortest_walk(world, s)
        assert 1 <= len(steps) == s.shortest <= 3
        s, total = walk(world, s, [*steps, WalkAction.stop()][:3])
        assert s.current in s.answers
        assert total == pytest.approx(0.1 + 0.9 / len(steps))


def test_rules_are_the_planted_ones_and_hold_on_every_drawn_graph() -> None:
    world = QueryWorld({"num_entities": 40})
    assert world.rules == FAMILY_RULES
    for seed in range(3):
        kg = world.initial_state(np.random.default_rng(seed)).graph.kg
        facts = kg.triple_set()
        assert close_under(facts, world.rules, world.num_base_relations) == facts
    planted = Rule("compose", (0, 1), 2)
    assert QueryWorld(graph=replace(PATH, rules=(planted,))).rules == (planted,)
    for source in ("umls", "networkx:karate_club"):  # nothing planted: mining is not ours
        assert QueryWorld({"source": source}).rules == ()
    assert QueryWorld(graph=PATH).rules == ()


def test_queries_are_seeded_and_reachable() -> None:
    world = QueryWorld({"num_entities": 50, "max_steps": 2})
    a = world.initial_state(np.random.default_rng(9))
    b = world.initial_state(np.random.default_rng(9))
    assert (a.head, a.relation, a.answers) == (b.head, b.relation, b.answers)
    assert all(0 <= world.initial_state(np.random.default_rng(s)).shortest <= 2
               for s in range(10))


def test_illegal_moves_and_the_declared_policy() -> None:
    world, s = path_world()
    for bad, why in [(WalkAction.move(2, C), "not an outgoing edge"),
                     (WalkAction("fly"), "unknown action")]:
        with pytest.raises(IllegalActionError, match=why):
            world.apply(s, bad, np.random.default_rng(0))
    s, reward, info = world.apply(s, world.invalid_action(s, 0), np.random.default_rng(0))
    assert (s.invalid, s.path, s.current, info["kind"]) == (1, ((-1, A),), A, "invalid")
    with pytest.raises(ConfigError, match="reward"):
        QueryWorld({"reward": "shaped"})


def test_view_and_text_face() -> None:
    world, s = path_world()
    view = world.view(s)
    assert isinstance(view, WalkView) and view.edges.tolist() == [[0, B]]
    assert view.relation_names[3] == "r0^-1" and view.steps_left == 3
    text = world.text
    assert "Query: (a, r2, ?)" in text.render(s) and "r0 -> b" in text.render(s)
    assert text.parse('{"action": "move", "relation": "r0", "tail": "b"}', s) == \
        WalkAction.move(0, B)
    with pytest.raises(IllegalActionError, match="not an outgoing edge"):
        text.parse('{"action": "move", "relation": "r2", "tail": "c"}', s)
    with pytest.raises(ActionParseError, match='"tail"'):
        text.parse('{"action": "move", "relation": "r0"}', s)
    props = text.action_schema(s)["properties"]
    assert props["relation"]["enum"] == ["r0"] and props["tail"]["enum"] == ["b"]
    assert text.format_action(WalkAction.move(0, B), s) == \
        '{"action": "move", "relation": "r0", "tail": "b"}'


RULE = QueryWorld({"num_entities": 40})
RSTATE = RULE.initial_state(np.random.default_rng(2))


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_text_round_trip_of_random_walk_actions(seed: int) -> None:
    action = RULE.text.random_action(RSTATE, np.random.default_rng(seed))
    assert RULE.text.parse(RULE.text.format_action(action, RSTATE), RSTATE) == action


@given(st.text(max_size=60))
@settings(max_examples=60, deadline=None)
def test_text_junk_raises_only_typed_errors(junk: str) -> None:
    try:
        RULE.text.parse(junk, RSTATE)
    except (ActionParseError, IllegalActionError):
        pass


def test_gym_env_follows_edge_indices() -> None:
    world, s = path_world()
    env = KGQueryEnv(world)
    env.reset(seed=0)
    env.state_ = s
    obs, reward, term, _, _ = env.step(0)
    assert obs["current"].tolist() == [B] and not term and reward == 0.0
    c_index = next(i for i, (r, t) in enumerate(obs["edges"].tolist()) if (r, t) == (1, C))
    obs, _, _, _, _ = env.step(c_index)
    _, reward, term, _, info = env.step(env.max_edges + 1)  # stop
    assert term and reward == 1.0 and info["metrics"]["success"] == 1.0
    env.reset(seed=0)
    env.state_ = s
    _, _, _, _, info = env.step(env.max_edges - 1)  # a masked edge index
    assert info["invalid_actions"] == 1


@pytest.mark.parametrize("index", [-1, -2, "x", 1.5, [0, 1], "max+2"])
def test_indices_outside_the_action_space_are_invalid_not_wrapped(index: object) -> None:
    world, s = path_world()
    env = KGQueryEnv(world)
    env.reset(seed=0)
    env.state_ = s
    index = env.max_edges + 2 if index == "max+2" else index
    obs, _, term, _, info = env.step(index)
    assert info["kind"] == "invalid" and info["invalid_actions"] == 1 and not term
    assert obs["current"].tolist() == [A]  # -1 did not walk the last edge nor -2 stay


@pytest.mark.parametrize("task", ["KGQuery-v1", "KGQueryUmls-v1"])
def test_every_edge_of_the_max_degree_node_can_be_taken(task: str) -> None:
    env = gymnasium.make(f"agora/{task}").unwrapped
    env.reset(seed=3)
    start = env.state_
    degrees = [len(env.world.edges(start, u)) for u in range(env.world.num_entities)]
    node = int(np.argmax(degrees))
    assert degrees[node] > 128 if task == "KGQuery-v1" else True  # the old cap
    at_node = start._replace(current=node, path=())
    rows = env.world.edges(at_node)
    assert len(rows) == degrees[node] <= env.max_edges
    for i, (r, t) in enumerate(rows.tolist()):
        env.state_ = at_node
        assert env.action_space.contains(i)
        _, _, _, _, info = env.step(i)
        assert info["kind"] == "move" and env.state_.path[-1] == (r, t)


def test_a_cap_smaller_than_the_max_degree_is_refused() -> None:
    world = QueryWorld({"source": "umls"})
    with pytest.raises(ConfigError, match="max_edges=128"):
        KGQueryEnv(world, max_edges=128)


class Walker(Agent):
    """A GAME-face agent that walks a shortest path to an answer (it peeks at the hidden
    answers through the world's last drawn state: a test double)."""

    def __init__(self, world: QueryWorld) -> None:
        super().__init__()
        self.world = world

    def act(self, obs: WalkView) -> WalkAction:
        hidden = self.world.last  # type: ignore[attr-defined]
        steps = shortest_walk(self.world, hidden._replace(current=obs.current))
        return steps[0] if steps else WalkAction.stop()


def test_player_plays_the_query_world() -> None:
    world = QueryWorld({"source": "umls", "max_steps": 3})
    text = asyncio.run(aplay_world(world, [make_agent("random_text", world)], 4, True))
    again = asyncio.run(aplay_world(world, [make_agent("random_text", world)], 4, True))
    assert text.status == "ok" and text.returns == again.returns
    assert text.length == len(text.events["step"]) <= 3
    draw = world.initial_state

    def remember(rng: np.random.Generator) -> WalkState:
        world.last = draw(rng)  # type: ignore[attr-defined]
        return world.last  # type: ignore[attr-defined, no-any-return]

    world.initial_state = remember  # type: ignore[method-assign]
    for seed in range(5):
        res = asyncio.run(aplay_world(world, [Walker(world)], seed, True))
        assert res.status == "ok" and res.returns == [1.0] and res.metrics["success"] == 1.0
        assert res.metrics["moves"] == res.metrics["shortest"] and res.invalid == [0]
