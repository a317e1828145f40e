"""A language model as the fixed opponent of a Gymnasium view (issue 14: learners against
LLM opponents). It plays the turn ``agora run`` gives it, through the real litellm path
against the fake OpenAI-compatible server: same prompts, same seeds, same actions."""

from __future__ import annotations

import os

import gymnasium
import pandas as pd
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("AGORA_TEST_KEY", "sk-test")

from fake_openai import FakeOpenAI  # noqa: E402

import agora.envs  # noqa: E402, F401  (registers the agora/ ids)
from agora.agents import make_agent  # noqa: E402
from agora.agents.llm.model import ModelError  # noqa: E402
from agora.envs import ConfigError, IllegalActionError, make_game  # noqa: E402
from agora.envs.core import Game  # noqa: E402
from agora.experiments.episode import play_episode  # noqa: E402

ROUNDS = 3


def _llm(url: str, **extra: object) -> dict[str, object]:
    return {"name": "llm", "model": "openai/fake", "api_base": url,
            "api_key_env": "AGORA_TEST_KEY", "max_attempts": 1, **extra}


def _bodies(server: FakeOpenAI) -> list[tuple[object, object]]:
    return [(r.body["messages"], r.body.get("seed")) for r in server.requests]


def test_an_llm_opponent_plays_its_parsed_answer_with_the_runs_prompts_and_seeds() -> None:
    with FakeOpenAI(content='{"action": "defect"}') as server:
        env = gymnasium.make("agora/RepeatedPD-v1", rounds=ROUNDS,
                             opponents={"player_1": _llm(server.url)})
        _, info = env.reset(seed=11)
        payoffs, calls = [], list(info.get("opponent_calls", []))
        for _ in range(ROUNDS):
            _, reward, terminated, _, info = env.step(0)  # we cooperate
            payoffs.append(reward)
            calls += info.get("opponent_calls", [])
        assert terminated and payoffs == [0.0] * ROUNDS  # the sucker's payoff: it defected
        assert info["returns"] == (0.0, 5.0 * ROUNDS)
        assert len(server.requests) == ROUNDS
        assert [c["actor"] for c in calls] == [1] * ROUNDS  # every call's record comes back
        in_env = _bodies(server)

    with FakeOpenAI(content='{"action": "defect"}') as server:
        game, text = make_game("RepeatedPD-v1", {"rounds": ROUNDS})
        agents = [make_agent("always_cooperate", game), make_agent(_llm(server.url), game)]
        result = play_episode(game, text, agents, seed=11)
        assert result.returns == [0.0, 5.0 * ROUNDS]
        in_run = _bodies(server)
    assert in_env == in_run  # one turn, one seeding rule: identical requests


def test_an_unreadable_answer_plays_the_declared_fallback_or_raises_a_typed_error() -> None:
    with FakeOpenAI(content="I would rather not say") as server:
        env = gymnasium.make("agora/RepeatedPD-v1", rounds=ROUNDS,
                             opponents={1: _llm(server.url, fallback="none")})
        env.reset(seed=0)
        with pytest.raises(ModelError, match="fallback is 'none'"):
            env.step(0)
        env = gymnasium.make("agora/RepeatedPD-v1", rounds=ROUNDS,
                             opponents={1: _llm(server.url, fallback="always_defect")})
        env.reset(seed=0)
        _, reward, *_, info = env.step(0)
        assert reward == 0.0  # the fallback heuristic defected
        [call] = info["opponent_calls"]  # the call is recorded, with what went wrong
        assert call["actor"] == 1 and call["completion"] == "I would rather not say"
        assert call["error"]


def test_an_opponent_answer_that_is_no_legal_action_names_the_seat() -> None:
    class Stubborn:  # a text agent whose answer parses to nothing legal
        face = "text"

        def act(self, turn: object) -> str:
            return '{"action": "maybe"}'

    env = gymnasium.make("agora/RepeatedPD-v1", rounds=ROUNDS, opponents={1: Stubborn()})
    env.reset(seed=0)
    with pytest.raises(IllegalActionError, match="opponent player_1 .*Stubborn"):
        env.step(0)


def test_a_text_agent_needs_a_text_face() -> None:
    game, _ = make_game("RepeatedPD-v1", {"rounds": 2})
    from agora.envs.single_player import SinglePlayerEnv

    assert isinstance(game, Game)
    with pytest.raises(ConfigError, match="text face"):
        SinglePlayerEnv(game, None, opponents={1: _llm("http://127.0.0.1:9")})


def test_agora_train_learns_against_a_language_model_and_evaluates_against_it(
        tmp_path: object) -> None:
    """SB3 through ``agora train``: every opponent turn is one request to the server (the
    model always defects), and the evaluation run plays the same model."""
    from pathlib import Path

    from agora.analysis.records import RETURN, player_column
    from agora.analysis.runs import load_run
    from agora.experiments.train import parse_train_config, run_training

    out = Path(str(tmp_path)) / "run"
    with FakeOpenAI(content='{"action": "defect"}') as server:
        cfg = parse_train_config({
            "name": "vs-llm", "env": "RepeatedPD-v1", "params": {"rounds": 2},
            "opponents": {"player_1": _llm(server.url)},
            "hyperparameters": {"n_steps": 8, "batch_size": 8, "n_epochs": 1,
                                "policy_kwargs": {"net_arch": [4]}},
            "n_envs": 1, "total_timesteps": 8, "seeds": [0], "eval_episodes": 2})
        summary = run_training(cfg, out, progress=False)
        trained = len(server.requests)
    assert summary.evaluation is not None and summary.evaluation.failed == 0
    run = load_run(out / "eval")
    mine, theirs = (run.episodes[player_column(RETURN, j)] for j in (0, 1))
    assert (theirs >= mine).all() and (theirs > 0).all()  # it defects every round
    assert trained == 8 + 2 * 2  # 8 training steps, then 2 episodes of 2 rounds
    calls = pd.read_parquet(out / "eval" / "calls.parquet")
    assert len(calls) == 4 and set(calls["completion"]) == {'{"action": "defect"}'}
