"""One population generation on 1 vs 2 workers, and its cost against population size.

Three measurements, each the fastest of ``--repeats``:

1. **episodes engine, 1 vs 2 workers**: one generation of ``--agents`` agents (half
   ``tit_for_tat``, half ``always_defect``, well mixed, ``RepeatedPD-v1`` with ``--rounds``
   rounds), every match an episode through ``run_batch``; in-process vs Ray with 2 workers
   (Ray is started once and warmed before anything is timed). Target ratio >= 1.7x.
2. **vector engine, 1 vs 2 workers**: ``agora evolve`` of ``--vector-agents`` agents, 200
   rounds, noise 0.01 (every match simulated) on 1 and 2 workers (``play_pairs`` vs
   ``play_pairs_parallel`` on the run's one Ray), per generation from runs of 1 and 3
   generations, so Ray's start is left out.
3. **episodes engine vs size**: seconds per generation for each of ``--sizes`` (in-process);
   sizes above ``--max-measured`` are extrapolated linearly from the largest measured one
   and printed as such.

Both ratios also check the determinism guarantee: the payoffs of 1 and 2 workers must be
identical (exit status 1 otherwise).

Run::

    python benchmarks/bench_population_ray.py [--agents 4000] [--rounds 20] [--repeats 2]
        [--vector-agents 1000000] [--sizes 1000 10000 100000 1000000] [--max-measured 10000]
        [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import numpy as np  # noqa: E402
from _cli import parse_args  # noqa: E402

from agora.experiments.population.engine import Outcome, PayoffEngine  # noqa: E402
from agora.experiments.population.matching import random_groups  # noqa: E402
from agora.experiments.population.population import Population  # noqa: E402
from agora.experiments.runner import LocalExecutor, RayExecutor  # noqa: E402


def _setup(n: int, rounds: int, engine: str, workers: int = 1
           ) -> tuple[PayoffEngine, Population, np.ndarray]:
    pop = Population.from_shares({"tit_for_tat": 0.5, "always_defect": 0.5}, n)
    eng = PayoffEngine("RepeatedPD-v1", {"rounds": rounds}, pop.strategies, engine=engine,
                       workers=workers)
    return eng, pop, random_groups(n, 2, np.random.default_rng(0))


def _best(run: Callable[[], Outcome], repeats: int) -> tuple[float, Outcome]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    assert out is not None
    return min(times), out


def _same(a: Outcome, b: Outcome) -> bool:
    return bool(np.array_equal(a.payoffs, b.payoffs) and np.array_equal(a.coop, b.coop))


def episodes_ratio(args: argparse.Namespace, ray: RayExecutor) -> bool:
    eng, pop, matches = _setup(args.agents, args.rounds, "episodes")
    warm, wpop, wmatches = _setup(200, 2, "episodes")
    warm.play(wpop.strategy, wmatches, 0, 0, ray)  # Ray's workers start and import agora
    local = LocalExecutor()
    t1, o1 = _best(lambda: eng.play(pop.strategy, matches, 0, 0, local), args.repeats)
    t2, o2 = _best(lambda: eng.play(pop.strategy, matches, 0, 0, ray), args.repeats)
    ok = _same(o1, o2)
    print(f"episodes engine, {args.agents} agents ({len(matches)} matches x {args.rounds} "
          f"rounds): 1 worker {t1:.2f} s, 2 workers {t2:.2f} s, ratio {t1 / t2:.2f}x "
          f"(target >= 1.7x); identical: {ok}")
    return ok


def vector_ratio(args: argparse.Namespace) -> bool:
    """``agora evolve`` with the vector engine (noise 0.01, so every match is simulated) on
    1 and 2 workers; per generation = (3 generations - 1 generation) / 2, so Ray's start
    and the set-up are left out."""
    import tempfile

    from agora.experiments.population.config import parse_evolve_config
    from agora.experiments.population.evolve import run_evolve

    def run(generations: int, workers: int) -> tuple[float, Any]:
        cfg = parse_evolve_config({
            "name": "bench", "env": "RepeatedPD-v1", "params": {"rounds": 200},
            "population": {"size": args.vector_agents,
                           "shares": {"tit_for_tat": 0.5, "always_defect": 0.5}},
            "dynamics": {"rule": "replicator", "mutation": 0.01}, "noise": 0.01,
            "generations": generations, "seed": 0})
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            summary = run_evolve(cfg, os.path.join(out, "run"), workers=workers,
                                 progress=False)
            return time.perf_counter() - start, summary.generations

    run(1, 1)  # compile / load the kernels
    per, tables = {}, {}
    for workers in (1, 2):
        one, _ = run(1, workers)
        three, tables[workers] = run(3, workers)
        per[workers] = (three - one) / 2
    ok = tables[1].equals(tables[2])
    print(f"vector engine (agora evolve), {args.vector_agents} agents x 200 rounds, noise "
          f"0.01: 1 worker {per[1]:.2f} s, 2 workers {per[2]:.2f} s per generation, ratio "
          f"{per[1] / per[2]:.2f}x (target >= 1.7x); identical: {ok}")
    return ok


def size_curve(args: argparse.Namespace) -> None:
    per_agent = None
    for n in args.sizes:
        if n <= args.max_measured:
            eng, pop, matches = _setup(n, args.rounds, "episodes")
            t, _ = _best(lambda e=eng, p=pop, m=matches: e.play(p.strategy, m, 0, 0), 1)
            per_agent = t / n
            print(f"episodes engine, {n:>9} agents: {t:8.2f} s per generation (measured)")
        elif per_agent is not None:
            print(f"episodes engine, {n:>9} agents: {per_agent * n:8.0f} s per generation "
                  f"(extrapolated from {args.max_measured})")


def main(argv: Any = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--vector-agents", type=int, default=1_000_000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    ap.add_argument("--max-measured", type=int, default=10_000)
    args = parse_args(ap, {"agents": 400, "rounds": 5, "repeats": 1, "vector_agents": 2000,
                           "sizes": [100, 1000, 10_000], "max_measured": 1000}, argv)
    ray = RayExecutor(2)
    try:
        ok = episodes_ratio(args, ray)
    finally:
        ray.close()
    ok = vector_ratio(args) and ok
    size_curve(args)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
