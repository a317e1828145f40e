"""The Vallinder-Hughes society against the embedded model served over HTTP by
llama_cpp.server (the path a GPU-served vLLM or llama-server model takes:
``openai/NAME`` + ``api_base``), beside the same society on the in-process model.

llama.cpp does not promise bit-identical logits across batch sizes (its server's
``cache_prompt`` notes say so), and a served and an in-process model reuse their prompt
caches differently, so equal answers are measured (benchmarks/bench_llm_served.py), not
asserted. What is asserted is what holds by construction: every call recorded under the
served model's name, tokens counted, the same records' structure, and the same prompts
(hence the same prompt token counts: one tokenizer, one template) for the first calls,
whose prompts depend on no answer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from agora.agents.llm.serve import (  # noqa: E402
    LocalServer,
    as_server_request,
    require_server_packages,
)
from agora.agents.llm_local import MODEL_ID, THREADS_ENV  # noqa: E402
from agora.experiments.config import read_yaml  # noqa: E402
from agora.experiments.population.culture import (  # noqa: E402
    SocietyConfig,
    SocietySummary,
    parse_society_config,
    run_society,
)

VH = Path(__file__).parents[1] / "experiments" / "configs" / "vallinder_hughes.yaml"


def vh_config(model: dict[str, Any], agents: int = 2, generations: int = 1,
              **over: Any) -> SocietyConfig:
    """The shipped Vallinder-Hughes config, smaller and faster, on ``model`` (both paths
    send the answer schema: ``structured: always``)."""
    data = read_yaml(VH)
    data.update(agents=agents, generations=generations, seeds=[0],
                models=[{"structured": "always", "cache": "off", "max_retries": 0, **model}])
    data["agent"] = {**data["agent"], "max_tokens": 16, "timeout": 600}
    data["strategy"] = {**data["strategy"], "max_tokens": 16, "timeout": 600}
    return parse_society_config({**data, **over})


def test_requests_get_the_in_process_providers_defaults_and_schema_form():
    schema = {"type": "object", "properties": {"donate": {"type": "integer"}}}
    body = {"messages": [], "temperature": 0, "top_p": 0.5,
            "response_format": {"type": "json_schema", "json_schema": {"name": "a",
                                                                        "schema": schema}}}
    out = as_server_request(body)
    assert out["response_format"] == {"type": "json_object", "schema": schema}
    assert out["top_p"] == 0.5 and out["repeat_penalty"] == 1.0  # sent values kept
    assert as_server_request({"response_format": {"type": "text"}}) == {
        "response_format": {"type": "text"}, "top_p": 1.0, "repeat_penalty": 1.0}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[SocietySummary, SocietySummary]:
    """(in-process, served): one generation of two agents, one llama.cpp thread each."""
    require_server_packages()  # a missing package fails here, naming it: never a skip
    tmp = tmp_path_factory.mktemp("served")
    with pytest.MonkeyPatch.context() as env, LocalServer(n_threads=1) as server:
        env.setenv(THREADS_ENV, "1")  # if this process loads the model now
        local = run_society(vh_config({"model": MODEL_ID}), tmp / "local", progress=False)
        served = run_society(vh_config({"model": server.model, "api_base": server.url}),
                             tmp / "served", progress=False)
    return local, served


@pytest.mark.slow
def test_a_society_runs_against_the_served_model_with_every_call_recorded(runs):
    local, served = runs
    assert local.status == served.status == "ok"
    calls = served.tables["calls"]
    assert len(calls) >= 4  # two strategies, then each agent donates at least once
    assert set(calls["model"]) == {"openai/gemma-3-270m"}  # the served model's name
    assert (calls["tokens_in"] > 0).all() and (calls["tokens_out"] > 0).all()
    assert calls["error"].isna().all()


@pytest.mark.slow
def test_served_records_have_the_in_process_structure_and_prompts(runs):
    local, served = runs
    assert set(local.tables) == set(served.tables)
    for name, table in local.tables.items():
        other = served.tables[name]
        assert list(table.columns) == list(other.columns), name
        pd.testing.assert_series_equal(table.dtypes, other.dtypes, obj=name)
    a, b = local.tables["calls"], served.tables["calls"]
    first = a["purpose"] == a["purpose"].iloc[0]  # the strategies: no answer in their prompts
    assert first.sum() == 2
    keys = ["messages", "seed", "temperature", "tokens_in"]
    pd.testing.assert_frame_equal(a.loc[first, keys].reset_index(drop=True),
                                  b.loc[b["purpose"] == a["purpose"].iloc[0], keys]
                                  .reset_index(drop=True))
