"""The registered design task ids: ``Discovery-v1`` and one id per declared model.

``Discovery-v1`` defaults to the linear-Gaussian world (its ``model`` param picks any
other, so configs can sweep ``params.model``); ``<CamelCaseKey>-v1`` (``LocationFinding-v1``,
``HyperbolicDiscounting-v1`` ...) fixes the model. Every id plays through the family's
episode player (:data:`PLAYER`) and is a Gymnasium env
(``gymnasium.make("agora/LocationFinding-v1")``).

Example:
    >>> ids = [t.id for t in TASKS]
    >>> "Discovery-v1" in ids and "LinearGaussian-v1" in ids
    True
"""

from __future__ import annotations

from agora.envs.design.env import DesignEnv
from agora.envs.design.world import DesignWorld
from agora.envs.design.worlds import model_class, model_keys
from agora.envs.tasks import TaskSpec

PLAYER = "agora.experiments.discovery:aplay_discovery"
"""The design family's episode player (resolved by :mod:`agora.experiments`)."""
BENCHMARK = "EIG of each design; greedy-EIG regret"


def task_id(key: str) -> str:
    """The task id of a model key.

    Example:
        >>> task_id("hyperbolic_discounting")
        'HyperbolicDiscounting-v1'
    """
    return "".join(part.capitalize() for part in key.split("_")) + "-v1"


def _spec(key: str) -> TaskSpec:
    name = model_class(key).info.name
    return TaskSpec(task_id(key), "design", DesignWorld, DesignEnv, {"model": key},
                    f"{name}: experiments on a hidden model, then predictions (EIG rewards)",
                    PLAYER, BENCHMARK)


TASKS = (
    TaskSpec("Discovery-v1", "design", DesignWorld, DesignEnv, {"model": "linear_gaussian"},
             "Experimental design on any declared model (param `model`), BoxingGym protocol",
             PLAYER, BENCHMARK),
    *(_spec(k) for k in model_keys()),
)
