"""The Stable-Baselines3 backend of ``agora train``: one learner in a Gymnasium view.

Each seed trains ``algorithm`` (PPO, DQN or sb3-contrib's MaskablePPO) on ``n_envs``
copies of ``agora/<env>`` (the learner's seat, the config's opponents, its observation
format and reward scale; with a ``teacher:`` section, each episode's params come from an
ALP-GMM teacher, :mod:`agora.experiments.curriculum`, recorded in ``curriculum.parquet``),
logs every SB3 metric to TensorBoard and to the learning curves, and saves
``seed_S/model.zip``. The progress bar counts env steps over all seeds.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agora.agents.policy import ALGORITHMS as PACKAGES
from agora.envs import ConfigError

SET_BY_TRAIN = ("policy", "env", "seed", "tensorboard_log", "verbose", "device",
                "_init_setup_model")
"""Constructor arguments ``agora train`` sets itself (not hyperparameters)."""


def algorithm_class(name: str) -> Any:
    """The SB3 class of an algorithm name (a ConfigError if the rl extra is missing)."""
    try:
        module = importlib.import_module(PACKAGES[name])
    except ImportError as exc:
        raise ConfigError(f"backend sb3 needs the rl extra (pip install 'agora-sim[rl]'): "
                          f"{exc}") from None
    return getattr(module, name)


def accepted_hyperparameters(algorithm: str) -> set[str]:
    """The constructor arguments of ``algorithm`` a config may set."""
    accepted = set(inspect.signature(algorithm_class(algorithm)).parameters)
    return accepted - {"self", *SET_BY_TRAIN}


def check_hyperparameters(cfg: Any) -> None:
    """Every hyperparameter is an argument of the algorithm's constructor.

    Raises:
        ConfigError: naming the first unknown (or reserved) key and the accepted ones.
    """
    accepted = accepted_hyperparameters(cfg.algorithm)
    for key in cfg.hyperparameters:
        if key in SET_BY_TRAIN:
            raise ConfigError(f"hyperparameters.{key}: set by agora train (seeds, the env, "
                              "the observation format), not a hyperparameter")
        if key not in accepted:
            raise ConfigError(f"hyperparameters.{key}: {cfg.algorithm} takes no such "
                              f"argument; it takes {sorted(accepted)}")


class _Progress:
    """A tqdm bar over env steps, fed by an SB3 callback (built on first use, since the
    callback class needs stable_baselines3)."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self.bar = tqdm(total=total, unit="step", desc=desc, disable=not enabled,
                        dynamic_ncols=True, mininterval=0.5)

    def callback(self, budget: int) -> Any:
        """A callback advancing the bar by the env steps of one seed (at most ``budget``:
        SB3 finishes its last rollout past it)."""
        from stable_baselines3.common.callbacks import BaseCallback

        bar = self.bar

        class _Tick(BaseCallback):  # type: ignore[misc]
            def _on_training_start(self) -> None:
                self._last = 0

            def _on_step(self) -> bool:
                now = min(self.num_timesteps, budget)
                bar.update(now - self._last)
                self._last = now
                return True

        return _Tick()


def _logger(seed: int, tensorboard: Path, rows: list[tuple[int, int, str, float]]) -> Any:
    """An SB3 logger writing TensorBoard events and one curve row per numeric metric
    (wall-clock ``time/*`` entries left out of the curves)."""
    from stable_baselines3.common.logger import KVWriter, Logger, TensorBoardOutputFormat

    class _Curves(KVWriter):  # type: ignore[misc]
        def write(self, key_values: dict[str, Any], key_excluded: Any, step: int = 0) -> None:
            for key, value in key_values.items():
                if isinstance(value, int | float) and not key.startswith("time/"):
                    rows.append((seed, int(step), key, float(value)))

    return Logger(folder=None, output_formats=[TensorBoardOutputFormat(str(tensorboard)),
                                               _Curves()])


def _env_kwargs(cfg: Any, params: dict[str, Any]) -> dict[str, Any]:
    learner = int(cfg.learners[0].removeprefix("player_"))
    return {"player": learner, "opponents": dict(cfg.opponents), "params": params,
            "observation_format": cfg.observation_format, "reward_scale": cfg.reward_scale}


def vector_opponent(cfg: Any) -> Any:
    """The fixed seats as a vector env's ``opponent=`` data: None when every seat plays
    the id's default opponent (the vector rules' default; a repeated 2x2 game always gets
    its opponent's table), else the seats' rules as the game's rule table stacks them
    (:mod:`agora.agents.rules_table`), one row per fixed seat in seat order; the 2x2 env
    seats one opponent, so it gets that opponent's ``(5,)`` table.

    Raises:
        ConfigError: naming a seat whose agent the id's vector rules cannot play.
    """
    from agora.agents.rules_table import rule_table
    from agora.experiments.config import _env_spec

    spec = _env_spec(cfg.env)
    game = spec.make_game(cfg.params)
    fixed = {k: v for k, v in cfg.seats().items() if v is not None}
    default = spec.default_opponent
    matrix = game.info.name == "RepeatedMatrix"
    if not matrix and all(
            v == (default[int(k[7:])] if isinstance(default, tuple) else default)
            for k, v in fixed.items()):
        return None
    table = rule_table(game)
    what = f"{default!r} (the default opponent)" if table is None else table.what
    for key, agent in fixed.items():
        if table is None or table.lacking([agent]):
            raise ConfigError(f"opponents.{key}: {agent!r} is not a {what}, which the "
                              f"{cfg.env} vector env plays (vectorized: true)")
    assert table is not None
    data = table.data(list(fixed.values()), game.params)
    return data[0] if matrix else data


def vector_keywords(cfg: Any) -> dict[str, Any]:
    """The ``make_vec`` keywords of the learner's vector env (``vectorized: true``)."""
    kw = _env_kwargs(cfg, dict(cfg.params))
    return {"player": kw["player"], "opponent": vector_opponent(cfg),
            "observation_format": kw["observation_format"],
            "reward_scale": kw["reward_scale"], **kw["params"]}


def vec_env(cfg: Any, seed: int, teacher: Any = None) -> Any:
    """``n_envs`` copies of the learner's env; with a teacher, each episode's params are
    the config's updated with the teacher's task (:class:`CurriculumEnv`); with
    ``vectorized``, the rows of the id's vector env (:mod:`.sb3_vec`)."""
    from stable_baselines3.common.env_util import make_vec_env

    import agora.envs  # noqa: F401  (registers the agora/<id> Gymnasium ids)
    from agora.envs import make_gym

    if cfg.vectorized:
        from stable_baselines3.common.vec_env import VecMonitor

        from agora.experiments.sb3_vec import make_sb3_vec

        envs = VecMonitor(make_sb3_vec(cfg.env, cfg.n_envs, **vector_keywords(cfg)))
        envs.seed(seed)
        return envs
    if teacher is None:
        return make_vec_env(f"agora/{cfg.env}", n_envs=cfg.n_envs, seed=seed,
                            env_kwargs=_env_kwargs(cfg, dict(cfg.params)))
    from agora.experiments.curriculum import CurriculumEnv

    def build(task: dict[str, Any]) -> Any:
        return make_gym(cfg.env, **_env_kwargs(cfg, {**cfg.params, **task}))

    return make_vec_env(lambda: CurriculumEnv(build, teacher), n_envs=cfg.n_envs, seed=seed)


def build_model(cfg: Any, seed: int, extra: dict[str, Any] | None = None,
                teacher: Any = None) -> Any:
    """A fresh model of ``cfg``'s algorithm on its envs, with ``extra`` hyperparameters."""
    cls = algorithm_class(cfg.algorithm)
    policy = "MlpPolicy" if cfg.observation_format == "flat" else "MultiInputPolicy"
    try:
        return cls(policy, vec_env(cfg, seed, teacher), seed=seed, verbose=0, device="cpu",
                   **cfg.hyperparameters, **(extra or {}))
    except (TypeError, ValueError, AssertionError) as exc:
        raise ConfigError(f"hyperparameters: {cfg.algorithm} refused them: {exc}") from None


def train_seed(cfg: Any, root: Path, seed: int, progress: _Progress,
               rows: list[tuple[int, int, str, float]], teacher: Any = None) -> Path:
    """Train one seed (on the teacher's tasks, if any) and save its checkpoint; returns
    the checkpoint's path."""
    model = build_model(cfg, seed, teacher=teacher)
    model.set_logger(_logger(seed, root / "tensorboard" / f"seed_{seed}", rows))
    callbacks = [progress.callback(cfg.total_timesteps)]
    if cfg.checkpoint_every:
        from stable_baselines3.common.callbacks import CheckpointCallback

        callbacks.append(CheckpointCallback(max(1, cfg.checkpoint_every // cfg.n_envs),
                                            str(root / f"seed_{seed}" / "checkpoints"),
                                            name_prefix="step"))
    model.learn(cfg.total_timesteps, callback=callbacks)
    path = root / f"seed_{seed}" / "model.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def train(cfg: Any, root: Path, progress: bool) -> tuple[dict[int, Path],
                                                         list[tuple[int, int, str, float]]]:
    """Train every seed of ``cfg`` into ``root``: the checkpoints and the curve rows."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    rows: list[tuple[int, int, str, float]] = []
    bar = _Progress(cfg.total_timesteps * len(cfg.seeds), cfg.name, progress)
    teachers = {seed: cfg.teacher.teacher(seed) if cfg.teacher else None for seed in cfg.seeds}
    try:
        checkpoints = {seed: train_seed(cfg, root, seed, bar, rows, teachers[seed])
                       for seed in cfg.seeds}
    finally:
        bar.bar.close()
        torch.set_num_threads(threads)
    if cfg.teacher:
        from agora.experiments.curriculum import write_records

        write_records(root, {seed: t.history for seed, t in teachers.items() if t is not None})
    return checkpoints, rows
