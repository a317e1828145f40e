"""The donor game of indirect reciprocity, played by a population (Vallinder & Hughes 2024).

``n_agents`` agents start with ``endowment`` units each; resources carry over from round to
round. Every round the agents are matched in donor/recipient pairs. A donor gives ``x``
units (on a grid of ``1 / granularity``, at most its own resources and ``max_donation``): it
loses ``x`` and the recipient gains ``multiplier * x``. Before deciding, the donor sees the
recipient's resources and its *trace*: the recipient's last action as a donor, that
partner's action before it, and so on, ``trace_depth`` links deep (the paper's
indirect-reciprocity information). Optional mechanisms: costly ``punishment`` (spend ``x``
to remove ``punishment_loss * x`` from the recipient, never below 0) and ``partner_choice``
(refuse to play).

Pairings (``schedule``): ``"round_robin"`` is the paper's bipartite round robin (see
:func:`round_robin_schedule`): two halves, ``n_agents`` rounds, every agent meets every
member of the other half once as donor and once as recipient. ``"random"`` draws a fresh
random matching with random roles each round from the episode's rng (odd ``n_agents``: one
agent sits out). The schedule is a pure function of slots; a population runner maps its
agent identities onto slots (``names`` labels them in the text face) and reads
``resources_<i>`` from the metrics.

Players: ``n_agents`` slots. The donors act one at a time (AEC), pairs in schedule order.
Every agent is in at most one pair per round, so this is information-equivalent to the
paper's simultaneous pairs, and the turn-based API needs no dummy moves for recipients.
Actions: ``0..K`` donate ``a / granularity`` units (``K = max_donation * granularity``);
with punishment ``K + k`` punishes with ``k / granularity`` units (``k >= 1``); with partner
choice the last action refuses. Masked to what the donor can afford.
Observations: typed :class:`DonorView`; tensor: round progress, whether donating, own and
recipient resources squashed to ``r / (r + endowment)``, affordable share of ``K``, and per
trace link (presence, donated fraction, punishing fraction, refusal).
Payoffs: the change in resources at each step (donor ``-x``, recipient ``+multiplier x``, or
``-removed`` when punished); returns are the gains, final holdings are
``endowment + gain`` (metrics ``resources_<i>``).
Episode end: after ``rounds`` rounds (0: one full schedule, ``n_agents`` rounds).
Benchmark: giving is a pure cost and the horizon is finite, so backward induction gives a
unique subgame-perfect equilibrium: nobody donates and every agent ends with the
endowment. Full cooperation (every donor gives the most it can every time) maximises total
welfare ``initial + (multiplier - 1) * donated`` when ``multiplier > 1`` (a unit given now
can still be passed on later; the tests check it against a linear program over all plans).
Its value is computed on the schedule: with the defaults 6120 (184320 without the
``max_donation`` cap) against 120 at the equilibrium.
Reference: Vallinder & Hughes (2024), Cultural Evolution of Cooperation among LLM Agents,
arXiv:2412.10270; Nowak & Sigmund (1998), Nature 393; Sugden (1986).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    fairness,
    gains,
    is_int,
    is_real,
    require,
)
from agora.envs.spec import EnvSpec

SCHEDULES = ("round_robin", "random")
FRAMINGS = ("neutral", "neighbours", "economics")
"""Text-face wordings: the paper's donor setup, favours between neighbours, or explicit
economics (transfers, cost, surplus). The rules do not change."""

DONATE, PUNISH, REFUSE = "donate", "punish", "refuse"
_EPS = 1e-9

Pair = tuple[int, int]  # (donor, recipient)
Schedule = tuple[tuple[Pair, ...], ...]


@dataclass(frozen=True)
class DonorParams(Params):
    """Numbers of a donor game.

    Attributes:
        n_agents: population size (even for the round robin).
        endowment: units every agent starts with.
        multiplier: what the recipient gets per unit donated.
        schedule: ``"round_robin"`` (the paper's) or ``"random"`` matchings.
        rounds: rounds played; 0 means one full schedule (``n_agents`` rounds). A longer
            round robin repeats itself.
        trace_depth: links of the recipient's trace a donor sees (0: none).
        granularity: grid steps per unit (donations are multiples of ``1 / granularity``).
        max_donation: the largest single donation or punishment, in units (keeps the
            action set finite while resources grow).
        punishment: whether a donor may punish instead of donating.
        punishment_loss: units removed from the recipient per unit spent on punishment.
        partner_choice: whether a donor may refuse to play.
        framing: wording of the text face, one of :data:`FRAMINGS`.
        names: labels of the slots in the text face (empty: numbered agents).
    """

    n_agents: int = 12
    endowment: int = 10
    multiplier: float = 2.0
    schedule: str = "round_robin"
    rounds: int = 0
    trace_depth: int = 3
    granularity: int = 1
    max_donation: int = 100
    punishment: bool = False
    punishment_loss: float = 2.0
    partner_choice: bool = False
    framing: str = "neutral"
    names: tuple[str, ...] = ()

    def validate(self) -> None:
        require(self.schedule in SCHEDULES, "schedule", self.schedule,
                f"must be one of {SCHEDULES}")
        require(is_int(self.n_agents) and self.n_agents >= 2, "n_agents", self.n_agents,
                "must be an integer >= 2")
        require(self.schedule != "round_robin" or self.n_agents % 2 == 0, "n_agents",
                self.n_agents, "must be even for the round-robin schedule")
        require(is_int(self.endowment) and self.endowment >= 1, "endowment", self.endowment,
                "must be a positive integer")
        require(is_real(self.multiplier) and self.multiplier > 0, "multiplier",
                self.multiplier, "must be a positive number")
        require(is_int(self.rounds) and self.rounds >= 0, "rounds", self.rounds,
                "must be an integer >= 0 (0: one full schedule)")
        require(is_int(self.trace_depth) and self.trace_depth >= 0, "trace_depth",
                self.trace_depth, "must be an integer >= 0")
        require(is_int(self.granularity) and 1 <= self.granularity <= 1000, "granularity",
                self.granularity, "must be an integer in 1..1000")
        require(is_int(self.max_donation) and self.max_donation >= 1, "max_donation",
                self.max_donation, "must be a positive integer")
        for flag in ("punishment", "partner_choice"):
            require(isinstance(getattr(self, flag), bool), flag, getattr(self, flag),
                    "must be true or false")
        require(is_real(self.punishment_loss) and self.punishment_loss > 0, "punishment_loss",
                self.punishment_loss, "must be a positive number")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")
        names = self.names
        require(isinstance(names, tuple) and all(isinstance(s, str) and s.strip() for s in names)
                and len(names) in (0, self.n_agents) and len(set(names)) == len(names),
                "names", names, "must be empty or n_agents distinct non-empty strings")


class DonorEvent(NamedTuple):
    """One donor decision: who acted on whom, how, with how much, and the change in the
    recipient's resources (``multiplier * amount``, ``-removed`` or 0).

    ``fraction`` is ``amount`` over what the donor could give: its resources, at most
    ``max_donation`` (1 when it could afford nothing, as in the paper; 0 for a refusal).
    """

    round: int  # 1-based
    donor: int
    recipient: int
    kind: str  # DONATE, PUNISH or REFUSE
    amount: float
    fraction: float
    effect: float


class DonorState(NamedTuple):
    schedule: Schedule  # one tuple of (donor, recipient) pairs per round
    round: int  # 0-based index of the current round
    pair: int  # index of the acting pair within the round
    resources: tuple[float, ...]
    history: tuple[DonorEvent, ...]
    status: Status


class DonorView(NamedTuple):
    """One agent's view. Outside its turn ``recipient`` is -1 and the trace is empty."""

    round: int  # 1-based
    rounds: int
    donating: bool
    donor: int  # who acts now (-1 once over)
    recipient: int
    my_resources: float
    recipient_resources: float  # -1.0 when not donating
    recipient_trace: tuple[DonorEvent, ...]  # most recent first
    affordable: int  # grid units this agent may give now (0 when not donating)
    granularity: int


def round_robin_schedule(n: int) -> Schedule:
    """The paper's pairing: a bipartite round robin with alternating roles, then reversed.

    Halves ``A = 0..n/2-1`` and ``B = n/2..n-1``. In round ``i < n/2``, ``A[j]`` meets
    ``B[(j - i) % (n/2)]``; ``A`` donates in even rounds and ``B`` in odd ones. Rounds
    ``n/2..n-1`` repeat those pairs with donor and recipient swapped.

    Example:
        >>> round_robin_schedule(4)
        (((0, 2), (1, 3)), ((3, 0), (2, 1)), ((2, 0), (3, 1)), ((0, 3), (1, 2)))
    """
    half = n // 2
    first = []
    for i in range(half):
        pairs = tuple((j, half + (j - i) % half) for j in range(half))
        first.append(pairs if i % 2 == 0 else tuple((b, a) for a, b in pairs))
    return tuple(first) + tuple(tuple((b, a) for a, b in pairs) for pairs in first)


def random_schedule(n: int, rounds: int, rng: np.random.Generator) -> Schedule:
    """``rounds`` random matchings: shuffle, pair neighbours, the first of each pair donates."""
    out = []
    for _ in range(rounds):
        order = rng.permutation(n).tolist()
        out.append(tuple((order[k], order[k + 1]) for k in range(0, n - 1, 2)))
    return tuple(out)


def build_trace(history: Sequence[DonorEvent], agent: int, depth: int,
                before: int | None = None) -> tuple[DonorEvent, ...]:
    """The trace of ``agent``: its last action as donor, that partner's previous action, ...

    Only events before index ``before`` of ``history`` count (default: all), and each link
    looks only at events before the one it follows. At most ``depth`` links, most recent
    first.
    """
    trace: list[DonorEvent] = []
    end = len(history) if before is None else before
    while len(trace) < depth:
        k = next((i for i in range(end - 1, -1, -1) if history[i].donor == agent), -1)
        if k < 0:
            break
        trace.append(history[k])
        agent, end = history[k].recipient, k
    return tuple(trace)


def full_cooperation(schedule: Schedule, n: int, endowment: float, multiplier: float,
                     cap_units: int, granularity: int) -> tuple[float, float]:
    """(total welfare, total donated) when every donor gives the most it can, every time."""
    res = [float(endowment)] * n
    donated = 0.0
    for pairs in schedule:
        for d, r in pairs:
            x = min(cap_units, math.floor(res[d] * granularity + _EPS)) / granularity
            res[d] -= x
            res[r] += multiplier * x
            donated += x
    return sum(res), donated


class DonorGame(Game[DonorParams, DonorState, DonorView]):
    """Pure rules of the population donor game. See the module docstring."""

    info = GameInfo(
        name="DonorGame",
        timing=Timing.SEQUENTIAL,
        description="Population donor game of indirect reciprocity with traces of past play.",
        family="social dilemmas",
        reference="Vallinder & Hughes 2024; Nowak & Sigmund 1998",
    )
    params_type = DonorParams

    def __init__(self, params: DonorParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self.cap_units = p.max_donation * p.granularity
        self.refuse_action = self.cap_units * (2 if p.punishment else 1) + 1
        self.num_rounds = p.rounds or p.n_agents
        base = round_robin_schedule(p.n_agents) if p.schedule == "round_robin" else ()
        self._round_robin = tuple(base[r % len(base)] for r in range(self.num_rounds) if base)
        self._masks: dict[int, np.ndarray] = {}

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_agents

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        p = self.params
        cap = p.max_donation * p.granularity
        return cap * (2 if p.punishment else 1) + 1 + (1 if p.partner_choice else 0)

    @property
    def observation_shape(self) -> tuple[int, ...]:  # type: ignore[override]
        return (5 + 4 * self.params.trace_depth,)

    # ----- actions ---------------------------------------------------------------
    def decode_action(self, action: int) -> tuple[str, int]:
        """``(kind, grid units)`` of an action index."""
        if action <= self.cap_units:
            return DONATE, action
        if self.params.partner_choice and action == self.refuse_action:
            return REFUSE, 0
        return PUNISH, action - self.cap_units

    def encode_action(self, kind: str, units: int = 0) -> int:
        """The action index of ``(kind, grid units)`` (the inverse of :meth:`decode_action`)."""
        if kind == REFUSE:
            return self.refuse_action
        return units + (self.cap_units if kind == PUNISH else 0)

    def affordable(self, resources: float) -> int:
        """Grid units an agent holding ``resources`` may give (capped by ``max_donation``)."""
        return min(self.cap_units, math.floor(resources * self.params.granularity + _EPS))

    def legal_mask(self, state: DonorState, player: int) -> np.ndarray:
        if player not in self.to_move(state):
            return self._none_legal
        units = self.affordable(state.resources[player])
        mask = self._masks.get(units)
        if mask is None:
            mask = np.zeros(self.num_actions, dtype=bool)
            mask[: units + 1] = True
            if self.params.punishment:
                mask[self.cap_units + 1: self.cap_units + units + 1] = True
            if self.params.partner_choice:
                mask[self.refuse_action] = True
            mask.flags.writeable = False
            self._masks[units] = mask
        return mask

    # ----- dynamics --------------------------------------------------------------
    def initial_state(self, rng: np.random.Generator) -> DonorState:
        p = self.params
        schedule = self._round_robin if p.schedule == "round_robin" else random_schedule(
            p.n_agents, self.num_rounds, rng)
        return DonorState(schedule, 0, 0, (float(p.endowment),) * p.n_agents, (),
                          Status.RUNNING)

    def current_pair(self, state: DonorState) -> Pair | None:
        """``(donor, recipient)`` acting now, ``None`` once the game is over."""
        if state.status is not Status.RUNNING:
            return None
        return state.schedule[state.round][state.pair]

    def to_move(self, state: DonorState) -> tuple[int, ...]:
        pair = self.current_pair(state)
        return () if pair is None else (pair[0],)

    def step(self, state: DonorState, actions: tuple[int, ...], rng: np.random.Generator
             ) -> StepResult:
        (action,) = actions
        p = self.params
        donor, recipient = state.schedule[state.round][state.pair]
        kind, units = self.decode_action(action)
        x = units / p.granularity
        res = list(state.resources)
        before = res[donor]
        fraction = x / min(before, p.max_donation) if self.affordable(before) > 0 else 1.0
        rewards = [0.0] * p.n_agents
        if kind == REFUSE:
            effect = fraction = 0.0
        else:
            effect = (p.multiplier * x if kind == DONATE
                      else -min(p.punishment_loss * x, res[recipient]))
            res[donor], res[recipient] = max(0.0, before - x), res[recipient] + effect
            rewards[donor], rewards[recipient] = -x, effect
        event = DonorEvent(state.round + 1, donor, recipient, kind, x, fraction, effect)
        pair, round_ = state.pair + 1, state.round
        if pair == len(state.schedule[round_]):
            pair, round_ = 0, round_ + 1
        status = Status.TERMINATED if round_ >= len(state.schedule) else Status.RUNNING
        new = DonorState(state.schedule, round_, pair, tuple(res), state.history + (event,),
                         status)
        return StepResult(new, tuple(rewards))


    # ----- faces -----------------------------------------------------------------
    def view(self, state: DonorState, player: int) -> DonorView:
        p = self.params
        pair = self.current_pair(state)
        mine = state.resources[player]
        round_ = min(state.round + 1, len(state.schedule))
        donor = -1 if pair is None else pair[0]
        if pair is None or pair[0] != player:
            return DonorView(round_, len(state.schedule), False, donor,
                             -1 if pair is None else pair[1], mine, -1.0, (), 0, p.granularity)
        rec = pair[1]
        trace = build_trace(state.history, rec, p.trace_depth)
        return DonorView(round_, len(state.schedule), True, donor, rec, mine,
                         state.resources[rec], trace, self.affordable(mine), p.granularity)

    def encode(self, state: DonorState, player: int) -> np.ndarray:
        v = self.view(state, player)
        e = float(self.params.endowment)
        out = np.zeros(self.observation_shape, dtype=np.float32)
        out[0] = (v.round - 1) / v.rounds if state.status is Status.RUNNING else 1.0
        out[2] = v.my_resources / (v.my_resources + e)
        if v.donating:
            out[1] = 1.0
            out[3] = v.recipient_resources / (v.recipient_resources + e)
            out[4] = v.affordable / self.cap_units
        for k, ev in enumerate(v.recipient_trace):
            slot = 5 + 4 * k
            out[slot] = 1.0
            if ev.kind == DONATE:
                out[slot + 1] = min(ev.fraction, 1.0)
            elif ev.kind == PUNISH:
                out[slot + 2] = min(ev.fraction, 1.0)
            else:
                out[slot + 3] = 1.0
        return out

    # ----- outcomes --------------------------------------------------------------
    def returns(self, state: DonorState) -> tuple[float, ...]:
        e = float(self.params.endowment)
        return tuple(r - e for r in state.resources)

    def optimum_welfare(self, schedule: Schedule) -> float:
        """Total welfare of full cooperation on ``schedule`` (or of no giving if better)."""
        p = self.params
        coop, _ = full_cooperation(schedule, p.n_agents, p.endowment, p.multiplier,
                                   self.cap_units, p.granularity)
        return max(coop, float(p.n_agents * p.endowment))

    def metrics(self, state: DonorState) -> dict[str, float]:
        moves = state.history
        fractions = [ev.fraction if ev.kind == DONATE else 0.0 for ev in moves]
        rate = float(np.mean(fractions)) if moves else float("nan")
        punished = [ev for ev in moves if ev.kind == PUNISH]
        welfare = float(sum(state.resources))
        fair = fairness(state.resources)
        return {
            **gains(self.returns(state)),
            **{f"resources_{i}": float(r) for i, r in enumerate(state.resources)},
            "rounds": float(state.round),
            "donation_rate": rate,
            "total_donated": float(sum(ev.amount for ev in moves if ev.kind == DONATE)),
            "total_welfare": welfare,
            "efficiency": welfare / self.optimum_welfare(state.schedule),
            "fairness": fair,
            "gini": 1.0 - fair,
            "punishment_spent": float(sum(ev.amount for ev in punished)),
            "punishment_removed": float(-sum(ev.effect for ev in punished)),
            "refusals": float(sum(ev.kind == REFUSE for ev in moves)),
            "distance_to_benchmark": rate,
        }

    def benchmark(self) -> Benchmark:
        p = self.params
        initial = float(p.n_agents * p.endowment)
        values = {"nash_donation": 0.0, "nash_gain": 0.0,
                  "nash_resources": float(p.endowment), "nash_welfare": initial}
        if p.schedule == "round_robin":
            sched = self._round_robin
            welfare, donated = full_cooperation(sched, p.n_agents, p.endowment, p.multiplier,
                                                self.cap_units, p.granularity)
            uncapped, _ = full_cooperation(sched, p.n_agents, p.endowment, p.multiplier,
                                           10**12, p.granularity)
            values |= {"full_cooperation_welfare": welfare,
                       "full_cooperation_donated": donated,
                       "full_cooperation_welfare_uncapped": uncapped,
                       "optimum_welfare": self.optimum_welfare(sched)}
        else:
            nan = float("nan")
            values |= {"full_cooperation_welfare": nan, "full_cooperation_donated": nan,
                       "full_cooperation_welfare_uncapped": nan, "optimum_welfare": nan}
        return Benchmark(
            "subgame-perfect equilibrium (finite horizon) and full-cooperation optimum",
            values,
            "Nobody donates in the unique SPE. Full cooperation maximises welfare for "
            "multiplier > 1; with random matchings its value depends on the draw (see the "
            "efficiency metric, computed on the episode's schedule).",
        )


SPECS = (
    EnvSpec("DonorGame-v1", DonorGame, "agora.envs.games.donor_text:DonorText",
            summary="Population donor game of indirect reciprocity (traces, round robin)",
            default_opponent="donor_image_scoring"),
)
