"""The rules of :class:`~agora.envs.games.donor.DonorGame` over a batch of ``G`` games.

One call of :meth:`DonorVec.step` plays one *round* of every game: all its pairs at once.
That is the core's pair-by-pair order in disguise: every agent is in at most one pair per
round, so a pair's donor and recipient resources and the recipient's trace are the same
at the start of the round as at its turn (tested step by step against the core).

The schedule is the core's: the round robin (repeated when ``rounds`` exceeds it), or, for
``schedule: random``, each game's matchings drawn by the core's own
:meth:`~agora.envs.games.donor.DonorGame.initial_state` from the rules stream of its episode
seed (:func:`~agora.envs.seeding.episode_streams`), so a seed gives the episode runner's
pairs. The events are kept in an append-only log, one column per event (event ``e`` is
pair ``e % P`` of round ``e // P``, ``P`` pairs a round); each event keeps the index of its
recipient's previous action as donor (``link``), so a trace is followed by gathers:
the recipient's last event, its ``link``, and so on ``trace_depth`` deep. The arithmetic is
the core's (``x = units / granularity``, ``max(0, before - x)``, ``multiplier * x``, the
fraction of ``min(before, max_donation)``), so every float equals the core's. Punishment
and partner choice are played too: actions are the core's action indices.

Example:
    >>> vec = DonorVec({"n_agents": 4, "endowment": 10, "multiplier": 2.0, "trace_depth": 1})
    >>> state = vec.reset(1)
    >>> view = vec.view(state)
    >>> view.donor.tolist(), view.recipient.tolist(), view.affordable.tolist()
    ([[0, 1]], [[2, 3]], [[10, 10]])
    >>> state, rewards = vec.step(state, np.array([[4, 0]]))
    >>> rewards.tolist(), state.resources.tolist()
    ([[-4.0, -0.0, 8.0, 0.0]], [[6.0, 10.0, 18.0, 10.0]])
    >>> vec.view(state).trace_fraction[0, :, 0].tolist()  # round 2: 3 gives to 0, 2 to 1
    [0.4, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import Status
from agora.envs.errors import ConfigError, GameOverError, IllegalActionError
from agora.envs.games.donor import DonorGame, DonorParams
from agora.envs.seeding import episode_streams

__all__ = ["COOPERATE", "DEFECT", "DONATE_CODE", "IMAGE", "IMAGE_SCORING", "PUNISH_CODE",
           "KINDS", "REFUSE_CODE", "STANDING", "DonorVec", "VecDonorLog", "VecDonorState",
           "VecDonorView", "donations", "put", "take"]

DONATE_CODE, PUNISH_CODE, REFUSE_CODE = 0, 1, 2
"""Event kinds in the log (the core's ``DONATE``, ``PUNISH``, ``REFUSE``)."""
DEFECT, COOPERATE, IMAGE, STANDING = 0, 1, 2, 3
KINDS = (DEFECT, COOPERATE, IMAGE, STANDING)
"""Kinds of donor rule rows (:func:`donations`)."""
IMAGE_SCORING = (float(IMAGE), 0.5, 0.25)
"""The default opponent (``donor_image_scoring`` with its defaults) as a rule row."""
_EPS = 1e-9  # the core's tolerance in ``affordable``
_TOL = 1e-12  # the agents' tolerance in ``cooperated``


class VecDonorLog(NamedTuple):
    """Append-only event log, ``(G, E)`` arrays (``E`` every event of the episode); a
    state reads only its first ``round * P`` columns, which never change afterwards."""

    kind: np.ndarray  # int8 event kind codes
    amount: np.ndarray
    fraction: np.ndarray
    effect: np.ndarray
    link: np.ndarray  # the recipient's previous event as donor, -1 when none


class VecDonorState(NamedTuple):
    """:class:`~agora.envs.games.donor.DonorState` for ``G`` games in lockstep.

    ``schedule`` is ``(G, R, P, 2)`` (donor, recipient) pairs (broadcast for the round
    robin); ``round`` the rounds played; ``resources`` ``(G, n)``; ``last`` ``(G, n)`` each
    agent's last event as donor (-1: none yet)."""

    schedule: np.ndarray
    round: Any  # int (lockstep), or (G,) int64 rounds per game (reset_rounds)
    resources: np.ndarray
    last: np.ndarray
    log: VecDonorLog
    status: Status


class VecDonorView(NamedTuple):
    """What each donor of the round sees (:class:`~agora.envs.games.donor.DonorView`), as
    ``(G, P)`` arrays, and the recipient's trace as ``(G, P, trace_depth)`` arrays, most
    recent link first (``trace_present`` False past the trace's end)."""

    donor: np.ndarray
    recipient: np.ndarray
    my_resources: np.ndarray
    recipient_resources: np.ndarray
    affordable: np.ndarray
    trace_present: np.ndarray
    trace_kind: np.ndarray
    trace_fraction: np.ndarray


class DonorVec:
    """Batched rules of the donor game (see the module docstring).

    Args:
        params: the game's :class:`DonorParams` (or a dict), validated as the core does
            (:class:`~agora.envs.ConfigError` naming the key).
    """

    def __init__(self, params: DonorParams | dict[str, Any] | None = None) -> None:
        self.game = DonorGame(params)
        p = self.params = self.game.params
        self.pairs = p.n_agents // 2
        self.rounds = self.game.num_rounds
        self.cap_units = self.game.cap_units

    def schedules(self, groups: int, seeds: Sequence[int] | None = None) -> np.ndarray:
        """``(G, R, P, 2)`` pairings: the round robin, or the core's random draws per seed.

        Raises:
            ConfigError: ``schedule: random`` without one episode seed per game.
        """
        p = self.params
        if p.schedule == "round_robin":
            rr = np.array([self.game.initial_state(None).schedule], dtype=np.int64)
            return np.broadcast_to(rr, (groups, *rr.shape[1:]))
        if seeds is None or len(seeds) != groups:
            raise ConfigError(f"schedule={p.schedule!r} draws each game's pairs from its "
                              f"episode seed: give {groups} seeds (got "
                              f"{'none' if seeds is None else len(seeds)})")
        return np.array([self.game.initial_state(episode_streams(int(s), p.n_agents).rules)
                         .schedule for s in seeds], dtype=np.int64).reshape(
            groups, self.rounds, self.pairs, 2)

    def reset(self, groups: int, seeds: Sequence[int] | None = None) -> VecDonorState:
        """``groups`` fresh games (``seeds``: their episode seeds, for random schedules)."""
        n, events = self.params.n_agents, self.rounds * self.pairs
        shape = (groups, events)
        log = VecDonorLog(np.zeros(shape, np.int8), np.zeros(shape), np.zeros(shape),
                          np.zeros(shape), np.full(shape, -1, np.int64))
        return VecDonorState(self.schedules(groups, seeds), 0,
                             np.full((groups, n), float(self.params.endowment)),
                             np.full((groups, n), -1, np.int64), log, Status.RUNNING)

    def affordable(self, resources: np.ndarray) -> np.ndarray:
        """Grid units each holder of ``resources`` may give (the core's ``affordable``)."""
        units = np.floor(resources * self.params.granularity + _EPS).astype(np.int64)
        return np.minimum(self.cap_units, units)

    def view(self, state: VecDonorState) -> VecDonorView:
        """The donors' views of the round to play."""
        if state.status is not Status.RUNNING:
            raise GameOverError("view of finished donor games")
        donor, recipient = self.round_pairs(state)
        mine, theirs = take(state.resources, donor), take(state.resources, recipient)
        links = self._trace(state, recipient)
        present = links >= 0
        safe = np.where(present, links, 0).reshape(len(links), -1)
        kind = take(state.log.kind, safe).reshape(links.shape)
        frac = take(state.log.fraction, safe).reshape(links.shape)
        shape = mine.shape
        return VecDonorView(np.broadcast_to(donor, shape), np.broadcast_to(recipient, shape),
                            mine, theirs, self.affordable(mine), present,
                            np.where(present, kind, -1), np.where(present, frac, 0.0))

    def round_pairs(self, state: VecDonorState) -> tuple[np.ndarray, np.ndarray]:
        """The round's donors and recipients: ``(P,)`` when every game shares the round
        robin and the round (plain column indexing, much faster), else ``(G, P)``. With
        per-game rounds a finished game shows its last round."""
        shared = self.params.schedule == "round_robin"
        r = state.round
        if np.ndim(r):
            at = np.minimum(r, self.rounds - 1)
            pairs = state.schedule[0][at] if shared else state.schedule[np.arange(len(at)), at]
        else:
            pairs = state.schedule[0, r] if shared else state.schedule[:, r]
        return pairs[..., 0], pairs[..., 1]

    def _columns(self, state: VecDonorState) -> np.ndarray:
        """The log columns of the round to play: ``(P,)``, or ``(G, P)`` per game."""
        r = state.round
        if np.ndim(r):
            return np.minimum(r, self.rounds - 1)[:, None] * self.pairs + np.arange(self.pairs)
        return np.arange(r * self.pairs, (r + 1) * self.pairs)

    def _trace(self, state: VecDonorState, recipient: np.ndarray) -> np.ndarray:
        """``(G, P, depth)`` event indices of each recipient's trace (-1 past its end)."""
        out = np.full((len(state.last), recipient.shape[-1], self.params.trace_depth), -1,
                      np.int64)
        at = take(state.last, recipient)
        for k in range(self.params.trace_depth):
            out[..., k] = at
            if not (at >= 0).any():
                break
            at = np.where(at >= 0, take(state.log.link, np.maximum(at, 0)), -1)
        return out

    def step(self, state: VecDonorState, actions: np.ndarray,
             mask: np.ndarray | None = None) -> tuple[VecDonorState, np.ndarray]:
        """One round of every game: the new state and the rewards ``(G, n)``.

        Args:
            state: the games; ``round`` an int (lockstep) or ``(G,)`` ints (each game at
                its own round, as :meth:`reset_rounds` starts them).
            actions: ``(G, P)`` the core's action indices, pair ``j`` of the round in
                column ``j`` (donations are grid units).
            mask: ``(G,)`` the games that play (per-game rounds only; default: all). The
                others, finished ones included, keep their state; their actions are read
                as 0 (always legal).

        Raises:
            GameOverError: the games have ended (every game, with per-game rounds).
            IllegalActionError: an action the core's legal mask forbids.
        """
        if state.status is not Status.RUNNING:
            raise GameOverError("step on finished donor games")
        each = np.ndim(state.round) > 0
        if mask is not None and not each:
            raise ConfigError("mask: only games at per-game rounds (reset_rounds) are masked")
        if each:
            mask = (state.round < self.rounds) if mask is None else mask & (
                state.round < self.rounds)
            actions = np.where(mask[:, None], actions, 0)
        p = self.params
        donor, recipient = self.round_pairs(state)
        before, held = take(state.resources, donor), take(state.resources, recipient)
        kind, units = self._decode(np.asarray(actions), self.affordable(before))
        x = units / p.granularity
        can = self.affordable(before) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(can, x / np.minimum(before, p.max_donation), 1.0)
        refuse = kind == REFUSE_CODE
        effect = np.where(kind == DONATE_CODE, p.multiplier * x,
                          -np.minimum(p.punishment_loss * x, held))
        effect, fraction = np.where(refuse, 0.0, effect), np.where(refuse, 0.0, fraction)
        res = state.resources.copy()
        put(res, donor, np.where(refuse, before, np.maximum(0.0, before - x)))
        put(res, recipient, np.where(refuse, held, held + effect))
        rewards = np.zeros_like(res)
        put(rewards, donor, np.where(refuse, 0.0, -x))
        put(rewards, recipient, effect)
        cols = self._columns(state)
        last = state.last.copy()
        put(last, donor, np.broadcast_to(cols, before.shape))
        self._log(state, cols, (kind, x, fraction, effect, take(state.last, recipient)), mask)
        if mask is None:
            played: Any = state.round + 1
            status = Status.TERMINATED if played >= self.rounds else Status.RUNNING
            return VecDonorState(state.schedule, played, res, last, state.log, status), rewards
        keep = mask[:, None]
        played = state.round + mask
        status = Status.TERMINATED if (played >= self.rounds).all() else Status.RUNNING
        return (VecDonorState(state.schedule, played, np.where(keep, res, state.resources),
                              np.where(keep, last, state.last), state.log, status),
                np.where(keep, rewards, 0.0))

    def _log(self, state: VecDonorState, cols: np.ndarray, events: tuple[np.ndarray, ...],
             mask: np.ndarray | None) -> None:
        """Write the round's events into the append-only log (only the masked games')."""
        for column, value in zip(state.log, events):
            if mask is None:  # lockstep: one slice of columns, the fast path
                column[:, cols[0]:cols[0] + len(cols)] = value
            else:
                put(column, cols, np.where(mask[:, None], value, take(column, cols)))

    def reset_rounds(self, state: VecDonorState) -> VecDonorState:
        """``state`` with a round counter per game (``(G,)``), for games that advance
        apart (:meth:`step`'s ``mask``)."""
        rounds = np.full(len(state.resources), state.round, np.int64)
        status = Status.TERMINATED if (rounds >= self.rounds).all() else Status.RUNNING
        return state._replace(round=rounds, status=status)

    def _decode(self, a: np.ndarray, affordable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(kind codes, grid units) of ``(G, P)`` action indices, checked against the mask."""
        g = self.game
        if a.shape != affordable.shape or not np.issubdtype(a.dtype, np.integer):
            raise IllegalActionError(f"actions must be a {affordable.shape} int array of "
                                     f"action indices; got {a!r:.80}")
        refuse = (a == g.refuse_action) if self.params.partner_choice else np.zeros(a.shape,
                                                                                     bool)
        punish = ~refuse & (a > self.cap_units)
        units = np.where(refuse, 0, np.where(punish, a - self.cap_units, a))
        bad = (a < 0) | (units > affordable) | (punish & (not self.params.punishment))
        if bad.any():
            raise IllegalActionError(f"illegal donor actions {a[bad][:5].tolist()} (the "
                                     f"donors may give at most {affordable[bad][:5].tolist()})")
        kind = np.where(refuse, REFUSE_CODE, np.where(punish, PUNISH_CODE, DONATE_CODE))
        return kind.astype(np.int8), units

    # ----- outcomes --------------------------------------------------------------------
    def returns(self, state: VecDonorState) -> np.ndarray:
        """``(G, n)`` gains: resources minus the endowment (the core's returns)."""
        return state.resources - float(self.params.endowment)

    def metrics(self, state: VecDonorState) -> dict[str, np.ndarray]:
        """The core's metrics per game, ``(G,)`` each (per-agent ``gain_<i>`` and
        ``resources_<i>`` are :meth:`returns` and ``state.resources``). Sums run in the
        core's order, so they equal its floats."""
        log, events = state.log, state.round * self.pairs
        donate = log.kind[:, :events] == DONATE_CODE
        punish = log.kind[:, :events] == PUNISH_CODE
        g = len(state.resources)
        rate = (np.where(donate, log.fraction[:, :events], 0.0).mean(axis=1) if events
                else np.full(g, np.nan))
        welfare = _running_sum(state.resources)
        fair = _fairness(state.resources)
        optimum = self._optimum(state)
        return {"rounds": np.full(g, float(state.round)), "donation_rate": rate,
                "total_donated": _running_sum(np.where(donate, log.amount[:, :events], 0.0)),
                "total_welfare": welfare, "efficiency": welfare / optimum,
                "fairness": fair, "gini": 1.0 - fair,
                "punishment_spent": _running_sum(np.where(punish, log.amount[:, :events], 0.0)),
                "punishment_removed": -_running_sum(
                    np.where(punish, log.effect[:, :events], 0.0)),
                "refusals": (log.kind[:, :events] == REFUSE_CODE).sum(axis=1).astype(float),
                "distance_to_benchmark": rate}

    def _optimum(self, state: VecDonorState) -> np.ndarray:
        """Each game's full-cooperation welfare (the core's, per distinct schedule)."""
        if self.params.schedule == "round_robin":
            return np.full(len(state.schedule), self.game.optimum_welfare(
                self.game.initial_state(None).schedule))
        seen: dict[bytes, float] = {}
        out = np.empty(len(state.schedule))
        for i, sched in enumerate(state.schedule):
            key = sched.tobytes()
            if key not in seen:
                pairs = tuple(tuple(map(tuple, r)) for r in sched.tolist())
                seen[key] = self.game.optimum_welfare(pairs)
            out[i] = seen[key]
        return out


def donations(rules: np.ndarray, view: VecDonorView, granularity: int) -> np.ndarray:
    """The grid units every donor of the round gives: the donor heuristics' ``act`` over
    arrays (each rule gives ``fraction`` of its resources, nearest grid step, when its kind
    says the recipient deserves it: always, by image score or by standing).

    Args:
        rules: ``(G, P, 3)`` each donor's rule row ``[kind, fraction, threshold]``
            (``DonorRule.row()`` of :mod:`agora.agents.donor_rule`; kinds
            :data:`DEFECT`, :data:`COOPERATE`, :data:`IMAGE`, :data:`STANDING`).
        view: the round's batched view.
        granularity: the game's grid steps per unit.

    Returns:
        ``(G, P)`` int64 units (the core's action indices of those donations).

    Example:
        >>> vec = DonorVec({"n_agents": 2, "endowment": 7})
        >>> half = np.array([COOPERATE, 0.5, 0.0])  # gives half its resources, always
        >>> donations(half[None, None], vec.view(vec.reset(1)), 1).tolist()
        [[4]]
    """
    kind, fraction, threshold = np.moveaxis(rules, -1, 0)
    gave = (view.trace_kind == DONATE_CODE) & (
        view.trace_fraction >= threshold[..., None] - _TOL)  # ``cooperated`` per link
    image = ~view.trace_present[..., 0] | gave[..., 0] if gave.shape[-1] else True
    standing = np.ones(kind.shape, bool)  # of the deepest link's recipient: unknown, good
    for k in range(gave.shape[-1] - 1, -1, -1):
        standing = np.where(view.trace_present[..., k], gave[..., k] | ~standing, standing)
    deserves = np.select([kind == COOPERATE, kind == IMAGE, kind == STANDING],
                         [True, image, standing], False)
    units = np.floor(fraction * view.my_resources * granularity + 0.5).astype(np.int64)
    given = np.maximum(0, np.minimum(units, view.affordable))
    return np.where(deserves, given, 0)


def take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[g, idx[g, j]]`` as ``(G, J)`` (``idx`` ``(J,)``: the same columns for every row).

    Example:
        >>> a = np.arange(6).reshape(2, 3)
        >>> take(a, np.array([2, 0])).tolist(), take(a, np.array([[1], [2]])).tolist()
        ([[2, 0], [5, 3]], [[1], [5]])
    """
    if idx.ndim == 1:
        return a[:, idx]
    return a.reshape(-1)[_flat(a, idx)]


def put(a: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """``a[g, idx[g, j]] = values[g, j]`` in place (the inverse of :func:`take`)."""
    if idx.ndim == 1:
        a[:, idx] = values
    else:
        a.reshape(-1)[_flat(a, idx)] = values


def _flat(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    if not a.flags.c_contiguous:
        raise ValueError("take/put need a C-contiguous array")
    return np.arange(0, a.size, a.shape[1])[:, None] + idx


def _running_sum(values: np.ndarray) -> np.ndarray:
    """Row sums added left to right from 0, as Python's ``sum`` does (exact same floats)."""
    total = np.zeros(len(values))
    for col in values.T:
        total = total + col
    return total


def _fairness(values: np.ndarray) -> np.ndarray:
    """:func:`~agora.envs.core.fairness` of each row (its arithmetic, row by row)."""
    x = values - np.minimum(0.0, values.min(axis=1, keepdims=True))
    total, n = x.sum(axis=1), x.shape[1]
    spread = np.abs(x[:, :, None] - x[:, None, :]).reshape(len(x), -1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fair = 1.0 - spread / (2 * n * total) * n / (n - 1)
    return np.where(total == 0.0, 1.0, fair)
