"""Trust (investment) game: an investor entrusts tokens, the trustee chooses what to return.

The investor holds an endowment ``E`` and sends ``x`` of it to the trustee; the amount is
multiplied by ``multiplier`` (``m``) on the way. The trustee then returns ``y`` whole tokens
of the ``m x`` it holds and keeps the rest.

Players: 2; player 0 is the investor, player 1 the trustee.
Actions: the investor sends ``x`` in ``0..E``; the trustee returns ``y`` in
``0..floor(m x)`` (masked; with ``x = 0`` its only legal move is 0).
Observations: typed :class:`TrustView`; tensor: whose turn, the amount sent (fraction of
``E``), the amount returned (fraction of ``floor(m E)``) and the player's role.
Payoffs: investor ``E - x + y``, trustee ``m x - y``, paid when the trustee answers; they
sum to ``E + (m - 1) x``.
Metrics: ``gain_i`` (money), ``efficiency`` (welfare / ``max(E, m E)``), ``fairness``
(``1 - 4 (p - 1/2)^2``, ``p`` the investor's share of welfare), ``trust_rate`` ``x / E``,
``return_ratio`` ``y / (m x)`` (0 when ``x = 0``), ``sent``, ``returned`` and
``distance_to_benchmark`` (L1 distance of the payoffs from ``(E, 0)`` per optimum welfare).
Episode end: after the trustee's answer.
Parameters: ``endowment`` (``E``), ``multiplier`` (``m``), ``framing``.
Benchmark: the subgame-perfect equilibrium of selfish players: the trustee returns 0
whatever it holds, so the investor sends 0 (payoffs ``E`` and 0). The social optimum with
``m > 1`` sends everything (welfare ``m E``).
Reference: Berg, Dickhaut & McCabe (1995), GEB 10(1); fairness index from GLEE
(Shapira et al. 2024).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

import math
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
from agora.envs.games.public_goods import range_values
from agora.envs.games.ultimatum import fairness_index
from agora.envs.spec import EnvSpec

NAN = float("nan")

FRAMINGS = ("neutral", "story", "loaded")
"""Text-face wordings: neutral players and tokens; a story of an investor and an
entrepreneur; loaded words ("trust", "honour", "betray")."""


@dataclass(frozen=True)
class TrustParams(Params):
    """Numbers of a trust game.

    Attributes:
        endowment: whole tokens the investor starts with (``E``).
        multiplier: factor applied to the tokens sent (``m``).
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    endowment: int = 10
    multiplier: float = 3.0
    framing: str = "neutral"

    def validate(self) -> None:
        require(is_int(self.endowment) and self.endowment >= 1, "endowment", self.endowment,
                "must be a positive integer")
        require(is_real(self.multiplier) and self.multiplier > 0, "multiplier",
                self.multiplier, "must be a positive number")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class TrustState(NamedTuple):
    sent: int  # -1 until the investor has moved
    returned: int  # -1 until the trustee has moved
    status: Status


class TrustView(NamedTuple):
    """One player's view: role, whose turn, the numbers and what has happened so far."""

    role: int  # 0 investor, 1 trustee
    investing: bool  # it is my turn to send
    returning: bool  # it is my turn to return
    endowment: int
    multiplier: float
    sent: int  # -1 until sent
    max_return: int  # floor(m * sent), -1 until sent
    returned: int  # -1 until returned
    over: bool


def max_return(multiplier: float, sent: int) -> int:
    """Whole tokens the trustee can return: ``floor(m x)`` (robust to float rounding).

    Example:
        >>> max_return(3.0, 4), max_return(1.1, 10), max_return(0.5, 1)
        (12, 11, 0)
    """
    return math.floor(multiplier * sent + 1e-9)


def trust_payoffs(endowment: int, multiplier: float, sent: int, returned: int
                  ) -> tuple[float, float]:
    """(investor, trustee) payoffs: ``(E - x + y, m x - y)``.

    Example:
        >>> trust_payoffs(10, 3.0, 5, 6)
        (11.0, 9.0)
    """
    return float(endowment - sent + returned), float(multiplier * sent - returned)


class TrustGame(Game[TrustParams, TrustState, TrustView]):
    """Pure rules of the trust game. See the module docstring."""

    info = GameInfo(
        name="Trust",
        timing=Timing.SEQUENTIAL,
        description="Trust (investment) game: send x of E, it is multiplied, some comes back.",
        family="social dilemmas",
        reference="Berg, Dickhaut & McCabe 1995",
    )
    params_type = TrustParams
    num_players = 2
    observation_shape = (5,)

    def __init__(self, params: TrustParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._cap = max_return(p.multiplier, p.endowment)
        self._invest_mask = self._range_mask(p.endowment)
        self._return_masks = tuple(self._range_mask(max_return(p.multiplier, x))
                                   for x in range(p.endowment + 1))

    def _range_mask(self, high: int) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=bool)
        mask[:high + 1] = True
        mask.flags.writeable = False
        return mask

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        p = self.params
        return max(p.endowment, max_return(p.multiplier, p.endowment)) + 1

    def initial_state(self, rng: np.random.Generator) -> TrustState:
        return TrustState(-1, -1, Status.RUNNING)

    def to_move(self, state: TrustState) -> tuple[int, ...]:
        if state.status is not Status.RUNNING:
            return ()
        return (0,) if state.sent < 0 else (1,)

    def legal_mask(self, state: TrustState, player: int) -> np.ndarray:
        if player not in self.to_move(state):
            return self._none_legal
        return self._invest_mask if player == 0 else self._return_masks[state.sent]

    def step(self, state: TrustState, actions: tuple[int, ...], rng: np.random.Generator
             ) -> StepResult:
        (action,) = actions
        if state.sent < 0:
            return StepResult(state._replace(sent=int(action)), (0.0, 0.0))
        p = self.params
        rewards = trust_payoffs(p.endowment, p.multiplier, state.sent, int(action))
        return StepResult(TrustState(state.sent, int(action), Status.TERMINATED), rewards)

    def view(self, state: TrustState, player: int) -> TrustView:
        p = self.params
        movers = self.to_move(state)
        cap = max_return(p.multiplier, state.sent) if state.sent >= 0 else -1
        return TrustView(player, player == 0 and player in movers,
                         player == 1 and player in movers, p.endowment, p.multiplier,
                         state.sent, cap, state.returned, state.status is not Status.RUNNING)

    def encode(self, state: TrustState, player: int) -> np.ndarray:
        p = self.params
        movers = self.to_move(state)
        sent = max(state.sent, 0) / p.endowment
        returned = max(state.returned, 0) / max(self._cap, 1)
        return np.array([float(0 in movers), float(1 in movers), sent, returned, float(player)],
                        dtype=np.float32)

    def returns(self, state: TrustState) -> tuple[float, ...]:
        if state.returned < 0:
            return (0.0, 0.0)
        p = self.params
        return trust_payoffs(p.endowment, p.multiplier, state.sent, state.returned)

    def optimum_welfare(self) -> float:
        """Most total payoff any play reaches: ``max(E, m E)``."""
        p = self.params
        return p.endowment * max(1.0, p.multiplier)

    def metrics(self, state: TrustState) -> dict[str, float]:
        p = self.params
        g0, g1 = self.returns(state)
        trust_rate = state.sent / p.endowment if state.sent >= 0 else NAN
        out = {"gain_0": g0, "gain_1": g1, "trust_rate": trust_rate,
               "sent": float(state.sent) if state.sent >= 0 else NAN,
               "returned": float(state.returned) if state.returned >= 0 else NAN}
        if state.returned < 0:
            return {**out, "efficiency": NAN, "fairness": NAN, "return_ratio": NAN,
                    "distance_to_benchmark": NAN}
        optimum = self.optimum_welfare()
        x, y = state.sent, state.returned
        return {
            **out,
            "efficiency": (g0 + g1) / optimum,
            "fairness": fairness_index(g0 / (g0 + g1)),
            # 0 when nothing was sent (not NaN: NaN in a final info breaks gymnasium's
            # determinism check, which compares infos with ==)
            "return_ratio": y / (p.multiplier * x) if x > 0 else 0.0,
            # L1 distance of the payoffs from the SPE payoffs (E, 0), per optimum welfare
            "distance_to_benchmark": (abs(g0 - p.endowment) + abs(g1)) / optimum,
        }

    def benchmark(self) -> Benchmark:
        p = self.params
        e, m = p.endowment, p.multiplier
        return Benchmark(
            "subgame-perfect equilibrium",
            {
                "spe_send": 0.0,
                "spe_return": 0.0,
                "spe_payoff_investor": float(e),
                "spe_payoff_trustee": 0.0,
                # welfare E + (m - 1) x: at m = 1 every send is optimal
                **range_values("optimum_send", (0.0, 0.0) if m < 1 else (float(e),) * 2
                               if m > 1 else (0.0, float(e))),
                "optimum_welfare": self.optimum_welfare(),
            },
            "A selfish trustee returns nothing, so the investor sends nothing; with m > 1 "
            "sending everything maximises welfare (m E), however it is then split.",
        )


SPECS = (
    EnvSpec("Trust-v1", TrustGame, "agora.envs.games.trust_text:TrustText",
            summary="Trust game: invest x of 10, tripled, the trustee returns y",
            default_opponent="trust_reciprocator"),
)
