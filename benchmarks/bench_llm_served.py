"""A society against a served open model: calls/s and tokens/s over HTTP vs in process.

The embedded Gemma 3 270M served by llama.cpp's OpenAI-compatible server
(:class:`agora.agents.llm.serve.LocalServer`, a child process) plays the Vallinder-Hughes
society (``experiments/configs/vallinder_hughes.yaml``, smaller) through ``model:
{model: openai/gemma-3-270m, api_base: http://127.0.0.1:PORT/v1}``: the path a model served
on GPUs (vLLM, ``llama-server``) takes. Side by side in one run:

- **in-process**: the same society on ``local/gemma-3-270m`` (the model in this process,
  ``AGORA_LLAMA_THREADS`` = the server's threads);
- **served**: for each server ``--threads`` setting, the society on Ray with each
  ``--workers`` count and each ``llm_concurrency`` (``--concurrency``), every call through
  the run's call gate.

Per run: model calls, wall, calls/s, tokens/s (prompt + completion, and completion alone),
the mean per-call latency, the gate's peak in flight, and how many answers equal the
in-process run's for the same prompt (llama.cpp does not promise bit-identical logits
across batch compositions, so this is measured, not assumed). llama-cpp-python's server
runs one request at a time, so concurrency only overlaps the client's side here; a GPU
server batches concurrent requests (see README, "Models on GPUs").

Run::

    python benchmarks/bench_llm_served.py [--agents 4] [--generations 2] [--seeds 2]
        [--threads 1 2] [--workers 1 2] [--concurrency 1 2 4] [--quick]

``--quick``: 2 agents, 1 generation, 1 seed, 1 thread, 1 worker, concurrency 1 (8 calls:
seconds on an idle machine, minutes on a loaded one). Exit status 1 when a run's call
count differs from the in-process run's or a call failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _cli import parse_args, skip  # noqa: E402

from agora.agents.llm_local import MODEL_ID, THREADS_ENV, missing_packages  # noqa: E402


def _config(model: dict[str, Any], args: argparse.Namespace, workers: int,
            concurrency: int) -> Any:
    from test_llm_served import vh_config

    return vh_config({**model, "max_concurrency": concurrency}, agents=args.agents,
                     generations=args.generations, seeds=list(range(args.seeds)),
                     workers=workers, llm_concurrency=concurrency)


def _run(cfg: Any, ray_slots: int) -> dict[str, Any]:
    """One society run (on a fresh local Ray of ``ray_slots`` CPUs when above 0)."""
    import ray

    from agora.experiments.population.culture import run_society

    if ray_slots:
        ray.init(address="local", num_cpus=ray_slots, include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR")
        os.environ["RAY_ADDRESS"] = "local"  # 1 worker goes to Ray too
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wall = time.perf_counter()
            res = run_society(cfg, Path(tmp) / "run", progress=False)
            wall = time.perf_counter() - wall
    finally:
        os.environ.pop("RAY_ADDRESS", None)
        if ray_slots:
            ray.shutdown()
    calls = res.tables["calls"]
    tokens_out = int(calls["tokens_out"].sum())
    return {"calls": len(calls), "wall_s": wall, "calls_per_s": len(calls) / wall,
            "tokens_per_s": (int(calls["tokens_in"].sum()) + tokens_out) / wall,
            "out_tokens_per_s": tokens_out / wall, "latency_s": float(calls["latency_s"].mean()),
            "errors": int(calls["error"].notna().sum()),
            "peak": res.gate["peak"] if res.gate else None,
            "answers": dict(zip(calls["messages"] + calls["seed"].astype(str),
                                calls["completion"], strict=True))}


def _same(a: dict[str, Any], b: dict[str, Any]) -> str:
    shared = set(a["answers"]) & set(b["answers"])
    equal = sum(a["answers"][k] == b["answers"][k] for k in shared)
    return f"{equal}/{len(shared)}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--generations", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    args = parse_args(ap, {"agents": 2, "generations": 1, "seeds": 1, "threads": [1],
                           "workers": [1], "concurrency": [1]}, argv)
    import importlib.util

    from agora.agents.llm.serve import SERVER_PACKAGES, LocalServer

    missing = missing_packages() + [p for m, p in SERVER_PACKAGES.items()
                                    if importlib.util.find_spec(m) is None]
    if missing:
        return skip(f"the served model needs the local extra ({', '.join(missing)})")
    print(f"society: {args.agents} agents x {args.generations} generations x {args.seeds} "
          f"seeds (Vallinder-Hughes donor game), temperature 0, {os.cpu_count()} cores")
    rows: dict[str, dict[str, Any]] = {}
    for threads in args.threads:
        os.environ[THREADS_ENV] = str(threads)  # read when the in-process model loads
        if not rows:
            rows["in-process"] = _run(_config({"model": MODEL_ID}, args, 1, 4), 0)
            _print("in-process", rows["in-process"], rows["in-process"])
        with LocalServer(n_threads=threads) as server:
            for workers in args.workers:
                for conc in args.concurrency:
                    name = f"served, {threads} thr, {workers} wkr, conc {conc}"
                    spec = {"model": server.model, "api_base": server.url}
                    rows[name] = _run(_config(spec, args, workers, conc), workers)
                    _print(name, rows[name], rows["in-process"])
    base = rows["in-process"]["calls"]
    return 0 if all(r["calls"] == base and not r["errors"] for r in rows.values()) else 1


def _print(name: str, r: dict[str, Any], local: dict[str, Any]) -> None:
    print(f"  {name:34s} {r['calls']:3d} calls  {r['wall_s']:7.1f} s  "
          f"{r['calls_per_s']:6.3f} calls/s  {r['tokens_per_s']:7.1f} tok/s  "
          f"({r['out_tokens_per_s']:5.2f} out)  {r['latency_s']:6.2f} s/call  "
          f"peak {r['peak']}  answers = in-process {_same(r, local)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
