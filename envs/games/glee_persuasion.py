"""GLEE persuasion: repeated cheap talk between an informed seller and a buyer.

The persuasion family of GLEE (Shapira et al. 2024). Each of ``rounds`` rounds nature draws
the product's quality (high with probability ``p_high``, from the episode's rng). The seller
(Alice, player 0) sees it and recommends buying or not; the buyer (Bob, player 1) then buys
or not at the fixed ``price`` and learns the quality afterwards. A high-quality product is
worth ``value_high * price`` to the buyer, a low one ``value_low * price``
(``0 <= value_low <= 1 <= value_high``). With ``myopic`` a fresh buyer arrives every round
and sees only aggregate statistics of earlier rounds (how many bought, how many products
were high quality, how many of the bought ones were); otherwise one buyer plays every round
and sees the whole history. With ``message_mode="text"`` the seller's text answer carries a
free-text ``"message"`` (routed to the buyer by the cheap-talk channel) beside its
structured recommendation, and the buyer's view hides the structured recommendation, so the
buyer reads only the text, as in GLEE's free-text mode.

Players: 2, seller Alice (0) then buyer Bob (1) each round.
Actions: seller ``1`` recommend buying / ``0`` recommend not buying; buyer ``1`` buy /
``0`` not (always legal for the mover).
Observations: typed :class:`GleePersuasionView`; tensor: round progress, role, the quality
(seller only), the recommendation (buyer, binary mode), last round's outcome (not for a
myopic buyer), aggregate counts as fractions of the rounds, ``p_high``, ``value_low``,
``1 / value_high``, the myopic flag.
Payoffs: money, each round: the seller earns ``price`` per sale; the buyer
``(value - 1) * price`` when it buys, 0 otherwise.
Episode end: after ``rounds`` rounds.
Parameters: see :class:`GleePersuasionParams`.
Metrics (GLEE, exact; NaN on a zero denominator): with ``n`` high-quality rounds, ``k``
high-quality items bought, ``r`` low-quality items not bought and ``R`` rounds:
``efficiency = k / n``, ``fairness = r / (R - n)``, seller gain ``gain_0 = deals / R``;
``gain_1`` is the buyer's payoff per round in units of the price (not a GLEE metric);
``distance_to_benchmark = |gain_0 - commitment seller gain|``.
Benchmark: the buyer buys iff its posterior ``mu`` of high quality reaches
``mu* = (1 - c) / (v - c)``. Bayesian persuasion (the seller commits): recommend buying for
high quality always and for low quality with probability
``q* = min(1, p (v - 1) / ((1 - p) (1 - c)))``, which makes the buyer exactly indifferent
after a recommendation to buy; seller gain ``p + (1 - p) q* = min(1, p / mu*)``. Babbling
equilibrium of cheap talk: recommendations carry no information, the buyer buys iff
``p v + (1 - p) c >= 1``, seller gain 1 or 0. Full revelation: seller gain ``p``,
efficiency and fairness 1.
Reference: Shapira et al. (2024), GLEE; Kamenica & Gentzkow (2011), AER 101(6); Crawford &
Sobel (1982), Econometrica 50(6).
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

BUY, NO = 1, 0  # seller: recommend buying / not; buyer: buy / not
SELLER, BUYER = 0, 1
MESSAGE_MODES = ("binary", "text")
FRAMINGS = ("product", "neutral", "advisor")
"""Text wordings: GLEE's seller and product; neutral sender and receiver; a financial
advisor recommending an investment."""

NAN = float("nan")
_TOL = 1e-12  # float slack at the knife edges p = mu* and p v + (1 - p) c = 1


@dataclass(frozen=True)
class GleePersuasionParams(Params):
    """Numbers of a GLEE persuasion game (GLEE's grid: p in {1/3, .5, .8}, c = 0,
    v in {1.2, 1.25, 2, 3, 4}, 20 to 25 rounds).

    Attributes:
        p_high: probability ``p`` that a round's product is of high quality, in (0, 1).
        value_high: ``v``, a high-quality product's worth to the buyer in prices (>= 1).
        value_low: ``c``, a low-quality product's worth in prices, in [0, 1].
        price: the fixed price (the seller's revenue per sale).
        rounds: number of rounds ``R``.
        myopic: a fresh buyer each round who sees only aggregate statistics.
        message_mode: ``"binary"`` (structured recommendation) or ``"text"`` (free text).
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    p_high: float = 1 / 3
    value_high: float = 2.0
    value_low: float = 0.0
    price: float = 100.0
    rounds: int = 20
    myopic: bool = False
    message_mode: str = "binary"
    framing: str = "product"

    def validate(self) -> None:
        require(is_real(self.p_high) and 0 < self.p_high < 1, "p_high", self.p_high,
                "must be a probability in (0, 1)")
        require(is_real(self.value_low) and 0 <= self.value_low <= 1, "value_low",
                self.value_low, "must be a number in [0, 1]")
        require(is_real(self.value_high) and self.value_high >= 1
                and self.value_high > self.value_low, "value_high", self.value_high,
                "must be a number >= 1 and above value_low")
        require(is_real(self.price) and self.price > 0, "price", self.price,
                "must be a positive number")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(isinstance(self.myopic, bool), "myopic", self.myopic, "must be true or false")
        require(self.message_mode in MESSAGE_MODES, "message_mode", self.message_mode,
                f"must be one of {MESSAGE_MODES}")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class GleePersuasionState(NamedTuple):
    round: int  # 1-based
    quality: int  # this round's quality: 1 high, 0 low
    recommendation: int  # the seller's this round, -1 before it speaks
    history: tuple[tuple[int, int, int], ...]  # (recommendation, bought, quality) per round
    status: Status


class Aggregates(NamedTuple):
    """Counts over the finished rounds (what a myopic buyer sees)."""

    rounds: int
    purchases: int
    high: int  # rounds whose product was of high quality
    purchases_high: int  # purchases that turned out high quality


class GleePersuasionView(NamedTuple):
    """One player's view. ``quality`` is the seller's alone (-1 for the buyer);
    ``recommendation`` is -1 before the seller speaks and, for the buyer, in text mode;
    ``history`` is ``()`` for a myopic buyer (its recommendations are -1 in text mode)."""

    player: int
    round: int
    rounds: int
    price: float
    p_high: float
    value_high: float
    value_low: float
    quality: int
    recommendation: int
    history: tuple[tuple[int, int, int], ...]
    past: Aggregates
    myopic: bool
    text_mode: bool
    over: bool


def aggregates(history: tuple[tuple[int, int, int], ...]) -> Aggregates:
    """The counts a myopic buyer sees, from a full history."""
    return Aggregates(len(history), sum(b for _, b, _ in history),
                      sum(q for _, _, q in history), sum(b * q for _, b, q in history))


def glee_persuasion_metrics(history: tuple[tuple[int, int, int], ...]) -> dict[str, float]:
    """GLEE's metrics from ``(recommendation, bought, quality)`` rows (NaN on 0 / 0).

    Example:
        >>> m = glee_persuasion_metrics(((1, 1, 1), (1, 1, 0), (0, 0, 0), (1, 0, 1)))
        >>> m["efficiency"], m["fairness"], m["gain_0"]
        (0.5, 0.5, 0.5)
    """
    big_r = len(history)
    n = sum(q for _, _, q in history)
    k = sum(b * q for _, b, q in history)
    r = sum((1 - b) * (1 - q) for _, b, q in history)
    deals = sum(b for _, b, _ in history)
    honest = sum(rec == q for rec, _, q in history)
    return {
        "rounds": float(big_r),
        "high_rounds": float(n),
        "high_bought": float(k),
        "low_declined": float(r),
        "deals": float(deals),
        "efficiency": k / n if n else NAN,
        "fairness": r / (big_r - n) if big_r - n else NAN,
        "gain_0": deals / big_r if big_r else NAN,
        "honesty": honest / big_r if big_r else NAN,
    }


def persuasion_values(p: float, v: float, c: float) -> dict[str, float]:
    """Threshold, commitment and babbling values for prior ``p`` and values ``v``, ``c``.

    Example:
        >>> vals = persuasion_values(1 / 3, 2.0, 0.0)
        >>> [round(vals[k], 4) for k in ("mu_star", "q_star", "seller_gain_commitment")]
        [0.5, 0.5, 0.6667]
    """
    mu = (1 - c) / (v - c)
    q = 1.0 if c >= 1 else p * (v - 1) / ((1 - p) * (1 - c))
    q = 1.0 if q >= 1 - _TOL else q  # p >= mu*: the prior already sells
    prior_value = p * v + (1 - p) * c
    babble = float(prior_value >= 1 - _TOL)
    return {
        "mu_star": mu,
        "q_star": q,
        "seller_gain_commitment": p + (1 - p) * q,
        "buyer_gain_commitment": p * (v - 1) + (1 - p) * q * (c - 1),
        "fairness_commitment": 1 - q,
        "efficiency_commitment": 1.0,
        "seller_gain_babbling": babble,
        "buyer_gain_babbling": prior_value - 1 if babble else 0.0,
        "seller_gain_full_revelation": p,
        "buyer_gain_full_revelation": p * (v - 1),
    }


class GleePersuasionGame(Game[GleePersuasionParams, GleePersuasionState, GleePersuasionView]):
    """Pure rules of GLEE persuasion. See the module docstring."""

    info = GameInfo(
        name="GleePersuasion",
        timing=Timing.SEQUENTIAL,
        description="GLEE repeated cheap talk: an informed seller recommends, a buyer buys.",
        family="persuasion",
        reference="Shapira et al. 2024 (GLEE); Kamenica & Gentzkow 2011",
    )
    params_type = GleePersuasionParams
    num_players = 2
    num_actions = 2
    always_legal = True
    observation_shape = (19,)

    def __init__(self, params: GleePersuasionParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._values = persuasion_values(p.p_high, p.value_high, p.value_low)

    def _draw(self, rng: np.random.Generator) -> int:
        return int(rng.random() < self.params.p_high)

    def initial_state(self, rng: np.random.Generator) -> GleePersuasionState:
        return GleePersuasionState(1, self._draw(rng), -1, (), Status.RUNNING)

    def to_move(self, state: GleePersuasionState) -> tuple[int, ...]:
        if state.status is not Status.RUNNING:
            return ()
        return (SELLER,) if state.recommendation < 0 else (BUYER,)

    def step(self, state: GleePersuasionState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        (action,) = actions
        if state.recommendation < 0:
            return StepResult(state._replace(recommendation=action), (0.0, 0.0))
        rewards = self._round_rewards(action, state.quality)
        history = (*state.history, (state.recommendation, action, state.quality))
        if state.round >= self.params.rounds:
            return StepResult(state._replace(history=history, status=Status.TERMINATED), rewards)
        return StepResult(GleePersuasionState(state.round + 1, self._draw(rng), -1, history,
                                              Status.RUNNING), rewards)

    def _round_rewards(self, bought: int, quality: int) -> tuple[float, float]:
        p = self.params
        if not bought:
            return (0.0, 0.0)
        worth = p.value_high if quality else p.value_low
        return (p.price, (worth - 1) * p.price)

    def view(self, state: GleePersuasionState, player: int) -> GleePersuasionView:
        p = self.params
        text = p.message_mode == "text"
        history = state.history
        rec = state.recommendation
        if player == BUYER:
            if text:
                rec = -1
                history = tuple((-1, b, q) for _, b, q in history)
            if p.myopic:
                history = ()
        return GleePersuasionView(
            player, state.round, p.rounds, p.price, p.p_high, p.value_high, p.value_low,
            state.quality if player == SELLER else -1, rec, history,
            aggregates(state.history), p.myopic, text, state.status is not Status.RUNNING)

    def encode(self, state: GleePersuasionState, player: int) -> np.ndarray:
        v = self.view(state, player)
        full = player == SELLER or not v.myopic
        last = state.history[-1] if state.history and full else (-1, 0, 0)
        rec_known = [r for r, _, _ in v.history if r >= 0]
        rec_buy_high = sum(q for r, _, q in v.history if r == BUY)
        big_r = v.rounds
        return np.array([
            (v.round - 1) / big_r,
            float(player == SELLER),
            float(player in self.to_move(state)),
            float(v.quality == 1),
            float(v.quality >= 0),
            float(v.recommendation == BUY),
            float(v.recommendation >= 0),
            float(last[1]),
            float(last[2]),
            float(last[0] == BUY and (player == SELLER or not v.text_mode)),
            v.past.purchases / big_r,
            v.past.high / big_r,
            v.past.purchases_high / big_r,
            sum(r == BUY for r in rec_known) / big_r,
            rec_buy_high / big_r,
            v.p_high,
            v.value_low,
            1.0 / v.value_high,
            float(v.myopic),
        ], dtype=np.float32)

    def returns(self, state: GleePersuasionState) -> tuple[float, ...]:
        totals = [0.0, 0.0]
        for _, bought, quality in state.history:
            for i, r in enumerate(self._round_rewards(bought, quality)):
                totals[i] += r
        return (totals[0], totals[1])

    def metrics(self, state: GleePersuasionState) -> dict[str, float]:
        out = glee_persuasion_metrics(state.history)
        big_r = len(state.history)
        buyer = self.returns(state)[1]
        out["gain_1"] = buyer / (big_r * self.params.price) if big_r else NAN
        out["distance_to_benchmark"] = abs(out["gain_0"] - self._values["seller_gain_commitment"])
        return out

    def benchmark(self) -> Benchmark:
        return Benchmark(
            "Bayesian persuasion (seller commitment) and the babbling equilibrium",
            dict(self._values),
            "Commitment: recommend buying for high quality always and for low quality with "
            "probability q_star; the obedient buyer is then indifferent after 'buy'. Gains "
            "are per round (seller: sales per round; buyer: surplus in prices per round).",
        )


SPECS = (
    EnvSpec("GleePersuasion-v1", GleePersuasionGame,
            "agora.envs.games.glee_persuasion_text:GleePersuasionText",
            summary="GLEE repeated cheap talk: an informed seller recommends, a buyer buys",
            default_opponent=("glee_persuasion_optimal_seller", "glee_bayesian_buyer")),
)
