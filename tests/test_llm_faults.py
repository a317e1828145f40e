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

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fake_openai import FakeOpenAI, Reply  # noqa: E402

from agora.agents.llm import (  # noqa: E402
    Budgeted,
    Cached,
    LiteLLMModel,
    ModelError,
    Retrying,
    Sampling,
)
from agora.envs import ConfigError  # noqa: E402
from agora.experiments import parse_config, run_experiment  # noqa: E402
from agora.experiments.cli import main  # noqa: E402

pytest.importorskip("litellm")

GOOD = '{"action": "cooperate"}'
KEY_ENV = "AGORA_TEST_FAULTS_KEY"
MSGS = [{"role": "user", "content": "Your move?"}]
GREEDY = Sampling(temperature=0.0, max_tokens=16, timeout=5)


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
    return {"name": "faults", "env": "RepeatedPD-v1", "params": {"rounds": rounds},
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


# -- 2. every request is in the records ------------------------------------------------------
def failing(index: int, body: dict[str, Any]) -> Reply:
    return (Reply("500"), Reply("429", retry_after=0), Reply("hang"))[index % 3]


def test_every_request_of_an_exhausted_call_is_recorded(tmp_path: Path, key: str) -> None:
    with FakeOpenAI(script=failing) as server:
        llm = {"cache": "off", "timeout": 0.3, "max_retries": 2, "max_attempts": 1}
        cfg = config(server, tmp_path, episodes=2, **llm)
        cfg["agents"] = {"default": cfg["agents"]["player_0"]}
        result = run_experiment(parse_config({**cfg, "episode_concurrency": 2}),
                                tmp_path / "r", progress=False)
        calls = calls_of(tmp_path / "r")
        assert len(calls) == 2 * 2 * 2  # episodes x players x rounds, each call failed
        assert calls["retries"].tolist() == [2] * 8
        assert calls["requests"].sum() == 24
        timeouts = 0
        for errors, last in zip(calls["retry_errors"], calls["error"], strict=True):
            kinds = [e.split(":")[0] for e in json.loads(errors)] + [last.split(":")[0]]
            assert len(kinds) == 3 and set(kinds) <= {"server", "rate_limit", "timeout"}
            timeouts += kinds.count("timeout")
        # a request that timed out at the client (0.3 s) may never have reached the server
        # on a loaded machine; every other request did
        assert 24 - timeouts <= server.count <= 24
        stats = result.episodes.filter(like=".requests").to_numpy().sum()
        assert stats == 24


def test_retries_before_an_answer_are_recorded_with_their_errors(tmp_path: Path,
                                                                 key: str) -> None:
    with FakeOpenAI(content=GOOD) as server:
        server.push("503", Reply("429", retry_after=0), "ok")
        cfg = parse_config(config(server, tmp_path, rounds=1, cache="off", max_retries=3))
        run_experiment(cfg, tmp_path / "r", progress=False)
        row = calls_of(tmp_path / "r").iloc[0]
        assert (row["retries"], row["requests"]) == (2, 3) and pd.isna(row["error"])
        kinds = [e.split(":")[0] for e in json.loads(row["retry_errors"])]
        assert kinds == ["server", "rate_limit"] and server.count == 3


def test_requests_are_counted_once_across_budget_and_merged_callers(tmp_path: Path,
                                                                    key: str) -> None:
    with FakeOpenAI(default="500") as server:
        plain = LiteLLMModel("openai/fake", api_base=server.url, api_key_env=KEY_ENV)
        budget = Budgeted(plain, max_calls=3)
        with pytest.raises(ModelError) as info:  # 3 requests, the 4th stopped by the budget
            Retrying(budget, max_retries=5, sleep=lambda s: None).complete(MSGS, GREEDY)
        assert (info.value.kind, info.value.retries, info.value.requests) == ("budget", 3, 3)
        server.default = Reply("500", delay=0.2)
        cached = Cached(Retrying(plain, max_retries=1, sleep=lambda s: None), tmp_path)

        async def two() -> list[Any]:
            return list(await asyncio.gather(cached.acomplete(MSGS, GREEDY),
                                             cached.acomplete(MSGS, GREEDY),
                                             return_exceptions=True))

        leader, follower = sorted(asyncio.run(two()), key=lambda e: -e.requests)
        assert (leader.requests, follower.requests, cached.merged) == (2, 0, 1)
        assert server.count == 3 + 2


# -- 3. a missing or rejected key never looks like success -------------------------------------
def test_unset_key_variable_stops_the_config(tmp_path: Path, capsys: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with FakeOpenAI(content=GOOD) as server:
        with pytest.raises(ConfigError, match=KEY_ENV):
            parse_config(config(server, tmp_path))
        assert agora_run(config(server, tmp_path), tmp_path, tmp_path / "r") == 2
        assert KEY_ENV in capsys.readouterr().err
        assert server.count == 0 and not (tmp_path / "r").exists()


@pytest.mark.parametrize(("mode", "kind"), [("401", "auth"), ("403", "auth"),
                                            ("404", "bad_request"), ("400", "bad_request")])
def test_a_rejected_key_or_model_aborts_the_run(tmp_path: Path, key: str, capsys: Any,
                                                mode: str, kind: str) -> None:
    with FakeOpenAI(content=GOOD, default=mode) as server:
        cfg = config(server, tmp_path, episodes=4)
        assert agora_run(cfg, tmp_path, tmp_path / "r") != 0
        err = capsys.readouterr().err
        assert f"ModelError: {kind}" in err and "--resume" in err
        manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
        assert manifest["status"] == "aborted"
        calls = calls_of(tmp_path / "r")
        assert server.count == len(calls) == calls["requests"].sum() == 1  # it stopped
        assert calls["error"].str.startswith(kind).all()
        server.default = "ok"  # the key is fixed: resume finishes the run
        assert agora_run(cfg, tmp_path, tmp_path / "r", "--resume") == 0


def test_an_auth_error_inside_a_200_aborts_the_run_too(tmp_path: Path, key: str,
                                                       capsys: Any) -> None:
    # {"error": {"code": "invalid_api_key", ...}} with status 200: litellm hands the code on
    # as the status; it is the same rejected key as a 401
    with FakeOpenAI(content=GOOD, default="errorbody") as server:
        assert agora_run(config(server, tmp_path, episodes=2), tmp_path, tmp_path / "r") == 2
        assert "ModelError: auth" in capsys.readouterr().err
        assert server.count == calls_of(tmp_path / "r")["requests"].sum() == 1


def test_a_run_of_fallbacks_says_so(tmp_path: Path, key: str, capsys: Any) -> None:
    with FakeOpenAI(content=GOOD, default="500") as server:
        cfg = config(server, tmp_path, cache="off", max_retries=1, max_attempts=1)
        assert agora_run(cfg, tmp_path, tmp_path / "r") == 0  # the declared fallback played
        err = capsys.readouterr().err
        assert ("2 model turns were played by the fallback and 2 model calls failed "
                "(4 requests sent)") in err
        assert server.count == 4
