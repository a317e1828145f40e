"""One way to talk to a language model: a two-method interface implemented once over litellm.

:class:`LanguageModel` has ``complete`` (sync) and ``acomplete`` (async). :class:`LiteLLMModel`
implements it for every provider litellm knows (OpenAI, Anthropic, Gemini, any
OpenAI-compatible server through ``api_base``, and agora's embedded ``local/`` model).
Retries, budgets, caching and concurrency limits are wrappers in
:mod:`agora.agents.llm.wrappers`, never re-implemented inside agents.

Provider failures become :class:`ModelError` with a ``kind`` and whether retrying can help.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agora.envs import AgoraError, ConfigError

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch prices online

Message = Mapping[str, str]
FATAL_KINDS = frozenset({"auth", "bad_request"})
"""Error kinds that stop a run instead of falling back (see :attr:`ModelError.fatal`)."""


class ModelError(AgoraError):
    """A model call failed. ``kind`` is one of: timeout, rate_limit, server, connection,
    malformed, bad_request, auth, budget, other; ``retryable`` says if trying again may help.

    ``sent`` says whether the failing attempt reached the provider (False for a spent
    budget or an unset key variable); :class:`~.wrappers.Retrying` fills in ``retries`` and
    the ``errors`` of the attempts before, so :attr:`requests` counts every request.
    """

    def __init__(self, kind: str, message: str, retryable: bool,
                 retry_after: float | None = None, sent: bool = True) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.detail = message
        self.retryable = retryable
        self.retry_after = retry_after
        """Seconds the provider asked us to wait (its ``Retry-After`` header), if any."""
        self.sent = sent
        self.retries = 0
        self.errors: tuple[str, ...] = ()
        """The errors of the failed attempts before this one (one per retry)."""

    @property
    def fatal(self) -> bool:  # type: ignore[override]
        """A rejected key or request (401, 403, 404, 400, an unset key variable): every
        further call would fail the same way, so no fallback may hide it."""
        return self.kind in FATAL_KINDS

    @property
    def requests(self) -> int:
        """Requests the failed call sent to the provider, retries included."""
        return self.retries + self.sent

    def unsent(self) -> ModelError:
        """The same failure as seen by a caller that sent nothing (it waited for an
        identical request in flight), so the requests are counted once."""
        copy = ModelError(self.kind, self.detail, self.retryable, self.retry_after, False)
        copy.__cause__ = self.__cause__
        return copy


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters of one call (everything that changes the answer, plus timeout).

    Attributes:
        temperature: sampling temperature (0 = greedy).
        max_tokens: completion length cap.
        seed: provider seed, where supported (the local model honours it).
        schema: JSON schema of the answer, sent as ``response_format`` where supported.
        timeout: seconds before the call is abandoned (always passed; litellm's default is
            6000 s).
        stop: sequences that end the completion (free text that should end before the
            model invents the next turn).
    """

    temperature: float = 0.0
    max_tokens: int = 256
    seed: int | None = None
    schema: Mapping[str, Any] | None = None
    timeout: float = 60.0
    stop: tuple[str, ...] | None = None

    def cache_key(self) -> dict[str, Any]:
        """The parameters that decide the answer (timeout excluded; ``stop`` only when set,
        so keys of calls without it are unchanged)."""
        d = asdict(self)
        d.pop("timeout")
        if d["stop"] is None:
            d.pop("stop")
        else:
            d["stop"] = list(d["stop"])
        return d


@dataclass(frozen=True)
class Completion:
    """One model answer and its accounting."""

    text: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cost: float | None = None
    cached: bool = False
    retries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    """The errors of the failed attempts before this answer (one per retry)."""

    @property
    def requests(self) -> int:
        """Requests this answer cost: none from the cache, else one plus the retries."""
        return 0 if self.cached else 1 + self.retries


class LanguageModel(ABC):
    """The interface every model and wrapper implements."""

    name: str = "model"

    @abstractmethod
    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        """Answer ``messages``; raise :class:`ModelError` on failure."""

    def identity(self) -> dict[str, Any]:
        """What distinguishes this model's answers (used in cache keys)."""
        return {"model": self.name}

    def reject(self, messages: Sequence[Message], sampling: Sampling) -> None:
        """The caller could not use the answer to this call (its parser rejected it): a
        cache must not serve it again. Models without a cache ignore this."""
        return None

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        """Async version (default: the sync call in a worker thread)."""
        return await asyncio.to_thread(self.complete, messages, sampling)


def _causes(exc: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while exc is not None and all(exc is not e for e in chain):
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def api_key(env_var: str) -> str:
    """The key held by ``env_var`` (read per call, never stored), or an ``auth``
    :class:`ModelError` naming the variable when it is unset."""
    key = os.environ.get(env_var)
    if not key:
        raise ModelError("auth", f"environment variable {env_var} is not set", False,
                         sent=False)
    return key


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Example:
        >>> parse_retry_after("3"), parse_retry_after("junk"), parse_retry_after(None)
        (3.0, None, None)
        >>> parse_retry_after("Sun, 22 Nov 2026 14:00:10 GMT", now=1795356000.0)
        10.0
    """
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def retry_after(exc: BaseException) -> float | None:
    """The provider's ``Retry-After`` (litellm keeps the raw response headers on the
    exception as ``litellm_response_headers``; the SDK's ``response`` may carry them too)."""
    for e in _causes(exc):
        for headers in (getattr(e, "litellm_response_headers", None),
                        getattr(getattr(e, "response", None), "headers", None)):
            if headers is not None:
                value = parse_retry_after(headers.get("retry-after"))
                if value is not None:
                    return value
    return None


def _classify(exc: BaseException) -> ModelError:
    """Map litellm/provider exceptions onto :class:`ModelError` kinds."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    text = str(exc)[:500]
    if "Timeout" in name or isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return ModelError("timeout", text, True)
    # litellm reports unparseable bodies as 500s; the cause chain tells them apart
    if (any(isinstance(e, json.JSONDecodeError) for e in _causes(exc))
            or "returned 'choices'" in text):
        return ModelError("malformed", text, True)
    if "RateLimit" in name or status == 429:
        return ModelError("rate_limit", text, True, retry_after(exc))
    # an error object inside a 200 reaches us with its code (a string) as the status
    code = status.lower() if isinstance(status, str) else ""
    if ("Authentication" in name or "PermissionDenied" in name or status in (401, 403)
            or any(word in code for word in ("api_key", "auth", "permission"))):
        return ModelError("auth", text, False)
    if ("BadRequest" in name or "NotFound" in name or "ContextWindow" in name
            or status in (400, 404, 422) or "not_found" in code):
        return ModelError("bad_request", text, False)
    if "APIConnection" in name or "Connection" in name:
        return ModelError("connection", text, True)
    if ("InternalServer" in name or "ServiceUnavailable" in name or "BadGateway" in name
            or (isinstance(status, int) and status >= 500)):
        return ModelError("server", text, True)
    if "JSONDecode" in name or "APIResponseValidation" in name:
        return ModelError("malformed", text, True)
    return ModelError("other", f"{name}: {text}", True)


STRUCTURED = ("auto", "always", "never")
"""Values of ``structured``: send the answer schema where supported, always, never."""


class LiteLLMModel(LanguageModel):
    """Any litellm model id: ``"openai/gpt-4o-mini"``, ``"anthropic/claude-..."``,
    ``"gemini/..."``, ``"openai/<name>"`` with ``api_base`` for vLLM, Ollama or a llama.cpp
    server, or ``"local/gemma-3-270m"`` for the embedded model.

    Args:
        model: litellm model id.
        api_base: base URL of an OpenAI-compatible server.
        api_key_env: name of the environment variable holding the key (the key itself is
            never stored or logged).
        structured: ``"auto"`` sends the schema as ``response_format`` where litellm says the
            model supports it, ``"always"`` / ``"never"`` force the choice. The prompt always
            states the answer format too.
        extra: further keyword arguments for ``litellm.completion``.
    """

    def __init__(self, model: str, api_base: str | None = None, api_key_env: str | None = None,
                 structured: str = "auto", extra: Mapping[str, Any] | None = None) -> None:
        if structured not in STRUCTURED:
            raise ConfigError(f"parameter structured={structured!r} is invalid: want one of "
                              f"{STRUCTURED}")
        self.name = model
        self.model = model
        self.api_base = api_base
        self.api_key_env = api_key_env
        self.structured = structured
        self.extra = dict(extra or {})
        self._schema_ok: bool | None = None

    def identity(self) -> dict[str, Any]:
        """Model id, endpoint and options: two servers both serving ``openai/x`` differ."""
        return {"model": self.model, "api_base": self.api_base, "structured": self.structured,
                "extra": {k: v for k, v in sorted(self.extra.items()) if k != "max_retries"}}

    def _litellm(self) -> Any:
        import litellm

        litellm.suppress_debug_info = True  # no "Give Feedback" banner on every error
        if self.model.startswith("local/"):
            from agora.agents.llm_local import register_local_provider

            register_local_provider()
        return litellm

    def _use_schema(self, litellm: Any) -> bool:
        if self.structured != "auto":
            return self.structured == "always"
        if self._schema_ok is None:
            if self.model.startswith("local/"):
                self._schema_ok = True
            else:
                try:
                    self._schema_ok = bool(litellm.supports_response_schema(model=self.model))
                except Exception:  # unknown model ids: fall back to prompt instructions
                    self._schema_ok = False
        return self._schema_ok

    def _kwargs(self, litellm: Any, messages: Sequence[Message], s: Sampling) -> dict[str, Any]:
        kw: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in messages],
                              "temperature": s.temperature, "max_tokens": s.max_tokens,
                              "timeout": s.timeout,
                              # the SDK would retry behind Retrying's back (3 requests a call)
                              "max_retries": 0, **self.extra}
        if s.seed is not None:
            kw["seed"] = s.seed
        if s.stop:
            kw["stop"] = list(s.stop)
        if self.api_base:
            kw["api_base"] = self.api_base
        if self.api_key_env:
            kw["api_key"] = api_key(self.api_key_env)
        elif self.api_base:
            kw["api_key"] = "none"  # local OpenAI-compatible servers need some key
        if s.schema is not None and self._use_schema(litellm):
            kw["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "answer", "schema": dict(s.schema)}}
        return kw

    def _completion(self, response: Any, started: float) -> Completion:
        try:
            text = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise ModelError("malformed", f"no message in response: {exc}", True) from None
        if not isinstance(text, str):
            raise ModelError("malformed", f"message content is {type(text).__name__}", True)
        usage = getattr(response, "usage", None)
        cost = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
        return Completion(
            text=text, model=self.model,
            tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
            latency_s=time.perf_counter() - started,
            cost=float(cost) if cost is not None else None,
        )

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        litellm = self._litellm()
        kw = self._kwargs(litellm, messages, sampling)
        started = time.perf_counter()
        try:
            response = litellm.completion(**kw)
        except ModelError:
            raise
        except Exception as exc:
            raise _classify(exc) from exc
        return self._completion(response, started)

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        litellm = self._litellm()
        kw = self._kwargs(litellm, messages, sampling)
        started = time.perf_counter()
        try:
            response = await litellm.acompletion(**kw)
        except ModelError:
            raise
        except Exception as exc:
            raise _classify(exc) from exc
        return self._completion(response, started)


def messages_json(messages: Sequence[Message]) -> str:
    """Canonical JSON of a message list (for records and cache keys)."""
    return json.dumps([dict(m) for m in messages], ensure_ascii=False, sort_keys=True)


def call_record(purpose: str, model: str, sampling: Sampling, messages: Sequence[Message],
                outcome: Completion | ModelError, problem: str | None = None
                ) -> dict[str, Any]:
    """The record of one model call, as every caller stores it (the run's ``calls`` table
    adds where the call happened; :data:`agora.analysis.records.MODEL_CALL_COLUMNS` types it).

    Every request the call sent is counted (``requests``: retries included, none from the
    cache), with the errors of the retried attempts (``retry_errors``, JSON).

    Args:
        purpose: why the call was made (``"action"``, ``"summary"``, ``"extract"``...).
        model: the configured model id.
        sampling: the sampling settings sent.
        messages: the messages sent.
        outcome: the answer, or the error the call ended with.
        problem: a problem the caller found in the answer (its parser's complaint).

    Example:
        >>> row = call_record("action", "m", Sampling(seed=3), [],
        ...                   ModelError("timeout", "no answer in 60 s", True))
        >>> row["seed"], row["completion"], row["tokens_in"], row["error"], row["requests"]
        (3, None, 0, 'timeout: no answer in 60 s', 1)
    """
    c = outcome if isinstance(outcome, Completion) else None
    return {
        "purpose": purpose, "model": model, "temperature": sampling.temperature,
        "seed": sampling.seed, "messages": messages_json(messages),
        "completion": c.text if c else None,
        "tokens_in": c.tokens_in if c else 0, "tokens_out": c.tokens_out if c else 0,
        "latency_s": c.latency_s if c else 0.0, "cost": c.cost if c else None,
        "cached": bool(c.cached) if c else False, "retries": outcome.retries,
        "requests": outcome.requests,
        "retry_errors": json.dumps(list(outcome.errors)) if outcome.errors else None,
        "error": problem if c else str(outcome),
    }
