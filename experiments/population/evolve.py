"""Run a population generation by generation: match, play, record, update, checkpoint.

Each generation ``g``: the matching draws the matches, the engine plays them, every agent
gets the mean (or sum) over its matches of its payoff per round, the generations table
gets one row per strategy (and the agents table per-agent rows when sampled), and the
dynamics give the next generation's strategies. Every draw of generation ``g`` comes from
``SeedSequence([seed, g])`` (episodes: ``episode_seed(seed, g, match)``), and the population
entering each generation is saved, so ``--resume`` continues a killed run to exactly the
uninterrupted result, and the number of workers never changes it.

Example:
    >>> import tempfile
    >>> cfg = parse_evolve_config({"name": "demo", "env": "RepeatedPD-v1",
    ...     "params": {"rounds": 10}, "generations": 5, "seed": 1,
    ...     "population": {"size": 20, "shares": {"tit_for_tat": 0.5, "always_defect": 0.5}},
    ...     "dynamics": {"rule": "fermi", "beta": 1.0, "updates": 5}})
    >>> summary = run_evolve(cfg, tempfile.mkdtemp(), progress=False)
    >>> summary.status, summary.generations.groupby("generation")["share"].sum().tolist()
    ('completed', [1.0, 1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from agora.analysis import records as rec
from agora.envs import ConfigError, RunAbortedError
from agora.experiments.population.config import (
    EvolveConfig,
    build_population,
    check_reporters,
    parse_evolve_config,
    setup_seed,
)
from agora.experiments.population.dynamics import Dynamics, Neighbours, make_dynamics
from agora.experiments.population.engine import Executor, Outcome, PayoffEngine
from agora.experiments.population.matching import Matching, aggregate, make_matching
from agora.experiments.population.population import Population
from agora.experiments.population.store import PopulationStore

__all__ = ["EvolveSummary", "Setup", "parse_evolve_config", "prepare", "run_evolve"]


@dataclass
class Setup:
    """Everything a run needs, built and checked from its config."""

    cfg: EvolveConfig
    population: Population
    matching: Matching
    dynamics: Dynamics
    engine: PayoffEngine
    neighbours: Neighbours | None


@dataclass
class EvolveSummary:
    """What :func:`run_evolve` reports."""

    run_dir: Path
    status: str
    generations_done: int
    generations: pd.DataFrame
    population: Population


def prepare(cfg: EvolveConfig, workers: int | None = None) -> Setup:
    """Build and check the population, matching, dynamics and engine of ``cfg``."""
    pop = build_population(cfg.population, cfg.seed)
    engine = PayoffEngine(cfg.env, cfg.params, pop.strategies, engine=cfg.engine,
                          backend=cfg.backend, device=cfg.device, noise=cfg.noise,
                          workers=workers or cfg.workers, on_invalid=cfg.on_invalid_action)
    game = engine.game
    matching = make_matching(cfg.matching, pop.size, game.num_players, setup_seed(cfg.seed, 1))
    dynamics = make_dynamics(cfg.dynamics)
    metrics = None
    if engine.reports_metrics:
        metrics = sorted(game.metrics(game.initial_state(np.random.default_rng(0))))
    check_reporters(cfg.reporters, metrics)
    missing = [c for c in (cfg.reporters.agents.columns if cfg.reporters.agents else ())
               if c.startswith(rec.ATTRIBUTE) and c.removeprefix(rec.ATTRIBUTE)
               not in pop.attributes]
    if missing:
        raise ConfigError(f"reporters.agents.columns: the population has no attribute "
                          f"{missing[0]!r}; attributes: {sorted(pop.attributes) or 'none'}")
    return Setup(cfg, pop, matching, dynamics, engine, matching.neighbours())


def generation_rng(seed: int, generation: int, what: int) -> np.random.Generator:
    """Stream ``what`` (0 matching, 2 dynamics) of one generation."""
    return np.random.default_rng(np.random.SeedSequence([seed, generation],
                                                        spawn_key=(what,)))


# ----- one generation ------------------------------------------------------------------
def agent_scores(setup: Setup, matches: np.ndarray, out: Outcome) -> dict[str, np.ndarray]:
    """Per agent: payoff (per round, mean or sum over matches), cooperation rate, matches,
    and each game metric (mean over its matches)."""
    n, how = setup.population.size, setup.matching.payoff
    per_round = out.payoffs / np.maximum(out.rounds, 1)[:, None]
    rounds = np.repeat(out.rounds[:, None], matches.shape[1], 1)
    played = aggregate(matches, rounds, n, "sum")
    coop = np.divide(aggregate(matches, out.coop, n, "sum"), played,
                     out=np.full(n, np.nan), where=played > 0)
    scores = {"payoff": aggregate(matches, per_round, n, how), "coop_rate": coop,
              "matches": np.bincount(matches.ravel(), minlength=n)}
    for name, values in out.metrics.items():
        seat = np.repeat(values[:, None], matches.shape[1], 1)
        scores[rec.METRIC + name] = aggregate(matches, seat, n, "mean")
    return scores


def generation_rows(setup: Setup, generation: int, pop: Population,
                    scores: dict[str, np.ndarray]) -> pa.Table:
    """The generations table's rows of one generation (one per declared strategy)."""
    s, counts = len(pop.strategies), pop.counts()
    present = counts > 0

    def mean(values: np.ndarray) -> np.ndarray:  # per strategy, NaN-aware (bincount: O(N))
        ok = ~np.isnan(values)
        total = np.bincount(pop.strategy[ok], weights=values[ok], minlength=s)
        n = np.bincount(pop.strategy[ok], minlength=s)
        return np.divide(total, n, out=np.full(s, np.nan), where=(n > 0) & present)

    payoff = np.asarray(scores["payoff"], dtype=np.float64)
    mean_payoff = mean(payoff)
    spread = mean((payoff - np.nan_to_num(mean_payoff)[pop.strategy]) ** 2)
    cols: dict[str, Any] = {rec.GENERATION: [generation] * s, rec.STRATEGY: list(range(s)),
                            rec.LABEL: pop.labels()}
    derived = {"count": counts, "share": counts / pop.size, "mean_payoff": mean_payoff,
               "std_payoff": np.sqrt(spread),
               "coop_rate": mean(np.asarray(scores["coop_rate"], dtype=np.float64))}
    for name in setup.cfg.reporters.model:
        cols[name] = derived[name] if name in derived else mean(
            np.asarray(scores[name], dtype=np.float64))
    return rec.to_table(rec.GENERATIONS, cols)


def agent_rows(setup: Setup, generation: int, pop: Population,
               scores: dict[str, np.ndarray]) -> pa.Table | None:
    """The agents table's rows of one generation (None when not sampled)."""
    rep = setup.cfg.reporters.agents
    if rep is None or generation % rep.every:
        return None
    cols: dict[str, Any] = {rec.GENERATION: np.full(pop.size, generation), rec.AGENT_ID: pop.ids}
    for name in rep.columns:
        if name == rec.STRATEGY:
            cols[name] = pop.strategy
        elif name.startswith(rec.ATTRIBUTE):
            cols[name] = pop.attributes[name.removeprefix(rec.ATTRIBUTE)]
        else:
            cols[name] = scores[name]
    return rec.to_table(rec.AGENTS, cols)


def play_generation(setup: Setup, pop: Population, generation: int,
                    executor: Executor | None = None
                    ) -> tuple[Population, pa.Table, pa.Table | None]:
    """One generation: the next population and this generation's records."""
    seed = setup.cfg.seed
    matches = setup.matching.matches(generation_rng(seed, generation, 0))
    out = setup.engine.play(pop.strategy, matches, seed, generation, executor)
    scores = agent_scores(setup, matches, out)
    rows = generation_rows(setup, generation, pop, scores)
    agents = agent_rows(setup, generation, pop, scores)
    following = setup.dynamics.step(pop.strategy, scores["payoff"],
                                    generation_rng(seed, generation, 2),
                                    neighbours=setup.neighbours,
                                    n_strategies=len(pop.strategies))
    return pop.with_strategy(following), rows, agents


# ----- the run -------------------------------------------------------------------------
def _executor(setup: Setup, workers: int) -> Any:
    """Ray once for the whole run when it is asked for: the episodes engine maps batches
    on it, and the vector engine's shards (``play_pairs_parallel``) find it running."""
    from agora.experiments.runner import LocalExecutor, RayExecutor

    if workers > 1 or setup.cfg.ray.address:
        return RayExecutor(workers, setup.cfg.ray.address)
    return LocalExecutor()


def _postfix(rows: pa.Table) -> str:
    df = rows.to_pandas()
    top = df.loc[df["count"].idxmax()] if "count" in df else df.iloc[0]
    return f"{str(top[rec.LABEL])[:24]} {int(top['count'])}"


def run_evolve(cfg: EvolveConfig, out: str | Path, *, workers: int | None = None,
               resume: bool = False, progress: bool = True) -> EvolveSummary:
    """Run (or resume) the population run ``cfg`` into the directory ``out``.

    Args:
        cfg: a validated config.
        out: the run directory (created; must not hold another run unless resuming).
        workers: parallel workers (Ray for the episodes engine, shards for the vector
            engine); overrides ``cfg.workers`` and never changes the results.
        resume: continue the run in ``out`` from its last committed generation (up to
            ``cfg.generations``, which may be larger than the first attempt's).
        progress: a progress bar, one tick per generation.
    """
    workers = workers or cfg.workers
    setup = prepare(cfg, workers)
    store = PopulationStore(out)
    if resume:
        if not (store.root / "manifest.json").exists():
            raise ConfigError(f"--resume: {store.root} holds no run to continue")
        start = store.open_for_resume(cfg)
        pop = store.read_state(start)
    else:
        store.create(cfg, setup.population)
        start, pop = 0, setup.population
    executor = _executor(setup, workers) if start < cfg.generations else None
    bar = tqdm(total=cfg.generations, initial=min(start, cfg.generations), unit="gen",
               desc=cfg.name, disable=not progress, dynamic_ncols=True,
               mininterval=0.2 if sys.stderr.isatty() else 5.0)
    try:
        for g in range(start, cfg.generations):
            pop, rows, agents = play_generation(setup, pop, g, executor)
            store.write_generation(g, rows, agents, pop)
            bar.set_postfix_str(_postfix(rows), refresh=False)
            bar.update(1)
    except BaseException as exc:  # a failed match aborts; a resume replays its generation
        store.finish("aborted" if isinstance(exc, RunAbortedError) else "interrupted")
        raise
    finally:
        bar.close()
        if executor is not None:
            executor.close()
    done = len(store.committed())
    generations = store.consolidate(pop)
    store.finish("completed", generations_done=done)
    return EvolveSummary(store.root, "completed", done, generations, pop)
