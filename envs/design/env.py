"""The Gymnasium shell of a design world: actions are designs, rewards are information.

Description: one scientist spends ``budget`` experiments on a hidden generative model.
Actions: a design, ``Box(low, high, (D,), float32)`` over the model's design fields; integer
fields are rounded, values within ``1e-6`` of a bound are snapped onto it. A design that is
still invalid (outside the box, or breaking the model's own constraints such as immediate <
delayed reward) follows the declared policy ``on_invalid_action``: ``"raise"``
(:class:`~agora.envs.errors.IllegalActionError`) or ``"penalty"`` (no experiment, reward
``invalid_penalty``, counted in ``info["invalid_actions"]``; truncation after
``max_invalid_actions``; see :mod:`agora.envs.invalid`).
Observations: ``Dict(designs (budget, D), outcomes (budget, *outcome_shape), mask (budget,),
[context (C,)])``: the history so far, padded (designs with the lower bounds, outcomes with
0), ``mask[i] = 1`` for experiments done; ``context`` holds the world's known covariates
(patients, characters) when it has any.
Rewards: the EIG (nats) of each experiment under the posterior before it (``reward`` in
``eig``/``both``); after the last experiment, ``-mean z`` of the Bayes-optimal predictions
given the history (``prediction``/``both``): the env scores the agent's data, not its
predictions (language agents answer queries themselves in ``agora run``).
Episode end: terminated after ``budget`` experiments.
Info: ``eig``, ``eig_stderr``, the bracket ``eig_lower <= eig <= eig_upper <= eig_limit``
(the proven information limit, :mod:`agora.envs.design.eig`), ``best_eig``, ``regret`` per
experiment; ``z`` and ``errors``
(per goal) at the checkpoints (at reset for checkpoint 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from agora.envs.adapters import WorldEnv
from agora.envs.core import Status
from agora.envs.design.model import Model
from agora.envs.design.world import DesignWorld
from agora.envs.errors import IllegalActionError

SNAP = 1e-6


def context_vector(state_or_model: Any) -> np.ndarray:
    """The model's covariates flattened in key order (float32)."""
    model = getattr(state_or_model, "model", state_or_model)
    parts = [np.asarray(model.context[k], dtype=np.float32).ravel()
             for k in sorted(model.context)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def snap(model: Model, action: Any) -> np.ndarray:
    """A Box action as a design: values within ``SNAP`` of a bound snapped onto it,
    integer fields rounded (validity is the world's :meth:`~DesignWorld.check`).

    Raises:
        IllegalActionError: the action is not numbers of the box's shape (a scalar will do
            for a one-field design).
    """
    space = model.design_space
    size = space.low.size
    try:
        x = np.asarray(action, dtype=float)
    except (TypeError, ValueError):
        raise IllegalActionError(f"a design is {size} numbers, got {action!r}") from None
    if x.shape != space.low.shape and not (x.ndim == 0 and size == 1):
        raise IllegalActionError(f"a design has shape ({size},), got {x.shape}")
    x = x.reshape(-1)
    low, high = space.low, space.high
    x = np.where(np.abs(x - low) <= SNAP * (1 + np.abs(low)), low, x)
    x = np.where(np.abs(x - high) <= SNAP * (1 + np.abs(high)), high, x)
    return np.where(space.integer, np.round(x), x)


def to_design(world: DesignWorld, action: Any, model: Model | None = None) -> np.ndarray:
    """A Box action as a valid design: snapped to bounds, integers rounded, validated.

    Raises:
        IllegalActionError: the action is not numbers of the box's shape, or the design is
            still outside the box or breaks a constraint.

    Example:
        >>> w = DesignWorld({"model": "hyperbolic_discounting", "n_particles": 64})
        >>> to_design(w, np.array([10.4, 20.6, 30.0], np.float32))
        array([10., 21., 30.])
    """
    model = model or world.model
    return model.validate_design(snap(model, action))


class DesignEnv(WorldEnv):
    """Gymnasium env over a :class:`DesignWorld` (see the module doc).

    Example:
        >>> world = DesignWorld({"model": "linear_gaussian", "budget": 2, "n_particles": 256,
        ...                      "eig_outer": 64, "eig_inner": 64, "n_candidates": 4,
        ...                      "checkpoints": (0, 2)})
        >>> env = DesignEnv(world)
        >>> obs, info = env.reset(seed=0)
        >>> obs["mask"].tolist(), sorted(info["z"])
        ([0, 0], ['estimate_theta', 'predict_y'])
        >>> obs, reward, terminated, truncated, info = env.step(np.array([1.0], np.float32))
        >>> obs["mask"].tolist(), reward > 0, terminated
        ([1, 0], True, False)
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, world: DesignWorld, on_invalid_action: str = "penalty",
                 invalid_penalty: float = -1.0, max_invalid_actions: int = 100,
                 render_mode: str | None = None) -> None:
        super().__init__(world, render_mode, on_invalid_action, invalid_penalty,
                         max_invalid_actions)
        model, budget = world.model, world.params.budget
        space = model.design_space
        self.action_space = spaces.Box(space.low.astype(np.float32),
                                       space.high.astype(np.float32), dtype=np.float32)
        obs = {
            "designs": spaces.Box(np.tile(space.low, (budget, 1)).astype(np.float32),
                                  np.tile(space.high, (budget, 1)).astype(np.float32),
                                  dtype=np.float32),
            "outcomes": spaces.Box(-np.inf, np.inf, (budget, *model.outcome_shape),
                                   np.float32),
            "mask": spaces.MultiBinary(budget),
        }
        probe = world.new_model()
        probe.instantiate(np.random.default_rng(0))
        self._context_size = context_vector(probe).size
        if self._context_size:
            obs["context"] = spaces.Box(-np.inf, np.inf, (self._context_size,), np.float32)
        self.observation_space = spaces.Dict(obs)

    # ----- the shell's hooks (WorldEnv) ---------------------------------------------
    def _start(self, rules: np.random.Generator) -> dict[str, Any]:
        self.state_ = self.world.initial_state(rules)  # the same split as the player's
        info: dict[str, Any] = {}
        self._answer(info)
        return info

    def _decode(self, action: Any) -> np.ndarray:
        design = snap(self.state_.model, action)
        self.world.check(self.state_, 0, design)
        return design

    def _play(self, design: np.ndarray) -> tuple[float, bool, bool, dict[str, Any]]:
        self.state_, (reward,) = self.world.step(self.state_, (design,), self.np_random)
        report = self.state_.reports[-1]
        info: dict[str, Any] = {
            "eig": report.eig.value, "eig_stderr": report.eig.stderr,
            "eig_lower": report.eig.lower, "eig_upper": report.eig.upper,
            "eig_limit": report.eig.limit, "best_eig": report.best_eig.value,
            "regret": report.regret}
        reward += self._answer(info)
        return reward, self._over(), False, info

    def _over(self) -> bool:
        return self.world.status(self.state_) is not Status.RUNNING

    def _answer(self, info: dict[str, Any]) -> float:
        """At a checkpoint, answer with the Bayes-optimal predictions given the history
        (the env scores the agent's data); their scores go into ``info``."""
        if self.state_.phase != "questions" or self._over():
            return 0.0
        answers = self.world.bayes_answers(self.state_)
        self.state_, (reward,) = self.world.step(self.state_, (answers,), self.np_random)
        k, ev = self.state_.scores[-1]
        info.update(checkpoint=k, z=ev.z, errors=ev.errors)
        return float(reward)

    def _ansi(self) -> str:
        state = self.state_
        lines = [f"{self.world.params.model}: {state.step}/{self.world.params.budget} "
                 "experiments"]
        lines += [f"  {i + 1}. design {d.tolist()} -> {np.asarray(y).tolist()}"
                  for i, (d, y) in enumerate(zip(state.designs, state.outcomes))]
        return "\n".join(lines)

    # ----- helpers --------------------------------------------------------------------
    def _obs(self) -> dict[str, np.ndarray]:
        state = self.state_
        p, model = self.world.params, state.model
        designs = np.tile(model.design_space.low, (p.budget, 1)).astype(np.float32)
        outcomes = np.zeros((p.budget, *model.outcome_shape), np.float32)
        mask = np.zeros(p.budget, np.int8)
        for i, (d, y) in enumerate(zip(state.designs, state.outcomes)):
            designs[i], outcomes[i], mask[i] = d, y, 1
        obs = {"designs": designs, "outcomes": outcomes, "mask": mask}
        if self._context_size:
            ctx = context_vector(state)
            if ctx.size != self._context_size:
                raise ValueError(f"context has {ctx.size} values, expected "
                                 f"{self._context_size}")
            obs["context"] = ctx
        return obs
