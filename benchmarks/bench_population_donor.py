"""Donor-game populations on the vector engine: a generation of 100k and of 1M agents.

One generation of each of ``--agents`` (default 100k and 1M) agents in random groups of 12
(Vallinder & Hughes' size) playing DonorGame-v1 (round robin, 12 rounds, traces 3 deep),
the strategies drawn from 6 donor rules (defector, full and 30% cooperators, image scoring,
two standing rules): seconds per generation through ``PayoffEngine.play`` (matching,
groups played, payoffs per agent), best of ``--repeats``, and agents/s. Then ``--check``
groups are played by both engines, timed: the exit status is 1 unless their payoffs are
identical.

Run::

    python benchmarks/bench_population_donor.py [--agents 100000 1000000] [--repeats 2]
        [--check 50] [--quick]

``--quick``: 12,000 agents, one repeat, 10 groups checked: a few seconds.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _cli import parse_args

from agora.agents import AgentSpec
from agora.experiments.population.engine import PayoffEngine
from agora.experiments.population.matching import make_matching

QUICK = {"agents": [12_000], "repeats": 1, "check": 10}
PARAMS = {"n_agents": 12, "endowment": 10, "multiplier": 2.0, "trace_depth": 3}
MIX = (AgentSpec("donor_defector"), AgentSpec("donor_cooperator"),
       AgentSpec("donor_cooperator", {"fraction": 0.3}), AgentSpec("donor_image_scoring"),
       AgentSpec("donor_standing"), AgentSpec("donor_standing", {"threshold": 0.5}))


def generation(engine: PayoffEngine, agents: int, seed: int) -> np.ndarray:
    """One generation: strategies drawn, random groups of 12, games played, mean payoff per
    agent and round."""
    rng = np.random.default_rng(seed)
    strategy = rng.integers(0, len(MIX), agents)
    matches = make_matching({"type": "groups", "k": 12}, agents, 12, seed).matches(rng)
    out = engine.play(strategy, matches, seed=seed, generation=0)
    per_round = out.payoffs / out.rounds[:, None]
    total = np.bincount(matches.ravel(), weights=per_round.ravel(), minlength=agents)
    return total / np.bincount(matches.ravel(), minlength=agents)


def check(groups: int, seed: int) -> tuple[bool, list[float]]:
    """``groups`` games through both engines: identical payoffs? and each one's seconds."""
    rng = np.random.default_rng(seed)
    strategy = rng.integers(0, len(MIX), groups * 12)
    matches = rng.permutation(groups * 12).reshape(groups, 12)
    outs, seconds = [], []
    for kind in ("vector", "episodes"):
        start = time.perf_counter()
        outs.append(PayoffEngine("DonorGame-v1", PARAMS, MIX, engine=kind).play(
            strategy, matches, seed=seed, generation=0))
        seconds.append(time.perf_counter() - start)
    return bool(np.array_equal(outs[0].payoffs, outs[1].payoffs)), seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--check", type=int, default=50)
    args = parse_args(ap, QUICK, argv)
    engine = PayoffEngine("DonorGame-v1", PARAMS, MIX)
    assert engine.kind == "vector"
    print(f"DonorGame-v1 in groups of 12 (12 rounds, trace depth 3), {len(MIX)} donor rules, "
          "vector engine (numpy)")
    for agents in args.agents:
        best = float("inf")
        for r in range(args.repeats):
            start = time.perf_counter()
            generation(engine, agents, r)
            best = min(best, time.perf_counter() - start)
        print(f"    {agents:>9,} agents: {best:7.3f} s/generation, {agents / best:12,.0f} "
              "agents/s")
    same, (vec, eps) = check(args.check, 1)
    print(f"    {args.check} groups: vector {vec:.3f} s, episodes {eps:.3f} s "
          f"({eps / vec:.0f}x); payoffs identical: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
