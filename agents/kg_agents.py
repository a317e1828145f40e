"""Heuristic agents for the knowledge-graph worlds (GAME face).

Completion world (:class:`~agora.envs.kg.world.CompletionWorld`; the agent sees a
:class:`~agora.envs.kg.types.KGView` and answers a :class:`~agora.envs.kg.types.KGAction`):

* ``random_kg``: a uniformly random valid action;
* ``bfs_frontier``: queries nodes breadth-first over the known graph (a query adds the
  true triples it reveals), re-querying a node while it reveals something;
* ``link_predictor``: proposes the best unlinked pairs by common neighbours, Adamic-Adar or
  resource allocation, with a relation and direction from similar entities;
* ``rule_miner``: mines path rules from the known triples and proposes what confident
  rules imply;
* ``greedy_verifier``: takes the action of highest expected gain per unit cost: merge
  likely aliases, verify uncertain implied triples and suspicious known ones, propose
  near-certain ones, query the frontier.

Each of the last three queries the frontier breadth-first when it has nothing better.
Query world (:class:`~agora.envs.kg.query.QueryWorld`): ``random_walker`` and
``rule_walker`` (follows the bodies of the world's planted rules for the query relation).

Every agent draws randomness only from ``self.rng`` (seeded by :meth:`Agent.reset`), acts
only on visible, unmerged ids, and stops when the action it wants costs more than the
budget left. The proposing agents mine and score only their *trusted* triples (the known
ones minus their own unverified proposals), so a guess never vouches for the next guess.

Example:
    >>> from agora.agents import make_agent
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
from collections import deque
from typing import Any

import numpy as np

from agora.agents import kg_reasoning as kr
from agora.agents.base import Agent, register_agent
from agora.envs.errors import ConfigError
from agora.envs.kg.query import QueryWorld
from agora.envs.kg.sources import FAMILY_RULES
from agora.envs.kg.types import TRIPLE_KINDS, KGAction, KGView, Triple, WalkAction, WalkView
from agora.envs.kg.world import CompletionWorld


def _check(name: str, value: Any, ok: bool, what: str) -> None:
    if not ok:
        raise ConfigError(f"parameter {name}={value!r} must be {what}")


def _active(view: KGView) -> np.ndarray:
    """Ids an action may name: visible and not merged away."""
    ids = np.arange(view.num_entities)
    return ids[view.visible & (view.canonical == ids)]


def _keys(triples: Any, view: KGView) -> np.ndarray:
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    return (t[:, 0] * view.num_relations + t[:, 1]) * view.num_entities + t[:, 2]


def _has(view: KGView, triple: Triple) -> bool:
    """Whether the triple is in the agent's graph (vectorised, no set building)."""
    return bool(np.any(_keys(view.known, view) == _keys(triple, view)[0]))


def _neighbours(known: np.ndarray, x: int) -> np.ndarray:
    return np.unique(np.concatenate([known[known[:, 0] == x, 2], known[known[:, 2] == x, 0]]))


class Frontier:
    """Breadth-first query order over the known graph.

    A queried node goes back to the end of the queue while its queries reveal triples
    and is done once one reveals nothing; its known neighbours join the queue. When the
    queue runs dry, the next start is the unseen node of highest known degree.
    """

    def __init__(self) -> None:
        self.queue: deque[int] = deque()
        self.seen: set[int] = set()
        self.done: set[int] = set()
        self.pending = -1
        self.reveals: list[int] = []

    def expected_reveal(self) -> float:
        """Mean triples the last queries revealed (3 before any)."""
        recent = self.reveals[-10:]
        return float(np.mean(recent)) if recent else 3.0

    def _absorb(self, view: KGView) -> None:
        x, self.pending = self.pending, -1
        self.reveals.append(len(view.revealed))
        if len(view.revealed) == 0:
            self.done.add(x)
        else:
            self.queue.append(x)
        for y in _neighbours(view.known, x).tolist():
            if y not in self.seen:
                self.seen.add(y)
                self.queue.append(y)

    def next(self, view: KGView) -> int | None:
        """The next node to query, or None when every visible node is done."""
        if self.pending >= 0:
            self._absorb(view)
        active = set(_active(view).tolist())
        while True:
            while self.queue:
                x = int(view.canonical[self.queue.popleft()])
                if x in active and x not in self.done:
                    self.pending = x
                    return x
            fresh = [x for x in active if x not in self.seen and x not in self.done]
            if not fresh:
                return None
            deg = np.bincount(view.known[:, [0, 2]].ravel(), minlength=view.num_entities)
            start = min(fresh, key=lambda e: (-deg[e], e))
            self.seen.add(start)
            self.queue.append(start)


class _CompletionAgent(Agent):
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
        return view.known[~np.isin(_keys(view.known, view), _keys(guesses, view))]

    def explore(self, view: KGView) -> KGAction:
        x = self.frontier.next(view)
        return KGAction.stop() if x is None else KGAction.query(x)

    def fresh(self, view: KGView, triples: np.ndarray) -> np.ndarray:
        """Which triples are worth proposing: unknown, untried, not verified false, ends
        active (a boolean mask)."""
        ok = np.zeros(view.num_entities, dtype=bool)
        ok[_active(view)] = True
        seen = [view.known, *map(list, (view.verified_false, self.tried))]
        taken = np.concatenate([_keys(x, view) for x in seen])
        return ok[triples[:, 0]] & ok[triples[:, 2]] & ~np.isin(_keys(triples, view), taken)

    def next_proposal(self, view: KGView) -> KGAction | None:
        if not self.queue and self.changed(view):
            self.queue = self.candidates(view)[::-1]
        while self.queue:
            h, r, t = self.queue.pop()
            if (h, r, t) not in self.tried and not _has(view, (h, r, t)):
                return KGAction.propose(h, r, t)
        return None

    def candidates(self, view: KGView) -> list[Triple]:
        """Triples to propose, best first (proposing agents override)."""
        return []


# ----- completion agents ---------------------------------------------------------------
@register_agent("random_kg")
class RandomKG(_CompletionAgent):
    """Uniformly random valid action of an affordable kind (knowledge-graph completion)."""

    def choose(self, view: KGView) -> KGAction:
        ids = _active(view)
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
class BFSFrontier(_CompletionAgent):
    """Queries nodes breadth-first from the known graph's frontier until all are done."""

    def choose(self, view: KGView) -> KGAction:
        return self.explore(view)


@register_agent("link_predictor")
class LinkPredictor(_CompletionAgent):
    """Proposes the best-scoring unlinked pairs (common neighbours / Adamic-Adar).

    Args:
        method: ``"common_neighbours"``, ``"adamic_adar"`` or ``"resource_allocation"``.
        batch: pairs scored per refill (the graph is rescored when they are used up).
        min_score: pairs scoring less are not proposed (the frontier is queried instead).
    """

    def __init__(self, method: str = "adamic_adar", batch: int = 20,
                 min_score: float = 0.0) -> None:
        super().__init__()
        _check("method", method, method in kr.LINK_METHODS, f"one of {kr.LINK_METHODS}")
        _check("batch", batch, isinstance(batch, int) and batch >= 1, "an int >= 1")
        self.method, self.batch, self.min_score = method, batch, float(min_score)

    def candidates(self, view: KGView) -> list[Triple]:
        known = self.base(view)
        adj = kr.undirected_adjacency(known, view.num_entities)
        pairs, scores = kr.top_links(adj, self.batch + len(self.tried), self.method)
        pairs = pairs[scores >= self.min_score]
        triples = kr.predict_relations(known, pairs, view.num_entities, view.num_relations)
        return [tuple(x) for x in triples[self.fresh(view, triples)][:self.batch].tolist()]

    def choose(self, view: KGView) -> KGAction:
        return self.next_proposal(view) or self.explore(view)


@register_agent("rule_miner")
class RuleMiner(_CompletionAgent):
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
        _check("min_confidence", min_confidence, 0.0 <= min_confidence <= 1.0, "in [0, 1]")
        for name, v in (("min_support", min_support), ("max_rules", max_rules),
                        ("batch", batch)):
            _check(name, v, isinstance(v, int) and v >= 1, "an int >= 1")
        self.min_confidence, self.min_support = float(min_confidence), min_support
        self.max_rules, self.batch = max_rules, batch

    def mine(self, view: KGView) -> tuple[np.ndarray, list[kr.Rule]]:
        """The trusted triples (:meth:`base`) and the rules mined on them."""
        known = self.base(view)
        return known, kr.mine_rules(known, view.num_entities, view.num_relations,
                                    min_support=self.min_support,
                                    min_confidence=self.min_confidence,
                                    max_rules=self.max_rules)

    def implied(self, view: KGView) -> tuple[np.ndarray, np.ndarray]:
        known, rules = self.mine(view)
        return kr.apply_rules(known, rules, view.num_entities, view.num_relations,
                              min_score=self.min_confidence)

    def candidates(self, view: KGView) -> list[Triple]:
        implied = self.implied(view)[0]
        return [tuple(x) for x in implied[self.fresh(view, implied)][:self.batch].tolist()]

    def choose(self, view: KGView) -> KGAction:
        return self.next_proposal(view) or self.explore(view)


@register_agent("greedy_verifier")
class GreedyVerifier(RuleMiner):
    """Takes the action of highest expected gain per unit cost (knowledge-graph completion).

    Options: ``merge`` a pair joined by identity paths (:func:`~agora.agents.kg_reasoning.
    alias_votes`), believed one entity with probability ``alias_belief``; ``propose`` or
    ``verify`` an implied triple, true with its best rule's confidence; ``verify`` or
    ``retract`` a *suspect* (a known triple no rule supports, of a relation whose known
    triples rules mostly support), false with the posterior mean (uniform prior) of the
    share of verified suspects found false; ``query`` the frontier, expecting the mean of
    recent reveals. Gains use the payoff parameters (the world's defaults unless given)
    and the view's costs; it stops when no option gains. Options are re-planned every
    ``replan`` steps or when used up.
    """

    def __init__(self, min_confidence: float = 0.5, min_support: int = 2,
                 max_rules: int = 1000, min_alias_votes: float = 2.0,
                 alias_belief: float = 0.9, replan: int = 25,
                 true_reward: float = 1.0, false_penalty: float = 1.0,
                 merge_reward: float = 1.0, cost_weight: float = 0.1) -> None:
        super().__init__(min_confidence, min_support, max_rules)
        _check("alias_belief", alias_belief, 0.0 <= alias_belief <= 1.0, "in [0, 1]")
        _check("replan", replan, isinstance(replan, int) and replan >= 1, "an int >= 1")
        self.min_alias_votes, self.alias_belief = float(min_alias_votes), float(alias_belief)
        self.replan = replan
        self.pay = (float(true_reward), float(false_penalty), float(merge_reward),
                    float(cost_weight))

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.options: list[tuple[float, KGAction]] = []  # best last
        self.suspects: set[Triple] = set()
        self.checked: set[Triple] = set()  # suspects verified
        self.planned_at = -10**9

    def choose(self, view: KGView) -> KGAction:
        if (view.steps - self.planned_at >= self.replan
                or (not self.options and self.changed(view))):
            self.options = sorted(self.plan(view), key=lambda o: o[0])
            self.planned_at = view.steps
        tr, _, _, cw = self.pay
        explore = self.frontier.expected_reveal() * tr / max(view.costs["query"], 1e-9) - cw
        while self.options and not self.valid(view, self.options[-1][1]):
            self.options.pop()
        best = self.options[-1][0] if self.options else 0.0
        if explore >= best and explore > 0 and view.costs["query"] <= view.budget_left:
            x = self.frontier.next(view)
            if x is not None:
                return KGAction.query(x)
        if not (self.options and best > 0):
            return KGAction.stop()
        action = self.options.pop()[1]
        if action.kind == "verify" and action.triple in self.suspects:
            self.checked.add(action.triple)
        if action.kind == "merge":  # ids and evidence change: plan afresh
            self.options = []
        return action

    def valid(self, view: KGView, a: KGAction) -> bool:
        """Whether a planned option is still affordable and meaningful now."""
        if view.costs[a.kind] > view.budget_left + 1e-9:
            return False
        active = view.visible & (view.canonical == np.arange(view.num_entities))
        if a.kind == "merge":
            return bool(active[a.head] and active[a.other])
        listed = _has(view, a.triple)
        return bool(active[a.head] and active[a.tail]) and (
            listed if a.kind == "retract" or a.triple in self.suspects else not listed)

    def plan(self, view: KGView) -> list[tuple[float, KGAction]]:
        n, m = view.num_entities, view.num_relations
        tr, fp, mr, cw = self.pay
        c = view.costs
        known, rules = self.mine(view)
        implied, conf = kr.apply_rules(known, rules, n, m, min_score=self.min_confidence)
        options = []
        keep = self.fresh(view, implied)
        for (h, r, t), p in zip(implied[keep].tolist(), conf[keep].tolist()):
            propose = (p * tr - (1 - p) * fp) / c["propose"]
            verify = p * tr / c["verify"]
            options.append((max(propose, verify) - cw, KGAction(
                "propose" if propose >= verify else "verify", h, r, t)))
        self.suspects = set()
        for (h, r, t), q in self.suspicious(view, known, rules):
            self.suspects.add((h, r, t))
            verify, retract = q * fp / c["verify"], (q * fp - (1 - q) * tr) / c["retract"]
            options.append((max(verify, retract) - cw, KGAction(
                "verify" if verify >= retract else "retract", h, r, t)))
        gain = (2 * self.alias_belief - 1) * mr / c["merge"] - cw
        pairs, votes = kr.alias_votes(known, n, m)
        types, deg = view.entity_types, np.bincount(view.known[:, [0, 2]].ravel(), minlength=n)
        adj = kr.undirected_adjacency(known, n)
        for u, v in pairs[votes >= self.min_alias_votes].tolist():
            if types[u] == types[v] and not adj[u, v]:
                keep, other = (u, v) if deg[u] >= deg[v] else (v, u)
                options.append((gain, KGAction.merge(keep, other)))
        return options

    def suspicious(self, view: KGView, base: np.ndarray,
                   rules: list[kr.Rule]) -> list[tuple[Triple, float]]:
        """Known, unverified triples that no rule implies from ``base``, with their chance
        of being false."""
        n, m = view.num_entities, view.num_relations
        known = view.known
        support, _ = kr.apply_rules(base, rules, n, m, min_score=self.min_confidence,
                                    include_known=True)
        keys = (known[:, 0] * m + known[:, 1]) * n + known[:, 2]
        backed = np.isin(keys, (support[:, 0] * m + support[:, 1]) * n + support[:, 2])
        cover = (np.bincount(known[backed, 1], minlength=m)
                 / np.maximum(np.bincount(known[:, 1], minlength=m), 1))
        found_false = len(self.checked & view.verified_false)
        q = (1.0 + found_false) / (2.0 + len(self.checked))
        return [((h, r, t), q) for h, r, t in known[~backed & (cover[known[:, 1]] >= 0.5)]
                .tolist() if (h, r, t) not in view.verified_true]


# ----- query-world agents --------------------------------------------------------------
@register_agent("random_walker")
class RandomWalker(Agent):
    """Uniformly random walk on the query world: each outgoing edge or stop alike."""

    games = (QueryWorld,)

    def act(self, obs: WalkView) -> WalkAction:
        i = int(self.rng.integers(len(obs.edges) + 1))
        if i == len(obs.edges):
            return WalkAction.stop()
        r, t = obs.edges[i].tolist()
        return WalkAction.move(r, t)


@register_agent("rule_walker")
class RuleWalker(Agent):
    """Walks the body of a planted rule whose head is the query relation, then stops.

    ``r1(x,y) & r2(y,z) => q(x,z)`` walks ``r1`` then ``r2``; an inverse rule
    ``r(x,y) => h(y,x)`` is read both ways (the closure makes it an equivalence): a query
    on ``h`` walks ``r`` backwards and one on ``r`` walks ``h`` backwards (needs the
    world's inverse edges). Among applicable rules the shortest
    wins (ties drawn from ``self.rng``); with none it walks at random. Rules come from
    the world's ``rules`` (the family rules for a ``rule_world`` source).
    """

    games = (QueryWorld,)

    def __init__(self) -> None:
        super().__init__()
        self.rules: tuple[Any, ...] = ()
        self.plan: list[int] = []
        self.fallback = RandomWalker()

    def setup(self, game: Any) -> None:
        rules = tuple(getattr(game, "rules", ()) or ())
        if not rules and getattr(game.params, "source", "") == "rule_world":
            rules = FAMILY_RULES
        self.rules = rules

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.fallback.reset(seed, player)
        self.plan = []

    def bodies(self, obs: WalkView) -> list[list[int]]:
        base, q, out = obs.num_base_relations, obs.query_relation, []
        for rule in self.rules:
            if rule.kind == "compose" and rule.head == q:
                out.append(list(rule.body))
            elif rule.kind == "inverse" and obs.num_relations > base:
                pair = (rule.body[0], rule.head)
                if q in pair:  # r(x,y) <=> h(y,x): walk the other one backwards
                    out.append([pair[q == pair[0]] + base])
        first = set(obs.edges[:, 0].tolist())
        return [b for b in out if b[0] in first]

    def act(self, obs: WalkView) -> WalkAction:
        if not obs.path:
            plans = self.bodies(obs)
            if not plans:
                self.plan = [-1]  # no rule: random walk
            else:
                short = min(len(p) for p in plans)
                plans = [p for p in plans if len(p) == short]
                self.plan = list(plans[int(self.rng.integers(len(plans)))])
        if self.plan[:1] == [-1]:
            return self.fallback.act(obs)
        if not self.plan:
            return WalkAction.stop()
        rel = self.plan.pop(0)
        rows = obs.edges[obs.edges[:, 0] == rel]
        if self.plan == [] and len(rows) > 1:
            rows = rows[rows[:, 1] != obs.query_head]
        if not len(rows):
            return WalkAction.stop()
        r, t = rows[int(self.rng.integers(len(rows)))].tolist()
        return WalkAction.move(r, t)
