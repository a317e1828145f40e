"""STAND-IN for the [engine] engineer's memory-one strategies (drop this commit on merge).

Only the contract's names: ``MemoryOne``, ``PRESETS``, ``memory_one_of`` and the
registered ``memory_one`` agent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.base import Agent, AgentSpec, register_agent
from agora.envs import ConfigError
from agora.envs.games.repeated_matrix import RepeatedMatrixGame


@dataclass(frozen=True)
class MemoryOne:
    """P(action 0) in round 1 and after each (my_last, their_last)."""

    name: str
    initial: float
    table: tuple[float, float, float, float]

    def probabilities(self) -> np.ndarray:
        """``[p00, p01, p10, p11, initial]``."""
        return np.array([*self.table, self.initial], dtype=np.float64)

    @property
    def deterministic(self) -> bool:
        return all(p in (0.0, 1.0) for p in (*self.table, self.initial))


PRESETS: dict[str, MemoryOne] = {
    "always_cooperate": MemoryOne("always_cooperate", 1.0, (1.0, 1.0, 1.0, 1.0)),
    "always_defect": MemoryOne("always_defect", 0.0, (0.0, 0.0, 0.0, 0.0)),
    "tit_for_tat": MemoryOne("tit_for_tat", 1.0, (1.0, 0.0, 1.0, 0.0)),
    "grim_trigger": MemoryOne("grim_trigger", 1.0, (1.0, 0.0, 0.0, 0.0)),
    "win_stay_lose_shift": MemoryOne("win_stay_lose_shift", 1.0, (1.0, 0.0, 0.0, 1.0)),
    "suspicious_tit_for_tat": MemoryOne("suspicious_tit_for_tat", 0.0, (1.0, 0.0, 1.0, 0.0)),
    "alternator": MemoryOne("alternator", 1.0, (0.0, 0.0, 1.0, 1.0)),
}


def memory_one_of(spec: AgentSpec | str | Mapping[str, Any]) -> MemoryOne | None:
    """The memory-one table of a spec, or None when it is not a memory-one strategy."""
    spec = AgentSpec.parse(spec)
    if spec.name == "memory_one":
        table = tuple(float(x) for x in spec.params.get("table", (1.0, 0.0, 1.0, 0.0)))
        return MemoryOne(spec.to_json(), float(spec.params.get("initial", 1.0)),
                         table)  # type: ignore[arg-type]
    if spec.name == "generous_tit_for_tat":
        g = float(spec.params.get("generosity", 1 / 3))
        return MemoryOne(spec.to_json(), 1.0, (1.0, g, 1.0, g))
    if spec.name == "random":
        p = float(spec.params.get("p", 0.5))
        return MemoryOne(spec.to_json(), p, (p, p, p, p))
    if spec.params:
        return None
    return PRESETS.get(spec.name)


@register_agent("memory_one")
class MemoryOneAgent(Agent):
    """Plays a memory-one table: P(action 0) first and after each (mine, theirs)."""

    games = (RepeatedMatrixGame,)

    def __init__(self, initial: float = 1.0,
                 table: tuple[float, ...] | list[float] = (1.0, 0.0, 1.0, 0.0)) -> None:
        super().__init__()
        if len(table) != 4:
            raise ConfigError(f"parameter table={json.dumps(list(table))} must have 4 entries")
        self.initial = float(initial)
        self.table = tuple(float(x) for x in table)

    def act(self, obs: Any) -> int:
        v = obs.view
        p = self.initial if v.my_last < 0 else self.table[2 * v.my_last + v.their_last]
        return 0 if self.rng.random() < p else 1
