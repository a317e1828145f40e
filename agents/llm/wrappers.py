"""Wrappers around any :class:`~agora.agents.llm.model.LanguageModel`.

Compose them outside-in as :func:`build_model` does:
``Cached -> Retrying -> Limited -> Budgeted -> model``. A cache hit then costs no budget,
no concurrency slot and no retry; a back-off sleep never holds a concurrency slot; and the
budget counts every request that reaches the provider, retries included.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import random
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from agora.agents.llm.model import Completion, LanguageModel, Message, ModelError, Sampling
from agora.envs.errors import ConfigError


class _Wrapper(LanguageModel):
    def __init__(self, inner: LanguageModel) -> None:
        self.inner = inner
        self.name = inner.name

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def reject(self, messages: Sequence[Message], sampling: Sampling) -> None:
        self.inner.reject(messages, sampling)


class Retrying(_Wrapper):
    """Retries retryable :class:`ModelError` (timeouts, 429, 5xx, malformed bodies) with
    exponential back-off and jitter; the completion records how many retries it took.

    Args:
        max_retries: retries after the first attempt.
        base_delay: first back-off in seconds (doubled each retry, capped by ``max_delay``).
        max_delay: largest single back-off.
        sleep: a sleep function replacing ``time.sleep`` and ``asyncio.sleep`` (tests pass a
            fake clock).
    """

    def __init__(self, inner: LanguageModel, max_retries: int = 4, base_delay: float = 0.5,
                 max_delay: float = 20.0, sleep: Any = None) -> None:
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ConfigError(f"parameter max_retries={max_retries!r} is invalid: want an "
                              "int >= 0")
        super().__init__(inner)
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._jitter = random.Random(0)  # timing only; never touches results

    def _delay(self, attempt: int, error: ModelError) -> float:
        """Exponential back-off with jitter; a provider's ``Retry-After`` is honoured as a
        floor (capped by ``max_delay``), never undercut by the jitter."""
        delay = min(self.max_delay, self.base_delay * 2 ** attempt)
        if error.kind == "rate_limit":
            delay = min(self.max_delay, delay * 2)
        delay *= 0.5 + self._jitter.random() / 2
        if error.retry_after is not None:
            delay = max(delay, min(self.max_delay, error.retry_after))
        return delay

    def _failed(self, exc: ModelError, attempt: int, errors: list[str]) -> float:
        """The back-off before the next attempt; or ``exc`` raised, carrying the number of
        attempts before it and their errors, when it is final."""
        if not exc.retryable or attempt == self.max_retries:
            exc.retries, exc.errors = attempt, tuple(errors)
            raise exc
        errors.append(str(exc))
        return self._delay(attempt, exc)

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        errors: list[str] = []
        for attempt in range(self.max_retries + 1):
            try:
                answer = self.inner.complete(messages, sampling)
            except ModelError as exc:
                (self._sleep or time.sleep)(self._failed(exc, attempt, errors))
            else:
                return replace(answer, retries=attempt, errors=tuple(errors))
        raise AssertionError("unreachable")

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        errors: list[str] = []
        for attempt in range(self.max_retries + 1):
            try:
                answer = await self.inner.acomplete(messages, sampling)
            except ModelError as exc:
                delay = self._failed(exc, attempt, errors)
                if self._sleep is not None:
                    self._sleep(delay)
                else:
                    await asyncio.sleep(delay)
            else:
                return replace(answer, retries=attempt, errors=tuple(errors))
        raise AssertionError("unreachable")


class Budgeted(_Wrapper):
    """Stops with ``ModelError("budget")`` once ``max_calls`` requests or ``max_tokens``
    tokens (in + out) have been spent. Thread-safe; shared by every agent using it."""

    def __init__(self, inner: LanguageModel, max_calls: int | None = None,
                 max_tokens: int | None = None) -> None:
        super().__init__(inner)
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.calls = 0
        self.tokens = 0
        self._lock = threading.Lock()

    def _reserve(self) -> None:
        with self._lock:
            if self.max_calls is not None and self.calls >= self.max_calls:
                raise ModelError("budget", f"call budget of {self.max_calls} spent", False,
                                 sent=False)
            if self.max_tokens is not None and self.tokens >= self.max_tokens:
                raise ModelError("budget", f"token budget of {self.max_tokens} spent", False,
                                 sent=False)
            self.calls += 1

    def _spend(self, c: Completion) -> Completion:
        with self._lock:
            self.tokens += c.tokens_in + c.tokens_out
        return c

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        self._reserve()
        return self._spend(self.inner.complete(messages, sampling))

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        self._reserve()
        return self._spend(await self.inner.acomplete(messages, sampling))


class _Slots:
    """A first-come-first-served counting semaphore shared by threads and by the tasks of
    any number of event loops (an ``asyncio.Semaphore`` binds to one loop)."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._lock = threading.Lock()
        self._waiters: deque[Any] = deque()  # threading.Event, or (loop, future)

    def _take(self, waiter: Any) -> bool:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            self._waiters.append(waiter)
            return False

    def acquire(self) -> None:
        event = threading.Event()
        if not self._take(event):
            event.wait()

    async def aacquire(self) -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        if self._take((loop, fut)):
            return
        try:
            await fut
        except asyncio.CancelledError:
            with self._lock:
                queued = (loop, fut) in self._waiters
                if queued:
                    self._waiters.remove((loop, fut))
            if not queued and fut.done() and not fut.cancelled():
                self.release()  # the slot was handed over just before the cancel
            raise

    def _grant(self, fut: asyncio.Future[None]) -> None:
        if fut.done():  # cancelled meanwhile: pass the slot on
            self.release()
        else:
            fut.set_result(None)

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                if isinstance(waiter, threading.Event):
                    waiter.set()
                    return
                loop, fut = waiter
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._grant, fut)
                    return
            self._free += 1


class Limited(_Wrapper):
    """At most ``max_concurrency`` calls in flight, counted across threads and every event
    loop of the process."""

    def __init__(self, inner: LanguageModel, max_concurrency: int) -> None:
        super().__init__(inner)
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.max_concurrency = max_concurrency
        self._slots = _Slots(max_concurrency)

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        self._slots.acquire()
        try:
            return self.inner.complete(messages, sampling)
        finally:
            self._slots.release()

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        await self._slots.aacquire()
        try:
            return await self.inner.acomplete(messages, sampling)
        finally:
            self._slots.release()


class Cached(_Wrapper):
    """A deterministic on-disk response cache, keyed by model, messages and sampling
    parameters (seed included), so re-runs and resumes repeat no paid call.

    One JSON file per key, written atomically, so several processes can share a folder.
    ``policy="auto"`` caches greedy calls (temperature 0) only; ``"always"`` also caches
    sampled ones (reproducible only with a provider that honours the seed); ``"off"``.
    An answer the caller rejects (:meth:`reject`) is removed, so a re-run or resume asks
    again instead of replaying it.
    """

    def __init__(self, inner: LanguageModel, folder: str | Path, policy: str = "auto") -> None:
        super().__init__(inner)
        if policy not in ("auto", "always", "off"):
            raise ValueError(f"cache policy {policy!r}; use auto, always or off")
        self.folder = Path(folder)
        self.policy = policy
        self.hits = 0
        self.misses = 0
        self.merged = 0
        """Misses answered by an identical request already in flight (no second call)."""
        self.rejected = 0
        """Stored answers removed because the caller rejected them."""
        self._inflight: dict[str, concurrent.futures.Future[Completion]] = {}
        self._lock = threading.Lock()

    def _applies(self, sampling: Sampling) -> bool:
        return self.policy == "always" or (self.policy == "auto" and sampling.temperature == 0)

    def key(self, messages: Sequence[Message], sampling: Sampling) -> str:
        blob = json.dumps({"model": self.inner.identity(),
                           "messages": [dict(m) for m in messages],
                           "sampling": sampling.cache_key()}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def _load(self, key: str) -> Completion | None:
        try:
            data = json.loads(self._path(key).read_text())
            hit = Completion(**{**data, "cached": True, "latency_s": 0.0, "retries": 0,
                                "errors": ()})
        except (FileNotFoundError, json.JSONDecodeError, TypeError):  # absent or foreign
            return None
        self.hits += 1
        return hit

    def _store(self, key: str, c: Completion) -> Completion:
        self.misses += 1
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(asdict(c)))
        os.replace(tmp, path)
        return c

    def reject(self, messages: Sequence[Message], sampling: Sampling) -> None:
        """Forget the stored answer of this call (the caller could not use it)."""
        if self._applies(sampling):
            key = self.key(messages, sampling)
            self._path(key).unlink(missing_ok=True)
            self.rejected += 1
        self.inner.reject(messages, sampling)

    def _claim(self, key: str) -> tuple[concurrent.futures.Future[Completion], bool]:
        """The in-flight future of ``key`` and whether this caller leads (makes the call);
        identical concurrent misses (from any thread or event loop) wait for the leader."""
        with self._lock:
            fut = self._inflight.get(key)
            if fut is not None:
                self.merged += 1
                return fut, False
            fut = self._inflight[key] = concurrent.futures.Future()
            return fut, True

    def _settle(self, key: str, fut: concurrent.futures.Future[Completion],
                result: Completion | None, error: BaseException | None) -> None:
        with self._lock:
            del self._inflight[key]
        if isinstance(error, ModelError):  # the leader counts the requests, not its followers
            fut.set_exception(error.unsent())
        elif error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(replace(result, cached=True, latency_s=0.0, retries=0, errors=())
                           if result is not None else result)

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        if not self._applies(sampling):
            return self.inner.complete(messages, sampling)
        key = self.key(messages, sampling)
        hit = self._load(key)
        if hit is not None:
            return hit
        fut, leader = self._claim(key)
        if not leader:
            return fut.result()
        try:
            result = self._store(key, self.inner.complete(messages, sampling))
        except BaseException as exc:
            self._settle(key, fut, None, exc)
            raise
        self._settle(key, fut, result, None)
        return result

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        if not self._applies(sampling):
            return await self.inner.acomplete(messages, sampling)
        key = self.key(messages, sampling)
        hit = self._load(key)
        if hit is not None:
            return hit
        fut, leader = self._claim(key)
        if not leader:
            return await asyncio.wrap_future(fut)
        try:
            result = self._store(key, await self.inner.acomplete(messages, sampling))
        except BaseException as exc:
            self._settle(key, fut, None, exc)
            raise
        self._settle(key, fut, result, None)
        return result
