"""Experiment configs: YAML in, validated and expanded into cells.

A config names the experiment, one env id with its parameters, the agents per role, the
episodes per cell and a base seed. ``sweep`` maps a key to a list of values; the cells are
the grid (Cartesian product) of all sweep lists. Sweep keys are ``params.<name>`` (or just
``<name>``) for env parameters and ``agents.<role>`` for agent specs. Roles are
``player_0``, ``player_1``, ...; ``default`` fills every role not named.

Example YAML::

    name: pd-tournament
    env: RepeatedPD-v1
    params: {rounds: 20}
    agents:
      player_0: tit_for_tat
      player_1: {name: random}
    sweep:
      agents.player_1: [always_defect, grim_trigger, random]
    episodes: 50
    seed: 0
    imports: [mypkg.agents]   # optional: modules that register your own agents or tasks

Validation errors are :class:`~agora.envs.ConfigError` naming the key and value.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import itertools
import json
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from agora.agents import AgentSpec, make_agent
from agora.agents.llm.factory import ModelSpec
from agora.envs import (
    ConfigError,
    EnvSpec,
    UnknownIdError,
    lookup,
)
from agora.envs.tasks import discover_tasks
from agora.experiments.tasks import task_player

_ROLE = re.compile(r"^player_(\d+)$")


STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)
"""Every config model's settings: unknown keys are errors and values are never coerced
(``"3"`` is not an int, ``"yes"`` not a bool)."""


Model = Annotated[ModelSpec, BeforeValidator(ModelSpec.parse),
                  PlainSerializer(lambda spec: dataclasses.asdict(spec))]
"""A model in the one shape every config uses (:meth:`ModelSpec.parse`), as a pydantic
field type."""


class RayOptions(BaseModel):
    """How to reach Ray: ``address`` of an existing cluster (or ``"auto"``), else local."""

    model_config = STRICT
    address: str | None = None


class ExperimentConfig(BaseModel):
    """A validated experiment config (see the module docstring for the YAML form)."""

    model_config = STRICT

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
    imports: list[str] = Field(default_factory=list)
    """Modules that register agents (``mypkg.agents``) or declare a task family's
    ``TASKS`` (``mypkg.catalog``), imported before the env and agents are built: by the
    config's check here, and by every Ray worker before its batch."""

    @field_validator("sweep")
    @classmethod
    def _sweep(cls, sweep: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Each sweep list is non-empty and has no repeated value, and no two keys name
        the same thing (``rounds`` and ``params.rounds``): either would repeat cells or
        let one list silently overwrite the other."""
        targets: dict[str, str] = {}
        for key, values in sweep.items():
            if not values:
                raise ValueError(f"sweep key {key!r} has an empty list of values")
            seen = [json.dumps(v, sort_keys=True, default=str) for v in values]
            repeated = sorted({v for v in seen if seen.count(v) > 1})
            if repeated:
                raise ValueError(f"sweep key {key!r} repeats the value(s) {', '.join(repeated)}")
            target = key if key.startswith(("params.", "agents.")) else f"params.{key}"
            if target in targets:
                raise ValueError(f"sweep keys {targets[target]!r} and {key!r} both set "
                                 f"{target}")
            targets[target] = key
        return sweep

    def fingerprint(self) -> str:
        """Hash of everything that decides the episodes (not workers, batching, or the
        ``imports`` that make agent names known: the agent specs decide)."""
        data = self.model_dump(exclude={"workers", "batch_size", "ray", "episode_concurrency",
                                        "llm_concurrency", "imports"})
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


def _env_spec(env: str) -> EnvSpec:
    """The spec of a game or task id (one registry: an unknown id lists every id, and a
    stale version names the current one); a task's episode player must resolve."""
    try:
        found = lookup(env)
        if found.is_task:
            task_player(found.family)
    except (UnknownIdError, ConfigError) as exc:
        raise ConfigError(f"env: {exc.args[0]}") from None
    return found


def _check_roles(roles: Mapping[str, Any], n: int, env: str) -> None:
    """Every role is ``default`` or ``player_<i>`` (written plainly, ``i < n``) and names
    an agent: ``player_01`` or ``player_0: null`` would otherwise be ignored."""
    for role, raw in roles.items():
        m = _ROLE.match(role)
        if role != "default" and (m is None or role != f"player_{int(m.group(1))}"
                                  or int(m.group(1)) >= n):
            raise ConfigError(f"agents: unknown role {role!r} for {env} with {n} players; "
                              f"use player_0..player_{n - 1} or default")
        if raw is None:
            raise ConfigError(f"agents.{role}: no agent given (null)")


def _make_cell(cfg: ExperimentConfig, index: int, params: dict[str, Any],
               roles: Mapping[str, Any], swept: dict[str, Any]) -> Cell:
    where = f"cell {index} ({swept})" if swept else "config"
    env_spec = _env_spec(cfg.env)
    try:
        game = env_spec.make_world(params)
    except ConfigError as exc:
        raise ConfigError(f"params in {where}: {exc}") from None
    n = game.num_players
    _check_roles(roles, n, cfg.env)
    specs = []
    for i in range(n):
        role = f"player_{i}" if f"player_{i}" in roles else "default"
        if role not in roles:
            raise ConfigError(f"agents: no agent for player_{i} (and no 'default') in {where}")
        try:
            agent_spec = AgentSpec.parse(roles[role])
            make_agent(agent_spec, game)
        except (ConfigError, UnknownIdError) as exc:
            raise ConfigError(f"agents.{role} (player_{i}) in {where}: {exc}") from None
        specs.append(agent_spec)
    return Cell(index, {**env_spec.defaults, **params}, tuple(specs), swept)


def parse_config(data: Mapping[str, Any]) -> ExperimentConfig:
    """Validate a config mapping; errors name each bad key and value.

    Example:
        >>> parse_config({"name": "x", "env": "RepeatedPD-v1", "agents": {"default": "random"},
        ...               "episodes": 0})
        Traceback (most recent call last):
        ...
        agora.envs.errors.ConfigError: invalid config: episodes: Input should be greater ...
    """
    cfg = validate_model(ExperimentConfig, data, "invalid config")
    import_modules(cfg.imports)
    cfg.cells()  # semantic checks now, before anything runs
    return cfg


def import_modules(names: list[str] | tuple[str, ...]) -> None:
    """Import the config's ``imports``: each registers its agents on import, and the
    ``TASKS`` a module declares (a task family's catalog) are registered here.

    Raises:
        ConfigError: a module cannot be imported (the message names it and why), or one
            of its tasks cannot be registered.
    """
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"imports: cannot import {name!r}: {exc}") from None
        try:
            discover_tasks(name)
        except ConfigError as exc:
            raise ConfigError(f"imports: {name!r}: {exc}") from None


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
            got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
            problems.append(f"{key}: {err['msg']}{got}")
        raise ConfigError(f"{what}: " + "; ".join(problems)) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a mapping naming one key twice (PyYAML keeps the
    last value silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"duplicate key {key!r} (line {line})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> Any:
    """The YAML document at ``path``, or a :class:`ConfigError` saying what is wrong
    (missing or not a file, not UTF-8, not YAML, a key given twice, empty)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} is not a file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text (byte "
                          f"{exc.start}: {exc.object[exc.start:exc.start + 1]!r})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if data is None:
        raise ConfigError(f"config file {str(path)!r} is empty")
    return data


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML config file."""
    return parse_config(read_yaml(path))


def count_arg(text: str) -> int:
    """A command-line value that must be an integer >= 1 (``--workers``, ``--iterations``);
    argparse turns the error into one usage line and exit status 2.

    Example:
        >>> count_arg("0")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: 0 is invalid: want an integer >= 1
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is invalid: want an integer >= 1")
    return value


def tolerance_arg(text: str) -> float:
    """A command-line value that must be a finite number >= 0 (a tolerance)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{value} is invalid: want a finite number >= 0")
    return value
