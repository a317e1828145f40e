"""One seed, one episode: the seed of an ``agora run`` record, given to ``reset(seed=...)``
of the Gymnasium or PettingZoo env and replayed with the recorded actions, reproduces the
record exactly, for every registered id and several seeds."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import gymnasium
import numpy as np
import pytest

from agora.agents import make_agent
from agora.envs import make, make_game, make_gym, spec, specs, task_spec, task_specs
from agora.envs.adapters import AECGameEnv, agent_name
from agora.envs.seeding import Seeder, episode_streams
from agora.experiments import play_episode
from agora.experiments.tasks import task_player

SEEDS = (0, 1, 987654321)
GAME_IDS = [s.id for s in specs()]


def _record(env_id: str, seed: int) -> Any:
    """An ``agora run`` episode: player 0 random, the others the id's default opponent
    (whom the Gymnasium view seats by default)."""
    game, text = make_game(env_id)
    agents = [make_agent("random", game)] + [make_agent(spec(env_id).opponent_for(j), game)
                                             for j in range(1, game.num_players)]
    result = play_episode(game, text, agents, seed=seed)
    assert result.status == "ok", result.error
    return game, result


def _by_step(events: dict[str, list[Any]]) -> list[list[tuple[int, int, list[float]]]]:
    steps: dict[int, list[tuple[int, int, list[float]]]] = defaultdict(list)
    for step, actor, action, rewards in zip(events["step"], events["actor"], events["action"],
                                            events["rewards"]):
        steps[step].append((actor, action, rewards))
    return [steps[k] for k in sorted(steps)]


@pytest.mark.parametrize("env_id", GAME_IDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_pettingzoo_replays_the_record(env_id: str, seed: int) -> None:
    game, result = _record(env_id, seed)
    env = make(env_id)
    env.reset(seed=seed)
    for moves in _by_step(result.events):
        if isinstance(env, AECGameEnv):
            (actor, action, rewards), = moves
            assert env.agent_selection == agent_name(actor)
            env.step(action)
            got = [env.rewards[agent_name(i)] for i in range(game.num_players)]
        else:
            _, step_rewards, *_ = env.step({agent_name(a): act for a, act, _ in moves})
            got = [step_rewards[agent_name(a)] for a, _, _ in moves]
            rewards = [moves[0][2][a] for a, _, _ in moves]
        assert got == pytest.approx(rewards, abs=1e-12)
    assert list(game.returns(env.state_)) == pytest.approx(result.returns, abs=1e-9)
    assert game.metrics(env.state_) == pytest.approx(result.metrics, abs=1e-9, nan_ok=True)


@pytest.mark.parametrize("env_id", GAME_IDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_gymnasium_replays_the_record(env_id: str, seed: int) -> None:
    """Player 0 replays its recorded actions; the default opponents, seeded from their
    seats' seeds, play their recorded actions by themselves."""
    game, result = _record(env_id, seed)
    mine = [a for actor, a in zip(result.events["actor"], result.events["action"]) if actor == 0]
    env = gymnasium.make(f"agora/{env_id}", disable_env_checker=True).unwrapped
    _, info = env.reset(seed=seed)
    total, played = info["skipped_reward"], 0
    assert info["seed"] == seed
    done = game.status(env.state_).value != 0
    while not done:
        _, reward, term, trunc, info = env.step(mine[played])
        total, played, done = total + reward, played + 1, term or trunc
    assert played == len(mine)
    assert info["returns"] == pytest.approx(result.returns, abs=1e-9)
    assert total == pytest.approx(result.returns[0], abs=1e-9)


def test_seeded_reset_sequences_repeat() -> None:
    """``reset(seed=S)`` then ``reset()`` continues S's streams (Gymnasium's convention):
    the same sequence of episodes every time, each new; only a seeded episode has a seed."""
    runs = []
    for _ in range(2):
        env = make_gym("FirstPriceAuction-v1")
        assert env.reset(seed=3)[1]["seed"] == 3
        episode = []
        for _ in range(3):
            obs, info = env.reset()
            assert info["seed"] is None
            episode.append(obs["observation"].tolist())
        runs.append(episode)
    assert runs[0] == runs[1] and len({str(o) for o in runs[0]}) == 3
    first = make_gym("FirstPriceAuction-v1").reset()[1]["seed"]  # never seeded: named
    assert isinstance(first, int) and first >= 0


def test_streams_do_not_depend_on_the_referee() -> None:
    """The rules stream and the seats' seeds of a seed are fixed, whoever draws what."""
    a, b = episode_streams(11, 3), episode_streams(11, 3)
    b.referee.random(100)
    assert a.agent_seeds == b.agent_seeds and a.rules.random() == b.rules.random()
    assert episode_streams(11, 2).agent_seeds == a.agent_seeds[:2]


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_a_bad_seed_is_a_config_error(bad: Any) -> None:
    from agora.envs.errors import ConfigError

    with pytest.raises(ConfigError, match="seed"):
        Seeder().reset(bad, 2)


# ----- task worlds ---------------------------------------------------------------------
_SMALL_DESIGN = {"budget": 2, "checkpoints": [0], "n_particles": 128, "eig_outer": 16,
                 "eig_inner": 16, "n_candidates": 2, "explanation": False}
_AGENT = {"design": "random_designer", "graph": "random_kg"}


def _recording(agent: Any) -> list[Any]:
    """Keep every action the agent returns (its designs, its graph actions)."""
    seen: list[Any] = []
    act = agent.act

    def act_and_keep(obs: Any) -> Any:
        action = act(obs)
        if getattr(obs, "outcomes", None):
            agent.outcomes_seen = obs.outcomes
        if getattr(obs, "goal", None) is None:  # a design, not an eval answer
            seen.append(action)
        return action

    agent.act = act_and_keep
    return seen


def _task_params(spec: Any) -> dict[str, Any]:
    return dict(_SMALL_DESIGN) if spec.family == "design" else {}


@pytest.mark.parametrize("task_id", [s.id for s in task_specs()])
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_task_env_replays_the_record(task_id: str, seed: int) -> None:
    spec = task_spec(task_id)
    params = _task_params(spec)
    world = spec.make_world(params)
    name = "random_walker" if "Query" in task_id else _AGENT[spec.family]
    agent = make_agent(name, world)
    actions = _recording(agent)
    result = asyncio.run(task_player(spec.family)(world, [agent], seed, True))
    assert result.status == "ok", result.error
    env = spec.make_env(params)
    env.reset(seed=seed)
    rewards, eigs = [], []
    for action in actions:
        if spec.family == "graph":
            action = env.from_action(action)
        _, reward, term, trunc, info = env.step(action)
        rewards.append(reward)
        eigs.append(info.get("eig"))
    ev = result.events
    if spec.family == "design":  # the env's last reward also scores Bayes-optimal answers
        designs = [i for i, k in enumerate(ev["kind"]) if k == "design"]
        assert eigs == pytest.approx([ev["eig"][i] for i in designs], abs=1e-9)
        outcomes = env.unwrapped.state_.outcomes
        assert len(outcomes) == len(designs) == len(agent.outcomes_seen)
        for got, seen in zip(outcomes, agent.outcomes_seen):
            np.testing.assert_array_equal(got, seen)
    else:
        assert rewards == pytest.approx(ev["reward"], abs=1e-9)
        assert info["metrics"] == pytest.approx(result.metrics, abs=1e-9)
