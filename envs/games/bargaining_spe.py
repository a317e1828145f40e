"""Every pure subgame-perfect outcome of discrete alternating-offers bargaining.

The game (shared by ``Bargaining`` and ``GleeBargaining``): a pie of ``g`` units; player 0
proposes in odd rounds, player 1 in even ones; the responder accepts or rejects; a deal on
``x`` units in round ``t`` is worth ``x * d_i^(t-1)`` to player ``i``; rejection in round
``H`` ends the game with 0 each. On the grid a responder can be exactly indifferent (for
example ``0.9 * 90`` units tomorrow against ``81`` today), and then accepting and rejecting
are both optimal, so the subgame-perfect equilibrium need not be unique.

Claim: let ``E_r`` be the set of pure SPE payoff pairs of the subgame that starts in round
``r``, in units worth at round ``r``, with ``E_(H+1) = {(0, 0)}``. Let ``p`` propose in
round ``r`` and ``q = 1 - p`` respond, let ``W = {(d_0 a, d_1 b) : (a, b) in E_(r+1)}`` be
the continuation values seen from round ``r`` and ``m = min_W w_q``. Then

* after an offer keeping ``k``, the responder's subgame has the SPE outcomes "accept"
  (iff ``g - k >= m``) and "reject into ``w``" for each ``w`` in ``W`` with
  ``w_q >= g - k``;
* the proposer's security level is ``G = max_k min`` of her payoffs over those outcomes;
* ``E_r`` is the agreements now on each keep ``k`` with ``G <= k <= g - ceil(m)``, together
  with every ``w`` in ``W`` with ``w_p >= G`` (reached by rejecting an offer).

Proof: in a finite game of perfect information a pure profile is subgame perfect iff no
player gains by changing one move (the one-shot deviation principle). Subgames after
different moves are disjoint, so each may play any of its own SPEs; hence an outcome
reached through move ``a`` is an SPE outcome iff it is one of the subgame after ``a`` and
gives the mover at least what she is sure of after her best deviation, ``max_a' min``
over the SPE outcomes after ``a'`` (deviators are held to their worst continuation). At a
response node this gives the first bullet: accepting is optimal iff some continuation
gives ``q`` no more than ``g - k``, i.e. iff ``g - k >= m``; rejecting into ``w`` iff
``w_q >= g - k``. At the proposal node it gives ``G`` and the outcome set: an agreement on
``k`` needs ``k >= G`` and acceptance to be allowed; a delayed ``w`` needs ``w_p >= G``
and some offer that ``q`` may reject into ``w``, and the greedy offer ``k = g`` is one
(``w_q >= 0``). The set is then propagated from ``E_(r+1)`` to ``E_r`` and on to round 1.
Responders who always accept when indifferent give one SPE
(:func:`agora.envs.games.bargaining.spe_keep_units`), which is therefore in ``E_1``.

Computing ``G``: after a keep ``k <= g - ceil(m)`` the proposer is sure of
``min(k, f(g - k))`` where ``f(t) = min {w_p : w_q >= t}`` falls as ``k`` grows; after a
larger keep she is sure of ``f(g - k)`` only, largest at the first such ``k``. So ``G`` is
found by bisection for the last ``k`` with ``k <= f(g - k)``.

Arithmetic is exact: a discount is read as the decimal it prints as (``0.9`` is 9/10),
so ties are ties and not float noise. Only pure strategies are covered; mixing at a tie
would add lotteries over these outcomes.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Iterable
from fractions import Fraction
from typing import NamedTuple

Pair = tuple[Fraction, Fraction]
ZERO = Fraction(0)


class SpeOutcomes(NamedTuple):
    """The pure SPE outcomes of a discrete alternating-offers game from round 1.

    Attributes:
        keeps: units player 0 (the first proposer) keeps in the SPEs that agree in round 1,
            a contiguous range (empty when every SPE delays).
        delay: some SPE agrees after round 1 or never.
        shares: every SPE outcome's ``(player 0, player 1)`` discounted share of the pie
            (worth at round 1), sorted; ``(0, 0)`` is disagreement.
    """

    keeps: range
    delay: bool
    shares: tuple[tuple[float, float], ...]

    @property
    def unique(self) -> bool:
        """Whether every pure SPE has the same outcome (one round-1 agreement, no delay)."""
        return len(self.keeps) == 1 and not self.delay

    def distance(self, share_0: float) -> float:
        """Distance of player 0's discounted share from the nearest SPE outcome's."""
        return min(abs(share_0 - s0) for s0, _ in self.shares)


def exact_discount(d: float) -> Fraction:
    """A discount factor as the exact decimal it prints as.

    Example:
        >>> exact_discount(0.9), exact_discount(1)
        (Fraction(9, 10), Fraction(1, 1))
    """
    return Fraction(str(float(d)))


@functools.lru_cache(maxsize=256)
def spe_outcomes(discounts: tuple[float, float], horizon: int, granularity: int) -> SpeOutcomes:
    """Set-valued backward induction over the grid (see the module docstring).

    Args:
        discounts: ``(d_0, d_1)``, each in (0, 1].
        horizon: the last round ``H``.
        granularity: the pie's units ``g``.

    Returns:
        The round-1 agreements, whether delay is possible and every outcome's shares.
    """
    g, d = granularity, tuple(exact_discount(x) for x in discounts)
    later: set[Pair] = {(ZERO, ZERO)}  # E_(H+1): no deal
    keeps, delayed = range(0), False
    for r in range(horizon, 0, -1):
        p = (r - 1) % 2  # player 0 proposes in odd rounds
        seen = {(d[0] * a, d[1] * b) for a, b in later}
        security, most = _security(seen, p, g)
        keeps = range(math.ceil(security), most + 1)
        late = {w for w in seen if w[p] >= security}
        delayed = bool(late)
        later = late | set(_agreements(keeps, p, g))
    shares = sorted({(float(a / g), float(b / g)) for a, b in later})
    return SpeOutcomes(keeps, delayed, tuple(shares))


def _agreements(keeps: range, p: int, g: int) -> Iterable[Pair]:
    """Payoff pairs of agreeing now on each keep of proposer ``p``."""
    for k in keeps:
        yield (Fraction(k), Fraction(g - k)) if p == 0 else (Fraction(g - k), Fraction(k))


def _security(seen: set[Pair], p: int, g: int) -> tuple[Fraction, int]:
    """Proposer ``p``'s security level ``G`` and the largest keep ``q`` may accept.

    Args:
        seen: continuation payoff pairs ``W``, worth at this round.
        p: the proposer.
        g: the pie's units.
    """
    q = 1 - p
    by_q = sorted(seen, key=lambda w: w[q], reverse=True)
    neg_q = [-w[q] for w in by_q]  # ascending
    low_p = list(itertools.accumulate((w[p] for w in by_q), min))

    def worst(k: int) -> Fraction | float:  # f(g - k): p's worst outcome if k is rejected
        n = bisect.bisect_right(neg_q, k - g)  # outcomes with w_q >= g - k
        return low_p[n - 1] if n else math.inf

    most = g - math.ceil(-neg_q[-1])  # g - k >= m
    lo, hi = 0, most  # invariant: lo <= worst(lo)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if mid <= worst(mid) else (lo, mid - 1)
    best: Fraction | float = Fraction(lo)
    if lo < most:
        best = max(best, worst(lo + 1))
    if most < g:
        best = max(best, worst(most + 1))
    return Fraction(best), most


def spe_range_values(outcomes: SpeOutcomes, granularity: int, units_key: str,
                     share_key: str) -> dict[str, float]:
    """Benchmark values of the SPE set: first proposer's round-1 keeps as a range and flags.

    Args:
        outcomes: the game's :func:`spe_outcomes`.
        granularity: the pie's units.
        units_key: stem of the units keys (``<stem>_min``, ``<stem>_max``).
        share_key: stem of the same as shares of the pie.

    Returns:
        The four range values (NaN when no SPE agrees in round 1), ``spe_unique`` and
        ``spe_delay_possible`` (1.0 or 0.0).
    """
    keeps = outcomes.keeps
    lo, hi = (float(keeps[0]), float(keeps[-1])) if keeps else (math.nan, math.nan)
    return {
        f"{units_key}_min": lo,
        f"{units_key}_max": hi,
        f"{share_key}_min": lo / granularity,
        f"{share_key}_max": hi / granularity,
        "spe_unique": float(outcomes.unique),
        "spe_delay_possible": float(outcomes.delay),
    }
