"""Experiment configs: YAML in, validated and expanded into cells.

A config names the experiment, one env id with its parameters, the agents per role, the
episodes per cell and a base seed. ``sweep`` maps a key to a list of values; the cells are
the grid (Cartesian product) of all sweep lists. Sweep keys are ``params.<name>`` (or just
``<name>``) for env parameters and ``agents.<role>`` for agent specs. Roles are
``player_0``, ``player_1``, ...; ``default`` fills every role not named.

Example YAML::

    name: pd-tournament
    env: RepeatedPD-v0
    params: {rounds: 20}
    agents:
      player_0: tit_for_tat
      player_1: {name: random}
    sweep:
      agents.player_1: [always_defect, grim_trigger, random]
    episodes: 50
    seed: 0

Validation errors are :class:`~agora.envs.ConfigError` naming the key and value.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agora.agents import AgentSpec, make_agent
from agora.envs import ConfigError, EnvSpec, TaskSpec, UnknownIdError, is_task, spec, task_spec

_ROLE = re.compile(r"^player_(\d+)$")


class RayOptions(BaseModel):
    """How to reach Ray: ``address`` of an existing cluster (or ``"auto"``), else local."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    address: str | None = None


class ExperimentConfig(BaseModel):
    """A validated experiment config (see the module docstring for the YAML form)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    env: str
    params: dict[str, Any] = Field(default_factory=dict)
    agents: dict[str, Any]
    sweep: dict[str, list[Any]] = Field(default_factory=dict)
    episodes: int = Field(ge=1)
    seed: int = Field(default=0, ge=0)
    workers: int = Field(default=1, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    on_invalid_action: Literal["fail", "random_legal"] = "fail"
    episode_concurrency: int = Field(default=16, ge=1)
    llm_concurrency: int | None = Field(default=None, ge=1)
    """Run-wide cap on model calls in flight across all Ray workers (None: per process)."""
    record_events: bool = True
    ray: RayOptions = Field(default_factory=RayOptions)

    @field_validator("sweep")
    @classmethod
    def _nonempty(cls, sweep: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in sweep.items():
            if not values:
                raise ValueError(f"sweep key {key!r} has an empty list of values")
        return sweep

    def fingerprint(self) -> str:
        """Hash of everything that decides the episodes (not workers or batching)."""
        data = self.model_dump(exclude={"workers", "batch_size", "ray", "episode_concurrency",
                                        "llm_concurrency"})
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()

    def cells(self) -> list[Cell]:
        """The sweep grid, validated: env params build, agents exist and fit the game."""
        keys = list(self.sweep)
        cells = []
        for index, combo in enumerate(itertools.product(*(self.sweep[k] for k in keys))):
            params = dict(self.params)
            agents = dict(self.agents)
            for key, value in zip(keys, combo, strict=True):
                where, _, name = key.rpartition(".")
                if where == "agents":
                    agents[name] = value
                elif where in ("params", ""):
                    params[name] = value
                else:
                    raise ConfigError(
                        f"sweep key {key!r}: use 'params.<name>' or 'agents.<role>'")
            swept = dict(zip(keys, combo, strict=True))
            cells.append(_make_cell(self, index, params, agents, swept))
        return cells


@dataclass(frozen=True)
class Cell:
    """One point of the sweep grid: env params and one agent spec per player."""

    index: int
    params: dict[str, Any]
    agents: tuple[AgentSpec, ...]
    swept: dict[str, Any]


def _make_cell(cfg: ExperimentConfig, index: int, params: dict[str, Any],
               roles: Mapping[str, Any], swept: dict[str, Any]) -> Cell:
    where = f"cell {index} ({swept})" if swept else "config"
    env_spec: EnvSpec | TaskSpec
    try:
        env_spec = task_spec(cfg.env) if is_task(cfg.env) else spec(cfg.env)
    except UnknownIdError as exc:
        raise ConfigError(f"env: {exc}") from None
    try:
        game = (env_spec.make_world(params) if isinstance(env_spec, TaskSpec)
                else env_spec.make_game(params))
    except ConfigError as exc:
        raise ConfigError(f"params in {where}: {exc}") from None
    n = game.num_players
    for role in roles:
        m = _ROLE.match(role)
        if role != "default" and (m is None or int(m.group(1)) >= n):
            raise ConfigError(f"agents: unknown role {role!r} for {cfg.env} with {n} players; "
                              f"use player_0..player_{n - 1} or default")
    specs = []
    for i in range(n):
        raw = roles.get(f"player_{i}", roles.get("default"))
        if raw is None:
            raise ConfigError(f"agents: no agent for player_{i} (and no 'default') in {where}")
        agent_spec = AgentSpec.parse(raw)
        try:
            make_agent(agent_spec, game)
        except (ConfigError, UnknownIdError) as exc:
            raise ConfigError(f"agents.player_{i} in {where}: {exc}") from None
        specs.append(agent_spec)
    return Cell(index, {**env_spec.defaults, **params}, tuple(specs), swept)


def parse_config(data: Mapping[str, Any]) -> ExperimentConfig:
    """Validate a config mapping; errors name each bad key and value.

    Example:
        >>> parse_config({"name": "x", "env": "RepeatedPD-v0", "agents": {"default": "random"},
        ...               "episodes": 0})
        Traceback (most recent call last):
        ...
        agora.envs.errors.ConfigError: invalid config: episodes: Input should be greater ...
    """
    cfg = validate_model(ExperimentConfig, data, "invalid config")
    cfg.cells()  # semantic checks now, before anything runs
    return cfg


M = TypeVar("M", bound=BaseModel)


def validate_model(model: type[M], data: Any, what: str) -> M:
    """``model.model_validate(data)``, with one :class:`ConfigError` naming every bad key
    and the value it got (shared by every YAML config of the project)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"a config must be a mapping, got {type(data).__name__}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError(f"{what}: " + "; ".join(problems)) from None


def read_yaml(path: str | Path) -> Any:
    """The YAML document at ``path``, or a :class:`ConfigError` saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML config file."""
    return parse_config(read_yaml(path))
