"""Provider faults lose nothing and never look like success: ``agora run`` against a
misbehaving OpenAI-compatible server (:mod:`fake_openai`), through real litellm and HTTP.

What a run must show afterwards:

- every HTTP request the server received is counted in ``calls.parquet``
  (``requests`` per row, with ``retries`` and each failed attempt's error in
  ``retry_errors``);
- an answer the game's parser rejected is never served again from the cache, so a resume
  against a healthy provider repairs the run;
- a missing key variable stops the config before anything runs, and a provider that
  rejects the key, the model or the request (401/403/404/400) aborts the run with a
  non-zero exit instead of finishing on random fallbacks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fake_openai import FakeOpenAI, Reply  # noqa: E402

from agora.experiments import parse_config, run_experiment  # noqa: E402
from agora.experiments.cli import main  # noqa: E402

pytest.importorskip("litellm")

GOOD = '{"action": "cooperate"}'
KEY_ENV = "AGORA_TEST_FAULTS_KEY"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, "sk-faults-test")
    return KEY_ENV


def config(server: FakeOpenAI, tmp_path: Path, episodes: int = 1, rounds: int = 2,
           **llm: Any) -> dict[str, Any]:
    """One LLM player against tit-for-tat in the repeated prisoner's dilemma."""
    agent = {"name": "llm", "model": "openai/fake", "api_base": server.url,
             "api_key_env": KEY_ENV, "cache_dir": str(tmp_path / "cache"), "timeout": 2.0,
             **llm}
    return {"name": "faults", "env": "RepeatedPD-v0", "params": {"rounds": rounds},
            "agents": {"player_0": agent, "player_1": "tit_for_tat"},
            "episodes": episodes, "seed": 3, "episode_concurrency": 1}


def calls_of(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "calls.parquet")


def agora_run(cfg: dict[str, Any], tmp_path: Path, out: Path, *extra: str) -> int:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return main(["run", str(path), "--out", str(out), "--quiet", *extra])


# -- 1. a rejected answer is not served again --------------------------------------------------
def test_resume_asks_again_instead_of_replaying_a_rejected_answer(tmp_path: Path,
                                                                  key: str) -> None:
    with FakeOpenAI(content=GOOD) as server:
        server.push(Reply("ok", content="I think I will cooperate."))  # then good answers
        cfg = parse_config(config(server, tmp_path, max_attempts=1, fallback="none"))
        first = run_experiment(cfg, tmp_path / "r", progress=False)
        assert first.failed == 1 and server.count == 1
        again = run_experiment(cfg, tmp_path / "r", resume=True, progress=False)
        assert again.failed == 0
        assert server.count == 3  # turn 1 asked again (not replayed), then turn 2
        calls = calls_of(tmp_path / "r")
        assert calls["completion"].tolist() == [GOOD, GOOD]
        assert not calls["cached"].any()


def test_rerun_asks_again_after_a_fallback(tmp_path: Path, key: str) -> None:
    with FakeOpenAI(content=GOOD) as server:
        server.push(Reply("ok", content="cooperate, obviously"))
        cfg = parse_config(config(server, tmp_path, max_attempts=1, fallback="random"))
        first = run_experiment(cfg, tmp_path / "a", progress=False)
        assert first.episodes["stat.player_0.fallbacks"].tolist() == [1.0]
        sent = server.count
        second = run_experiment(cfg, tmp_path / "b", progress=False)  # same seeds
        assert second.episodes["stat.player_0.fallbacks"].tolist() == [0.0]
        turn_1 = calls_of(tmp_path / "b").iloc[0]
        assert (turn_1["completion"], turn_1["cached"]) == (GOOD, False)
        assert server.count > sent
