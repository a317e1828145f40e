"""The language-model layer end to end: agora's classes -> real litellm -> real HTTP -> a
scriptable OpenAI-compatible server on 127.0.0.1 (:mod:`fake_openai`).

``LiteLLMModel`` turns off the OpenAI SDK's own retries (``max_retries=0``), so every call
is one HTTP request and only agora's ``Retrying`` retries
(``test_one_http_request_per_call``).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fake_openai import FakeOpenAI, Reply  # noqa: E402

from agora.agents.llm.model import Completion, LiteLLMModel, ModelError, Sampling  # noqa: E402
from agora.agents.llm.wrappers import Budgeted, Cached, Limited, Retrying  # noqa: E402

pytest.importorskip("litellm")

ACTION = '{"action": "cooperate", "reason": "tit for tat"}'
SECRET = "sk-secret-test"
KEY_ENV = "AGORA_TEST_FAKE_OPENAI_KEY"
NO_SDK_RETRY = {"max_retries": 0}
MSGS = [{"role": "system", "content": "You play the repeated prisoner's dilemma."},
        {"role": "user", "content": "Round 3. Your opponent cooperated. Your move?"}]
GREEDY = Sampling(temperature=0.0, max_tokens=32, timeout=10)


@pytest.fixture(scope="module")
def fake() -> FakeOpenAI:
    with FakeOpenAI(content=ACTION) as server:
        LiteLLMModel("openai/fake", api_base=server.url, extra=NO_SDK_RETRY).complete(
            MSGS, GREEDY)  # litellm's first call costs ~1 s of one-off set-up
        yield server


@pytest.fixture
def server(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv(KEY_ENV, SECRET)
    fake.default, fake.latency, fake.script = "ok", 0.2, None
    fake.reset()
    return fake


def model(server: FakeOpenAI, **kw) -> LiteLLMModel:
    kw.setdefault("extra", NO_SDK_RETRY)
    return LiteLLMModel("openai/fake", api_base=server.url, api_key_env=KEY_ENV, **kw)


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def expected_tokens(messages: list[dict], text: str) -> tuple[int, int]:
    """The fake server's usage formula."""
    return sum(len(m["content"].split()) + 4 for m in messages), len(text.split())


def call(m, sampling: Sampling = GREEDY, how: str = "sync", messages=MSGS) -> Completion:
    if how == "sync":
        return m.complete(messages, sampling)
    return asyncio.run(m.acomplete(messages, sampling))


def raises(m, sampling: Sampling = GREEDY, how: str = "sync") -> ModelError:
    with pytest.raises(ModelError) as info:
        call(m, sampling, how)
    return info.value


# -- plain answers --------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["sync", "async"])
def test_ok_answer_text_tokens_latency(server: FakeOpenAI, how: str) -> None:
    c = call(model(server), how=how)
    assert c.text == ACTION
    assert (c.tokens_in, c.tokens_out) == expected_tokens(MSGS, ACTION)
    assert c.latency_s > 0
    assert c.model == "openai/fake"
    assert (c.cached, c.retries, c.cost) == (False, 0, None)  # unregistered model: no price
    assert server.count == 1
    req = server.requests[0]
    assert req.messages == MSGS and req["model"] == "fake"
    assert (req["temperature"], req["max_tokens"], req["seed"]) == (0.0, 32, None)
    assert req.auth_sent and "response_format" not in req.body


def test_sampling_parameters_reach_the_server(server: FakeOpenAI) -> None:
    schema = {"type": "object", "properties": {"action": {"type": "string"}},
              "required": ["action"]}
    s = Sampling(temperature=0.7, max_tokens=17, seed=42, schema=schema, timeout=5)
    model(server, structured="always").complete(MSGS, s)
    model(server, structured="never").complete(MSGS, s)
    model(server).complete(MSGS, s)  # "auto": litellm knows nothing of openai/fake
    forced, never, auto = server.requests
    assert (forced["temperature"], forced["max_tokens"], forced["seed"]) == (0.7, 17, 42)
    assert forced["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "answer", "schema": schema}}
    assert "response_format" not in never.body and "response_format" not in auto.body


def test_missing_key_variable_is_auth_error_without_a_request(
        server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    err = raises(model(server))
    assert (err.kind, err.retryable, server.count) == ("auth", False, 0)


# -- failures -> ModelError kinds -----------------------------------------------------------
FAILURES = [("500", "server", True), ("502", "server", True), ("503", "server", True),
            ("429", "rate_limit", True), ("400", "bad_request", False),
            ("404", "bad_request", False), ("401", "auth", False)]


@pytest.mark.parametrize("how", ["sync", "async"])
@pytest.mark.parametrize(("mode", "kind", "retryable"), FAILURES)
def test_http_failures_map_to_kinds(server: FakeOpenAI, mode: str, kind: str, retryable: bool,
                                    how: str) -> None:
    server.default = mode
    err = raises(model(server), how=how)
    assert (err.kind, err.retryable) == (kind, retryable)
    assert server.count == 1
    assert SECRET not in str(err) and SECRET not in repr(err.__cause__)


@pytest.mark.parametrize("how", ["sync", "async"])
def test_hang_past_timeout_is_a_retryable_timeout(server: FakeOpenAI, how: str) -> None:
    server.default = "hang"
    t0 = time.perf_counter()
    err = raises(model(server), Sampling(timeout=0.5), how)
    assert (err.kind, err.retryable) == ("timeout", True)
    assert 0.4 < time.perf_counter() - t0 < 3.0


@pytest.mark.parametrize("mode", ["garbage", "nochoices"])
def test_garbage_body_is_a_retryable_error(server: FakeOpenAI, mode: str) -> None:
    # litellm turns a 200 whose body is not JSON (JSONDecodeError in the cause chain) or has
    # no choices into litellm.InternalServerError with status_code 500.
    import litellm

    server.default = mode
    err = raises(model(server))
    assert isinstance(err.__cause__, litellm.InternalServerError)
    assert err.__cause__.status_code == 500
    assert err.retryable and err.kind in ("server", "malformed")
    assert server.count == 1


@pytest.mark.parametrize("mode", ["garbage", "nochoices"])
def test_garbage_body_is_malformed(server: FakeOpenAI, mode: str) -> None:
    server.default = mode
    assert raises(model(server)).kind == "malformed"


@pytest.mark.parametrize("mode", ["500", "hang"])
def test_one_http_request_per_call(server: FakeOpenAI, mode: str) -> None:
    server.default = mode
    budget = Budgeted(model(server, extra={}), max_calls=1)
    raises(budget, Sampling(timeout=0.3))
    assert server.count == budget.calls == 1


# -- Retrying ---------------------------------------------------------------------------------
def test_retrying_recovers_after_two_retries(server: FakeOpenAI) -> None:
    server.push("500", Reply("429", retry_after=0), "ok")
    sleep = FakeSleep()
    c = Retrying(model(server), max_retries=2, sleep=sleep).complete(MSGS, GREEDY)
    assert (c.text, c.retries, server.count) == (ACTION, 2, 3)
    assert len(sleep.calls) == 2 and all(s > 0 for s in sleep.calls)
    assert [r.mode for r in server.requests] == ["500", "429", "ok"]


def test_retrying_async_recovers(server: FakeOpenAI) -> None:
    server.push("503", "ok")
    sleep = FakeSleep()
    c = asyncio.run(Retrying(model(server), max_retries=2, sleep=sleep).acomplete(MSGS, GREEDY))
    assert (c.retries, server.count, len(sleep.calls)) == (1, 2, 1)


@pytest.mark.parametrize("how", ["sync", "async"])
def test_retrying_gives_up_with_the_last_error(server: FakeOpenAI, how: str) -> None:
    server.push("500", "503", "429", "ok")
    sleep = FakeSleep()
    err = raises(Retrying(model(server), max_retries=2, base_delay=0.001, sleep=sleep),
                 how=how)
    assert (err.kind, server.count) == ("rate_limit", 3)
    assert len(sleep.calls) == 2


@pytest.mark.parametrize("mode", ["400", "401"])
def test_non_retryable_is_not_retried(server: FakeOpenAI, mode: str) -> None:
    server.push(mode, "ok")
    sleep = FakeSleep()
    err = raises(Retrying(model(server), max_retries=3, sleep=sleep))
    assert not err.retryable and server.count == 1 and sleep.calls == []


@pytest.mark.parametrize("how", ["sync", "async"])
def test_retry_after_header_is_a_floor_on_the_back_off(server: FakeOpenAI, how: str) -> None:
    server.push(Reply("429", retry_after=7))
    sleep = FakeSleep()
    err_model = model(server)
    with pytest.raises(ModelError) as info:
        err_model.complete(MSGS, GREEDY)
    assert (info.value.kind, info.value.retry_after) == ("rate_limit", 7.0)
    server.push(Reply("429", retry_after=7), "ok")
    retrying = Retrying(err_model, max_retries=1, base_delay=0.001, max_delay=30, sleep=sleep)
    c = (retrying.complete(MSGS, GREEDY) if how == "sync"
         else asyncio.run(retrying.acomplete(MSGS, GREEDY)))
    assert c.retries == 1 and sleep.calls == [7.0]


def test_retry_after_is_capped_by_max_delay(server: FakeOpenAI) -> None:
    server.push(Reply("429", retry_after=600), "ok")
    sleep = FakeSleep()
    Retrying(model(server), max_retries=1, max_delay=5, sleep=sleep).complete(MSGS, GREEDY)
    assert sleep.calls == [5]


# -- Budgeted ---------------------------------------------------------------------------------
def test_budget_stops_at_max_calls(server: FakeOpenAI) -> None:
    m = Budgeted(model(server), max_calls=2)
    call(m), call(m, how="async")
    err = raises(m)
    assert (err.kind, err.retryable, server.count, m.calls) == ("budget", False, 2, 2)


def test_budget_counts_retries_as_calls(server: FakeOpenAI) -> None:
    server.push("500", "500", "500", "ok")
    budget = Budgeted(model(server), max_calls=3)
    sleep = FakeSleep()
    err = raises(Retrying(budget, max_retries=5, sleep=sleep))
    assert (err.kind, budget.calls, server.count, len(sleep.calls)) == ("budget", 3, 3, 3)


def test_token_budget(server: FakeOpenAI) -> None:
    m = Budgeted(model(server), max_tokens=sum(expected_tokens(MSGS, ACTION)))
    call(m)
    assert raises(m).kind == "budget" and server.count == 1


# -- Limited ----------------------------------------------------------------------------------
def test_limited_async_never_exceeds_limit_at_the_server(server: FakeOpenAI) -> None:
    server.default, server.latency = "slow", 0.2
    m = Limited(model(server), 4)

    async def burst() -> list[Completion]:
        return await asyncio.gather(*[m.acomplete(MSGS, GREEDY) for _ in range(16)])

    t0 = time.perf_counter()
    answers = asyncio.run(burst())
    assert len(answers) == 16 and server.count == 16
    assert server.max_in_flight == 4
    assert time.perf_counter() - t0 >= 4 * 0.2 * 0.9  # 16 calls in 4 waves


def test_limited_threads_never_exceed_limit(server: FakeOpenAI) -> None:
    server.default, server.latency = "slow", 0.1
    m = Limited(model(server), 4)
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda _: m.complete(MSGS, GREEDY), range(12)))
    assert server.count == 12 and server.max_in_flight == 4


def test_limited_threads_and_tasks_share_the_limit(server: FakeOpenAI) -> None:
    server.default, server.latency = "slow", 0.2
    m = Limited(model(server), 4)

    async def burst() -> None:
        await asyncio.gather(*[m.acomplete(MSGS, GREEDY) for _ in range(8)])

    threads = [threading.Thread(target=m.complete, args=(MSGS, GREEDY)) for _ in range(8)]
    for t in threads:
        t.start()
    asyncio.run(burst())
    for t in threads:
        t.join()
    assert server.count == 16 and server.max_in_flight <= 4


# -- Cached -----------------------------------------------------------------------------------
def cache_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_cache_hit_sends_nothing(server: FakeOpenAI, tmp_path: Path) -> None:
    m = Cached(model(server), tmp_path)
    first, second = call(m), call(m, how="async")
    assert server.count == 1 and (m.hits, m.misses) == (1, 1)
    assert (first.cached, second.cached) == (False, True)
    assert (second.text, second.tokens_in, second.tokens_out) == (
        first.text, first.tokens_in, first.tokens_out)
    call(m, Sampling(temperature=0.0, max_tokens=32, timeout=99))  # timeout is not in the key
    assert server.count == 1


def test_stop_sequences_reach_the_provider_and_the_cache_key(server: FakeOpenAI,
                                                              tmp_path: Path) -> None:
    call(model(server), Sampling(stop=("\nUser:",)))
    assert server.requests[-1]["stop"] == ["\nUser:"]
    assert "stop" not in Sampling().cache_key()  # old keys are unchanged
    m = Cached(model(server), tmp_path)
    assert m.key(MSGS, Sampling(stop=("x",))) != m.key(MSGS, Sampling())


@pytest.mark.parametrize("how", ["async", "threads"])
def test_identical_concurrent_misses_make_one_call(server: FakeOpenAI, tmp_path: Path,
                                                   how: str) -> None:
    server.default, server.latency = "slow", 0.3
    m = Cached(model(server), tmp_path)

    async def many() -> list[Completion]:
        return list(await asyncio.gather(*(m.acomplete(MSGS, GREEDY) for _ in range(8))))

    if how == "async":
        out = asyncio.run(many())
    else:
        with ThreadPoolExecutor(8) as pool:
            out = list(pool.map(lambda _: m.complete(MSGS, GREEDY), range(8)))
    assert server.count == 1 and (m.misses, m.merged) == (1, 7)
    assert sorted(c.cached for c in out) == [False] + [True] * 7
    assert len({c.text for c in out}) == 1


def test_a_failed_leader_fails_its_followers_and_is_not_cached(server: FakeOpenAI,
                                                               tmp_path: Path) -> None:
    server.push(Reply("400", delay=0.3))
    m = Cached(model(server), tmp_path)

    async def two() -> list[Any]:
        return list(await asyncio.gather(m.acomplete(MSGS, GREEDY),
                                         m.acomplete(MSGS, GREEDY), return_exceptions=True))

    out = asyncio.run(two())
    assert [getattr(e, "kind", None) for e in out] == ["bad_request", "bad_request"]
    assert server.count == 1 and m.merged == 1 and cache_files(tmp_path) == []
    assert call(m).text == ACTION and server.count == 2  # the next call asks again


def test_cache_misses_on_seed_temperature_and_messages(server: FakeOpenAI,
                                                      tmp_path: Path) -> None:
    m = Cached(model(server), tmp_path, policy="always")
    for s in [Sampling(seed=1), Sampling(seed=2), Sampling(temperature=0.5, seed=1),
              Sampling(temperature=0.7, seed=1), Sampling(seed=1, max_tokens=9)]:
        call(m, s)
    call(m, Sampling(seed=1), messages=MSGS[:1])
    assert server.count == 6 and m.hits == 0
    call(m, Sampling(temperature=0.7, seed=1))
    assert server.count == 6 and m.hits == 1


def test_auto_policy_does_not_cache_sampled_calls(server: FakeOpenAI, tmp_path: Path) -> None:
    m = Cached(model(server), tmp_path)
    s = Sampling(temperature=0.8, seed=3)
    assert not call(m, s).cached and not call(m, s).cached
    assert server.count == 2 and cache_files(tmp_path) == []
    off = Cached(model(server), tmp_path, policy="off")
    call(off), call(off)
    assert server.count == 4 and cache_files(tmp_path) == []


def test_errors_are_not_cached(server: FakeOpenAI, tmp_path: Path) -> None:
    server.push("500")
    m = Cached(model(server), tmp_path)
    assert raises(m).kind == "server"
    assert not call(m).cached and call(m).cached and server.count == 2


def test_cache_survives_a_new_instance(server: FakeOpenAI, tmp_path: Path) -> None:
    call(Cached(model(server), tmp_path))
    rerun = Cached(model(server), tmp_path)  # a re-run: new objects, same folder
    c = call(rerun)
    assert c.cached and c.text == ACTION and server.count == 1 and rerun.hits == 1


def test_concurrent_writers_do_not_corrupt(server: FakeOpenAI, tmp_path: Path) -> None:
    server.default, server.latency = "slow", 0.1  # all misses overlap, then all write
    writers = [Cached(model(server), tmp_path) for _ in range(4)]
    prompts = [[{"role": "user", "content": f"prompt {i}"}] for i in range(4)]
    jobs = [(w, p) for w in writers for p in prompts for _ in range(2)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(lambda j: j[0].complete(j[1], GREEDY), jobs))

    async def tasks() -> None:  # and asyncio writers on one instance
        await asyncio.gather(*[writers[0].acomplete(p, Sampling(seed=5)) for p in prompts * 2])

    asyncio.run(tasks())
    files = cache_files(tmp_path)
    assert len(files) == 8 and all(f.suffix == ".json" for f in files)  # no .tmp left over
    for f in files:
        assert Completion(**json.loads(f.read_text())).text == ACTION
    sent = server.count
    fresh = Cached(model(server), tmp_path)
    assert all(call(fresh, GREEDY, messages=p).cached for p in prompts)
    assert server.count == sent


def test_cache_hit_spends_no_budget(server: FakeOpenAI, tmp_path: Path) -> None:
    budget = Budgeted(model(server), max_calls=1)
    m = Cached(Retrying(Limited(budget, 2), max_retries=2), tmp_path)  # build_model's order
    call(m), call(m), call(m, how="async")
    assert server.count == budget.calls == 1


def test_cache_key_tells_endpoints_apart(server: FakeOpenAI, tmp_path: Path) -> None:
    with FakeOpenAI(content='{"action": "defect"}') as other:
        call(Cached(model(server), tmp_path))
        c = call(Cached(model(other), tmp_path))
        assert c.text == '{"action": "defect"}' and other.count == 1


# -- the API key never leaks --------------------------------------------------------------
def test_api_key_never_stored(server: FakeOpenAI, tmp_path: Path) -> None:
    m = Cached(Retrying(model(server), max_retries=1, sleep=FakeSleep()), tmp_path)
    server.push("500", "ok")
    fresh, hit = call(m), call(m)
    server.push("401")
    err = raises(m, Sampling(seed=9))
    assert all(r.auth_sent for r in server.requests)  # the key was sent...
    for c in (fresh, hit):  # ...and is nowhere else
        assert SECRET not in repr(asdict(c))
    assert SECRET not in str(err) and SECRET not in repr(err.__cause__)
    assert SECRET not in repr(vars(m.inner.inner))
    blobs = [f.read_bytes() for f in cache_files(tmp_path)]
    assert blobs and all(SECRET.encode() not in b for b in blobs)
    assert all(SECRET not in repr(r) for r in server.requests)


@pytest.mark.slow
def test_a_run_against_a_misbehaving_server_accounts_for_every_episode(tmp_path, monkeypatch):
    """Real `agora run` path: 500s, 429s, garbage and hangs; the run finishes, fallbacks
    and model errors are counted, failed episodes are recorded and retried on resume."""
    from agora.experiments import parse_config, run_experiment

    def script(index: int, body: dict[str, Any]) -> str:
        return ("ok", "500", "ok", "429", "garbage", "ok", "hang", "ok")[index % 8]

    with FakeOpenAI(content='{"action": "cooperate"}', script=script) as server:
        llm = {"name": "llm", "model": "openai/fake", "api_base": server.url, "cache": "off",
               "timeout": 1.0, "max_retries": 1, "max_attempts": 2}
        cfg = {"name": "http", "env": "RepeatedPD-v1", "params": {"rounds": 3},
               "agents": {"player_0": {**llm, "fallback": "random"},
                          "player_1": {**llm, "fallback": "none"}},
               "episodes": 6, "seed": 2, "episode_concurrency": 3}
        first = run_experiment(parse_config(cfg), tmp_path / "r", progress=False)
        episodes = first.episodes
        assert len(episodes) == 6 and sorted(episodes["episode"]) == list(range(6))
        assert first.failed == (episodes["status"] == "failed").sum()
        ok = episodes[episodes.status == "ok"]
        # each of the 3 turns got an answer or ended on a counted model error
        turns = ok["stat.player_0.llm_calls"] + ok["stat.player_0.model_errors"]
        assert (turns >= 3).all()
        assert episodes["stat.player_0.fallbacks"].sum() >= 1
        bad = episodes[episodes.status == "failed"]
        assert bad["error"].str.contains("fallback is 'none'").all()
        calls = pd.read_parquet(tmp_path / "r" / "calls.parquet")
        assert calls["error"].notna().any() and (calls["retries"] > 0).any()
        server.script = lambda i, b: "ok"  # the provider recovers: resume finishes the run
        again = run_experiment(parse_config(cfg), tmp_path / "r", resume=True, progress=False)
        assert again.failed == 0 and again.episodes_done == 6


@pytest.mark.slow
def test_run_wide_call_limit_holds_across_ray_workers(tmp_path, ray_session):
    """Two Ray workers, each free to run 8 episodes at once: the server never sees more
    than the run-wide llm_concurrency calls in flight."""
    from agora.experiments import parse_config, run_experiment

    with FakeOpenAI(content='{"action": "defect"}', default="slow", latency=0.15) as server:
        llm = {"name": "llm", "model": "openai/fake", "api_base": server.url, "cache": "off",
               "max_concurrency": 8}
        cfg = parse_config({"name": "gate", "env": "RepeatedPD-v1", "params": {"rounds": 2},
                            "agents": {"default": llm}, "episodes": 16, "batch_size": 8,
                            "episode_concurrency": 8, "llm_concurrency": 3, "seed": 0})
        result = run_experiment(cfg, tmp_path / "r", workers=2, progress=False)
        assert result.failed == 0 and result.episodes_done == 16
        assert server.count == 64
        assert 2 <= server.max_in_flight <= 3
