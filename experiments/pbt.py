"""Population-based training (Jaderberg et al. 2017) of the sb3 backend through Ray Tune.

A training config with a ``pbt:`` section trains, for each seed, a population of
``population`` SB3 models of the same algorithm. Each is a Tune function trainable that
trains ``perturbation_interval`` env steps per report and saves its model as a
``tune.Checkpoint``; Ray Tune's ``PopulationBasedTraining`` scheduler then lets the bottom
``quantile`` of the population copy a top member's checkpoint and hyperparameters
(exploit) and perturbs them (explore: times 1.2 or 0.8, clipped to the declared range, or
resampled with ``resample_probability``; a ``choice`` moves to a neighbouring value). Example YAML::

    pbt:
      population: 4
      perturbation_interval: 1024          # env steps between reports (and exploits)
      metric: rollout/ep_rew_mean          # any SB3 logger key; mode: max or min
      mutations:
        learning_rate: {loguniform: [1.0e-5, 1.0e-1]}
        ent_coef: {uniform: [0.0, 0.01]}
        n_epochs: {choice: [2, 4, 8]}
      initial: {learning_rate: [1.0e-5, 1.0e-5, 1.0e-5, 1.0e-2]}   # else drawn
      quantile: 0.25
      resample_probability: 0.25
      workers: 2                           # local Ray's CPUs, one per running member
                                           # (default: population, at most the cores)

A model restored from a checkpoint carries the hyperparameters it was saved with (SB3's
``load``, like RLlib's restore in ray#62173), so every trial sets its own perturbed values
on the loaded model explicitly (:func:`apply_hyperparameters`) and checks them against
what the model then uses (:func:`applied_hyperparameters`: the optimiser's learning rate,
the rollout buffer's discount, ...). ``pbt.parquet`` (columns :data:`PBT_COLUMNS`, then one
configured and one ``applied/`` column per mutated hyperparameter) holds every report of
every member; ``seed_S/model.zip`` is the final model of the best member, so evaluation
and the ``policy`` agent work as for plain training. Trials run on a local Ray with one
CPU each (or on the cluster at ``RAY_ADDRESS``), a paused or exploiting member continuing
in a worker that already imported torch and SB3 (Tune's ``reuse_actors``); Ray's
scheduler draws its perturbations from Python's global ``random``, so a PBT run is not
replayed exactly by its seed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from tqdm import tqdm

from agora.envs import ConfigError
from agora.experiments.config import STRICT
from agora.experiments.store import write_atomically

PBT_COLUMNS = ("seed", "trial", "member", "report", "step", "score", "origin")
"""The leading columns of ``pbt.parquet``: a member's ``report``-th result at env ``step``,
its ``score`` (the config's metric) and ``origin``, the trial whose checkpoint it last
started from (its own name when it never exploited another)."""

MUTABLE = ("learning_rate", "ent_coef", "vf_coef", "clip_range", "gamma", "gae_lambda",
           "max_grad_norm", "n_epochs", "batch_size")
"""Hyperparameters that can be set on a loaded SB3 model (the algorithm must take them)."""

_DISTRIBUTIONS = ("loguniform", "uniform", "choice")


class PBTOptions(BaseModel):
    """The ``pbt:`` section of a training config (see the module doc)."""

    model_config = STRICT

    population: int = Field(ge=2)
    perturbation_interval: int = Field(ge=1)
    metric: str = "rollout/ep_rew_mean"
    mode: Literal["max", "min"] = "max"
    mutations: dict[str, dict[str, list[Any]]] = Field(min_length=1)
    initial: dict[str, list[Any]] = Field(default_factory=dict)
    quantile: float = Field(default=0.25, gt=0, le=0.5)
    resample_probability: float = Field(default=0.25, ge=0, le=1)
    workers: int | None = Field(default=None, ge=1)


def _check_mutation(name: str, spec: dict[str, list[Any]]) -> None:
    key = f"pbt.mutations.{name}"
    if len(spec) != 1 or next(iter(spec)) not in _DISTRIBUTIONS:
        raise ConfigError(f"{key}: want one of {{loguniform: [low, high]}}, {{uniform: "
                          f"[low, high]}} or {{choice: [...]}}, got {spec!r}")
    kind, values = next(iter(spec.items()))
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if kind == "choice":
        if not values or len(set(map(repr, values))) != len(values):
            raise ConfigError(f"{key}.choice: want distinct values, got {values!r}")
        return
    if not (numbers and len(values) == 2 and values[0] < values[1]
            and (kind == "uniform" or values[0] > 0)):
        raise ConfigError(f"{key}.{kind}: want [low, high] with {'0 < ' * (kind != 'uniform')}"
                          f"low < high, got {values!r}")


def check_pbt(cfg: Any, accepted: set[str]) -> None:
    """The ``pbt`` section fits the config: sb3 backend, mutable hyperparameters the
    algorithm takes, none also fixed, valid distributions and initial values.

    Raises:
        ConfigError: naming the first bad key and its value.
    """
    pbt: PBTOptions = cfg.pbt
    if cfg.backend != "sb3":
        raise ConfigError(f"pbt: the {cfg.backend} backend has no PBT (RLlib restores "
                          "overwrite perturbed hyperparameters, ray#62173); use backend: sb3")
    for name, spec in pbt.mutations.items():
        if name not in MUTABLE or name not in accepted:
            raise ConfigError(f"pbt.mutations.{name}: not a hyperparameter PBT can change on "
                              f"a {cfg.algorithm} model; use {sorted(set(MUTABLE) & accepted)}")
        if name in cfg.hyperparameters:
            raise ConfigError(f"pbt.mutations.{name}: also fixed in hyperparameters "
                              f"({cfg.hyperparameters[name]!r}); give its start in pbt.initial")
        _check_mutation(name, spec)
    for name, values in pbt.initial.items():
        if name not in pbt.mutations:
            raise ConfigError(f"pbt.initial.{name}: not one of pbt.mutations "
                              f"{sorted(pbt.mutations)}")
        if len(values) != pbt.population:
            raise ConfigError(f"pbt.initial.{name}: want {pbt.population} values (one per "
                              f"member), got {len(values)}")


def initial_values(pbt: PBTOptions, seed: int) -> list[dict[str, Any]]:
    """Each member's starting hyperparameters: ``pbt.initial`` where given, else drawn
    from the mutation's distribution with the seed's own generator.

    Example:
        >>> opts = PBTOptions(population=2, perturbation_interval=8,
        ...                   mutations={"gamma": {"choice": [0.9, 0.99]}},
        ...                   initial={"gamma": [0.9, 0.99]})
        >>> initial_values(opts, seed=0)
        [{'gamma': 0.9}, {'gamma': 0.99}]
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9B7]))
    members: list[dict[str, Any]] = [{} for _ in range(pbt.population)]
    for name, spec in pbt.mutations.items():
        kind, values = next(iter(spec.items()))
        for i, member in enumerate(members):
            if name in pbt.initial:
                member[name] = pbt.initial[name][i]
            elif kind == "choice":
                member[name] = values[int(rng.integers(len(values)))]
            elif kind == "uniform":
                member[name] = float(rng.uniform(*values))
            else:
                member[name] = float(math.exp(rng.uniform(*np.log(values))))
    return members


def _domains(pbt: PBTOptions) -> dict[str, Any]:
    from ray import tune

    make = {"loguniform": tune.loguniform, "uniform": tune.uniform}
    out: dict[str, Any] = {}
    for name, spec in pbt.mutations.items():
        kind, values = next(iter(spec.items()))
        out[name] = list(values) if kind == "choice" else make[kind](*values)
    return out


class _Clip:
    """Ray's explore step multiplies by 1.2 or 0.8 without looking at the range: this
    ``custom_explore_fn`` puts each ranged value back inside its declared range."""

    def __init__(self, pbt: PBTOptions) -> None:
        self.ranges = {name: next(iter(spec.values())) for name, spec in pbt.mutations.items()
                       if next(iter(spec)) != "choice"}

    def __call__(self, config: dict[str, Any]) -> dict[str, Any]:
        hp = config["hp"]
        for name, (low, high) in self.ranges.items():
            hp[name] = min(max(hp[name], low), high)
        return config


def apply_hyperparameters(model: Any, values: dict[str, Any]) -> None:
    """Set ``values`` on an SB3 model, where its training reads them (the learning-rate
    schedule and optimiser, the clip-range schedule, the rollout buffer's discounts).

    Example:
        >>> import gymnasium
        >>> from stable_baselines3 import PPO
        >>> model = PPO("MlpPolicy", gymnasium.make("CartPole-v1"), learning_rate=0.1,
        ...             n_steps=64, device="cpu")
        >>> apply_hyperparameters(model, {"learning_rate": 0.002, "gamma": 0.9})
        >>> applied_hyperparameters(model, ["learning_rate", "gamma"])
        {'learning_rate': 0.002, 'gamma': 0.9}
    """
    from stable_baselines3.common.utils import ConstantSchedule

    for name, value in values.items():
        if name == "learning_rate":
            model.learning_rate = value
            model._setup_lr_schedule()
            for group in model.policy.optimizer.param_groups:
                group["lr"] = value
        elif name == "clip_range":
            model.clip_range = ConstantSchedule(value)
        else:
            setattr(model, name, value)
            buffer = getattr(model, "rollout_buffer", None)
            if name in ("gamma", "gae_lambda") and buffer is not None:
                setattr(buffer, name, value)


def applied_hyperparameters(model: Any, names: list[str]) -> dict[str, Any]:
    """The values an SB3 model's training uses now for ``names`` (read where they act)."""
    out: dict[str, Any] = {}
    for name in names:
        if name == "learning_rate":
            out[name] = model.policy.optimizer.param_groups[0]["lr"]
        elif name == "clip_range":
            out[name] = model.clip_range(1.0)
        elif name in ("gamma", "gae_lambda") and getattr(model, "rollout_buffer", None):
            out[name] = getattr(model.rollout_buffer, name)
        else:
            out[name] = getattr(model, name)
    return out


def _member_seed(seed: int, member: int, report: int) -> int:
    return int(np.random.SeedSequence([seed, member, report]).generate_state(1)[0] >> 1)


def _scores_logger(last: dict[str, float]) -> Any:
    """An SB3 logger keeping each numeric metric's latest value in ``last``."""
    from stable_baselines3.common.logger import KVWriter, Logger

    class _Last(KVWriter):  # type: ignore[misc]
        def write(self, key_values: dict[str, Any], key_excluded: Any, step: int = 0) -> None:
            last.update({k: float(v) for k, v in key_values.items()
                         if isinstance(v, int | float) and not k.startswith("time/")})

    return Logger(folder=None, output_formats=[_Last()])


def _model(cfg: Any, seed: int, member: int, hp: dict[str, Any]) -> tuple[Any, str, int]:
    """A member's model: restored from Tune's checkpoint (its writer and report count)
    or built fresh; either way with ``hp`` applied."""
    from ray import tune

    from agora.experiments import train_sb3

    checkpoint = tune.get_checkpoint()
    cls = train_sb3.algorithm_class(cfg.algorithm)
    if checkpoint is None:
        env_seed = _member_seed(seed, member, 0)
        model, origin, report = train_sb3.build_model(cfg, env_seed, hp), "", 0
    else:
        with checkpoint.as_directory() as folder:
            state = json.loads((Path(folder) / "state.json").read_text())
            origin, report = state["trial"], int(state["report"])
            env = train_sb3.vec_env(cfg, _member_seed(seed, member, report))
            model = cls.load(Path(folder) / "model.zip", env=env, device="cpu")
    apply_hyperparameters(model, hp)
    return model, origin, report


def _trainable(config: dict[str, Any], *, spec: dict[str, Any], seed: int) -> None:
    """One member of the population (runs in a Ray worker; only data comes in)."""
    import torch
    from ray import tune

    from agora.experiments.train import parse_train_config

    cfg = parse_train_config(spec)
    torch.set_num_threads(cfg.threads)
    trial = tune.get_context().get_trial_id()
    member = int(trial.rsplit("_", 1)[-1])
    hp = dict(config["hp"])
    model, origin, report = _model(cfg, seed, member, hp)
    last: dict[str, float] = {}
    model.set_logger(_scores_logger(last))
    while True:
        model.learn(cfg.pbt.perturbation_interval, reset_num_timesteps=False)
        applied = applied_hyperparameters(model, sorted(hp))
        if applied != hp:  # the ray#62173 trap: a restore that kept the old values
            raise RuntimeError(f"PBT member {trial} trains with {applied}, not {hp}")
        report += 1
        result = {"env_steps": int(model.num_timesteps), "origin": origin or trial,
                  **{f"hp/{k}": v for k, v in hp.items()},
                  **{f"applied/{k}": v for k, v in applied.items()}}
        if cfg.pbt.metric in last:
            result["score"] = last[cfg.pbt.metric]
        with tempfile.TemporaryDirectory() as folder:
            model.save(Path(folder) / "model.zip")
            (Path(folder) / "state.json").write_text(json.dumps({"trial": trial,
                                                                 "report": report}))
            tune.report(result, checkpoint=tune.Checkpoint.from_directory(folder))


def _recorder(seed: int, budget: int, bar: tqdm, rows: list[dict[str, Any]]) -> Any:
    """A driver-side Tune callback: one row per member report, and the progress bar."""
    from ray import tune

    steps: dict[str, int] = {}
    reports: dict[str, int] = {}

    class _Recorder(tune.Callback):  # type: ignore[misc]
        def on_trial_result(self, iteration: int, trials: list, trial: Any,
                            result: dict[str, Any], **info: Any) -> None:
            tid = trial.trial_id
            reports[tid] = reports.get(tid, 0) + 1
            rows.append({"seed": seed, "trial": tid, "member": int(tid.rsplit("_", 1)[-1]),
                         "report": reports[tid], "step": int(result["env_steps"]),
                         "score": float(result.get("score", math.nan)),
                         "origin": str(result["origin"]),
                         **{k: v for k, v in result.items()
                            if k.startswith(("hp/", "applied/"))}})
            steps[tid] = int(result["env_steps"])
            bar.n = min(bar.total, sum(min(s, budget) for s in steps.values()))
            bar.refresh()

    return _Recorder()


def _tuner(cfg: Any, root: Path, seed: int, callback: Any) -> Any:
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining

    pbt: PBTOptions = cfg.pbt
    scheduler = PopulationBasedTraining(
        time_attr="env_steps", metric="score", mode=pbt.mode,
        perturbation_interval=pbt.perturbation_interval,
        hyperparam_mutations={"hp": _domains(pbt)}, quantile_fraction=pbt.quantile,
        resample_probability=pbt.resample_probability, perturbation_factors=(1.2, 0.8),
        custom_explore_fn=_Clip(pbt))
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, spec=cfg.model_dump(mode="json"), seed=seed),
        {"cpu": 1})
    return tune.Tuner(
        trainable, param_space={"hp": tune.grid_search(initial_values(pbt, seed))},
        # no max_concurrent_trials: every member must exist (pending) from the start, so
        # that PBT pauses running members at their reports and the others get their turn.
        # reuse_actors: a paused or exploiting member continues in a worker that already
        # imported torch and SB3, instead of a new process per report (the cost of PBT's
        # time-multiplexing on few CPUs)
        tune_config=tune.TuneConfig(scheduler=scheduler, num_samples=1, reuse_actors=True),
        run_config=tune.RunConfig(
            name=f"seed_{seed}", storage_path=str((root / "pbt_trials").resolve()),
            stop={"env_steps": cfg.total_timesteps}, verbose=0, callbacks=[callback],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=4),
            failure_config=tune.FailureConfig(fail_fast=True)))


def _workers(pbt: PBTOptions) -> int:
    return pbt.workers or max(1, min(pbt.population, os.cpu_count() or 1))


def train_population(cfg: Any, root: Path, seed: int, bar: tqdm,
                     rows: list[dict[str, Any]]) -> Path:
    """Train one seed's population; copy its best member's final model to
    ``seed_S/model.zip`` and return that path."""
    results = _tuner(cfg, root, seed, _recorder(seed, cfg.total_timesteps, bar, rows)).fit()
    if results.errors:
        raise results.errors[0]
    if not any(r["seed"] == seed and not math.isnan(r["score"]) for r in rows):
        raise ConfigError(f"pbt.metric: {cfg.pbt.metric!r} was never logged by "
                          f"{cfg.algorithm}; use an SB3 logger key such as "
                          "rollout/ep_rew_mean")
    best = results.get_best_result(metric="score", mode=cfg.pbt.mode, scope="last")
    path = root / f"seed_{seed}" / "model.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with best.checkpoint.as_directory() as folder:
        shutil.copyfile(Path(folder) / "model.zip", path)
    return path


def _start_ray(workers: int) -> bool:
    """Join ``RAY_ADDRESS`` or start a local Ray with ``workers`` CPUs; True if started."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    if ray.is_initialized():
        return False
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(address="local", num_cpus=workers, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.ERROR)
    return True


def write_records(root: Path, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``pbt.parquet``: :data:`PBT_COLUMNS`, then the hyperparameters' columns."""
    frame = pd.DataFrame(rows)
    extra = sorted(c for c in frame.columns if c not in PBT_COLUMNS)
    frame = frame[list(PBT_COLUMNS) + extra]
    write_atomically(root / "pbt.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
    return frame


def train(cfg: Any, root: Path, progress: bool) -> tuple[dict[int, Path],
                                                         list[tuple[int, int, str, float]]]:
    """Train a population per seed of ``cfg`` into ``root``: the best members' models and
    curve rows (each member's score, as metric ``member_<i>/<metric>``)."""
    import ray

    rows: list[dict[str, Any]] = []
    total = cfg.total_timesteps * cfg.pbt.population * len(cfg.seeds)
    bar = tqdm(total=total, unit="step", desc=cfg.name, disable=not progress,
               dynamic_ncols=True, mininterval=0.5)
    started = _start_ray(_workers(cfg.pbt))
    try:
        checkpoints = {seed: train_population(cfg, root, seed, bar, rows)
                       for seed in cfg.seeds}
    finally:
        bar.close()
        if started:
            ray.shutdown()
    write_records(root, rows)
    curves = [(r["seed"], r["step"], f"member_{r['member']}/{cfg.pbt.metric}", r["score"])
              for r in rows if not math.isnan(r["score"])]
    return checkpoints, curves
