"""End to end with the real embedded model (Gemma 3 270M through llama-cpp-python)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("llama_cpp", reason="the embedded model needs the 'local' extra")

from agora.agents import make_agent  # noqa: E402
from agora.envs import make_game  # noqa: E402
from agora.experiments import load_config, play_episode, run_experiment  # noqa: E402

LOCAL = {"name": "llm", "model": "local/gemma-3-270m", "max_tokens": 24, "cache": "off"}


@pytest.mark.slow
@pytest.mark.parametrize("env_id, params, opponent", [
    ("RepeatedPD-v1", {"rounds": 3}, "tit_for_tat"),
    ("GleeBargaining-v1", {"horizon": 2, "granularity": 100}, "glee_spe_bargainer"),
])
def test_llm_players_play_whole_episodes(env_id, params, opponent):
    game, text = make_game(env_id, params)
    agents = [make_agent(LOCAL, game), make_agent(opponent, game)]
    result = play_episode(game, text, agents, seed=3)
    assert result.status == "ok", result.error
    calls = result.calls
    assert len(calls["step"]) >= 1
    assert all('"role": "system"' in m for m in calls["messages"])
    assert all(isinstance(c, str) and c for c in calls["completion"])
    stats = result.agent_stats[0]
    assert stats["llm_calls"] == len(calls["step"]) and stats["tokens_out"] > 0
    # the grammar makes even this base model answer in the schema: no fallback needed
    assert stats["fallbacks"] == 0
    replies = [r for r, a in zip(result.events["reply"], result.events["actor"]) if a == 0]
    assert replies and all(r.lstrip().startswith("{") for r in replies)


@pytest.mark.slow
def test_agora_run_with_the_local_model(tmp_path):
    cfg = load_config(Path(__file__).parents[1] / "experiments" / "configs" /
                      "llm_local_pd.yaml")
    cfg = cfg.model_copy(update={"episodes": 1})
    summary = run_experiment(cfg, tmp_path / "run", progress=False)
    assert summary.failed == 0 and summary.episodes_done == 2
    calls = pd.read_parquet(tmp_path / "run" / "calls.parquet")
    assert len(calls) >= 10 and calls["model"].eq("local/gemma-3-270m").all()
    assert calls["completion"].str.contains('"action"').all()
    assert calls["messages"].str.contains("Round 1").any()
