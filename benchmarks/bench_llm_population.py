"""Client-side throughput of a language-model population, and what archetypes save.

All calls go to ``tests/fake_openai.py`` in a child process (no model cost; a fixed
``--latency``), so what is measured is agora's own side: how many calls per second it can
issue and how much CPU each costs.

(a) **calls/s, one call per agent**: ``--calls`` agents each make one call at once through
``Limited(--limit)``, via the one model path (``LiteLLMModel`` -> litellm), in 1 worker
process and split over 2 (``bench_llm.Sharded``). A bare aiohttp client under the same
``Limited`` is the floor: the difference is litellm's CPU per call.
(b) **archetypes**: :func:`~agora.experiments.population.archetypes.run_archetypes` on the
shipped ``archetypes_pd.yaml`` (``--agents`` agents) against the same server: calls are
archetypes x samples x steps whatever the population, and the rest of a step is array work.
(c) **a culture society through the run's call gate**: ``--seeds`` seeds of a 6-agent donor
game society (``--generations``), in-process, then on Ray with 1 and with 2 worker slots,
every call through the ``CallGate`` with ``llm_concurrency = --limit``; calls/s and the
gate's observed peak in flight.

Run::

    python benchmarks/bench_llm_population.py [--calls 2000] [--limit 64] [--latency 0.02]
        [--agents 1000000] [--seeds 4] [--generations 2] [--quick]

``--quick``: 100 calls, 10,000 agents, 2 seeds (a few seconds after imports and Ray).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _cli import parse_args  # noqa: E402
from bench_llm import SAMPLING, AiohttpModel, Server, Sharded, messages  # noqa: E402

from agora.agents.llm.model import LanguageModel, LiteLLMModel  # noqa: E402
from agora.agents.llm.wrappers import Limited  # noqa: E402


def _burst(model: LanguageModel, calls: int) -> None:
    async def main() -> None:
        await asyncio.gather(*(model.acomplete(messages(i, 0), SAMPLING) for i in range(calls)))
        session = getattr(getattr(model, "inner", None), "_session", None)
        if session is not None:
            await session.close()

    asyncio.run(main())


def one_process(url: str, calls: int, limit: int, bare: bool) -> dict[str, float]:
    """Wall and CPU of ``calls`` concurrent calls in this process (after a warm-up)."""
    inner: LanguageModel = AiohttpModel(url) if bare else LiteLLMModel("openai/fake",
                                                                        api_base=url)
    _burst(Limited(inner, limit), min(calls, limit))  # warm-up: imports, pools
    model = Limited(AiohttpModel(url) if bare else inner, limit)
    wall, cpu = time.perf_counter(), time.process_time()
    _burst(model, calls)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"calls": calls, "wall_s": wall, "calls_per_s": calls / wall,
            "cpu_ms_per_call": 1000 * cpu / calls}


def two_processes(server: Server, calls: int, limit: int) -> dict[str, float]:
    shards = Sharded(2)
    shards(server.url, calls, 1, limit)
    wall = shards.end - shards.start
    return {"calls": calls, "wall_s": wall, "calls_per_s": calls / wall,
            "cpu_ms_per_call": 1000 * shards.cpu_s / calls}


def archetypes(url: str, agents: int) -> dict[str, Any]:
    from agora.experiments.population.archetypes import (
        load_archetype_config,
        parse_archetype_config,
        run_archetypes,
    )

    cfg = load_archetype_config(HERE.parent / "experiments" / "configs" / "archetypes_pd.yaml")
    cfg = parse_archetype_config({**cfg.model_dump(), "agents": agents, "model": {
        "model": "openai/fake", "api_base": url, "cache": "off", "max_concurrency": 64}})
    wall = time.perf_counter()
    res = run_archetypes(cfg)
    wall = time.perf_counter() - wall
    return {"agents": agents, "calls": len(res.calls), "wall_s": wall,
            "expected_calls": len(cfg.archetypes()) * cfg.samples * cfg.steps,
            "array_s_per_step": float(res.population["duration_s"].sum()) / cfg.steps}


def _society_answer(body: dict[str, Any]) -> str:
    if "My strategy will be" in body["messages"][-1]["content"]:
        return "My strategy will be to donate 1 unit to everyone."
    return '{"donate": 1}'


def society(latency: float, seeds: int, generations: int, limit: int) -> dict[str, Any]:
    """Calls/s of one society config in-process, then on Ray with 1 and 2 worker slots."""
    import tempfile

    import ray
    from fake_openai import FakeOpenAI

    from agora.experiments.population.culture import parse_society_config, run_society

    out: dict[str, Any] = {}
    with FakeOpenAI(content=_society_answer, default="slow", latency=latency) as server:
        for slots in (0, 1, 2):  # 0: in-process, no gate
            cfg = parse_society_config({
                "name": "bench", "agents": 6, "generations": generations,
                "seeds": list(range(seeds)), "workers": max(1, slots),
                "llm_concurrency": limit, "agent": {"memory": "none"},
                "models": [{"model": "openai/fake", "api_base": server.url,
                            "cache": "off", "max_retries": 0, "max_concurrency": limit}]})
            if slots:
                ray.init(address="local", num_cpus=slots, include_dashboard=False,
                         log_to_driver=False, logging_level="ERROR")
                os.environ["RAY_ADDRESS"] = "local"  # 1 slot goes to Ray too
            server.reset()
            wall = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                res = run_society(cfg, Path(tmp) / "run", progress=False)
            wall = time.perf_counter() - wall
            os.environ.pop("RAY_ADDRESS", None)
            if slots:
                ray.shutdown()
            name = f"Ray, {slots} worker{'s' if slots > 1 else ''}" if slots else "in-process"
            out[name] = {"calls": server.count, "wall_s": wall,
                         "calls_per_s": server.count / wall,
                         "peak": res.gate["peak"] if res.gate else server.max_in_flight}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--generations", type=int, default=2)
    args = parse_args(ap, {"calls": 100, "agents": 10_000, "seeds": 2}, argv)
    server = Server(args.latency)
    try:
        rows = {"1 worker, litellm": one_process(server.url, args.calls, args.limit, False),
                "1 worker, bare aiohttp": one_process(server.url, args.calls, args.limit,
                                                      True),
                "2 workers, litellm": two_processes(server, args.calls, args.limit)}
        arch = archetypes(server.url, args.agents)
    finally:
        server.close()
    ideal = args.calls / args.limit * args.latency
    print(f"(a) {args.calls} calls, Limited({args.limit}), server latency {args.latency} s "
          f"(ideal wall {ideal:.2f} s)")
    for name, r in rows.items():
        print(f"  {name:24s} {r['calls_per_s']:8.0f} calls/s  {r['cpu_ms_per_call']:6.2f} ms "
              f"CPU/call  wall {r['wall_s']:.2f} s")
    print(f"(b) archetypes: {arch['agents']} agents, {arch['calls']} calls "
          f"(expected {arch['expected_calls']}), wall {arch['wall_s']:.2f} s, "
          f"{arch['array_s_per_step']:.3f} s per step incl. calls")
    soc = society(args.latency, args.seeds, args.generations, args.limit)
    print(f"(c) society: {args.seeds} seeds x {args.generations} generations, 6 agents, "
          f"llm_concurrency {args.limit}")
    for name, r in soc.items():
        print(f"  {name:24s} {r['calls_per_s']:8.0f} calls/s  {r['calls']} calls  wall "
              f"{r['wall_s']:.2f} s  peak in flight {r['peak']}")
    same = len({r["calls"] for r in soc.values()}) == 1
    return 0 if arch["calls"] == arch["expected_calls"] and same else 1


if __name__ == "__main__":
    sys.exit(main())
