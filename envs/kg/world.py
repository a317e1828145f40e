"""The completion world: recover a hidden knowledge graph from a corrupted copy on a budget.

**Description.** A hidden target graph (:mod:`~agora.envs.kg.sources`) is corrupted
(:mod:`~agora.envs.kg.corruption`) into the agent's start graph. The agent spends cost
units on :class:`~agora.envs.kg.types.KGAction` s until it stops or the budget runs out.

**Players.** One. **Observations.** :class:`~agora.envs.kg.types.KGView`.

**Actions** (costs are params): ``query(x)`` adds up to ``reveal_k`` unknown true triples
at ``x`` (each replaced by a false one with probability ``reveal_noise``);
``propose(h, r, t)`` adds a triple; ``verify(h, r, t)`` checks it exactly (true: added;
false: removed); ``merge(a, b)`` declares two ids one entity (b's triples move to a);
``retract(h, r, t)`` removes a known triple; ``stop``.

**Payoffs.** With ``score = true_reward * TP - false_penalty * FP`` over the agent's graph
mapped to true entities (distinct triples), a step earns ``delta score`` plus
``merge_reward`` for a right merge (minus it for a wrong one), ``bridge_bonus`` for a
new true triple whose ends were ``>= bridge_distance`` apart (or disconnected) in the
known graph, minus ``cost_weight * cost``.

**Invalid actions** (declared policy): ``check`` raises
:class:`~agora.envs.errors.IllegalActionError` for an unknown kind, an id out of range,
an invisible entity, retracting a triple not in the graph, or merging an id with itself;
shells then call :meth:`CompletionWorld.invalid_step`: no effect, ``invalid_cost`` is
charged and the invalid counter grows.

**Episode end.** ``stop``; an action dearer than the budget left (no effect); no budget
for the cheapest action; ``max_steps``. **Metrics.** precision, recall, F1 (and at the
start), entity-resolution precision, recall and accuracy (pairwise), action counts.

**Benchmark.** A perfect oracle reaches F1 = 1 with ``|missing|`` proposals.
**Reference.** graph completion rewards of graph-preflexor-grpo (2026). **Version.** v0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from agora.envs.core import GameInfo, Params, Timing, is_int, is_real, require
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.kg import scoring
from agora.envs.kg.corruption import Corrupted, CorruptionParams, corrupt, parse_modes
from agora.envs.kg.sources import (
    ANONYMISE,
    FAMILY_RELATIONS,
    FAMILY_RULES,
    KnowledgeGraph,
    Rule,
    anonymise,
    check_source,
    load_source,
)
from agora.envs.kg.text import CompletionText
from agora.envs.kg.types import ACTION_KINDS, KGAction, KGView


@dataclass(frozen=True)
class SourceParams(Params):
    """Which hidden graph (shared by the completion and query worlds).

    ``instance_seed >= 0`` fixes the graph and names across episodes (else each episode
    draws its own rule world and anonymised names); ``anonymise`` is one of
    ``"none"``, ``"entities"``, ``"all"``.
    """

    source: str = "rule_world"
    num_entities: int = 120
    instance_seed: int = -1
    anonymise: str = "entities"
    typed: bool = True

    def validate(self) -> None:
        require(isinstance(self.source, str), "source", self.source, "a source name")
        check_source(self.source)
        require(is_int(self.num_entities) and self.num_entities >= 6, "num_entities",
                self.num_entities, "an int >= 6")
        require(is_int(self.instance_seed), "instance_seed", self.instance_seed, "an int")
        require(self.anonymise in ANONYMISE, "anonymise", self.anonymise, f"in {ANONYMISE}")
        require(isinstance(self.typed, bool), "typed", self.typed, "a bool")


class GraphDraw:
    """Draws the hidden graph of an episode.

    ``fixed`` is the graph shared by every episode (real KGs, networkx graphs, a given
    graph, or a rule world drawn from ``instance_seed``), before renaming; ``None`` when
    each episode draws its own rule world. Names are anonymised per episode unless
    ``instance_seed >= 0`` fixes them too.
    """

    def __init__(self, params: SourceParams, graph: KnowledgeGraph | None = None) -> None:
        self.params = params
        seed = np.random.default_rng(max(params.instance_seed, 0))
        self.fixed = graph
        if graph is None and (params.source != "rule_world" or params.instance_seed >= 0):
            self.fixed = load_source(params.source, seed, params.num_entities, params.typed)
        self._named = (anonymise(self.fixed, seed, params.anonymise)
                       if self.fixed is not None and params.instance_seed >= 0 else None)
        self.shape = ((self.fixed.num_entities, self.fixed.num_relations) if self.fixed
                      else (params.num_entities, len(FAMILY_RELATIONS)))

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules planted in every drawn graph (rule worlds), else ``()``."""
        if self.fixed is not None:
            return self.fixed.rules
        return FAMILY_RULES if self.params.source == "rule_world" else ()

    def __call__(self, rng: np.random.Generator) -> KnowledgeGraph:
        if self._named is not None:
            return self._named
        g, names = rng.spawn(2)
        kg = self.fixed or load_source(self.params.source, g, self.params.num_entities,
                                       self.params.typed)
        return anonymise(kg, names, self.params.anonymise)

    def is_fixed(self, kg: KnowledgeGraph) -> bool:
        """Whether ``kg`` is (a renaming of) the fixed graph."""
        return self.fixed is not None and kg.triples is self.fixed.triples


@dataclass(frozen=True)
class KGParams(SourceParams):
    """Parameters of the completion world (see the module docstring)."""

    corruption: str = "missing_edges"
    missing_fraction: float = 0.5
    wrong_fraction: float = 0.1
    extra_fraction: float = 0.1
    duplicate_fraction: float = 0.1
    partial_hops: int = 1
    partial_seeds: int = 3
    budget: float = 50.0
    query_cost: float = 1.0
    propose_cost: float = 0.2
    verify_cost: float = 2.0
    merge_cost: float = 0.5
    retract_cost: float = 0.1
    invalid_cost: float = 1.0
    reveal_k: int = 5
    reveal_noise: float = 0.0
    true_reward: float = 1.0
    false_penalty: float = 1.0
    merge_reward: float = 1.0
    bridge_bonus: float = 0.0
    bridge_distance: int = 3
    cost_weight: float = 0.1
    max_steps: int = 1000

    def validate(self) -> None:
        super().validate()
        parse_modes(self.corruption)
        for name in ("budget", "query_cost", "propose_cost", "verify_cost", "merge_cost",
                     "retract_cost", "invalid_cost", "true_reward", "false_penalty",
                     "merge_reward", "bridge_bonus", "cost_weight"):
            v = getattr(self, name)
            require(is_real(v) and v >= 0, name, v, "a number >= 0")
        require(is_real(self.reveal_noise) and 0 <= self.reveal_noise <= 1, "reveal_noise",
                self.reveal_noise, "a fraction in [0, 1]")
        for name in ("reveal_k", "bridge_distance", "max_steps"):
            v = getattr(self, name)
            require(is_int(v) and v >= 1, name, v, "an int >= 1")
        self.corruption_params()  # fractions, hops and seeds

    def corruption_params(self) -> CorruptionParams:
        return CorruptionParams(
            parse_modes(self.corruption), self.missing_fraction, self.wrong_fraction,
            self.extra_fraction, self.duplicate_fraction, self.partial_hops,
            self.partial_seeds, variant_names=self.anonymise == "none")

    def costs(self) -> dict[str, float]:
        return {"query": self.query_cost, "propose": self.propose_cost,
                "verify": self.verify_cost, "merge": self.merge_cost,
                "retract": self.retract_cost, "stop": 0.0, "invalid": self.invalid_cost}


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

    def copy(self) -> KGState:
        return KGState(self.kg, self.start, self.graph.copy(), self.visible.copy(),
                       self.budget_left, set(self.queried), self.queried_mask.copy(),
                       set(self.verified_true),
                       set(self.verified_false), self.revealed, dict(self.counts),
                       self.steps, self.stopped, self.focus, self.initial)


class CompletionWorld:
    """Knowledge-graph completion on a budget (see the module docstring).

    Example:
        >>> world = CompletionWorld({"num_entities": 30, "budget": 5.0})
        >>> state = world.initial_state(np.random.default_rng(0))
        >>> h, r, t = state.kg.triples[0].tolist()  # a true triple (ids not aliased here)
        >>> state, reward, info = world.step(state, KGAction.propose(h, r, t),
        ...                                  np.random.default_rng(1))
        >>> info["new_true"] in (0, 1), world.done(world.step(state, KGAction.stop(),
        ...                                                   np.random.default_rng(2))[0])
        (True, True)
    """

    info: ClassVar[GameInfo] = GameInfo(
        name="KGCompletion", timing=Timing.SEQUENTIAL, family="graph",
        description="Recover a hidden knowledge graph from a corrupted copy on a budget.",
        action_kind="structured", observation_kind="graph",
        reference="graph-preflexor-grpo (2026) completion rewards")
    num_players = 1

    def __init__(self, params: Mapping[str, Any] | KGParams | None = None,
                 graph: KnowledgeGraph | None = None) -> None:
        self.params = params if isinstance(params, KGParams) else KGParams.from_dict(params)
        self.draw = GraphDraw(self.params, graph)
        self.corruption = self.params.corruption_params()
        n, relations = self.draw.shape
        self.num_relations: int = relations
        self.num_true_entities = n
        self.num_entities = n + self.corruption.num_aliases(n)
        self.costs = self.params.costs()
        self._truth = scoring.Truth.of(self.draw.fixed) if self.draw.fixed else None
        self.min_cost = min(v for k, v in self.costs.items() if k not in ("stop", "invalid"))
        self.text = CompletionText(self)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The planted rules (rule worlds) in relation ids; ``()`` for other sources."""
        return self.draw.rules

    # ----- episode ---------------------------------------------------------------
    def initial_state(self, rng: np.random.Generator) -> KGState:
        """Draw the hidden graph, the corruption and the start graph."""
        g, c = rng.spawn(2)
        kg = self.draw(g)
        start = corrupt(kg, self.corruption, c)
        p = self.params
        truth = self._truth if self.draw.is_fixed(kg) else scoring.Truth.of(kg)
        graph = scoring.GraphScore(truth, start.alias_of, bridge=p.bridge_bonus > 0)
        for h, r, t in start.initial.tolist():
            graph.add(h, r, t)
        return KGState(kg, start, graph, start.visible.copy(), float(p.budget),
                       queried_mask=np.zeros(self.num_entities, np.int8),
                       initial=(graph.tp, graph.fp))

    def view(self, state: KGState) -> KGView:
        g = state.graph
        rep = g.rep_arr.copy()
        canon = {(g.rep[h], r, g.rep[t]) for h, r, t in state.verified_true}
        false = {(g.rep[h], r, g.rep[t]) for h, r, t in state.verified_false}
        return KGView(g.rows[:g.n].copy(), self.num_entities, self.num_relations,
                      state.start.entity_names, state.kg.relation_names,
                      state.start.entity_types, rep, state.visible.copy(),
                      frozenset(state.queried), frozenset(canon), frozenset(false),
                      state.revealed.copy(), state.budget_left, dict(self.costs),
                      state.steps, state.focus)

    def done(self, state: KGState) -> bool:
        return (state.stopped or state.steps >= self.params.max_steps
                or state.budget_left + 1e-9 < self.min_cost)

    def check(self, state: KGState, action: KGAction) -> None:
        """Raise :class:`IllegalActionError` unless ``action`` is legal now."""
        kind = action.kind
        if kind not in ACTION_KINDS:
            raise IllegalActionError(f"unknown action kind {kind!r}; kinds: {ACTION_KINDS}")
        ids = {"query": (action.head,), "merge": (action.head, action.other),
               "stop": ()}.get(kind, (action.head, action.tail))
        for e in ids:
            if not (is_int(e) and 0 <= e < self.num_entities):
                raise IllegalActionError(f"entity id {e!r} is not in 0..{self.num_entities - 1}")
            if not state.visible[e]:
                raise IllegalActionError(f"entity {e} is not visible yet (query its neighbours)")
        if kind in ("propose", "verify", "retract") and not (
                is_int(action.relation) and 0 <= action.relation < self.num_relations):
            raise IllegalActionError(
                f"relation id {action.relation!r} is not in 0..{self.num_relations - 1}")
        if kind == "retract" and not state.graph.has(action.head, action.relation, action.tail):
            raise IllegalActionError("cannot retract a triple that is not in your graph")
        if kind == "merge" and action.head == action.other:
            raise IllegalActionError("cannot merge an entity with itself")

    def step(self, state: KGState, action: KGAction,
             rng: np.random.Generator) -> tuple[KGState, float, dict[str, Any]]:
        """Apply a legal action (see :meth:`check`); returns (state, reward, info)."""
        if self.done(state):
            raise GameOverError("the episode is over")
        self.check(state, action)
        cost = self.costs[action.kind]
        if cost > state.budget_left + 1e-9:
            state.budget_left, state.stopped = 0.0, True
            return state, 0.0, {"kind": action.kind, "exhausted": True}
        g = state.graph
        tp, fp = g.tp, g.fp
        extra = _HANDLERS[action.kind](self, state, action, rng)
        state.budget_left -= cost
        state.steps += 1
        state.counts[action.kind] += 1
        p = self.params
        reward = (p.true_reward * (g.tp - tp) - p.false_penalty * (g.fp - fp) + extra
                  - p.cost_weight * cost)
        return state, reward, {"kind": action.kind, "new_true": g.tp - tp,
                               "new_false": g.fp - fp, "cost": cost}

    def invalid_step(self, state: KGState) -> tuple[KGState, float, dict[str, Any]]:
        """The declared invalid-action policy: no effect, ``invalid_cost`` charged, counted."""
        cost = min(self.costs["invalid"], state.budget_left)
        state.budget_left -= cost
        state.steps += 1
        state.counts["invalid"] += 1
        return state, -self.params.cost_weight * cost, {"kind": "invalid", "cost": cost}

    def metrics(self, state: KGState) -> dict[str, float]:
        g = state.graph
        out = scoring.prf(g.tp, g.fp, len(g.target), "")
        out |= scoring.prf(*state.initial, len(g.target), "initial_")
        out |= scoring.er_scores(g.rep, state.start.alias_of)
        out |= {f"n_{k}": float(v) for k, v in state.counts.items()}
        out |= {"f1_gain": out["f1"] - out["initial_f1"], "known": float(g.tp + g.fp),
                "target": float(len(g.target)), "steps": float(state.steps),
                "budget_spent": self.params.budget - state.budget_left}
        return out


# ----- action handlers: return the reward beyond the score change ------------------
def _query(w: CompletionWorld, s: KGState, a: KGAction, rng: np.random.Generator) -> float:
    x = s.graph.rep[a.head]
    s.queried.add(x)
    s.queried_mask[x] = 1
    s.focus = x
    found = s.graph.reveal(x, w.params.reveal_k, w.params.reveal_noise, rng)
    s.revealed = np.array(found, dtype=np.int64).reshape(-1, 3)
    for h, _, t in found:
        s.visible[h] = s.visible[t] = True
    return 0.0


def _propose(w: CompletionWorld, s: KGState, a: KGAction, rng: np.random.Generator) -> float:
    g = s.graph
    h, r, t = g.rep[a.head], a.relation, g.rep[a.tail]
    s.focus = h
    bonus = 0.0
    if w.params.bridge_bonus > 0 and g.is_true(h, r, t) and not g.has(h, r, t):
        bonus = w.params.bridge_bonus * g.far(h, t, w.params.bridge_distance)
    g.add(h, r, t)
    return bonus


def _verify(w: CompletionWorld, s: KGState, a: KGAction, rng: np.random.Generator) -> float:
    g = s.graph
    h, r, t = g.rep[a.head], a.relation, g.rep[a.tail]
    s.focus = h
    if g.is_true(h, r, t):
        s.verified_true.add((h, r, t))
        return _propose(w, s, a, rng)
    s.verified_false.add((h, r, t))
    g.remove(h, r, t)
    return 0.0


def _retract(w: CompletionWorld, s: KGState, a: KGAction, rng: np.random.Generator) -> float:
    s.focus = s.graph.rep[a.head]
    s.graph.remove(a.head, a.relation, a.tail)
    return 0.0


def _merge(w: CompletionWorld, s: KGState, a: KGAction, rng: np.random.Generator) -> float:
    g = s.graph
    keep, other = g.rep[a.head], g.rep[a.other]
    s.focus = keep
    if keep == other:
        return 0.0
    right = bool(s.start.alias_of[a.head] == s.start.alias_of[a.other])
    s.counts["merges_right" if right else "merges_wrong"] += 1
    g.merge(keep, other)
    s.visible[keep] = True
    return w.params.merge_reward * (1.0 if right else -1.0)


def _stop(w: CompletionWorld, s: KGState, a: KGAction, rng: np.random.Generator) -> float:
    s.stopped = True
    return 0.0


_HANDLERS = {"query": _query, "propose": _propose, "verify": _verify, "retract": _retract,
             "merge": _merge, "stop": _stop}
