"""Numbers of the knowledge-graph worlds: which hidden graph, corruption, costs, payoffs.

:class:`SourceParams` (which graph) is shared by the completion and query worlds;
:class:`KGParams` adds the completion world's corruption, costs and payoffs.

**Default costs.** A query gains at most ``reveal_k = 5`` true triples for ``query_cost =
2.5`` (0.5 a triple); a proposal true with probability ``p`` gains ``p - (1 - p)`` for
``propose_cost = 0.2``. Per unit of budget, proposing beats asking once ``p > 0.7``, while
asking stays the only way to learn what no rule implies: on a rule world the rule miner
and the greedy verifier beat pure breadth-first asking. (At ``query_cost = 1`` a query
bought triples at a perfect proposal's price, and asking dominated.)

Example:
    >>> p = KGParams.from_dict({"budget": 10.0})
    >>> p.costs()["query"] / p.reveal_k, p.costs()["propose"]
    (0.5, 0.2)
"""

from __future__ import annotations

from dataclasses import dataclass

from agora.envs.core import Params, is_int, is_real, require
from agora.envs.kg.corruption import CorruptionParams, parse_modes
from agora.envs.kg.names import ANONYMISE
from agora.envs.kg.sources import check_source


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


@dataclass(frozen=True)
class KGParams(SourceParams):
    """Parameters of the completion world (see :mod:`~agora.envs.kg.world`)."""

    corruption: str = "missing_edges"
    missing_fraction: float = 0.5
    wrong_fraction: float = 0.1
    extra_fraction: float = 0.1
    duplicate_fraction: float = 0.1
    partial_hops: int = 1
    partial_seeds: int = 3
    budget: float = 50.0
    query_cost: float = 2.5
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
