"""The vectorised engine of donor-game populations: ``G`` games of ``n_agents`` at once.

:func:`play_donor_groups` plays ``G`` donor games, seat ``j`` of game ``g`` following the
rule ``rules[seats[g, j]]`` (a :meth:`agora.agents.donor_rule.DonorRule.row`), round by
round through the game's own batched rules
(:class:`~agora.envs.games.donor_vec.DonorVec`), so payoffs are the episode loop's to the
last bit. The rules are deterministic; a ``random`` schedule draws each game's pairs from
its episode seed, as the episode runner does.

Example:
    >>> from agora.agents.donor_rule import donor_rule_of
    >>> rules = np.stack([donor_rule_of(s).row() for s in ("donor_defector",
    ...                                                     "donor_image_scoring")])
    >>> res = play_donor_groups(rules, np.array([[0, 1, 1, 1]]),
    ...                         {"n_agents": 4, "endowment": 10, "trace_depth": 1})
    >>> res.payoffs.tolist(), res.rate().tolist()
    ([[0.0, 25.0, -5.0, 0.0]], [[0.0, 0.25, 0.25, 0.25]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.donor_rule import donations
from agora.envs.core import Status
from agora.envs.games.donor import DonorParams
from agora.envs.games.donor_vec import DONATE_CODE, DonorVec, put, take
from agora.experiments.population.group_kernel import check_rules, check_seats

__all__ = ["DonorGroupResult", "play_donor_groups"]


@dataclass(frozen=True)
class DonorGroupResult:
    """What ``G`` donor games produced.

    Attributes:
        payoffs: ``(G, n)`` each seat's gain (final resources minus the endowment).
        given: ``(G, n)`` each seat's donated fractions summed over its turns as donor
            (the core's event ``fraction``: units given over what it could give).
        turns: ``(G, n)`` each seat's turns as donor.
        rounds: rounds played (every game plays the game's rounds).
    """

    payoffs: np.ndarray
    given: np.ndarray
    turns: np.ndarray
    rounds: int

    def rate(self) -> np.ndarray:
        """``(G, n)`` each seat's mean donated fraction over its turns (NaN: no turn)."""
        return np.divide(self.given, self.turns, out=np.full(self.given.shape, np.nan),
                         where=self.turns > 0)


def play_donor_groups(rules: Any, seats: Any, params: DonorParams | dict[str, Any],
                      seeds: Sequence[int] | None = None) -> DonorGroupResult:
    """Play every game for the game's rounds (see the module docstring).

    Args:
        rules: ``(S, 3)`` donor rules, one row per strategy.
        seats: ``(G, n_agents)`` strategy indices into ``rules`` (seat = the game's slot).
        params: the donor game's params.
        seeds: each game's episode seed; needed only by ``schedule: random``.

    Raises:
        ConfigError: ``rules`` or ``seats`` of the wrong shape or out of range, invalid
            params (naming the key), or a random schedule without seeds.
    """
    vec = DonorVec(params)
    r, s = check_rules(rules, 3), np.asarray(seats)
    n = vec.params.n_agents
    check_seats(s, n, len(r))
    s = np.ascontiguousarray(s)
    state = vec.reset(len(s), seeds)
    given, turns = np.zeros(s.shape), np.zeros(s.shape, np.int64)
    while state.status == Status.RUNNING:
        view = vec.view(state)
        donor, _ = vec.round_pairs(state)
        units = donations(r[take(s, donor)], view, vec.params.granularity)
        state, _ = vec.step(state, units)
        cols = slice((state.round - 1) * vec.pairs, state.round * vec.pairs)
        frac = np.where(state.log.kind[:, cols] == DONATE_CODE, state.log.fraction[:, cols],
                        0.0)
        put(given, donor, take(given, donor) + frac)  # a seat donates at most once a round
        put(turns, donor, take(turns, donor) + 1)
    return DonorGroupResult(vec.returns(state), given, turns, state.round)
