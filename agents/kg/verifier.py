"""``greedy_verifier``: the completion agent that prices every option by expected gain per
unit cost (merge, propose, verify, retract, query).

Example:
    >>> from agora.agents import make_agent
    >>> from agora.envs.kg.world import CompletionWorld
    >>> world = CompletionWorld({"num_entities": 30, "budget": 5.0})
    >>> agent = make_agent("greedy_verifier", world)
    >>> agent.reset(seed=0, player=0)
    >>> agent.act(world.view(world.initial_state(np.random.default_rng(0)))).kind in (
    ...     "query", "propose", "verify", "retract", "merge", "stop")
    True
"""

from __future__ import annotations

import numpy as np

from agora.agents.base import register_agent
from agora.agents.kg.aliases import alias_votes
from agora.agents.kg.completion import RuleMiner
from agora.agents.kg.frontier import check_param, has_triple
from agora.agents.kg.links import undirected_adjacency
from agora.agents.kg.rules import Rule, apply_rules
from agora.envs.kg.types import KGAction, KGView, Triple


@register_agent("greedy_verifier")
class GreedyVerifier(RuleMiner):
    """Takes the action of highest expected gain per unit cost (knowledge-graph completion).

    Options: ``merge`` a pair joined by identity paths (:func:`~agora.agents.kg.aliases.
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
        check_param("alias_belief", alias_belief, 0.0 <= alias_belief <= 1.0, "in [0, 1]")
        check_param("replan", replan, isinstance(replan, int) and replan >= 1, "an int >= 1")
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
        listed = has_triple(view, a.triple)
        return bool(active[a.head] and active[a.tail]) and (
            listed if a.kind == "retract" or a.triple in self.suspects else not listed)

    def plan(self, view: KGView) -> list[tuple[float, KGAction]]:
        n, m = view.num_entities, view.num_relations
        tr, fp, mr, cw = self.pay
        c = view.costs
        known, rules = self.mine(view)
        implied, conf = apply_rules(known, rules, n, m, min_score=self.min_confidence)
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
        pairs, votes = alias_votes(known, n, m)
        types, deg = view.entity_types, np.bincount(view.known[:, [0, 2]].ravel(), minlength=n)
        adj = undirected_adjacency(known, n)
        for u, v in pairs[votes >= self.min_alias_votes].tolist():
            if types[u] == types[v] and not adj[u, v]:
                keep, other = (u, v) if deg[u] >= deg[v] else (v, u)
                options.append((gain, KGAction.merge(keep, other)))
        return options

    def suspicious(self, view: KGView, base: np.ndarray,
                   rules: list[Rule]) -> list[tuple[Triple, float]]:
        """Known, unverified triples that no rule implies from ``base``, with their chance
        of being false."""
        n, m = view.num_entities, view.num_relations
        known = view.known
        support, _ = apply_rules(base, rules, n, m, min_score=self.min_confidence,
                                 include_known=True)
        keys = (known[:, 0] * m + known[:, 1]) * n + known[:, 2]
        backed = np.isin(keys, (support[:, 0] * m + support[:, 1]) * n + support[:, 2])
        cover = (np.bincount(known[backed, 1], minlength=m)
                 / np.maximum(np.bincount(known[:, 1], minlength=m), 1))
        found_false = len(self.checked & view.verified_false)
        q = (1.0 + found_false) / (2.0 + len(self.checked))
        return [((h, r, t), q) for h, r, t in known[~backed & (cover[known[:, 1]] >= 0.5)]
                .tolist() if (h, r, t) not in view.verified_true]
