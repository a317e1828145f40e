"""The completion world's episode state and what each action does to it.

:class:`KGState` is advanced *in place* by :func:`apply_action` (the step path stays O(1)
per triple); the world (:class:`~agora.envs.kg.world.CompletionWorld`) checks legality,
charges costs and turns the score change into a reward.

Example:
    >>> from agora.envs.kg.world import CompletionWorld
    >>> world = CompletionWorld({"num_entities": 30, "corruption": "empty"})
    >>> state = world.initial_state(np.random.default_rng(0))
    >>> x = int(state.kg.triples[0, 0])
    >>> apply_action(state, KGAction.query(x), world.params, np.random.default_rng(1))
    0.0
    >>> len(state.revealed) == state.graph.tp > 0, state.queried == {x}
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from agora.envs.kg import scoring
from agora.envs.kg.corruption import Corrupted
from agora.envs.kg.graph import KnowledgeGraph
from agora.envs.kg.params import KGParams
from agora.envs.kg.types import ACTION_KINDS, KGAction


@dataclass
class KGState:
    """An episode in progress. :meth:`CompletionWorld.step` advances it *in place* (the
    step path stays O(1) per triple) and returns it; :meth:`copy` branches."""

    kg: KnowledgeGraph
    start: Corrupted
    graph: scoring.GraphScore
    visible: np.ndarray
    budget_left: float
    queried: set[int] = field(default_factory=set)
    queried_mask: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    verified_true: set[tuple[int, int, int]] = field(default_factory=set)
    verified_false: set[tuple[int, int, int]] = field(default_factory=set)
    revealed: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (*ACTION_KINDS, "invalid", "merges_right", "merges_wrong"), 0))
    steps: int = 0
    stopped: bool = False
    focus: int = -1
    initial: tuple[int, int] = (0, 0)
    total: float = 0.0
    """The rewards summed so far (the episode's return)."""

    def copy(self) -> KGState:
        return KGState(self.kg, self.start, self.graph.copy(), self.visible.copy(),
                       self.budget_left, set(self.queried), self.queried_mask.copy(),
                       set(self.verified_true),
                       set(self.verified_false), self.revealed, dict(self.counts),
                       self.steps, self.stopped, self.focus, self.initial, self.total)


def apply_action(state: KGState, action: KGAction, params: KGParams,
                 rng: np.random.Generator) -> float:
    """Apply a legal action's effect to ``state`` (no cost, no step count) and return the
    reward beyond the score change (a merge's reward, a bridge bonus)."""
    return _HANDLERS[action.kind](state, action, params, rng)


# ----- one handler per action kind ---------------------------------------------------
def _query(s: KGState, a: KGAction, p: KGParams, rng: np.random.Generator) -> float:
    x = s.graph.rep[a.head]
    s.queried.add(x)
    s.queried_mask[x] = 1
    s.focus = x
    found = s.graph.reveal(x, p.reveal_k, p.reveal_noise, rng)
    s.revealed = np.array(found, dtype=np.int64).reshape(-1, 3)
    for h, _, t in found:
        s.visible[h] = s.visible[t] = True
    return 0.0


def _propose(s: KGState, a: KGAction, p: KGParams, rng: np.random.Generator) -> float:
    g = s.graph
    h, r, t = g.rep[a.head], a.relation, g.rep[a.tail]
    s.focus = h
    bonus = 0.0
    if p.bridge_bonus > 0 and g.is_true(h, r, t) and not g.has(h, r, t):
        bonus = p.bridge_bonus * g.far(h, t, p.bridge_distance)
    g.add(h, r, t)
    return bonus


def _verify(s: KGState, a: KGAction, p: KGParams, rng: np.random.Generator) -> float:
    g = s.graph
    h, r, t = g.rep[a.head], a.relation, g.rep[a.tail]
    s.focus = h
    if g.is_true(h, r, t):
        s.verified_true.add((h, r, t))
        return _propose(s, a, p, rng)
    s.verified_false.add((h, r, t))
    g.remove(h, r, t)
    return 0.0


def _retract(s: KGState, a: KGAction, p: KGParams, rng: np.random.Generator) -> float:
    s.focus = s.graph.rep[a.head]
    s.graph.remove(a.head, a.relation, a.tail)
    return 0.0


def _merge(s: KGState, a: KGAction, p: KGParams, rng: np.random.Generator) -> float:
    g = s.graph
    keep, other = g.rep[a.head], g.rep[a.other]
    s.focus = keep
    if keep == other:
        return 0.0
    right = bool(s.start.alias_of[a.head] == s.start.alias_of[a.other])
    s.counts["merges_right" if right else "merges_wrong"] += 1
    g.merge(keep, other)
    s.visible[keep] = True
    return p.merge_reward * (1.0 if right else -1.0)


def _stop(s: KGState, a: KGAction, p: KGParams, rng: np.random.Generator) -> float:
    s.stopped = True
    return 0.0


_Handler = Callable[[KGState, KGAction, KGParams, np.random.Generator], float]
_HANDLERS: dict[str, _Handler] = {
    "query": _query, "propose": _propose, "verify": _verify, "retract": _retract,
    "merge": _merge, "stop": _stop}
