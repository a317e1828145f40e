"""Agents for the GLEE families: bargaining, negotiation and persuasion.

* ``glee_spe_bargainer``: subgame-perfect play of GLEE bargaining.
* ``glee_boulware``, ``glee_conceder``, ``glee_tft_negotiator``: Faratin, Sierra & Jennings
  (1998) negotiation tactics for both GLEE bargaining and GLEE negotiation. Each holds a
  *claim* that falls from ``aspiration`` to ``reservation``: in bargaining the share of the
  money it keeps (defaults 0.9 and 0.5); in negotiation its gain over its own value as a
  fraction of ``M`` (defaults 0.5 and 0: never trade at a loss). The time-dependent claim in
  round ``t`` with deadline ``D`` is ``res + (asp - res) (1 - ((t-1)/(D-1))^(1/e))``:
  ``e < 1`` holds out until late (Boulware), ``e > 1`` gives in early (Conceder). An offer is
  accepted when it is worth at least the claim the agent would make next round; when no
  counter-offer is possible (the last round) it is accepted iff it meets the reservation
  claim, else the agent rejects (bargaining) or leaves (negotiation).
* ``glee_honest_seller``, ``glee_persuasion_optimal_seller``, ``glee_skeptical_buyer``,
  ``glee_trusting_buyer``, ``glee_bayesian_buyer``: GLEE persuasion.

The horizon is part of the rules, so agents read it in :meth:`Agent.setup` even when the
game does not show it to players; without ``setup`` they use the shown horizon, else
:data:`OPEN_ENDED` rounds.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Game, Observation
from agora.envs.core import is_int, is_real
from agora.envs.games.bargaining import spe_keep_units
from agora.envs.games.glee_bargaining import GleeBargainingGame, GleeBargainView
from agora.envs.games.glee_negotiation import ACCEPT, LEAVE, REJECT, GleeNegotiationGame
from agora.envs.games.glee_persuasion import (
    BUY,
    BUYER,
    NO,
    SELLER,
    GleePersuasionGame,
    GleePersuasionView,
    persuasion_values,
)

OPEN_ENDED = 1000
"""Horizon assumed when an agent knows none (no ``setup`` and a hidden horizon)."""
_EPS = 1e-9


def _number(name: str, value: Any, low: float, high: float = math.inf,
            open_low: bool = False) -> float:
    ok = is_real(value) and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = f"({low}" if open_low else f"[{low}"
        raise ConfigError(f"parameter {name}={value!r} must be a number in {bound}, {high}]")
    return float(value)


# ----- bargaining ---------------------------------------------------------------------
@register_agent("glee_spe_bargainer")
class GleeSPEBargainer(Agent):
    """Subgame-perfect play of GLEE bargaining on its grid (backward induction).

    Offers Alice's SPE units for the current round and accepts an offer iff it is worth at
    least what proposing next round would be worth (discounted). Under incomplete
    information it assumes the other player's delta equals its own, so two such agents with
    different deltas may disagree about the split. The horizon comes from ``setup`` (it
    plays the SPE of the true game even when the horizon is hidden).
    """

    games = (GleeBargainingGame,)

    def __init__(self) -> None:
        super().__init__()
        self.horizon: int | None = None

    def setup(self, game: Game[Any, Any, Any]) -> None:
        self.horizon = game.params.horizon

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        horizon = self.horizon or v.horizon or OPEN_ENDED
        theirs = v.their_delta if v.their_delta is not None else v.my_delta
        d = (v.my_delta, theirs) if v.player == 0 else (theirs, v.my_delta)
        g = v.granularity
        if v.proposing:
            keep = spe_keep_units(d, horizon, g, v.round)
            return keep if v.player == 0 else g - keep
        if v.round >= horizon:
            return ACCEPT
        next_keep = spe_keep_units(d, horizon, g, v.round + 1)
        need = math.ceil(v.my_delta * next_keep - _EPS)
        return ACCEPT if v.offer_to_me >= need else REJECT


class _Concession(Agent):
    """A Faratin-style negotiator over a claim (see the module docstring)."""

    games = (GleeBargainingGame, GleeNegotiationGame)
    e_range: ClassVar[tuple[float, float]] = (0.0, math.inf)

    def __init__(self, e: float, aspiration: float | None = None,
                 reservation: float | None = None, deadline: int | None = None) -> None:
        super().__init__()
        low, high = self.e_range
        self.e = _number("e", e, low, high, open_low=low == 0.0)
        self.aspiration = None if aspiration is None else _number("aspiration", aspiration, 0)
        self.reservation = None if reservation is None else _number("reservation",
                                                                    reservation, 0)
        if self.aspiration is not None and self.reservation is not None \
                and self.reservation > self.aspiration:
            raise ConfigError(f"parameter reservation={reservation!r} must not exceed "
                              f"aspiration={aspiration!r}")
        if deadline is not None and not (is_int(deadline) and deadline >= 1):
            raise ConfigError(f"parameter deadline={deadline!r} must be a positive integer")
        self.deadline = deadline
        self.horizon: int | None = None

    def setup(self, game: Game[Any, Any, Any]) -> None:
        self.horizon = game.params.horizon

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.their_offers: list[float] = []  # claims their offers left me, in order
        self.last_claim: float | None = None

    # ----- the claim scale of each game ------------------------------------------------
    @staticmethod
    def _bargaining(v: Any) -> bool:
        return isinstance(v, GleeBargainView)

    def _bounds(self, v: Any) -> tuple[float, float]:
        asp, res = (0.9, 0.5) if self._bargaining(v) else (0.5, 0.0)
        asp = asp if self.aspiration is None else self.aspiration
        res = res if self.reservation is None else self.reservation
        return max(asp, res), res

    def _horizon(self, v: Any) -> int:
        return self.horizon or v.horizon or OPEN_ENDED

    def _curve(self, v: Any, round_: int) -> float:
        asp, res = self._bounds(v)
        span = (self.deadline or self._horizon(v)) - 1
        alpha = (min(round_ - 1, span) / span) ** (1 / self.e) if span > 0 else 0.0
        return res + (asp - res) * (1 - alpha)

    def _claim(self, v: Any, round_: int) -> float:
        return self._curve(v, round_)

    def _offer_claim(self, v: Any) -> float:
        """The claim the offer on the table leaves me."""
        if self._bargaining(v):
            return v.offer_to_me / v.granularity
        price = v.offer_to_me * v.unit
        gain = price - v.my_value if v.player == 0 else v.my_value - price
        return gain / v.money

    def _propose(self, v: Any, claim: float) -> int:
        if self._bargaining(v):
            keep = min(v.granularity, max(0, math.ceil(claim * v.granularity - _EPS)))
            return keep if v.player == 0 else v.granularity - keep
        if v.player == 0:  # the seller asks at least its value plus the claim
            k = math.ceil((v.my_value + claim * v.money) / v.unit - _EPS)
        else:
            k = math.floor((v.my_value - claim * v.money) / v.unit + _EPS)
        return min(v.max_units, max(0, k))

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if v.proposing:
            claim = self._claim(v, v.round)
            self.last_claim = claim
            return self._propose(v, claim)
        offered = self._offer_claim(v)
        self.their_offers.append(offered)
        _, res = self._bounds(v)
        if self._bargaining(v):
            final, walk = v.round >= self._horizon(v), REJECT
        else:
            final, walk = not obs.action_mask[REJECT], LEAVE
        if final:
            return ACCEPT if offered >= res - _EPS else walk
        return ACCEPT if offered >= self._claim(v, v.round + 1) - _EPS else REJECT


@register_agent("glee_boulware")
class GleeBoulware(_Concession):
    """Time-dependent tactic that concedes late (Faratin et al. 1998, ``0 < e <= 1``)."""

    e_range = (0.0, 1.0)

    def __init__(self, e: float = 0.2, aspiration: float | None = None,
                 reservation: float | None = None, deadline: int | None = None) -> None:
        super().__init__(e, aspiration, reservation, deadline)


@register_agent("glee_conceder")
class GleeConceder(_Concession):
    """Time-dependent tactic that concedes early (Faratin et al. 1998, ``e >= 1``)."""

    e_range = (1.0, math.inf)

    def __init__(self, e: float = 5.0, aspiration: float | None = None,
                 reservation: float | None = None, deadline: int | None = None) -> None:
        super().__init__(e, aspiration, reservation, deadline)


@register_agent("glee_tft_negotiator")
class GleeTFTNegotiator(_Concession):
    """Absolute tit-for-tat: concedes as much as the other side's last concession.

    Its claim drops by however much the other's latest offer improved on its previous one
    (and rises if it got worse), within ``[reservation, aspiration]``, and never stays
    above the time-dependent curve with exponent ``e``, so it still reaches its
    reservation by the deadline.
    """

    def __init__(self, e: float = 0.3, aspiration: float | None = None,
                 reservation: float | None = None, deadline: int | None = None) -> None:
        super().__init__(e, aspiration, reservation, deadline)

    def _claim(self, v: Any, round_: int) -> float:
        curve = self._curve(v, round_)
        if self.last_claim is None or len(self.their_offers) < 2:
            return curve
        asp, res = self._bounds(v)
        concession = self.their_offers[-1] - self.their_offers[-2]
        return min(curve, max(res, min(asp, self.last_claim - concession)))


# ----- persuasion ---------------------------------------------------------------------
class _PersuasionAgent(Agent):
    games = (GleePersuasionGame,)
    role: ClassVar[int] = SELLER

    def _view(self, obs: Observation[Any]) -> GleePersuasionView:
        v: GleePersuasionView = obs.view
        if v.player != self.role:
            seat = "seller (player 0)" if self.role == SELLER else "buyer (player 1)"
            raise ValueError(f"{type(self).__name__} plays the {seat}")
        return v


def _prior_buys(v: GleePersuasionView) -> int:
    """The babbling-equilibrium choice: buy iff the prior expected value covers the price."""
    return BUY if v.p_high * v.value_high + (1 - v.p_high) * v.value_low >= 1 - _EPS else NO


@register_agent("glee_honest_seller")
class GleeHonestSeller(_PersuasionAgent):
    """Recommends buying exactly when the product is of high quality (full revelation)."""

    def act(self, obs: Observation[Any]) -> int:
        return BUY if self._view(obs).quality == 1 else NO


@register_agent("glee_persuasion_optimal_seller")
class GleePersuasionOptimalSeller(_PersuasionAgent):
    """The Bayesian-persuasion commitment strategy (Kamenica & Gentzkow 2011).

    Recommends buying for high quality always and for low quality with probability
    ``q* = min(1, p (v - 1) / ((1 - p) (1 - c)))``, which leaves an obedient buyer exactly
    indifferent after a recommendation to buy.
    """

    def act(self, obs: Observation[Any]) -> int:
        v = self._view(obs)
        if v.quality == 1:
            return BUY
        q = persuasion_values(v.p_high, v.value_high, v.value_low)["q_star"]
        return BUY if self.rng.random() < q else NO


@register_agent("glee_skeptical_buyer")
class GleeSkepticalBuyer(_PersuasionAgent):
    """Ignores the seller: buys iff the prior expected value covers the price (babbling)."""

    role = BUYER

    def act(self, obs: Observation[Any]) -> int:
        return _prior_buys(self._view(obs))


@register_agent("glee_trusting_buyer")
class GleeTrustingBuyer(_PersuasionAgent):
    """Follows the seller's recommendation (and the prior when it sees none, in text mode)."""

    role = BUYER

    def act(self, obs: Observation[Any]) -> int:
        v = self._view(obs)
        return v.recommendation if v.recommendation >= 0 else _prior_buys(v)


@register_agent("glee_bayesian_buyer")
class GleeBayesianBuyer(_PersuasionAgent):
    """Estimates how often a recommendation turned out high quality and buys iff the
    estimated value covers the price.

    The estimate for the current recommendation is ``(s p + highs) / (s + count)`` over
    past rounds with the same recommendation (``s`` = ``prior_strength``, shrinking towards
    the prior ``p``). A myopic buyer, which sees only aggregates, uses past purchases for a
    "buy" recommendation and past non-purchases for "do not buy"; with no recommendation
    (text mode) it uses all past rounds.
    """

    role = BUYER

    def __init__(self, prior_strength: float = 2.0) -> None:
        super().__init__()
        self.prior_strength = _number("prior_strength", prior_strength, 0, open_low=True)

    def act(self, obs: Observation[Any]) -> int:
        v = self._view(obs)
        count, highs = self._evidence(v)
        s = self.prior_strength
        mu = (s * v.p_high + highs) / (s + count)
        return BUY if mu * v.value_high + (1 - mu) * v.value_low >= 1 - _EPS else NO

    @staticmethod
    def _evidence(v: GleePersuasionView) -> tuple[int, int]:
        rec, a = v.recommendation, v.past
        if v.myopic:
            if rec == BUY:
                return a.purchases, a.purchases_high
            if rec == NO:
                return a.rounds - a.purchases, a.high - a.purchases_high
            return a.rounds, a.high
        rows = [q for r, _, q in v.history if r == rec]  # rec -1 (text mode): all rounds
        return len(rows), sum(rows)
