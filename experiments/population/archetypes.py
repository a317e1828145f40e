"""Archetype-batched language-model populations: millions of agents, few model calls.

Agents carry attributes (``attributes``: values and shares per variable, drawn once from the
seed). An *archetype* is one combination of attribute values; the persona template is
filled with it. Every step the model is asked ``samples`` times per archetype, through
the game's own text face (its rules, the opening turn, its answer schema and parser), with
one line on what the archetype's partners did the step before. The valid answers give the
archetype's action distribution; each agent draws its action from its archetype's
distribution, agents meet in random pairs, and the game's payoff table pays them, all as
array operations. Calls are archetypes x samples x steps, whatever the population size.

Payoffs come from a 2x2 matrix game's table (``RepeatedMatrixGame`` ids such as
``RepeatedPD-v1``): :func:`pay_pairs` is tested equal to the core's ``step``.

Example:
    >>> cfg = parse_archetype_config({"name": "a", "model": "openai/x", "agents": 10,
    ...     "attributes": {"age": {"values": ["young", "old"]}},
    ...     "persona": "You are {age}."})
    >>> cfg.archetypes()
    [{'age': 'young'}, {'age': 'old'}]
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import string
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, model_validator

from agora.agents.llm.factory import ModelSpec, build_model
from agora.agents.llm.model import LanguageModel, ModelError, Sampling, call_record
from agora.analysis.records import (
    ARCHETYPE_COLUMNS,
    ARCHETYPE_STEPS,
    CALLS,
    POPULATION,
    PartLayout,
)
from agora.analysis.records import typed_table as _typed
from agora.envs import ActionParseError, ConfigError, IllegalActionError, make_game
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.experiments.config import STRICT, read_yaml, validate_model
from agora.experiments.population.culture import derived_seed
from agora.experiments.store import RunDirectory

Model = Annotated[ModelSpec, BeforeValidator(ModelSpec.parse),
                  PlainSerializer(lambda spec: dataclasses.asdict(spec))]
CONTEXT = "Last round, the players you were matched with chose: {shares}."


class Attribute(BaseModel):
    """One prompt variable: its values and the share of agents with each (equal if
    omitted)."""

    model_config = STRICT
    values: list[str] = Field(min_length=1)
    shares: list[float] | None = None

    @model_validator(mode="after")
    def _shares(self) -> Attribute:
        if self.shares is not None and (len(self.shares) != len(self.values)
                                        or min(self.shares) < 0 or sum(self.shares) <= 0):
            raise ValueError(f"shares {self.shares} must be one non-negative number per "
                             f"value {self.values}, not all 0")
        return self

    def probabilities(self) -> np.ndarray:
        p = np.ones(len(self.values)) if self.shares is None else np.asarray(self.shares)
        return p / p.sum()


class ArchetypeConfig(BaseModel):
    """A validated archetype-population config (see the module docstring)."""

    model_config = STRICT
    kind: Literal["archetypes"] = "archetypes"
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    env: str = "RepeatedPD-v1"
    params: dict[str, Any] = Field(default_factory=lambda: {"rounds": 1})
    model: Model
    agents: int = Field(default=1000, ge=2)
    steps: int = Field(default=3, ge=1)
    samples: int = Field(default=4, ge=1)
    attributes: dict[str, Attribute] = Field(min_length=1)
    persona: str = Field(min_length=1)
    temperature: float = Field(default=1.0, ge=0, le=2)
    max_tokens: int = Field(default=32, ge=1)
    timeout: float = Field(default=60.0, gt=0)
    seed: int = Field(default=0, ge=0)
    workers: int = Field(default=1, ge=1)
    """Ray workers: above 1 (or with ``RAY_ADDRESS`` set), each step's calls are spread
    over Ray tasks, every call through the run's call gate (as a society's are)."""
    llm_concurrency: int | None = Field(default=None, ge=1)
    """Model calls in flight across the whole run (all Ray workers together)."""

    @model_validator(mode="after")
    def _template(self) -> ArchetypeConfig:
        used = {f for _, f, _, _ in string.Formatter().parse(self.persona) if f}
        if used != set(self.attributes):
            raise ValueError(f"persona uses {sorted(used)} but attributes are "
                             f"{sorted(self.attributes)}: they must match")
        return self

    def archetypes(self) -> list[dict[str, str]]:
        """Every combination of attribute values, in a fixed order."""
        names = list(self.attributes)
        combos = itertools.product(*(self.attributes[n].values for n in names))
        return [dict(zip(names, c, strict=True)) for c in combos]

    def fingerprint(self) -> str:
        """Hash of what decides the records: not where or how fast the calls run, nor
        budgets or the cache folder (so a run stopped by ``max_calls`` resumes with a
        larger one, as a society's does)."""
        import hashlib

        data = self.model_dump(mode="json", exclude={"workers", "llm_concurrency"})
        for key in ("max_calls", "max_tokens_budget", "max_concurrency", "cache_dir"):
            data["model"].pop(key)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def parse_archetype_config(data: Any) -> ArchetypeConfig:
    """Validate an archetype config (errors name each key and value); the game must be a
    2x2 matrix game, whose table pays the pairs."""
    cfg = validate_model(ArchetypeConfig, data, "invalid archetype config")
    try:
        game, _ = make_game(cfg.env, cfg.params)
    except ConfigError as exc:
        raise ConfigError(f"params: {exc}") from None
    if not isinstance(game, RepeatedMatrixGame):
        raise ConfigError(f"env={cfg.env!r}: archetype populations pay pairs from a 2x2 "
                          "matrix game's table (e.g. RepeatedPD-v1)")
    return cfg


def load_archetype_config(path: str | Path) -> ArchetypeConfig:
    return parse_archetype_config(read_yaml(path))


# ----- the vectorised parts -------------------------------------------------------------
def draw_archetypes(cfg: ArchetypeConfig, rng: np.random.Generator) -> np.ndarray:
    """The archetype index of every agent (attributes drawn independently)."""
    index = np.zeros(cfg.agents, dtype=np.int64)
    for attr in cfg.attributes.values():
        index = index * len(attr.values) + rng.choice(len(attr.values), cfg.agents,
                                                      p=attr.probabilities())
    return index


def sample_actions(dist: np.ndarray, archetype: np.ndarray, rng: np.random.Generator
                   ) -> np.ndarray:
    """Each agent's action, drawn from its archetype's row of ``dist`` (inverse CDF).

    Example:
        >>> sample_actions(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1, 1]),
        ...                np.random.default_rng(0)).tolist()
        [0, 1, 1]
    """
    cdf = np.cumsum(dist, axis=1)
    u = rng.random(len(archetype))
    return np.minimum((u[:, None] >= cdf[archetype]).sum(axis=1), dist.shape[1] - 1)


def pay_pairs(payoffs: np.ndarray, actions: np.ndarray, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs (row, column seats) and every agent's payoff from the (2, 2, 2) table
    ``payoffs[a_row, a_col] = (u_row, u_col)``; with an odd count one agent sits out (0).
    Returns (partner index, -1 when sitting out; payoffs)."""
    n = len(actions)
    order = rng.permutation(n)
    row, col = order[0:n - 1:2], order[1::2]
    partner = np.full(n, -1)
    partner[row], partner[col] = col, row
    pay = np.zeros(n)
    pay[row] = payoffs[actions[row], actions[col], 0]
    pay[col] = payoffs[actions[row], actions[col], 1]
    return partner, pay


@dataclass(frozen=True)
class ArchetypeResult:
    """What an archetype run produced (also written under ``out`` when given)."""

    status: str
    steps: pd.DataFrame
    population: pd.DataFrame
    calls: pd.DataFrame
    archetype: np.ndarray
    gate: dict[str, Any] | None = None
    """The call gate's stats on Ray (slots, observed peak in flight, budgets spent)."""


class _Asker:
    """Asks the model for one archetype's answers through the game's text face."""

    def __init__(self, cfg: ArchetypeConfig, model: LanguageModel | None) -> None:
        self.cfg, self.model = cfg, model
        self.game, self.text = make_game(cfg.env, cfg.params)
        self.obs = self.game.observe(self.game.initial_state(np.random.default_rng(0)), 0)
        self.labels = list(self.game.params.labels)

    def messages(self, persona: str, context: str) -> list[dict[str, str]]:
        user = self.text.render(self.obs) + (f"\n{context}" if context else "")
        return [{"role": "system", "content": f"{self.text.rules(0)}\n\n{persona}\nAlways "
                                              "answer with a single JSON object and nothing "
                                              "else."},
                {"role": "user", "content": user}]

    async def ask(self, step: int, arch: int, sample: int, messages: list[dict[str, str]]
                  ) -> tuple[int | None, dict[str, Any]]:
        c = self.cfg
        sampling = Sampling(c.temperature, c.max_tokens, derived_seed(c.seed, step, arch,
                                                                      sample),
                            self.text.action_schema(self.obs), c.timeout)
        if self.model is None:
            raise RuntimeError("this asker only renders prompts (its calls go to Ray)")
        completion = await self.model.acomplete(messages, sampling)
        try:
            action, problem = self.text.parse(completion.text, self.obs), None
        except (ActionParseError, IllegalActionError) as exc:
            action, problem = None, str(exc)
        return action, {"step": step, "archetype": arch, "sample": sample,
                        **call_record("archetype", c.model.model, sampling, messages,
                                      completion, problem)}


def _context(asker: _Asker, shares: np.ndarray | None) -> str:
    if shares is None:
        return ""
    parts = [f"{label} {share:.0%}" for label, share in zip(asker.labels, shares, strict=True)]
    return CONTEXT.format(shares=", ".join(parts))


Job = tuple[int, int, int, list[dict[str, str]]]
"""One call of a step, as plain data: (step, archetype, sample, messages)."""
Answer = tuple[int | None, dict[str, Any]]
"""One call's parsed action (None: invalid) and its ``calls`` row."""


def step_jobs(asker: _Asker, step: int, personas: Sequence[str],
              partner_shares: Sequence[np.ndarray | None]) -> list[Job]:
    """Every call of ``step``, archetype by archetype, sample by sample."""
    return [(step, a, j, asker.messages(personas[a], _context(asker, partner_shares[a])))
            for a in range(len(personas)) for j in range(asker.cfg.samples)]


async def ask_all(asker: _Asker, jobs: Sequence[Job]) -> list[Answer]:
    """Every job's answer, in order. Each call runs to its end before the first error is
    raised, so no answer already paid for is lost (it is cached for a resume)."""
    outcomes = await asyncio.gather(*(asker.ask(*job) for job in jobs),
                                    return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return list(outcomes)  # type: ignore[arg-type]


def _tally(answers: Sequence[Answer], n_arch: int, k: int
           ) -> tuple[np.ndarray, list[dict[str, Any]], list[int]]:
    """(archetypes x actions) answer shares, the call rows, invalid counts per archetype."""
    dist = np.zeros((n_arch, k))
    invalid = [0] * n_arch
    for (action, row) in answers:
        if action is None:
            invalid[row["archetype"]] += 1
        else:
            dist[row["archetype"], action] += 1
    empty = dist.sum(axis=1) == 0
    dist[empty] = 1.0  # every answer invalid: uniform, flagged as a fallback
    return dist / dist.sum(axis=1, keepdims=True), [r for _, r in answers], invalid


class Answers(Protocol):
    """Where a step's calls are answered: :class:`InProcess` or
    :class:`~.archetypes_ray.OnRay` (the records are the same)."""

    async def __call__(self, jobs: list[Job]) -> list[Answer]: ...

    def stats(self) -> dict[str, Any] | None: ...


class InProcess:
    """Answers a step's calls in this process, all at once (``asyncio.gather``); the
    model's own ``max_concurrency`` bounds them. :class:`~.archetypes_ray.OnRay` is the
    same face over Ray workers."""

    def __init__(self, asker: _Asker) -> None:
        self.asker = asker

    async def __call__(self, jobs: list[Job]) -> list[Answer]:
        return await ask_all(self.asker, jobs)

    def stats(self) -> dict[str, Any] | None:
        """The call gate's stats (None: no gate in one process)."""
        return None


def run_archetypes(cfg: ArchetypeConfig, out: str | Path | None = None, *,
                   model: LanguageModel | None = None, progress: bool = False
                   ) -> ArchetypeResult:
    """Run the population for ``cfg.steps`` steps (and write it under ``out``).

    Each step is committed under ``out`` as it ends (:class:`_StepStore`). A spent budget
    or failing provider ends the run with status ``"stopped"`` after the last whole step;
    run it again (``--resume``) and it continues at the next step from the stored records
    (the population's partners' moves are replayed from the stored distributions), so no
    call of a committed step is made again.

    With ``workers > 1`` (or ``RAY_ADDRESS``) each step's calls are split over Ray tasks
    under the run's call gate (:mod:`~agora.experiments.population.archetypes_ray`); the
    records are the same. ``model`` (a live object, for tests) cannot cross to Ray workers.

    Raises:
        ConfigError: ``model`` given with ``workers`` above 1.
    """
    if model is not None and cfg.workers > 1:
        raise ConfigError(f"workers={cfg.workers}: a model object cannot cross to Ray "
                          "workers; name the model in the config (model:) instead")
    store = _StepStore(out) if out is not None else None
    if store is not None:
        if (store.root / "manifest.json").exists():
            store.open_for_resume(cfg)
        else:
            store.start(cfg, {"kind": "archetypes"}, {"agents": cfg.agents,
                                                      "archetypes": len(cfg.archetypes())})
    from agora.experiments.population.culture import on_ray

    try:
        if model is None and on_ray(cfg):
            from agora.experiments.population.archetypes_ray import OnRay

            with OnRay(cfg) as answers:
                return asyncio.run(_run(cfg, _Asker(cfg, None), store, progress, answers))
        asker = _Asker(cfg, model if model is not None else build_model(cfg.model))
        return asyncio.run(_run(cfg, asker, store, progress, InProcess(asker)))
    except BaseException:
        if store is not None:
            store.finish("interrupted")
        raise


class _StepStore(RunDirectory):
    """An archetype run directory: ``parts/step_<k>.<table>.parquet`` per step, the
    ``population`` part last (the step's commit marker), whole tables at the end."""

    layout = PartLayout("step_{:05d}", POPULATION)

    def open_for_resume(self, cfg: ArchetypeConfig) -> None:
        """Check the fingerprint; drop the parts of a step that never committed."""
        manifest = self.check_resume(cfg)
        self.parts.mkdir(parents=True, exist_ok=True)
        self.drop_uncommitted()
        self.mark_resumed(manifest)

    def committed(self) -> list[int]:
        return [step for (step,) in self.committed_keys()]

    def write_step(self, step: int, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.commit_part((step,), {name: _typed(ARCHETYPE_COLUMNS[name], tables[name])
                                   for name in (ARCHETYPE_STEPS, CALLS, POPULATION)})

    def read(self, name: str, steps: Sequence[int]) -> list[dict[str, Any]]:
        return [r for t in self.layout.read(self.parts, name, [(s,) for s in steps])
                for r in t.to_pylist()]

    def consolidate(self) -> dict[str, pd.DataFrame]:
        tables = {name: self.consolidate_table(name, empty=_typed(ARCHETYPE_COLUMNS[name], []))
                  for name in (ARCHETYPE_STEPS, POPULATION, CALLS)}
        return {name: t.to_pandas() for name, t in tables.items() if t is not None}


def _replay_shares(cfg: ArchetypeConfig, store: _StepStore, step: int,
                   archetype: np.ndarray, payoffs: np.ndarray) -> list[np.ndarray | None]:
    """The partner shares after a committed ``step``: its moves and pairs drawn again from
    the stored distributions with the step's own streams (exactly the run's draws)."""
    rows = sorted(store.read(ARCHETYPE_STEPS, [step]), key=lambda r: r["archetype"])
    dist = np.asarray([r["p_action"] for r in rows], dtype=float)
    actions = sample_actions(dist, archetype, np.random.default_rng([cfg.seed, 1, step]))
    partner, _ = pay_pairs(payoffs, actions, np.random.default_rng([cfg.seed, 2, step]))
    return _partner_shares(archetype, actions, partner, len(rows), dist.shape[1])


async def _run(cfg: ArchetypeConfig, asker: _Asker, store: _StepStore | None,
               progress: bool, answers: Answers) -> ArchetypeResult:
    rng = np.random.default_rng([cfg.seed, 0])
    archetype = draw_archetypes(cfg, rng)
    combos = cfg.archetypes()
    personas = [cfg.persona.format(**c) for c in combos]
    payoffs = np.asarray(asker.game.params.payoffs, dtype=float)
    counts = np.bincount(archetype, minlength=len(combos))
    shares: list[np.ndarray | None] = [None] * len(combos)
    done = store.committed() if store is not None else []
    if store is not None and done:
        shares = _replay_shares(cfg, store, done[-1], archetype, payoffs)
    tables: dict[str, list[dict[str, Any]]] = {ARCHETYPE_STEPS: [], POPULATION: [], CALLS: []}
    status = "ok"
    for step in range(done[-1] + 1 if done else 0, cfg.steps):
        started = time.perf_counter()
        try:
            got = await answers(step_jobs(asker, step, personas, shares))
        except ModelError as exc:
            status = "stopped" if not exc.fatal else "aborted"
            break
        dist, rows, invalid = _tally(got, len(combos), asker.game.num_actions)
        actions = sample_actions(dist, archetype, np.random.default_rng([cfg.seed, 1, step]))
        partner, pay = pay_pairs(payoffs, actions, np.random.default_rng([cfg.seed, 2, step]))
        shares = _partner_shares(archetype, actions, partner, len(combos), dist.shape[1])
        total = np.bincount(actions, minlength=dist.shape[1]) / len(actions)
        now = {ARCHETYPE_STEPS: _step_rows(step, combos, counts, dist, invalid, cfg.samples,
                                           archetype, actions, pay),
               CALLS: rows,
               POPULATION: [{"step": step, "agents": cfg.agents, "calls": len(rows),
                             "share_action": total.tolist(), "mean_payoff": float(pay.mean()),
                             "cooperation_rate": float(total[0]),
                             "duration_s": time.perf_counter() - started}]}
        if store is not None:
            store.write_step(step, now)
        for name, new in now.items():
            tables[name] += new
        if progress:
            print(f"step {step + 1}/{cfg.steps}: {len(rows)} calls, action shares "
                  f"{np.round(total, 3).tolist()}", file=sys.stderr, flush=True)
    gate = answers.stats()
    if store is not None:
        frames = store.consolidate()
        store.finish(status, steps_done=len(frames[POPULATION]),
                     **({"call_gate": gate} if gate else {}))
    else:
        frames = {k: _typed(ARCHETYPE_COLUMNS[k], v).to_pandas() for k, v in tables.items()}
    return ArchetypeResult(status, frames[ARCHETYPE_STEPS], frames[POPULATION],
                           frames[CALLS], archetype, gate)


def _step_rows(step: int, combos: Sequence[dict[str, str]], counts: np.ndarray,
               dist: np.ndarray, invalid: Sequence[int], samples: int,
               archetype: np.ndarray, actions: np.ndarray, pay: np.ndarray
               ) -> list[dict[str, Any]]:
    k = dist.shape[1]
    played = np.zeros((len(combos), k))
    np.add.at(played, (archetype, actions), 1)
    paid = np.bincount(archetype, weights=pay, minlength=len(combos))
    return [{"step": step, "archetype": a, "variables": json.dumps(c),
             "agents": int(counts[a]), "samples": samples, "invalid": invalid[a],
             "fallback": invalid[a] == samples, "p_action": dist[a].tolist(),
             "share_action": (played[a] / max(1, counts[a])).tolist(),
             "mean_payoff": float(paid[a] / counts[a]) if counts[a] else float("nan")}
            for a, c in enumerate(combos)]


def _partner_shares(archetype: np.ndarray, actions: np.ndarray, partner: np.ndarray,
                    n_arch: int, k: int) -> list[np.ndarray | None]:
    """What each archetype's partners played this step (shares of each action)."""
    met = partner >= 0
    table = np.zeros((n_arch, k))
    np.add.at(table, (archetype[met], actions[partner[met]]), 1)
    totals = table.sum(axis=1, keepdims=True)
    return [row / t[0] if t[0] else None for row, t in zip(table, totals, strict=True)]
