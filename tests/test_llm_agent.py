"""The LLM agent through litellm's mock responses: parsing, re-asking, fallbacks, records."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agora.agents import make_agent
from agora.agents.llm import (
    Cached,
    Completion,
    LanguageModel,
    LiteLLMModel,
    ModelError,
    Retrying,
    Sampling,
)
from agora.agents.llm import agent as agent_module
from agora.envs import ConfigError, make_game
from agora.experiments import parse_config, play_episode, run_experiment


class ScriptedLiteLLM(LiteLLMModel):
    """A real LiteLLMModel whose provider is litellm's ``mock_response``: each call answers
    the next item of ``script`` (a string, or a callable of the messages)."""

    def __init__(self, script: list[Any] | Any) -> None:
        super().__init__("openai/gpt-4o-mini", structured="never")
        self.script = script
        self.seen: list[list[dict[str, str]]] = []

    def _kwargs(self, litellm: Any, messages: Any, s: Sampling) -> dict[str, Any]:
        kw = super()._kwargs(litellm, messages, s)
        self.seen.append([dict(m) for m in messages])
        item = self.script.pop(0) if isinstance(self.script, list) else self.script
        kw["mock_response"] = item(messages) if callable(item) else item
        return kw


def _agent(script: Any, env: str = "RepeatedPD-v1", **params: Any) -> Any:
    game, text = make_game(env, {"rounds": 3} if env == "RepeatedPD-v1" else {})
    agent = make_agent({"name": "llm", "model": "openai/gpt-4o-mini", **params}, game)
    model = ScriptedLiteLLM(script)
    agent._model = Retrying(model, max_retries=2, sleep=lambda s: None)
    return game, text, agent, model


def test_valid_answers_are_played_and_every_call_recorded():
    game, text, agent, model = _agent('{"action": "defect"}')
    result = play_episode(game, text, [agent, make_agent("always_cooperate")], seed=0)
    assert result.status == "ok", result.error
    assert result.events["action"][::2] == [1, 1, 1]
    calls = result.calls
    assert len(calls["step"]) == 3 and calls["actor"] == [0, 0, 0]
    first = json.loads(calls["messages"][0])
    assert first[0]["role"] == "system" and "prisoner" not in first[0]["content"].lower()
    assert "cooperate" in first[0]["content"] and first[-1]["role"] == "user"
    assert calls["completion"] == ['{"action": "defect"}'] * 3
    assert all(t > 0 for t in calls["tokens_in"]) and calls["error"] == [None] * 3
    assert result.agent_stats[0]["llm_calls"] == 3 and result.agent_stats[0]["reasks"] == 0


def test_invalid_answer_is_reasked_with_the_parsers_message():
    game, text, agent, model = _agent(["I think I'll defect.", '{"action": "maybe"}',
                                       '{"action": "cooperate"}'] * 3)
    result = play_episode(game, text, [agent, make_agent("always_defect")], seed=0)
    assert result.status == "ok"
    stats = result.agent_stats[0]
    assert stats["invalid_answers"] == 6 and stats["reasks"] == 6 and stats["fallbacks"] == 0
    reask = model.seen[1][-1]["content"]
    assert "no JSON object" in reask and '"action"' in reask
    assert "must be one of" in model.seen[2][-1]["content"]
    assert result.events["action"][::2] == [0, 0, 0]
    assert result.calls["attempt"][:3] == [1, 2, 3]


def test_fallbacks_are_declared_and_counted():
    # random: a valid random answer after max_attempts invalid ones
    game, text, agent, _ = _agent("nonsense", max_attempts=2)
    result = play_episode(game, text, [agent, make_agent("always_defect")], seed=1)
    assert result.status == "ok" and result.agent_stats[0]["fallbacks"] == 3
    assert result.agent_stats[0]["llm_calls"] == 6
    # a named heuristic plays instead
    game, text, agent, _ = _agent("nonsense", max_attempts=1, fallback="tit_for_tat")
    result = play_episode(game, text, [agent, make_agent("always_defect")], seed=1)
    assert result.events["action"][::2] == [0, 1, 1]
    # none: the episode fails with the reason, nothing else is lost
    game, text, agent, _ = _agent("nonsense", max_attempts=1, fallback="none")
    result = play_episode(game, text, [agent, make_agent("always_defect")], seed=1)
    assert result.status == "failed" and "fallback is 'none'" in result.error
    assert result.calls["completion"] == ["nonsense"]


def test_provider_errors_are_retried_then_fall_back():
    import litellm

    boom = litellm.RateLimitError("slow down", llm_provider="openai", model="gpt-4o-mini")
    game, text, agent, model = _agent([boom, boom, boom, '{"action": "defect"}',
                                       '{"action": "defect"}'])
    result = play_episode(game, text, [agent, make_agent("always_defect")], seed=2)
    assert result.status == "ok"
    stats = result.agent_stats[0]
    assert stats["model_errors"] == 1 and stats["fallbacks"] == 1
    assert "rate_limit" in result.calls["error"][0]
    assert result.calls["retries"][1] == 0


def test_running_summary_memory():
    def reply(messages: Any) -> str:
        if "keep notes" in messages[0]["content"]:
            return f"notes after {len(messages[1]['content'])} chars"
        return '{"action": "defect"}'

    game, text, agent, model = _agent(reply, memory="summary", memory_k=2)
    result = play_episode(game, text, [agent, make_agent("always_defect")], seed=0)
    assert result.status == "ok"
    assert result.calls["purpose"] == ["action", "summary"] * 3
    action_prompts = [m for m in model.seen if "keep notes" not in m[0]["content"]]
    assert "notes on the game" not in action_prompts[0][0]["content"]
    assert "notes after" in action_prompts[1][0]["content"]  # turn 2 sees turn 1's notes
    assert all(len(m) == 2 for m in action_prompts)  # no raw history, only the notes


def test_memory_policies_shape_the_prompt():
    lengths = {}
    for memory in ("full", "last_k", "none"):
        game, text, agent, model = _agent('{"action": "defect"}', memory=memory, memory_k=1)
        play_episode(game, text, [agent, make_agent("always_defect")], seed=0)
        lengths[memory] = [len(m) for m in model.seen]
    assert lengths["full"] == [2, 4, 6]
    assert lengths["last_k"] == [2, 4, 4]
    assert lengths["none"] == [2, 2, 2]


def test_reasoning_field_comes_first_and_still_parses():
    game, text, agent, model = _agent('{"reasoning": "they always defect", "action": "defect"}',
                                      reasoning=True)
    result = play_episode(game, text, [agent, make_agent("always_defect")], seed=0)
    assert result.status == "ok" and result.agent_stats[0]["invalid_answers"] == 0
    assert "reasoning" in model.seen[0][0]["content"]


def test_cache_repeats_no_call(tmp_path):
    model = ScriptedLiteLLM(['{"action": "defect"}'])
    cached = Cached(model, tmp_path)
    msgs = [{"role": "user", "content": "x"}]
    a = cached.complete(msgs, Sampling(seed=1))
    b = Cached(ScriptedLiteLLM([]), tmp_path).complete(msgs, Sampling(seed=1))
    assert not a.cached and b.cached and b.text == a.text
    with pytest.raises(IndexError):  # a different seed is a different call
        Cached(ScriptedLiteLLM([]), tmp_path).complete(msgs, Sampling(seed=2))


def test_bad_agent_params():
    game, _ = make_game("RepeatedPD-v1")
    for bad, key in [({"memory": "everything"}, "memory"), ({"temperature": 5}, "temperature"),
                     ({"max_attempts": 0}, "max_attempts"), ({"cache": "yes"}, "cache"),
                     ({"fallback": "no_such_agent"}, "no_such_agent")]:
        with pytest.raises((ConfigError, KeyError), match=key):
            make_agent({"name": "llm", **bad}, game)
    with pytest.raises(ModelError, match="auth"):
        LiteLLMModel("openai/x", api_key_env="AGORA_TEST_UNSET_KEY").complete(
            [{"role": "user", "content": "x"}], Sampling())


def _answer_first_choice(messages: Any) -> str:
    return '{"action": "cooperate"}'


@pytest.mark.slow
def test_a_run_with_llm_agents_records_calls_and_resumes_from_cache(tmp_path, monkeypatch):
    built: list[ScriptedLiteLLM] = []

    def fake_build(spec: Any) -> Any:
        model = ScriptedLiteLLM(_answer_first_choice)
        built.append(model)
        return Cached(Retrying(model, sleep=lambda s: None), tmp_path / "cache")

    monkeypatch.setattr(agent_module, "build_model", fake_build)
    monkeypatch.setenv("AGORA_TEST_KEY", "sk-never-written-9f8e7d")
    cfg = parse_config({"name": "llm", "env": "RepeatedPD-v1", "params": {"rounds": 3},
                        "agents": {"player_0": {"name": "llm", "model": "openai/gpt-4o-mini",
                                                "api_key_env": "AGORA_TEST_KEY"},
                                   "player_1": "tit_for_tat"},
                        "episodes": 4, "seed": 5})
    first = run_experiment(cfg, tmp_path / "a", progress=False)
    assert first.failed == 0
    calls = pd.read_parquet(tmp_path / "a" / "calls.parquet")
    assert len(calls) == 12 and set(calls["step"]) == {0, 1, 2}
    assert calls["completion"].eq('{"action": "cooperate"}').all()
    assert (~calls["cached"]).all()
    assert (first.episodes["stat.player_0.llm_calls"] == 3).all()
    second = run_experiment(cfg, tmp_path / "b", progress=False)  # same seeds: all cached
    assert pd.read_parquet(tmp_path / "b" / "calls.parquet")["cached"].all()
    assert (first.episodes["stat.player_0.requests"] == 3).all()
    assert (second.episodes["stat.player_0.requests"] == 0).all()  # nothing was sent
    pd.testing.assert_frame_equal(first.episodes.drop(columns="duration_s"),
                                  second.episodes.drop(columns="duration_s")
                                  .assign(**{"stat.player_0.cache_hits": 0.0,
                                             "stat.player_0.requests": 3.0}))
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            assert b"sk-never-written-9f8e7d" not in path.read_bytes(), path


class SlowModel(LanguageModel):
    """Answers after ``delay`` seconds (the first legal choice); counts calls in flight."""

    def __init__(self, delay: float) -> None:
        self.name = "slow"
        self.delay = delay
        self.in_flight = 0
        self.peak = 0

    def complete(self, messages: Any, sampling: Sampling) -> Completion:
        raise AssertionError("the runner should use acomplete")

    async def acomplete(self, messages: Any, sampling: Sampling) -> Completion:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        choice = sampling.schema["properties"]["action"]["enum"][sampling.seed % 2]
        return Completion(json.dumps({"action": choice}), "slow", 5, 5)


@pytest.mark.slow
def test_simultaneous_players_and_episodes_overlap_their_waiting(tmp_path, monkeypatch):
    model = SlowModel(0.1)
    monkeypatch.setattr(agent_module, "build_model", lambda spec: model)
    base = {"name": "c", "env": "RepeatedPD-v1", "params": {"rounds": 3},
            "agents": {"default": {"name": "llm", "model": "openai/x"}}, "episodes": 8,
            "batch_size": 8, "seed": 1}
    t0 = time.perf_counter()
    fast = run_experiment(parse_config({**base, "episode_concurrency": 8}), tmp_path / "a",
                          progress=False)
    concurrent_s = time.perf_counter() - t0
    assert model.peak == 16  # 8 episodes x 2 simultaneous players
    assert concurrent_s < 8 * 3 * 2 * 0.1 / 4  # sequential would take 4.8 s
    model.peak = 0
    slow = run_experiment(parse_config({**base, "episode_concurrency": 1}), tmp_path / "b",
                          progress=False)
    assert model.peak == 2  # one episode at a time, both players together
    pd.testing.assert_frame_equal(fast.episodes.drop(columns="duration_s"),
                                  slow.episodes.drop(columns="duration_s"))
