"""``agora train CONFIG.yaml``: train learners on a game, then evaluate them as a run.

A training config names one game id with its parameters, the seats that learn and the
fixed opponents of the others (agent specs, as in ``agora run``), the backend with its
algorithm and hyperparameters, the seeds (one training per seed) and the budget.

Example YAML::

    name: train-cournot
    env: Cournot-v1
    params: {rounds: 1, q_max: 80}
    backend: sb3                  # sb3 (one learner, a Gymnasium view) or rllib
    learners: [player_0]
    opponents: {player_1: cournot_nash}   # seats not named play the id's default opponent
    algorithm: PPO                # sb3: PPO | DQN | MaskablePPO; rllib: PPO
    hyperparameters: {n_steps: 64, learning_rate: 0.01}   # checked against the algorithm
    observation_format: flat      # sb3: flat (MlpPolicy) or dict (MultiInputPolicy)
    reward_scale: 0.000625
    n_envs: 8
    total_timesteps: 4000         # per seed
    seeds: [0, 1]
    eval_episodes: 20

The run directory holds ``config.yaml``, ``manifest.json`` (kind ``training``),
``seed_S/model.zip`` (the final checkpoint of each seed; with ``checkpoint_every``,
``seed_S/checkpoints/step_N`` along the way), ``learning_curves.parquet`` (columns
:data:`CURVE_COLUMNS`: every logged metric per seed and env step), ``tensorboard/seed_S``
(TensorBoard event files) and ``eval/``: the trained policies playing ``eval_episodes``
against the same opponents through ``agora run``'s runner, an ordinary run directory
(``agora show RUN_DIR/eval``). Errors in a config are :class:`ConfigError` naming the key.

Two optional sections (sb3 backend): ``pbt:`` trains a population per seed with
population-based training through Ray Tune (:mod:`agora.experiments.pbt`; adds
``pbt.parquet`` and Ray's trial folders in ``pbt_trials/``), and ``teacher:`` draws each
episode's env params from an ALP-GMM teacher (:mod:`agora.experiments.curriculum`; adds
``curriculum.parquet``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator

from agora.envs import ConfigError, EnvSpec
from agora.envs.opponents import build_opponents, seat_index
from agora.experiments.config import (
    STRICT,
    _env_spec,
    import_modules,
    parse_config,
    read_yaml,
    validate_model,
)
from agora.experiments.curriculum import ParamSpace, TeacherOptions
from agora.experiments.pbt import PBTOptions, check_pbt
from agora.experiments.runner import RunSummary, run_experiment
from agora.experiments.store import RunDirectory, write_atomically

CURVE_COLUMNS = ("seed", "step", "metric", "value")
"""The columns of ``learning_curves.parquet`` (what ``agora report`` plots)."""

ALGORITHMS = {"sb3": ("PPO", "DQN", "MaskablePPO"), "rllib": ("PPO",)}
"""The algorithms of each backend."""

_SEAT = re.compile(r"^player_(\d+)$")


class TrainConfig(BaseModel):
    """A validated training config (see the module docstring for the YAML form)."""

    model_config = STRICT

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    env: str
    params: dict[str, Any] = Field(default_factory=dict)
    backend: Literal["sb3", "rllib"] = "sb3"
    learners: list[str] = Field(default_factory=lambda: ["player_0"], min_length=1)
    opponents: dict[str, Any] = Field(default_factory=dict)
    policies: Literal["independent", "shared"] = "independent"
    """rllib: one policy per learner, or one policy all learners share (self-play)."""
    action_masking: bool = True
    """rllib: observations carry the legal-action mask and the modules never draw an
    illegal action (else the flat format and the penalty policy only)."""
    algorithm: str = "PPO"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    observation_format: Literal["flat", "dict"] = "flat"
    reward_scale: float = Field(default=1.0, gt=0)
    n_envs: int = Field(default=8, ge=1)
    vectorized: bool = False
    """sb3: the ``n_envs`` copies as one of agora's vector envs (ids in ``VECTORISED``)
    behind :class:`~agora.experiments.sb3_vec.SB3VectorEnv`, instead of ``DummyVecEnv``."""
    num_env_runners: int = Field(default=0, ge=0)
    total_timesteps: int = Field(ge=1)
    checkpoint_every: int | None = Field(default=None, ge=1)
    """Also save ``seed_S/checkpoints/step_N`` about every this many env steps."""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    eval_episodes: int = Field(default=20, ge=0)
    """Episodes the trained policies play in ``eval/`` (0: no evaluation)."""
    threads: int = Field(default=1, ge=1)
    """torch threads while training (one is fastest for small nets on a shared machine)."""
    imports: list[str] = Field(default_factory=list)
    pbt: PBTOptions | None = None
    """sb3: train a population per seed with population-based training (:mod:`.pbt`)."""
    teacher: TeacherOptions | None = None
    """sb3: each episode's params from an ALP-GMM teacher (:mod:`.curriculum`)."""

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int]) -> list[int]:
        if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"want distinct seeds >= 0, got {seeds}")
        return seeds

    def fingerprint(self) -> str:
        """Hash of everything that decides the training (not ``threads`` or ``imports``)."""
        data = self.model_dump(exclude={"threads", "imports"})
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()

    def seats(self) -> dict[str, Any]:
        """Every seat's agent spec: the learners' seats map to None, the others to their
        opponent (given, else the id's default opponent)."""
        spec = _env_spec(self.env)
        n = spec.make_game(self.params).num_players
        default = spec.default_opponent
        seats: dict[str, Any] = {}
        for j in range(n):
            name = f"player_{j}"
            fallback = default[j] if isinstance(default, tuple) else default
            seats[name] = (None if name in self.learners
                           else self.opponents.get(name, fallback))
        return seats


@dataclass(frozen=True)
class TrainSummary:
    """What a training run wrote: its directory, checkpoints, curves and evaluation."""

    run_dir: Path
    checkpoints: dict[int, Path]
    curves: pd.DataFrame
    evaluation: RunSummary | None


def _check_learners(cfg: TrainConfig, n: int) -> list[int]:
    """The learners' player indices; each is a plain ``player_<i>`` seat, named once."""
    found = []
    for name in cfg.learners:
        m = _SEAT.match(name)
        if m is None or name != f"player_{int(m.group(1))}" or int(m.group(1)) >= n:
            raise ConfigError(f"learners: unknown seat {name!r} for {cfg.env} with {n} "
                              f"players; use player_0..player_{n - 1}")
        found.append(int(m.group(1)))
    if len(set(found)) != len(found):
        raise ConfigError(f"learners: a seat is named twice in {cfg.learners}")
    if cfg.backend == "sb3" and len(found) != 1:
        raise ConfigError(f"learners: {cfg.learners} names {len(found)} seats; the sb3 "
                          "backend trains one (use backend: rllib for several)")
    return found


def _check_opponents(cfg: TrainConfig, game: Any, text: Any, learners: list[int]) -> None:
    """Opponents sit on seats that do not learn, and build against the game (text agents,
    such as language models, against its text face)."""
    for key in cfg.opponents:
        index = seat_index(key, game.num_players, -1)
        if index in learners:
            raise ConfigError(f"opponents.{key}: player_{index} is a learner")
    seats = {k: v for k, v in cfg.seats().items() if v is not None}
    for key, raw in seats.items():
        try:
            build_opponents({key: raw}, game, learners[0], text=text)
        except ConfigError as exc:
            raise ConfigError(f"opponents.{key}: {exc}") from None


def parse_train_config(data: Any) -> TrainConfig:
    """Validate a training config mapping; errors name each bad key and value.

    Example:
        >>> parse_train_config({"name": "x", "env": "Cournot-v1", "total_timesteps": 10,
        ...                     "hyperparameters": {"n_stepz": 8}})
        Traceback (most recent call last):
        ...
        agora.envs.errors.ConfigError: hyperparameters.n_stepz: PPO takes no such ...
    """
    cfg = validate_model(TrainConfig, data, "invalid training config")
    import_modules(cfg.imports)
    spec = _env_spec(cfg.env)
    if spec.is_task:
        raise ConfigError(f"env: {cfg.env!r} is a task, not a game; agora train trains "
                          "players of games")
    try:
        game = spec.make_game(cfg.params)
    except ConfigError as exc:
        raise ConfigError(f"params: {exc}") from None
    learners = _check_learners(cfg, game.num_players)
    _check_opponents(cfg, game, spec.text_face(game), learners)
    if cfg.algorithm not in ALGORITHMS[cfg.backend]:
        raise ConfigError(f"algorithm: {cfg.algorithm!r} is not one of the {cfg.backend} "
                          f"backend's {list(ALGORITHMS[cfg.backend])}")
    if cfg.backend == "sb3" and not cfg.action_masking:
        raise ConfigError("action_masking: false is for the rllib backend; sb3 masks with "
                          "algorithm MaskablePPO")
    _backend(cfg.backend).check_hyperparameters(cfg)
    if cfg.vectorized:
        _check_vectorized(cfg)
    if cfg.pbt is not None:
        from agora.experiments.train_sb3 import accepted_hyperparameters

        check_pbt(cfg, accepted_hyperparameters(cfg.algorithm) if cfg.backend == "sb3"
                  else set())
    if cfg.teacher is not None:
        _check_teacher(cfg, spec)
    return cfg


def _check_vectorized(cfg: TrainConfig) -> None:
    """``vectorized`` trains with the sb3 backend, no teacher, on an id with vector rules
    that take the config's opponents, observation format and reward scale."""
    if cfg.backend != "sb3" or cfg.teacher is not None:
        raise ConfigError(f"vectorized: true needs the sb3 backend and no teacher section "
                          f"(got backend {cfg.backend!r}{', and teacher' if cfg.teacher else ''})")
    from agora.experiments.sb3_vec import make_sb3_vec
    from agora.experiments.train_sb3 import vector_keywords

    try:
        make_sb3_vec(cfg.env, 1, **vector_keywords(cfg))
    except ConfigError as exc:
        raise ConfigError(f"vectorized: {exc}") from None


def _check_teacher(cfg: TrainConfig, spec: EnvSpec) -> None:
    """The teacher's parameters are the game's, valid at both ends of their ranges, and
    leave the learner's spaces unchanged (checked at the corners of the box)."""
    if cfg.backend != "sb3" or cfg.pbt is not None:
        raise ConfigError("teacher: a curriculum trains with the sb3 backend and no pbt "
                          f"section (got backend {cfg.backend!r}"
                          f"{', and pbt' if cfg.pbt else ''})")
    assert cfg.teacher is not None
    space = ParamSpace.parse(cfg.teacher.params, "teacher.params")
    from agora.envs import make_gym

    spaces = set()
    for corner in (np.zeros(space.dim), np.ones(space.dim)):
        task = space.from_unit(corner)
        try:
            env = make_gym(cfg.env, params={**cfg.params, **task},
                           observation_format=cfg.observation_format)
        except (ConfigError, TypeError) as exc:
            raise ConfigError(f"teacher.params: {task} is not a valid task of {cfg.env}: "
                              f"{exc}") from None
        spaces.add((repr(env.observation_space), repr(env.action_space)))
    if len(spaces) > 1:
        raise ConfigError(f"teacher.params: the learner's spaces change over {cfg.teacher.params}"
                          "; vary only parameters that keep them")


def load_train_config(path: str | Path) -> TrainConfig:
    """Read and validate a YAML training config file."""
    return parse_train_config(read_yaml(path))


def _backend(name: str) -> Any:
    """The backend module (imported on use: its libraries are the ``rl`` extra)."""
    if name == "sb3":
        from agora.experiments import train_sb3 as module
    else:
        from agora.experiments import train_rllib as module  # type: ignore[no-redef]
    return module


class TrainStore(RunDirectory):
    """A training run directory (see the module doc for its layout)."""

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self.parts = self.root  # no episode parts: checkpoints live in seed_S/

    def write_curves(self, rows: list[tuple[int, int, str, float]]) -> pd.DataFrame:
        curves = pd.DataFrame(rows, columns=list(CURVE_COLUMNS)).astype(
            {"seed": "int64", "step": "int64", "metric": "str", "value": "float64"})
        path = self.root / "learning_curves.parquet"
        write_atomically(path, lambda tmp: curves.to_parquet(tmp, index=False))
        return curves


def evaluate(cfg: TrainConfig, checkpoints: dict[int, Path], out: Path,
             progress: bool = False) -> RunSummary:
    """Play the trained policies (one cell per seed) against the config's opponents
    through ``agora run``'s runner into the run directory ``out``."""
    seats = cfg.seats()
    if cfg.backend == "rllib":  # one spec plays every learner seat: its module is the seat's
        policies = [{"name": "policy", "checkpoint": str(path), "algorithm": "rllib"}
                    for _, path in sorted(checkpoints.items())]
        role = "default"
        agents = {k: v for k, v in seats.items() if v is not None}
    else:
        policies = [{"name": "policy", "checkpoint": str(path), "algorithm": cfg.algorithm}
                    for _, path in sorted(checkpoints.items())]
        role, agents = cfg.learners[0], dict(seats)
    agents[role] = policies[0]
    data: dict[str, Any] = {"name": f"{cfg.name}-eval", "env": cfg.env, "params": cfg.params,
                            "agents": agents, "episodes": cfg.eval_episodes,
                            "seed": cfg.seeds[0], "imports": cfg.imports}
    if len(policies) > 1:
        data["sweep"] = {f"agents.{role}": policies}
    return run_experiment(parse_config(data), out, progress=progress)


def run_training(cfg: TrainConfig, out: str | Path, progress: bool = True) -> TrainSummary:
    """Train ``cfg``'s learners once per seed into the run directory ``out``, then
    evaluate them (sb3) in ``out/eval``.

    Raises:
        ConfigError: ``out`` already holds a run, or the ``rl`` extra is not installed.
    """
    store = TrainStore(out)
    store.start(cfg, {"kind": "training", "env": cfg.env, "backend": cfg.backend},
                {"seeds": cfg.seeds})
    backend = _backend(cfg.backend)
    if cfg.pbt is not None:
        from agora.experiments import pbt as backend  # type: ignore[no-redef]
    try:
        checkpoints, rows = backend.train(cfg, store.root, progress)
    except BaseException:
        store.finish("interrupted")
        raise
    curves = store.write_curves(rows)
    evaluation = None
    if cfg.eval_episodes:
        evaluation = evaluate(cfg, checkpoints, store.root / "eval", progress)
    store.finish("completed", checkpoints={s: str(p) for s, p in checkpoints.items()})
    return TrainSummary(store.root, checkpoints, curves, evaluation)
