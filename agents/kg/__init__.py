"""Knowledge-graph agents and the reasoning they run on integer triple arrays.

Reasoning (pure numpy / scipy functions, no world or agent state):
:mod:`~agora.agents.kg.triples` (triple arrays, sparse features),
:mod:`~agora.agents.kg.links` (link prediction), :mod:`~agora.agents.kg.rules` (AMIE-style
rule mining and application), :mod:`~agora.agents.kg.aliases` (entity resolution).

Agents (registered on import): :mod:`~agora.agents.kg.completion` (``random_kg``,
``bfs_frontier``, ``link_predictor``, ``rule_miner``), :mod:`~agora.agents.kg.verifier`
(``greedy_verifier``) for the completion world, and :mod:`~agora.agents.kg.walkers`
(``random_walker``, ``rule_walker``) for the query world.

Example:
    >>> from agora.agents import agent_entries
    >>> {"bfs_frontier", "greedy_verifier", "rule_walker"} <= {e.name for e in agent_entries()}
    True
"""

from agora.agents.kg.aliases import alias_scores, alias_votes
from agora.agents.kg.completion import (
    BFSFrontier,
    CompletionAgent,
    LinkPredictor,
    RandomKG,
    RuleMiner,
)
from agora.agents.kg.frontier import Frontier
from agora.agents.kg.links import (
    LINK_METHODS,
    link_scores,
    neighbour_weights,
    predict_relations,
    top_links,
    undirected_adjacency,
)
from agora.agents.kg.rules import Rule, apply_rules, body_pairs, mine_rules
from agora.agents.kg.triples import as_triples, typed_features
from agora.agents.kg.verifier import GreedyVerifier
from agora.agents.kg.walkers import RandomWalker, RuleWalker

__all__ = [
    "LINK_METHODS", "BFSFrontier", "CompletionAgent", "Frontier", "GreedyVerifier",
    "LinkPredictor", "RandomKG", "RandomWalker", "Rule", "RuleMiner", "RuleWalker",
    "alias_scores", "alias_votes", "apply_rules", "as_triples", "body_pairs", "link_scores",
    "mine_rules", "neighbour_weights", "predict_relations", "top_links", "typed_features",
    "undirected_adjacency",
]
