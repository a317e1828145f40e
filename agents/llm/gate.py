"""A run-wide limit on model calls in flight, across every Ray worker of a run.

The runner starts one :class:`CallGate` actor per run (when the config sets
``llm_concurrency``) and tells workers its name; :class:`RunLimited` then holds one of the
gate's slots around every provider call. Within one process, :class:`~.wrappers.Limited`
already does this without Ray.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agora.agents.llm.model import Completion, LanguageModel, Message, Sampling
from agora.agents.llm.wrappers import _Wrapper


class CallGate:
    """The actor's class: ``slots`` permits handed out first come, first served."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.in_flight = 0
        self.peak = 0
        self._sem: asyncio.Semaphore | None = None

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

    async def stats(self) -> dict[str, int]:
        return {"slots": self.slots, "in_flight": self.in_flight, "peak": self.peak}


def start_gate(name: str, slots: int) -> Any:
    """Start the run's gate actor (needs an initialised Ray)."""
    import ray

    actor = ray.remote(CallGate).options(name=name, max_concurrency=10_000, num_cpus=0)
    return actor.remote(slots)


class RunLimited(_Wrapper):
    """Holds a slot of the named run-wide gate around each call (async path; the sync
    path has no event loop to wait in and uses the process-local ``Limited`` only)."""

    def __init__(self, inner: LanguageModel, gate_name: str) -> None:
        super().__init__(inner)
        self.gate_name = gate_name
        self._gate: Any = None

    def _actor(self) -> Any:
        if self._gate is None:
            import ray

            self._gate = ray.get_actor(self.gate_name)
        return self._gate

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
