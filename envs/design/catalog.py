"""The registered design task ids: ``Discovery-v1`` and one id per declared model.

``Discovery-v1`` defaults to the linear-Gaussian world (its ``model`` param picks any
other, so configs can sweep ``params.model``); ``<CamelCaseKey>-v1`` (``LocationFinding-v1``,
``HyperbolicDiscounting-v1`` ...) fixes the model. Every id names no episode player: ``agora run``
plays it with the one episode loop (the family's seats are
``agora.experiments.discovery.DesignSeats``), and it is a Gymnasium env
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
from agora.envs.spec import EnvSpec

BENCHMARK = "EIG of each design; greedy-EIG regret"


def task_id(key: str) -> str:
    """The task id of a model key.

    Example:
        >>> task_id("hyperbolic_discounting")
        'HyperbolicDiscounting-v1'
    """
    return "".join(part.capitalize() for part in key.split("_")) + "-v1"


def _spec(task: str, key: str, summary: str) -> EnvSpec:
    return EnvSpec(task, DesignWorld, defaults={"model": key}, summary=summary,
                   family="design", env=DesignEnv, benchmark=BENCHMARK)


TASKS = (
    _spec("Discovery-v1", "linear_gaussian",
          "Experimental design on any declared model (param `model`), BoxingGym protocol"),
    *(_spec(task_id(k), k, f"{model_class(k).info.name}: experiments on a hidden model, "
            "then predictions (EIG rewards)") for k in model_keys()),
)
