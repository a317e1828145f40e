"""Standardising prediction errors against the prior-predictive-mean predictor.

For each model and goal, ``(mu0, sigma0)`` are the mean and standard deviation of the
error of the predictor that knows only the prior (``model.predict`` with prior particles),
over worlds drawn from the prior. A scientist's error ``err`` becomes
``z = (err - mu0) / sigma0``: 0 is no better than the prior, negative is better.

The constants are computed from a fixed seed and a large sample and stored, with a version
and the settings used, in ``normalizers.json`` beside this module (BoxingGym hard-coded
noisy constants; ours are reproducible): :func:`compute_constants` recomputes them
(``agora design-constants [--check]``). A world whose model params differ from the
defaults the file was computed with gets constants computed on the fly (same seed, a
smaller sample, cached per process) and says so in :attr:`Normalizer.source`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agora.envs.design.model import Model
from agora.envs.errors import ConfigError

VERSION = 1
"""Bump when the predictor, the sampling scheme or a model's declaration changes."""
PATH = Path(__file__).with_name("normalizers.json")
ON_THE_FLY_WORLDS = 500
"""Sample size of constants computed when a world's model params are not the defaults
(smaller than the stored sample, to keep world construction quick; still seeded)."""
MIN_SIGMA = 1e-9
"""Floor on ``sigma0`` (a goal whose prior error never varies would divide by zero)."""


@dataclass(frozen=True)
class Settings:
    """How the constants are computed.

    Attributes:
        seed: root seed; world ``i`` of a model uses the child stream ``(seed, i)``.
        n_worlds: worlds drawn from the prior per model (one error sample each).
        n_particles: prior particles of the predictor.
        n_eval: eval queries per outcome goal (as in an episode; a parameter goal asks once).
    """

    seed: int = 20250521
    n_worlds: int = 2000
    n_particles: int = 4096
    n_eval: int = 10


@dataclass(frozen=True)
class Normalizer:
    """``(mu0, sigma0)`` per goal of one model, and where they came from."""

    mu0: Mapping[str, float]
    sigma0: Mapping[str, float]
    source: str = "stored"

    def z(self, goal: str, err: float) -> float:
        """The standardised error of ``err`` on ``goal``.

        Example:
            >>> Normalizer({"g": 2.0}, {"g": 0.5}).z("g", 1.0)
            -2.0
        """
        return (float(err) - self.mu0[goal]) / max(self.sigma0[goal], MIN_SIGMA)


def prior_errors(model: Model, settings: Settings, world: int) -> dict[str, float]:
    """The prior predictor's error on every goal in one world drawn from the prior."""
    from agora.envs.design.inference import prior_posterior

    rng = np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(world,)))
    model.instantiate(rng)
    theta = model.sample_prior(rng, 1)[0]
    post = prior_posterior(model, rng, settings.n_particles)
    out = {}
    for goal in model.goals:
        n = settings.n_eval if goal.kind == "outcome" else 1
        queries = np.asarray(model.eval_queries(goal, rng, n), dtype=float)
        truth = np.asarray(model.true_answer(goal, theta, queries, rng), dtype=float)
        pred = np.asarray(model.predict(goal, post.particles, post.weights, queries, rng))
        out[goal.name] = float(model.goal_error(goal, pred.reshape(truth.shape), truth))
    return out


def compute(model: Model, settings: Settings) -> dict[str, dict[str, float]]:
    """``{goal: {"mu0": ..., "sigma0": ...}}`` for one model (its params as given).

    The model's covariates are redrawn per world, so pass a scratch instance.
    """
    errs: dict[str, list[float]] = {g.name: [] for g in model.goals}
    for i in range(settings.n_worlds):
        for goal, e in prior_errors(model, settings, i).items():
            errs[goal].append(e)
    return {g: {"mu0": float(np.mean(v)), "sigma0": float(np.std(v, ddof=1))}
            for g, v in errs.items()}


def compute_constants(keys: Iterable[str] | None = None,
                      settings: Settings | None = None) -> dict[str, Any]:
    """The whole file's content: version, settings and every model's constants (each
    model with its default params)."""
    from agora.envs.design.worlds import model_class, model_keys

    settings = settings or Settings()
    models = {}
    for key in keys if keys is not None else model_keys():
        cls = model_class(key)
        model = cls()
        models[key] = {"params": model.params.to_dict(), "goals": compute(model, settings)}
    return {"version": VERSION, "settings": asdict(settings), "models": models}


def load(path: Path | None = None) -> dict[str, Any]:
    """The stored constants (default file: :data:`PATH`; an empty table when missing)."""
    path = path or PATH
    if not path.is_file():
        return {"version": VERSION, "settings": asdict(Settings()), "models": {}}
    data: dict[str, Any] = json.loads(path.read_text())
    if data.get("version") != VERSION:
        raise ConfigError(f"{path}: version {data.get('version')} != {VERSION}; "
                          "recompute with `agora design-constants`")
    return data


def save(data: Mapping[str, Any], path: Path | None = None) -> None:
    """Write constants as stable, readable JSON (default file: :data:`PATH`)."""
    (path or PATH).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def compare(stored: Mapping[str, Any], fresh: Mapping[str, Any], rtol: float = 1e-6,
            atol: float = 1e-9) -> list[str]:
    """Differences between two constant tables (models in ``fresh`` only), as messages.

    Example:
        >>> a = {"models": {"m": {"goals": {"g": {"mu0": 1.0, "sigma0": 2.0}}}}}
        >>> compare(a, a)
        []
        >>> b = {"models": {"m": {"goals": {"g": {"mu0": 1.5, "sigma0": 2.0}}}}}
        >>> compare(a, b)
        ['m.g.mu0: stored 1, recomputed 1.5']
    """
    problems = []
    for key, entry in fresh["models"].items():
        old = stored["models"].get(key)
        if old is None:
            problems.append(f"{key}: not stored")
            continue
        for goal, vals in entry["goals"].items():
            for name, v in vals.items():
                s = old["goals"].get(goal, {}).get(name)
                if s is None or not np.isclose(v, s, rtol=rtol, atol=atol):
                    problems.append(f"{key}.{goal}.{name}: stored {s:.6g}, recomputed {v:.6g}"
                                    if s is not None else f"{key}.{goal}.{name}: not stored")
    return problems


def normalizer_for(model: Model) -> Normalizer:
    """The constants of ``model``: stored ones when its params are the stored defaults,
    else computed now with the stored settings (cached per process)."""
    params = json.dumps(model.params.to_dict(), sort_keys=True)
    return _normalizer(model.key, params)


@functools.cache
def _normalizer(key: str, params: str) -> Normalizer:
    from agora.envs.design.worlds import model_class

    data = load()
    entry = data["models"].get(key)
    model = model_class(key)(json.loads(params))
    goals = [g.name for g in model.goals]
    if entry is not None and json.dumps(entry["params"], sort_keys=True) == params \
            and set(entry["goals"]) == set(goals):
        table, source = entry["goals"], "stored"
    else:
        settings = Settings(**data["settings"])
        settings = dataclasses.replace(settings,
                                       n_worlds=min(settings.n_worlds, ON_THE_FLY_WORLDS))
        table, source = compute(model, settings), "computed"
    return Normalizer({g: table[g]["mu0"] for g in goals},
                      {g: table[g]["sigma0"] for g in goals}, source)
