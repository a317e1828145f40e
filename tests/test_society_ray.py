"""Culture societies on Ray: generations as tasks on two workers under the run's one call
gate give the in-process run's records, never more calls in flight than the cap, one
run-wide budget, and a resume that sends no call twice."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fake_openai import FakeOpenAI  # noqa: E402
from test_society import scripted  # noqa: E402

from agora.experiments.population.culture import parse_society_config, run_society  # noqa: E402

CAP = 3
TIMING = ["latency_s", "duration_s", "cached", "requests", "cache_hits"]  # how, not what
CALLS = 2 * (6 + 3 + 3 + 3 * 18)  # two seeds: strategies, then 3 x 18 donations


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI(content=scripted, default="slow", latency=0.03) as s:
        yield s


def _cfg(server: FakeOpenAI, cache: Path, workers: int, **model: Any) -> Any:
    spec = {"model": "openai/fake", "api_base": server.url, "cache_dir": str(cache),
            "max_retries": 0, **model}
    return parse_society_config({"name": "vh-ray", "agents": 6, "generations": 3,
                                 "seeds": [0, 1], "models": [spec], "workers": workers,
                                 "llm_concurrency": CAP, "agent": {"memory": "none"}})


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name, table in a.items():
        pd.testing.assert_frame_equal(
            table.drop(columns=TIMING, errors="ignore").reset_index(drop=True),
            b[name].drop(columns=TIMING, errors="ignore").reset_index(drop=True),
            check_dtype=False)


@pytest.fixture(scope="module")
def local(server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("local")
    return run_society(_cfg(server, tmp / "c", 1), tmp / "run", progress=False)


@pytest.mark.slow
def test_two_workers_give_the_in_process_records_under_the_cap(
        server: FakeOpenAI, local, tmp_path: Path, ray_session):
    server.reset()
    summary = run_society(_cfg(server, tmp_path / "c", 2), tmp_path / "run", progress=False)
    assert summary.status == "ok" and summary.generations_done == 6
    assert server.count == len(summary.tables["calls"]) == CALLS
    _same(local.tables, summary.tables)
    assert summary.gate is not None and summary.gate["slots"] == CAP
    assert 2 <= summary.gate["peak"] <= CAP  # the gate's own count, across both workers
    assert server.max_in_flight <= CAP
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["call_gate"]["peak"] == summary.gate["peak"]


@pytest.mark.slow
def test_a_budget_is_one_count_across_workers_and_resume_repeats_no_call(
        server: FakeOpenAI, local, tmp_path: Path, ray_session):
    server.reset()
    stopped = run_society(_cfg(server, tmp_path / "c", 2, max_calls=60), tmp_path / "run",
                          progress=False)
    assert stopped.status == "stopped" and 0 < stopped.generations_done < 6
    assert server.count == 60  # one budget for the run, not 60 per worker
    spent = list(stopped.gate["spent"].values())
    assert len(spent) == 1 and spent[0][0] == 60
    assert "budget" in json.loads((tmp_path / "run" / "manifest.json").read_text())["error"]
    done = run_society(_cfg(server, tmp_path / "c", 2), tmp_path / "run", resume=True,
                       progress=False)
    assert done.status == "ok" and done.generations_done == 6
    assert server.count == CALLS  # the answered calls of the stopped run came from the cache
    _same(local.tables, done.tables)
