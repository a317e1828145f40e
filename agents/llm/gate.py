"""A run-wide limit on model calls in flight, and run-wide budgets, across every Ray
worker of a run.

The runner starts one :class:`CallGate` actor per run (when the config sets
``llm_concurrency``; a society on Ray always does) and tells workers its name;
:class:`RunLimited` then holds one of the gate's slots around every provider call, and
:class:`RunBudgeted` counts each model's ``max_calls`` / ``max_tokens_budget`` in the gate,
so a budget is one count for the whole run, not one per worker. Within one process,
:class:`~.wrappers.Limited` and :class:`~.wrappers.Budgeted` already do this without Ray.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agora.agents.llm.model import Completion, LanguageModel, Message, ModelError, Sampling
from agora.agents.llm.wrappers import _Wrapper


class CallGate:
    """The actor's class: ``slots`` permits handed out first come, first served, and the
    run's budgets (requests and tokens spent per key).

    Example:
        >>> import asyncio
        >>> gate = CallGate(2)
        >>> [asyncio.run(gate.reserve("m", 1, None)) for _ in range(2)]
        [None, 'call budget of 1 spent']
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.in_flight = 0
        self.peak = 0
        self._sem: asyncio.Semaphore | None = None
        self.spent: dict[str, list[int]] = {}
        """Requests and tokens spent per budget key (see :class:`RunBudgeted`)."""

    async def acquire(self) -> None:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.slots)
        await self._sem.acquire()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def release(self) -> None:
        assert self._sem is not None
        self.in_flight -= 1
        self._sem.release()

    async def reserve(self, key: str, max_calls: int | None, max_tokens: int | None
                      ) -> str | None:
        """Count one request against ``key``'s budget; or say why the budget is spent
        (nothing counted). Atomic: the actor runs one coroutine step at a time."""
        calls, tokens = self.spent.setdefault(key, [0, 0])
        if max_calls is not None and calls >= max_calls:
            return f"call budget of {max_calls} spent"
        if max_tokens is not None and tokens >= max_tokens:
            return f"token budget of {max_tokens} spent"
        self.spent[key][0] += 1
        return None

    async def spend(self, key: str, tokens: int) -> None:
        self.spent.setdefault(key, [0, 0])[1] += tokens

    async def stats(self) -> dict[str, Any]:
        return {"slots": self.slots, "in_flight": self.in_flight, "peak": self.peak,
                "spent": {k: tuple(v) for k, v in self.spent.items()}}


def start_gate(name: str, slots: int) -> Any:
    """Start the run's gate actor (needs an initialised Ray)."""
    import ray

    actor = ray.remote(CallGate).options(name=name, max_concurrency=10_000, num_cpus=0)
    return actor.remote(slots)


class _GateUser(_Wrapper):
    """A wrapper that talks to the named gate actor (looked up on first use)."""

    def __init__(self, inner: LanguageModel, gate_name: str) -> None:
        super().__init__(inner)
        self.gate_name = gate_name
        self._gate: Any = None

    def _actor(self) -> Any:
        if self._gate is None:
            import ray

            self._gate = ray.get_actor(self.gate_name)
        return self._gate


class RunLimited(_GateUser):
    """Holds a slot of the named run-wide gate around each call."""

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        import ray

        gate = self._actor()
        ray.get(gate.acquire.remote())
        try:
            return self.inner.complete(messages, sampling)
        finally:
            gate.release.remote()

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        gate = self._actor()
        await gate.acquire.remote()
        try:
            return await self.inner.acomplete(messages, sampling)
        finally:
            await gate.release.remote()


class RunBudgeted(_GateUser):
    """:class:`~.wrappers.Budgeted` with the count kept in the run's gate actor: every
    worker that builds the same model spends from one ``max_calls`` and one
    ``max_tokens_budget``. A spent budget raises ``ModelError("budget")``, nothing sent.

    Args:
        key: the budget's name in the gate (one per model spec).
    """

    def __init__(self, inner: LanguageModel, gate_name: str, key: str,
                 max_calls: int | None, max_tokens: int | None) -> None:
        super().__init__(inner, gate_name)
        self.key, self.max_calls, self.max_tokens = key, max_calls, max_tokens

    def _refuse(self, why: str | None) -> None:
        if why is not None:
            raise ModelError("budget", why, False, sent=False)

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        import ray

        gate = self._actor()
        self._refuse(ray.get(gate.reserve.remote(self.key, self.max_calls, self.max_tokens)))
        c = self.inner.complete(messages, sampling)
        ray.get(gate.spend.remote(self.key, c.tokens_in + c.tokens_out))
        return c

    async def acomplete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        gate = self._actor()
        self._refuse(await gate.reserve.remote(self.key, self.max_calls, self.max_tokens))
        c = await self.inner.acomplete(messages, sampling)
        await gate.spend.remote(self.key, c.tokens_in + c.tokens_out)
        return c
