"""Population run configs (``agora evolve``) and tournament configs (``agora tournament``).

Example YAML (``agora evolve``)::

    name: pd-fermi
    env: RepeatedPD-v1
    params: {rounds: 50}
    population:
      size: 1000
      shares: {tit_for_tat: 0.2, always_defect: 0.4, win_stay_lose_shift: 0.4}
    matching: {type: well_mixed}
    dynamics: {rule: fermi, beta: 1.0, mutation: 0.001, updates: 100}
    generations: 200
    reporters:
      model: [count, share, mean_payoff, coop_rate]
      agents: {every: 50, columns: [strategy, payoff]}
    seed: 0

``population`` takes ``size`` with ``shares`` (``{name: share}`` or
``[{agent: SPEC, share: x}]``), or ``counts`` (same forms), or ``list`` (one spec per
agent), or ``mixture: {k: K}`` (K random memory-one tables, equal shares of ``size``), or
``load: FILE.parquet`` (a saved population); ``placement: random`` (default) shuffles the
agents' places once with the seed, ``blocks`` keeps them in the order given.

Errors are :class:`~agora.envs.ConfigError` naming the key and value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from agora.analysis.records import AGENT_COLUMNS, ATTRIBUTE, GENERATION_COLUMNS, METRIC
from agora.envs import ConfigError
from agora.experiments.config import STRICT, RayOptions, read_yaml, validate_model
from agora.experiments.population.population import Population

MODEL_REPORTERS = tuple(c for c in GENERATION_COLUMNS if c not in ("generation", "strategy",
                                                                     "label"))
AGENT_REPORTERS = tuple(c for c in AGENT_COLUMNS if c not in ("generation", "id"))
_SOURCES = ("shares", "counts", "list", "mixture", "load")
_SETUP = 2**32 - 2
"""Spawn key of the run's set-up stream (placement, random graphs): no generation uses it."""


class AgentReporters(BaseModel):
    """Per-agent rows every ``every`` generations, with these ``columns``."""

    model_config = STRICT
    every: int = Field(ge=1)
    columns: list[str] = Field(default_factory=lambda: ["strategy", "payoff", "coop_rate"])


class Reporters(BaseModel):
    """What is recorded (Mesa's DataCollector in spirit): ``model`` columns of the
    generations table, and optional per-agent rows."""

    model_config = STRICT
    model: list[str] = Field(default_factory=lambda: ["count", "share", "mean_payoff",
                                                      "coop_rate"])
    agents: AgentReporters | None = None


class EvolveConfig(BaseModel):
    """A validated population run config (see the module docstring)."""

    model_config = STRICT

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    env: str
    params: dict[str, Any] = Field(default_factory=dict)
    population: dict[str, Any]
    matching: dict[str, Any] = Field(default_factory=lambda: {"type": "well_mixed"})
    dynamics: dict[str, Any]
    generations: int = Field(ge=1)
    engine: Literal["auto", "vector", "episodes"] = "auto"
    backend: Literal["auto", "numba", "numpy", "torch"] = "auto"
    device: str | None = None
    noise: float = Field(default=0.0, ge=0.0, le=1.0)
    workers: int = Field(default=1, ge=1)
    seed: int = Field(default=0, ge=0)
    on_invalid_action: Literal["fail", "random_legal"] = "fail"
    reporters: Reporters = Field(default_factory=Reporters)
    ray: RayOptions = Field(default_factory=RayOptions)

    def fingerprint(self) -> str:
        """Hash of what decides the results: not ``generations`` (a resume may extend a
        run), workers, backend, device or Ray (they never change the numbers)."""
        data = self.model_dump(exclude={"generations", "workers", "backend", "device", "ray"})
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def setup_seed(seed: int, what: int) -> int:
    """An integer seed for the run's set-up draw ``what`` (0 placement, 1 graphs).

    Example:
        >>> setup_seed(0, 1) == setup_seed(0, 1) != setup_seed(0, 0)
        True
    """
    ss = np.random.SeedSequence(seed, spawn_key=(_SETUP, what))
    return int(ss.generate_state(1, np.uint32)[0])


def build_population(section: Mapping[str, Any], seed: int) -> Population:
    """The generation-0 population a ``population`` section declares."""
    sources = [k for k in _SOURCES if k in section]
    unknown = sorted(set(section) - {*_SOURCES, "size", "placement"})
    if unknown:
        raise ConfigError(f"population: unknown key(s) {unknown}; keys: size, placement, "
                          f"and one of {', '.join(_SOURCES)}")
    if len(sources) != 1:
        raise ConfigError(f"population: give exactly one of {', '.join(_SOURCES)} "
                          f"(got {sources or 'none'})")
    source, size = sources[0], section.get("size")
    if source in ("shares", "mixture") and size is None:
        raise ConfigError(f"population.size is needed with population.{source}")
    if source in ("counts", "list", "load") and size is not None:
        raise ConfigError(f"population.size={size!r}: {source} sets the size itself; drop it")
    if source == "shares":
        pop = Population.from_shares(section["shares"], size)
    elif source == "counts":
        pop = Population.from_counts(section["counts"])
    elif source == "list":
        pop = Population.from_list(section["list"])
    elif source == "load":
        pop = Population.load(Path(str(section["load"])))
    else:
        pop = _mixture(section["mixture"], size, seed)
    placement = section.get("placement", "random")
    if placement not in ("random", "blocks"):
        raise ConfigError(f"population.placement={placement!r}: want random or blocks")
    if placement == "blocks":
        return pop
    return pop.shuffled(np.random.default_rng(setup_seed(seed, 0)))


def _mixture(raw: Any, size: Any, seed: int) -> Population:
    if not isinstance(raw, Mapping) or not set(raw) <= {"k", "seed"} or "k" not in raw:
        raise ConfigError(f"population.mixture={raw!r}: want {{k: K}} (and optionally seed)")
    return Population.mixture(raw["k"], size, int(raw.get("seed", seed)))


def check_reporters(rep: Reporters, metrics: list[str] | None) -> None:
    """Reporter names are known columns (``metrics``: the game's metric names, or None
    when the engine reports none)."""
    for name in rep.model:
        if name.startswith(METRIC):
            if metrics is None:
                raise ConfigError(f"reporters.model: {name!r} needs the episodes engine (the "
                                  "vector engine reports payoffs and cooperation only, "
                                  "and game metrics only in the commons and auctions)")
            if name.removeprefix(METRIC) not in metrics:
                raise ConfigError(f"reporters.model: unknown metric {name!r}; the game has "
                                  f"{', '.join(METRIC + m for m in metrics)}")
        elif name not in MODEL_REPORTERS:
            raise ConfigError(f"reporters.model: unknown reporter {name!r}; use "
                              f"{', '.join(MODEL_REPORTERS)} or metric.<name>")
    for name in rep.agents.columns if rep.agents else ():
        if name not in AGENT_REPORTERS and not name.startswith(ATTRIBUTE):
            raise ConfigError(f"reporters.agents.columns: unknown column {name!r}; use "
                              f"{', '.join(AGENT_REPORTERS)} or attr.<name>")


def load_evolve_config(path: str | Path) -> EvolveConfig:
    """Read and validate a population run config (semantics are checked when the run is
    set up: :func:`agora.experiments.population.evolve.prepare`)."""
    return parse_evolve_config(read_yaml(path))


def parse_evolve_config(data: Mapping[str, Any]) -> EvolveConfig:
    """Validate a population config mapping, everything checked before anything runs.

    Example:
        >>> parse_evolve_config({"name": "x", "env": "RepeatedPD-v1", "generations": 1,
        ...     "population": {"size": 4, "shares": {"tit_for_tat": 0.7}},
        ...     "dynamics": {"rule": "fermi"}})
        Traceback (most recent call last):
        ...
        agora.envs.errors.ConfigError: population.shares add up to 0.7, not 1
    """
    from agora.experiments.population.evolve import prepare

    cfg = validate_model(EvolveConfig, data, "invalid population config")
    prepare(cfg)
    return cfg


class TournamentConfig(BaseModel):
    """``agora tournament``: a round robin of strategies, ranked with confidence intervals."""

    model_config = STRICT
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    env: str = "RepeatedPD-v1"
    params: dict[str, Any] = Field(default_factory=dict)
    strategies: list[Any] = Field(min_length=2)
    turns: int = Field(default=200, ge=1)
    repetitions: int = Field(default=10, ge=1)
    noise: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int = Field(default=0, ge=0)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(), sort_keys=True,
                                         default=str).encode()).hexdigest()


def load_tournament_config(path: str | Path) -> TournamentConfig:
    """Read and validate a tournament config."""
    return validate_model(TournamentConfig, read_yaml(path), "invalid tournament config")
