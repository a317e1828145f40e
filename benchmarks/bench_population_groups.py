"""Public goods populations on the vector engine: one generation of a million agents.

One generation of ``--agents`` agents (default 1M) in random groups of ``k`` (4 and 5, the
game's ``n_players``) playing PublicGoods-v1 for ``--rounds`` rounds (default 10), the
strategies drawn from 5 contribution rules (free rider, full and half contributors,
conditional cooperator, threshold contributor): seconds per generation through
``PayoffEngine.play`` (matching, the groups played, payoffs per agent), best of
``--repeats``, and agents/s. Then the first ``--check`` groups are played again by the
episodes engine: the exit status is 1 unless their payoffs are identical.

Run::

    python benchmarks/bench_population_groups.py [--agents 1000000] [--rounds 10]
        [--repeats 3] [--check 200] [--quick]

``--quick``: 20,000 agents, one repeat, 20 groups checked: a few seconds.
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

QUICK = {"agents": 20_000, "repeats": 1, "check": 20}
MIX = (AgentSpec("fixed_contributor", {"fraction": 0.0}),
       AgentSpec("fixed_contributor", {"fraction": 1.0}),
       AgentSpec("fixed_contributor", {"fraction": 0.5}),
       AgentSpec("conditional_cooperator"), AgentSpec("threshold_contributor"))


def generation(engine: PayoffEngine, agents: int, k: int, seed: int) -> np.ndarray:
    """One generation: strategies drawn, random groups, groups played, mean payoff per
    agent and round."""
    rng = np.random.default_rng(seed)
    strategy = rng.integers(0, len(MIX), agents)
    matches = make_matching({"type": "groups", "k": k}, agents, k, seed).matches(rng)
    out = engine.play(strategy, matches, seed=seed, generation=0)
    per_round = out.payoffs / out.rounds[:, None]
    total = np.bincount(matches.ravel(), weights=per_round.ravel(), minlength=agents)
    return total / np.bincount(matches.ravel(), minlength=agents)


def check(params: dict[str, int | float], groups: int, seed: int) -> bool:
    """The first ``groups`` groups through both engines: identical payoffs?"""
    rng = np.random.default_rng(seed)
    k = int(params["n_players"])
    strategy = rng.integers(0, len(MIX), groups * k)
    matches = rng.permutation(groups * k).reshape(groups, k)
    outs = [PayoffEngine("PublicGoods-v1", params, MIX, engine=e).play(
        strategy, matches, seed=seed, generation=0) for e in ("vector", "episodes")]
    return bool(np.array_equal(outs[0].payoffs, outs[1].payoffs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check", type=int, default=200)
    args = parse_args(ap, QUICK, argv)
    print(f"one generation of {args.agents:,} agents, PublicGoods-v1 ({args.rounds} rounds, "
          f"endowment 20, m 1.6), {len(MIX)} contribution rules, vector engine (numpy)")
    ok = True
    for k in (4, 5):
        params = {"n_players": k, "endowment": 20, "multiplier": 1.6, "rounds": args.rounds}
        engine = PayoffEngine("PublicGoods-v1", params, MIX)
        assert engine.kind == "vector"
        best = float("inf")
        for r in range(args.repeats):
            start = time.perf_counter()
            generation(engine, args.agents, k, r)
            best = min(best, time.perf_counter() - start)
        same = check(params, args.check, 1)
        ok &= same
        print(f"    groups of {k}: {best:7.3f} s/generation, {args.agents / best:12,.0f} "
              f"agents/s, {args.agents * args.rounds / best:.3g} agent-rounds/s; "
              f"{args.check} groups identical to the episodes engine: "
              f"{'yes' if same else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
