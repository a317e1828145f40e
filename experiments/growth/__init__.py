"""Open-mode graph growth: a language model grows a concept graph from a seed question.

Each iteration answers the current question, extracts (concept, relation, concept)
triples as JSON, merges them into the global graph (normalised labels; embedding
similarity when an embedder is configured), scores intrinsic rewards (novelty, bridging,
surprise; never verifiable) and asks the next question about concepts a strategy picks
(``frontier``, ``novelty``, ``leap``, ``bridge``). Every iteration's graph is saved as
GraphML, and every triple links to the model call that produced it.

Run it with ``agora grow CONFIG.yaml`` or :func:`run_growth`. It works offline on the
embedded model (``local/gemma-3-270m``) and with any litellm provider.

Example:
    >>> from agora.experiments.growth import Triple, empty_graph, merge_triples
    >>> g, _ = merge_triples(empty_graph(), [Triple("Spider silk", "contains", "Proteins")],
    ...                      iteration=1, call_id="it0001-extract")
    >>> list(g.edges(keys=True))
    [('spider silk', 'protein', 'contains')]
"""

from agora.experiments.growth.config import (
    EmbeddingOptions,
    GrowthConfig,
    load_growth_config,
    parse_growth_config,
)
from agora.experiments.growth.embedders import Embedder, LiteLLMEmbedder
from agora.experiments.growth.graph import (
    NodeMerge,
    TripleOutcome,
    contract,
    empty_graph,
    merge_similar,
    merge_triples,
    prune_small_components,
    read_graph,
    resolve,
    write_graph,
)
from agora.experiments.growth.iteration import IterationResult, Step, grow_once
from agora.experiments.growth.labels import normalize_label, normalize_relation
from agora.experiments.growth.rewards import IntrinsicRewards, intrinsic_rewards
from agora.experiments.growth.run import GrowthSummary, run_growth
from agora.experiments.growth.strategies import STRATEGIES, Focus, choose_focus, communities
from agora.experiments.growth.triples import (
    ParsedTriples,
    Triple,
    TripleParseError,
    parse_triples,
    triples_schema,
)

__all__ = ["STRATEGIES", "EmbeddingOptions", "Embedder", "Focus", "GrowthConfig",
           "GrowthSummary", "IntrinsicRewards", "IterationResult", "LiteLLMEmbedder",
           "NodeMerge", "ParsedTriples", "Step", "Triple", "TripleOutcome",
           "TripleParseError", "choose_focus", "communities", "contract", "empty_graph",
           "grow_once", "intrinsic_rewards", "load_growth_config", "merge_similar",
           "merge_triples", "normalize_label", "normalize_relation", "parse_growth_config",
           "parse_triples", "prune_small_components", "read_graph", "resolve", "run_growth",
           "triples_schema", "write_graph"]
