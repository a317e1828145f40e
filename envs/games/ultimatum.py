"""Ultimatum and dictator games: one proposer splits a pie, the responder may veto.

Each round the proposer offers the responder a number of the pie's ``granularity`` equal
units. In the ultimatum game the responder accepts (the split is paid) or rejects (both get
nothing that round). In the dictator variant (``dictator=True``) the offer is final: the
recipient's turn is a formality whose only legal action is accept. ``rounds`` repeats the
game; the proposer is player 0 every round, or the roles swap each round with
``alternate_roles=True``. ``Ultimatum-v1`` is one round; ``Dictator-v1`` is two rounds with
swapped roles (each seat gives once; ``rounds=1`` is the one-shot game).

Players: 2; the proposer of round ``r`` is 0, or ``(r - 1) % 2`` with alternating roles.
Actions: proposing, ``k`` in ``0..granularity`` (units offered to the responder); responding,
``0`` reject / ``1`` accept (the dictator's recipient: accept only). Masked.
Observations: typed :class:`UltimatumView`; tensor: round progress, whose turn, the offer on
the table, last round's offer and outcome, the variant and the player's role (all in [0, 1]).
Payoffs: on acceptance the proposer gets ``(granularity - k) / granularity * pie`` and the
responder ``k / granularity * pie``, paid at the response; 0 each after a rejection.
Metrics: ``gain_i`` (money), ``efficiency`` (paid / pie over the rounds played),
``fairness`` (mean over rounds of ``1 - 4 (p - 1/2)^2``, ``p`` the proposer's share in the
*proposed* split, so it is defined after a rejection too), ``offer_share``, ``accept_rate``
and ``distance_to_benchmark`` (L1 distance of the payoffs from the nearest SPE's, per money
at stake, over the profiles that play either stage SPE in each round). NaN before the first
round is complete.
Episode end: after the response in round ``rounds``.
Parameters: ``pie``, ``granularity``, ``dictator``, ``rounds``, ``alternate_roles``,
``messages`` (the text face lets the proposer attach cheap talk), ``framing``.
Benchmark: subgame-perfect equilibrium of the stage game, played every round. Ultimatum:
the responder accepts every positive offer and the proposer offers the smallest positive
unit (payoffs ``pie (g - 1) / g`` and ``pie / g``). On the grid a responder indifferent at
0 may also accept 0, and then offering 0 is a second SPE (payoffs ``pie`` and 0); both are
reported. Dictator: give 0. Social optimum: every pie split (efficiency 1 iff agreement).
Reference: Gueth, Schmittberger & Schwarze (1982), JEBO 3(4); Forsythe et al. (1994), GEB
6(3); fairness index from GLEE (Shapira et al. 2024).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from agora.envs.core import (
    Benchmark,
    Game,
    GameInfo,
    Params,
    Status,
    StepResult,
    Timing,
    is_int,
    is_real,
    require,
)
from agora.envs.spec import EnvSpec

ACCEPT, REJECT = 1, 0
NAN = float("nan")

FRAMINGS = ("neutral", "story", "loaded")
"""Text-face wordings: neutral players and units; a story of Alice and Bob sharing a gift
of money; loaded words ("fair", "generous", "unfair offer")."""


@dataclass(frozen=True)
class UltimatumParams(Params):
    """Numbers of an ultimatum (or dictator) game.

    Attributes:
        pie: money divided each round.
        granularity: number of equal units the pie is cut into.
        dictator: the dictator variant (the responder cannot reject).
        rounds: rounds played.
        alternate_roles: swap proposer and responder each round (else player 0 proposes).
        messages: the text face lets the proposer add a free-text ``"message"``.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    pie: float = 100.0
    granularity: int = 100
    dictator: bool = False
    rounds: int = 1
    alternate_roles: bool = False
    messages: bool = False
    framing: str = "neutral"

    def validate(self) -> None:
        require(is_real(self.pie) and self.pie > 0, "pie", self.pie, "must be a positive number")
        require(is_int(self.granularity) and self.granularity >= 1, "granularity",
                self.granularity, "must be a positive integer")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        for name in ("dictator", "alternate_roles", "messages"):
            value = getattr(self, name)
            require(isinstance(value, bool), name, value, "must be true or false")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class UltimatumState(NamedTuple):
    played: int  # rounds completed
    offer: int  # units offered to the responder this round, -1 while none is on the table
    offers: tuple[int, ...]  # offer of each completed round
    accepted: tuple[bool, ...]  # outcome of each completed round
    totals: tuple[float, float]
    status: Status


class UltimatumView(NamedTuple):
    """One player's view of the current round (the last one once the game is over)."""

    round: int  # 1-based
    rounds: int
    my_role: int  # 0 proposer, 1 responder in this round
    proposing: bool  # it is my turn to make an offer
    offer_to_me: int  # units offered to me while it is my turn to respond, else -1
    last_offer: int  # units offered to the responder last round, -1 before round 2
    last_accepted: int  # 1 / 0 for last round's outcome, -1 before round 2
    granularity: int
    pie: float
    dictator: bool
    over: bool  # the last round has been played


def split(pie: float, granularity: int, offer: int, accepted: bool) -> tuple[float, float]:
    """(proposer, responder) payoffs of one round.

    Example:
        >>> split(100.0, 100, 30, True), split(100.0, 100, 30, False)
        ((70.0, 30.0), (0.0, 0.0))
    """
    if not accepted:
        return 0.0, 0.0
    return (granularity - offer) / granularity * pie, offer / granularity * pie


def fairness_index(proposer_share: float) -> float:
    """GLEE's fairness ``1 - 4 (p - 1/2)^2`` of a two-way split giving one side share ``p``.

    Example:
        >>> fairness_index(0.5), fairness_index(1.0), round(fairness_index(0.7), 2)
        (1.0, 0.0, 0.84)
    """
    return 1.0 - 4.0 * (proposer_share - 0.5) ** 2


class UltimatumGame(Game[UltimatumParams, UltimatumState, UltimatumView]):
    """Pure rules of the ultimatum and dictator games. See the module docstring."""

    info = GameInfo(
        name="Ultimatum",
        timing=Timing.SEQUENTIAL,
        description="Ultimatum game (or dictator game): a proposer splits a pie on a grid.",
        family="bargaining",
        reference="Gueth, Schmittberger & Schwarze 1982",
    )
    params_type = UltimatumParams
    num_players = 2
    observation_shape = (8,)

    def __init__(self, params: UltimatumParams | dict | None = None) -> None:
        super().__init__(params)
        respond = np.zeros(self.num_actions, dtype=bool)
        respond[ACCEPT] = True
        respond[REJECT] = not self.params.dictator
        respond.flags.writeable = False
        self._respond_mask = respond

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.granularity + 1

    def proposer(self, round_: int) -> int:
        """The player who proposes in a (1-based) round."""
        return (round_ - 1) % 2 if self.params.alternate_roles else 0

    def spe_offer(self) -> int:
        """Units offered in the benchmark SPE: the smallest positive unit, 0 as dictator."""
        return 0 if self.params.dictator else 1

    def initial_state(self, rng: np.random.Generator) -> UltimatumState:
        return UltimatumState(0, -1, (), (), (0.0, 0.0), Status.RUNNING)

    def to_move(self, state: UltimatumState) -> tuple[int, ...]:
        if state.status is not Status.RUNNING:
            return ()
        p = self.proposer(state.played + 1)
        return (p,) if state.offer < 0 else (1 - p,)

    def legal_mask(self, state: UltimatumState, player: int) -> np.ndarray:
        if player not in self.to_move(state):
            return self._none_legal
        return self._all_legal if state.offer < 0 else self._respond_mask

    def step(self, state: UltimatumState, actions: tuple[int, ...], rng: np.random.Generator
             ) -> StepResult:
        (action,) = actions
        if state.offer < 0:  # the proposal goes on the table
            return StepResult(state._replace(offer=int(action)), (0.0, 0.0))
        p = self.params
        played = state.played + 1
        accepted = action == ACCEPT
        pay = split(p.pie, p.granularity, state.offer, accepted)
        rewards = [0.0, 0.0]
        proposer = self.proposer(played)
        rewards[proposer], rewards[1 - proposer] = pay
        totals = (state.totals[0] + rewards[0], state.totals[1] + rewards[1])
        status = Status.TERMINATED if played >= p.rounds else Status.RUNNING
        new = UltimatumState(played, -1, state.offers + (state.offer,),
                             state.accepted + (accepted,), totals, status)
        return StepResult(new, (rewards[0], rewards[1]))

    def view(self, state: UltimatumState, player: int) -> UltimatumView:
        p = self.params
        round_ = min(state.played + 1, p.rounds)
        movers = self.to_move(state)
        proposing = player in movers and state.offer < 0
        offer = state.offer if player in movers and state.offer >= 0 else -1
        last_offer = state.offers[-1] if state.offers else -1
        last_accepted = int(state.accepted[-1]) if state.accepted else -1
        role = 0 if self.proposer(round_) == player else 1
        return UltimatumView(round_, p.rounds, role, proposing, offer, last_offer,
                             last_accepted, p.granularity, p.pie, p.dictator,
                             state.status is not Status.RUNNING)

    def encode(self, state: UltimatumState, player: int) -> np.ndarray:
        v = self.view(state, player)
        g = v.granularity
        return np.array([
            state.played / v.rounds, float(v.proposing), float(v.offer_to_me >= 0),
            max(v.offer_to_me, 0) / g, max(v.last_offer, 0) / g, float(v.last_accepted == 1),
            float(v.dictator), float(v.my_role),
        ], dtype=np.float32)

    def returns(self, state: UltimatumState) -> tuple[float, ...]:
        return state.totals

    def spe_returns(self, rounds: int) -> tuple[float, float]:
        """Each player's total payoff when the benchmark SPE is played for ``rounds``."""
        p = self.params
        stage = split(p.pie, p.granularity, self.spe_offer(), True)
        totals = [0.0, 0.0]
        for r in range(1, rounds + 1):
            q = self.proposer(r)
            totals[q] += stage[0]
            totals[1 - q] += stage[1]
        return totals[0], totals[1]

    def _spe_distance(self, totals: tuple[float, float], rounds: int) -> float:
        """L1 distance of ``totals`` from the nearest totals of a stage SPE in every round.

        Each ultimatum round may play either stage SPE: one unit offered, or the tie at 0
        (offered and accepted). Taking the tie in ``a`` of player 0's proposing rounds and
        ``b`` of player 1's moves ``(a - b) * pie / g`` from player 1 to player 0, so only
        ``c = a - b`` matters. The dictator's SPE is unique (``c = 0``).
        """
        p = self.params
        s0, s1 = self.spe_returns(rounds)
        shifts = range(1)
        if not p.dictator:
            n0 = sum(self.proposer(r) == 0 for r in range(1, rounds + 1))
            shifts = range(n0 - rounds, n0 + 1)
        unit = p.pie / p.granularity
        return min(abs(totals[0] - s0 - c * unit) + abs(totals[1] - s1 + c * unit)
                   for c in shifts)

    def metrics(self, state: UltimatumState) -> dict[str, float]:
        p = self.params
        n = state.played
        r0, r1 = state.totals
        out = {"gain_0": float(r0), "gain_1": float(r1), "rounds": float(n)}
        if n == 0:
            return {**out, "efficiency": NAN, "fairness": NAN, "offer_share": NAN,
                    "accept_rate": NAN, "distance_to_benchmark": NAN}
        g, at_stake = p.granularity, p.pie * n
        # the proposed split's fairness: defined in every round, rejected or not
        fair = sum(fairness_index((g - k) / g) for k in state.offers) / n
        return {
            **out,
            "efficiency": sum(state.accepted) / n,  # = paid / at stake, without float noise
            "fairness": fair,
            "offer_share": sum(state.offers) / (g * n),
            "accept_rate": sum(state.accepted) / n,
            # L1 distance of the payoffs from the nearest SPE's, per unit of money at stake
            "distance_to_benchmark": self._spe_distance((r0, r1), n) / at_stake,
        }

    def benchmark(self) -> Benchmark:
        p = self.params
        g, pie = p.granularity, p.pie
        k = self.spe_offer()
        keep, give = split(pie, g, k, True)
        s0, s1 = self.spe_returns(p.rounds)
        values = {
            "spe_offer_units": float(k),
            "spe_offer_share": k / g,
            "spe_payoff_proposer": keep,
            "spe_payoff_responder": give,
            "spe_return_0": s0,
            "spe_return_1": s1,
            "optimum_welfare": pie * p.rounds,
        }
        if p.dictator:
            note = "The dictator keeps everything; any offer is efficient."
        else:
            values.update(spe_accept_zero_offer_units=0.0, spe_accept_zero_payoff_proposer=pie,
                          spe_accept_zero_payoff_responder=0.0)
            note = ("Responder accepts every positive offer, proposer offers one unit; the "
                    "tie at 0 gives a second SPE (spe_accept_zero_*) where 0 is offered and "
                    "accepted. Values are per round; spe_return_* sum them over all rounds "
                    "(one unit offered in each); distance_to_benchmark is to the nearest "
                    "SPE, any round may play the tie.")
        return Benchmark("subgame-perfect equilibrium", values, note)


SPECS = (
    EnvSpec("Ultimatum-v1", UltimatumGame, "agora.envs.games.ultimatum_text:UltimatumText",
            summary="Ultimatum game: split 100 on a 100-unit grid, the responder may reject",
            default_opponent="ultimatum_fair"),
    # Two rounds with swapped roles, so that each seat faces a choice of the other; the
    # one-shot game is {"rounds": 1}. (With one round player 0's Gymnasium episode would
    # be the same for every seed, which the conformance suite treats as an ignored seed.)
    EnvSpec("Dictator-v1", UltimatumGame, "agora.envs.games.ultimatum_text:UltimatumText",
            defaults={"dictator": True, "rounds": 2, "alternate_roles": True},
            summary="Dictator game: each player splits 100 once (roles swap); splits are final",
            default_opponent="dictator_fixed"),
)
