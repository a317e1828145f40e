"""Heuristic agents for the knowledge-graph completion world (GAME face).

The agent sees a :class:`~agora.envs.kg.types.KGView` and answers a
:class:`~agora.envs.kg.types.KGAction`:

* ``random_kg``: a uniformly random valid action;
* ``bfs_frontier``: queries nodes breadth-first over the known graph (a query adds the
  true triples it reveals), re-querying a node while it reveals something;
* ``link_predictor``: proposes the best unlinked pairs by common neighbours, Adamic-Adar or
  resource allocation, with a relation and direction from similar entities;
* ``rule_miner``: mines path rules from the known triples and proposes what confident
  rules imply (``greedy_verifier`` in :mod:`~agora.agents.kg.verifier` builds on it).

The proposing agents query the frontier breadth-first when they have nothing better. Every
agent draws randomness only from ``self.rng`` (seeded by :meth:`Agent.reset`), acts only on
visible, unmerged ids, and stops when the action it wants costs more than the budget left.
They mine and score only their *trusted* triples (the known ones minus their own
unverified proposals), so a guess never vouches for the next guess.

Example:
    >>> from agora.agents import make_agent
    >>> from agora.envs.kg.world import CompletionWorld
    >>> world = CompletionWorld({"num_entities": 30, "budget": 3.0})
    >>> state = world.initial_state(np.random.default_rng(0))
    >>> agent = make_agent("rule_miner", world)
    >>> agent.reset(seed=0, player=0)
    >>> action = agent.act(world.view(state))
    >>> action.kind, action.triple in state.kg.triple_set()
    ('propose', True)
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from agora.agents.base import Agent, register_agent
from agora.agents.kg.frontier import Frontier, active_ids, check_param, has_triple, triple_keys
from agora.agents.kg.links import LINK_METHODS, predict_relations, top_links, undirected_adjacency
from agora.agents.kg.rules import Rule, apply_rules, mine_rules
from agora.envs.kg.types import TRIPLE_KINDS, KGAction, KGView, Triple
from agora.envs.kg.world import CompletionWorld


class CompletionAgent(Agent):
    """Shared bookkeeping: frontier, proposal queue, tried triples, the budget check."""

    games = (CompletionWorld,)

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.frontier = Frontier()
        self.queue: list[Triple] = []  # best last
        self.tried: set[Triple] = set()
        self.signature: tuple[int, int] = (-1, -1)

    def act(self, obs: KGView) -> KGAction:
        action = self.choose(obs)
        if action.kind != "stop" and obs.costs[action.kind] > obs.budget_left + 1e-9:
            return KGAction.stop()
        if action.kind in TRIPLE_KINDS:
            self.tried.add(action.triple)
        return action

    @abstractmethod
    def choose(self, view: KGView) -> KGAction:
        """The action wanted now (``act`` turns it into ``stop`` if unaffordable)."""

    def changed(self, view: KGView) -> bool:
        """Whether the known graph changed since the last call that returned True."""
        sig = (len(view.known), int(view.known.sum()))
        if sig == self.signature:
            return False
        self.signature = sig
        return True

    def base(self, view: KGView) -> np.ndarray:
        """The known triples minus this agent's own unverified proposals: what it mines
        and scores, so that its guesses never vouch for further guesses."""
        guesses = [t for t in self.tried if t not in view.verified_true]
        if not guesses:
            return view.known
        return view.known[~np.isin(triple_keys(view.known, view), triple_keys(guesses, view))]

    def explore(self, view: KGView) -> KGAction:
        x = self.frontier.next(view)
        return KGAction.stop() if x is None else KGAction.query(x)

    def fresh(self, view: KGView, triples: np.ndarray) -> np.ndarray:
        """Which triples are worth proposing: unknown, untried, not verified false, ends
        active (a boolean mask)."""
        ok = np.zeros(view.num_entities, dtype=bool)
        ok[active_ids(view)] = True
        seen = [view.known, *map(list, (view.verified_false, self.tried))]
        taken = np.concatenate([triple_keys(x, view) for x in seen])
        return ok[triples[:, 0]] & ok[triples[:, 2]] & ~np.isin(triple_keys(triples, view), taken)

    def next_proposal(self, view: KGView) -> KGAction | None:
        if not self.queue and self.changed(view):
            self.queue = self.candidates(view)[::-1]
        while self.queue:
            h, r, t = self.queue.pop()
            if (h, r, t) not in self.tried and not has_triple(view, (h, r, t)):
                return KGAction.propose(h, r, t)
        return None

    def candidates(self, view: KGView) -> list[Triple]:
        """Triples to propose, best first (proposing agents override)."""
        return []


@register_agent("random_kg")
class RandomKG(CompletionAgent):
    """Uniformly random valid action of an affordable kind (knowledge-graph completion)."""

    def choose(self, view: KGView) -> KGAction:
        ids = active_ids(view)
        kinds = [k for k in ("query", "propose", "verify", "retract", "merge")
                 if view.costs[k] <= view.budget_left + 1e-9]
        kinds = [k for k in kinds if (k != "retract" or len(view.known))
                 and (k != "merge" or len(ids) > 1) and len(ids)]
        if not kinds:
            return KGAction.stop()
        kind = kinds[int(self.rng.integers(len(kinds)))]
        if kind == "query":
            return KGAction.query(int(self.rng.choice(ids)))
        if kind == "merge":
            a, b = self.rng.choice(ids, size=2, replace=False).tolist()
            return KGAction.merge(a, b)
        if kind == "retract":
            h, r, t = view.known[int(self.rng.integers(len(view.known)))].tolist()
            return KGAction.retract(h, r, t)
        h, t = self.rng.choice(ids, size=2).tolist()
        return KGAction(kind, h, int(self.rng.integers(view.num_relations)), t)


@register_agent("bfs_frontier")
class BFSFrontier(CompletionAgent):
    """Queries nodes breadth-first from the known graph's frontier until all are done."""

    def choose(self, view: KGView) -> KGAction:
        return self.explore(view)


@register_agent("link_predictor")
class LinkPredictor(CompletionAgent):
    """Proposes the best-scoring unlinked pairs (common neighbours / Adamic-Adar).

    Args:
        method: ``"common_neighbours"``, ``"adamic_adar"`` or ``"resource_allocation"``.
        batch: pairs scored per refill (the graph is rescored when they are used up).
        min_score: pairs scoring less are not proposed (the frontier is queried instead).
    """

    def __init__(self, method: str = "adamic_adar", batch: int = 20,
                 min_score: float = 0.0) -> None:
        super().__init__()
        check_param("method", method, method in LINK_METHODS, f"one of {LINK_METHODS}")
        check_param("batch", batch, isinstance(batch, int) and batch >= 1, "an int >= 1")
        self.method, self.batch, self.min_score = method, batch, float(min_score)

    def candidates(self, view: KGView) -> list[Triple]:
        known = self.base(view)
        adj = undirected_adjacency(known, view.num_entities)
        pairs, scores = top_links(adj, self.batch + len(self.tried), self.method)
        pairs = pairs[scores >= self.min_score]
        triples = predict_relations(known, pairs, view.num_entities, view.num_relations)
        return [tuple(x) for x in triples[self.fresh(view, triples)][:self.batch].tolist()]

    def choose(self, view: KGView) -> KGAction:
        return self.next_proposal(view) or self.explore(view)


@register_agent("rule_miner")
class RuleMiner(CompletionAgent):
    """Mines path rules from the known triples and proposes what confident rules imply.

    Args:
        min_confidence: rules (and implied triples) below this confidence are ignored.
        min_support: rules need at least this many supporting pairs.
        max_rules: the most confident rules kept.
        batch: implied triples proposed before mining again.
    """

    def __init__(self, min_confidence: float = 0.5, min_support: int = 2,
                 max_rules: int = 1000, batch: int = 100) -> None:
        super().__init__()
        check_param("min_confidence", min_confidence, 0.0 <= min_confidence <= 1.0, "in [0, 1]")
        for name, v in (("min_support", min_support), ("max_rules", max_rules),
                        ("batch", batch)):
            check_param(name, v, isinstance(v, int) and v >= 1, "an int >= 1")
        self.min_confidence, self.min_support = float(min_confidence), min_support
        self.max_rules, self.batch = max_rules, batch

    def mine(self, view: KGView) -> tuple[np.ndarray, list[Rule]]:
        """The trusted triples (:meth:`base`) and the rules mined on them."""
        known = self.base(view)
        return known, mine_rules(known, view.num_entities, view.num_relations,
                                 min_support=self.min_support,
                                 min_confidence=self.min_confidence,
                                 max_rules=self.max_rules)

    def implied(self, view: KGView) -> tuple[np.ndarray, np.ndarray]:
        known, rules = self.mine(view)
        return apply_rules(known, rules, view.num_entities, view.num_relations,
                           min_score=self.min_confidence)

    def candidates(self, view: KGView) -> list[Triple]:
        implied = self.implied(view)[0]
        return [tuple(x) for x in implied[self.fresh(view, implied)][:self.batch].tolist()]

    def choose(self, view: KGView) -> KGAction:
        return self.next_proposal(view) or self.explore(view)
