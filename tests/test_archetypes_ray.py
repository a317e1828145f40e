"""Archetype populations on Ray: each step's calls spread over two workers under the run's
one call gate give the in-process run's records, exactly archetypes x samples x steps
calls, never more in flight than the cap, one run-wide budget, and a resume that sends no
call twice."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fake_openai import FakeOpenAI  # noqa: E402

from agora.agents.llm.model import LiteLLMModel  # noqa: E402
from agora.envs import ConfigError  # noqa: E402
from agora.experiments.population.archetypes import (  # noqa: E402
    ArchetypeResult,
    parse_archetype_config,
    run_archetypes,
)

CAP = 3
ARCHETYPES, SAMPLES, STEPS = 4, 3, 3
CALLS = ARCHETYPES * SAMPLES * STEPS
TIMING = ["latency_s", "duration_s", "cached", "requests", "cache_hits"]  # how, not what
P_COOP = {"young": 0.8, "old": 0.3}


def answer(body: dict[str, Any]) -> str:
    """Cooperate with the persona's age's probability; the call's seed decides (so the
    answer depends on the request alone, never on arrival order)."""
    age = re.search(r"You are (\w+) and", body["messages"][0]["content"]).group(1)
    coop = (body["seed"] % 1000) / 1000 < P_COOP[age]
    return json.dumps({"action": "cooperate" if coop else "defect"})


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI(content=answer, default="slow", latency=0.03) as s:
        yield s


def _cfg(server: FakeOpenAI, cache: Path, workers: int, **model: Any) -> Any:
    spec = {"model": "openai/fake", "api_base": server.url, "cache_dir": str(cache),
            "cache": "always", "max_retries": 0, **model}
    return parse_archetype_config({
        "name": "arch-ray", "model": spec, "agents": 5_000, "steps": STEPS,
        "samples": SAMPLES, "workers": workers, "llm_concurrency": CAP,
        "persona": "You are {age} and {trust} trust strangers.",
        "attributes": {"age": {"values": ["young", "old"]},
                       "trust": {"values": ["often", "rarely"]}}})


def _same(a: ArchetypeResult, b: ArchetypeResult) -> None:
    for name in ("steps", "population", "calls"):
        pd.testing.assert_frame_equal(
            getattr(a, name).drop(columns=TIMING, errors="ignore"),
            getattr(b, name).drop(columns=TIMING, errors="ignore"))


@pytest.fixture(scope="module")
def local(server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> ArchetypeResult:
    tmp = tmp_path_factory.mktemp("local")
    server.reset()
    res = run_archetypes(_cfg(server, tmp / "c", 1), tmp / "run")
    assert res.status == "ok" and res.gate is None and server.count == CALLS
    return res


@pytest.mark.slow
def test_two_workers_give_the_in_process_records_under_the_cap(
        server: FakeOpenAI, local: ArchetypeResult, tmp_path: Path, ray_session):
    server.reset()
    res = run_archetypes(_cfg(server, tmp_path / "c", 2), tmp_path / "run")
    assert res.status == "ok"
    assert server.count == len(res.calls) == CALLS  # archetypes x samples x steps
    assert res.population["calls"].tolist() == [ARCHETYPES * SAMPLES] * STEPS
    _same(local, res)
    assert res.gate is not None and res.gate["slots"] == CAP
    assert 2 <= res.gate["peak"] <= CAP  # the gate's own count, across both workers
    assert server.max_in_flight <= CAP
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["call_gate"]["peak"] == res.gate["peak"]


@pytest.mark.slow
def test_a_budget_is_one_count_across_workers_and_resume_repeats_no_call(
        server: FakeOpenAI, local: ArchetypeResult, tmp_path: Path, ray_session):
    server.reset()
    budget = ARCHETYPES * SAMPLES + 8  # step 0, then 8 of step 1's 12 calls
    stopped = run_archetypes(_cfg(server, tmp_path / "c", 2, max_calls=budget),
                             tmp_path / "run")
    assert stopped.status == "stopped" and len(stopped.population) == 1
    assert server.count == budget  # one budget for the run, not one per worker
    spent = list(stopped.gate["spent"].values())
    assert len(spent) == 1 and spent[0][0] == budget
    done = run_archetypes(_cfg(server, tmp_path / "c", 2), tmp_path / "run")
    assert done.status == "ok" and len(done.population) == STEPS
    assert server.count == CALLS  # step 1's answered calls came from the cache
    _same(local, done)


def test_a_model_object_cannot_go_to_ray_workers(tmp_path: Path):
    cfg = parse_archetype_config({**_cfg(FakeOpenAI(), tmp_path, 1).model_dump(),
                                  "workers": 2})
    with pytest.raises(ConfigError, match="workers=2: a model object cannot cross"):
        run_archetypes(cfg, model=LiteLLMModel("openai/fake"))
