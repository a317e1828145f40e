"""Experimental design and model discovery: BoxingGym's worlds as Gymnasium tasks.

A :class:`~agora.envs.design.model.Model` declares a world once (prior, simulator,
likelihood, designs, goals); inference, EIG, the env and the text face derive from it.
:class:`DesignWorld` holds the episode rules (a one-player world whose state keeps its
phase: experiments, then each checkpoint's questions), :class:`DesignEnv` is its
Gymnasium shell and :class:`DesignText` its text face; the task ids live in
:mod:`agora.envs.design.catalog`.

Example:
    >>> import gymnasium
    >>> env = gymnasium.make("agora/Discovery-v1", params={"budget": 2, "n_particles": 256})
    >>> obs, info = env.reset(seed=0)
    >>> obs["mask"].tolist(), sorted(info["z"])
    ([0, 0], ['estimate_theta', 'predict_y'])
"""

from agora.envs.design.env import DesignEnv
from agora.envs.design.model import DesignField, DesignSpace, Goal, Model
from agora.envs.design.text import DesignText
from agora.envs.design.types import (
    DesignSeeds,
    DesignState,
    Evaluation,
    Question,
    ScientistView,
)
from agora.envs.design.world import DesignParams, DesignWorld, checkpoint_rng

__all__ = ["DesignEnv", "DesignField", "DesignParams", "DesignSeeds", "DesignSpace", "DesignState",
           "DesignText", "DesignWorld", "Evaluation", "Goal", "Model", "Question",
           "ScientistView", "checkpoint_rng"]
