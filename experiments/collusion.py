"""Q-learning sessions in repeated stage games, many at once (Calvano et al. 2020).

Every firm (or bidder) is an independent tabular Q-learner. The state is the joint action
of the last ``memory`` periods (memory one: ``m ** n`` states; memory zero: one state).
Each period every player explores with probability ``eps_t = epsilon exp(-beta t)`` (a
uniformly random action) and otherwise plays its greedy action (the lowest-index maximiser),
then updates only the entry it played:
``Q(s, a) <- (1 - alpha) Q(s, a) + alpha (pi + delta max_a' Q(s', a'))``. Q starts at the
discounted payoff against a uniformly randomising rival,
``Q_0(s, a_i) = mean_{a_-i} pi_i(a_i, a_-i) / (1 - delta)`` (Calvano et al.), or at one
constant ``q_init`` for every entry (optimistic when above every discounted payoff, as in
Banchio & Skrzypacz 2022).

A session has converged when no player's greedy action changed in any state for
``stable_periods`` periods; it stops there, or, with ``stop_at_convergence=False``, plays
on to ``max_periods`` and counts as converged when the last ``stable_periods`` periods
changed no greedy action (Banchio & Skrzypacz's protocol: a fixed horizon, judged by its
final window). Sessions still learning at ``max_periods`` are unconverged (a legitimate
result, counted). The outcome is the limit path: from the last state the
greedy strategies are played until a state repeats, and profits are averaged over that
cycle.

Sessions are arrays: the kernel runs them in parallel (numba ``prange``), each with its
own SplitMix64 random stream seeded from a :class:`numpy.random.SeedSequence`,
so a session's result does not depend on how many run beside it or on the thread count.
Payoffs come from the game's own ``stage_payoffs`` (:func:`profit_table`).

Example:
    >>> from agora.envs import make_game
    >>> game, _ = make_game("LogitBertrand-v1", {"n_prices": 3})
    >>> res = run_sessions(game, QLearning(beta=2e-4, stable_periods=2_000), 4, seed=1)
    >>> res.periods.shape, bool(res.converged.all())
    ((4,), True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from agora.envs import ConfigError
from agora.envs.core import is_int, is_real
from agora.envs.games.auction import AuctionGame, expected_payoffs

MAX_STATES = 1 << 16  # m ** n states (memory one) times m actions must stay small


@dataclass(frozen=True)
class QLearning:
    """Learning parameters (defaults: Calvano et al.'s baseline).

    Attributes:
        alpha: learning rate.
        beta: exploration decay, ``eps_t = epsilon exp(-beta t)``.
        delta: discount factor.
        memory: periods of joint actions in the state, 0 or 1.
        stable_periods: periods without a greedy change that count as convergence.
        max_periods: cap on the periods of one session.
        epsilon: exploration probability at ``t = 0``.
        q_init: every Q entry's start value; ``None``: the discounted payoff against a
            uniformly randomising rival (Calvano et al.).
        stop_at_convergence: stop a session once it has converged; ``False`` plays every
            session to ``max_periods`` and judges convergence on the final window.
    """

    alpha: float = 0.15
    beta: float = 4e-6
    delta: float = 0.95
    memory: int = 1
    stable_periods: int = 100_000
    max_periods: int = 2_000_000
    epsilon: float = 1.0
    q_init: float | None = None
    stop_at_convergence: bool = True

    def __post_init__(self) -> None:
        for name in ("alpha", "delta"):
            value = getattr(self, name)
            if not (is_real(value) and 0 < value < 1):
                raise ConfigError(f"parameter {name}={value!r} is invalid: must lie in (0, 1)")
        if not (is_real(self.beta) and self.beta > 0):
            raise ConfigError(f"parameter beta={self.beta!r} is invalid: must be a number > 0")
        if not (is_int(self.memory) and self.memory in (0, 1)):
            raise ConfigError(f"parameter memory={self.memory!r} is invalid: must be 0 or 1")
        for name in ("stable_periods", "max_periods"):
            value = getattr(self, name)
            if not (is_int(value) and value >= 1):
                raise ConfigError(f"parameter {name}={value!r} is invalid: must be a "
                                  "positive integer")
        if not (is_real(self.epsilon) and 0 <= self.epsilon <= 1):
            raise ConfigError(f"parameter epsilon={self.epsilon!r} is invalid: must lie in "
                              "[0, 1]")
        if self.q_init is not None and not is_real(self.q_init):
            raise ConfigError(f"parameter q_init={self.q_init!r} is invalid: must be None "
                              "or a finite number")
        if not isinstance(self.stop_at_convergence, bool):
            raise ConfigError("parameter stop_at_convergence="
                              f"{self.stop_at_convergence!r} is invalid: must be a bool")


@dataclass(frozen=True)
class SessionResults:
    """Per-session outcomes (first axis: session).

    Attributes:
        converged: whether the greedy strategies settled before ``max_periods``.
        periods: periods played.
        cycle_profits: ``(S, n)`` mean per-period payoff on the limit cycle.
        cycle_actions: ``(S, n)`` mean action index on the limit cycle.
        cycle_length: periods in the limit cycle.
        greedy: ``(S, n, states)`` the greedy action of each player in each state.
    """

    converged: np.ndarray
    periods: np.ndarray
    cycle_profits: np.ndarray
    cycle_actions: np.ndarray
    cycle_length: np.ndarray
    greedy: np.ndarray


def profit_table(game: Any, payoffs: Callable[[tuple[int, ...]], Any] | None = None
                 ) -> np.ndarray:
    """Every joint action's payoffs, from the game's own ``stage_payoffs`` (or ``payoffs``).

    Row ``r`` is the joint action ``np.unravel_index(r, (m,) * n)`` (player 0's action
    most significant); column ``i`` is player ``i``'s payoff.

    Example:
        >>> from agora.envs import make_game
        >>> game, _ = make_game("LogitBertrand-v1")
        >>> profit_table(game).shape
        (225, 2)
    """
    m, n = game.num_actions, game.num_players
    if m ** n * m > MAX_STATES * 16:
        raise ConfigError(f"{game.info.name}: {m} actions and {n} players make {m ** n} "
                          f"states, too many for tabular Q-learning")
    pay = game.stage_payoffs if payoffs is None else payoffs
    rows = [pay(joint) for joint in itertools.product(range(m), repeat=n)]
    return np.asarray(rows, dtype=np.float64)


def initial_q(table: np.ndarray, m: int, n: int, delta: float) -> np.ndarray:
    """``(n, m)``: each player's discounted payoff against uniformly randomising rivals."""
    cube = table.reshape((m,) * n + (n,))
    return np.stack([cube[..., i].mean(axis=tuple(j for j in range(n) if j != i))
                     for i in range(n)]) / (1 - delta)


def run_sessions(game: Any, learning: QLearning, sessions: int, seed: int,
                 payoffs: Callable[[tuple[int, ...]], Any] | None = None) -> SessionResults:
    """Run ``sessions`` independent Q-learning sessions of ``game``'s stage game.

    Args:
        game: a simultaneous game with ``stage_payoffs`` (e.g. ``LogitBertrand-v1``).
        learning: the learners' parameters.
        sessions: how many sessions.
        seed: the root seed; session ``k`` draws from the ``k``-th child stream.
        payoffs: the stage payoffs of a joint action, when not ``game.stage_payoffs``
            (e.g. :func:`auction_payoffs`).

    Returns:
        The sessions' outcomes, see :class:`SessionResults`.
    """
    table = profit_table(game, payoffs)
    return run_table(table, game.num_actions, game.num_players, learning, sessions, seed)


def run_table(table: np.ndarray, m: int, n: int, learning: QLearning, sessions: int,
              seed: int) -> SessionResults:
    """Run ``sessions`` Q-learning sessions of the stage game whose payoffs are ``table``.

    A ``(m ** n, K, n)`` table makes the stage payoffs random: each period one of the ``K``
    outcomes of the joint action is drawn uniformly (e.g. who wins a tied auction); the
    limit cycle's profits are the mean over them. A ``(m ** n, n)`` table is deterministic
    and draws nothing.

    Args:
        table: ``(m ** n, n)`` or ``(m ** n, K, n)`` payoffs in :func:`profit_table`'s row
            order.
        m: actions per player.
        n: players.
        learning: the learners' parameters.
        sessions: how many sessions.
        seed: the root seed; session ``k`` draws from the ``k``-th child stream.

    Returns:
        The sessions' outcomes, see :class:`SessionResults`.

    Example:
        >>> pd = np.array([[3., 3.], [0., 5.], [5., 0.], [1., 1.]])  # action 1 defects
        >>> res = run_table(pd, 2, 2, QLearning(beta=1e-3, memory=0, stable_periods=500), 2, 0)
        >>> res.greedy[:, :, 0].tolist()
        [[1, 1], [1, 1]]
    """
    if not (is_int(sessions) and sessions >= 1):
        raise ConfigError(f"parameter sessions={sessions!r} is invalid: must be a positive "
                          "integer")
    if table.shape[:1] != (m ** n,) or table.shape[-1:] != (n,) or table.ndim not in (2, 3):
        raise ConfigError(f"parameter table has shape {table.shape}: must be ({m ** n}, {n}) "
                          f"or ({m ** n}, K, {n}) for {n} players with {m} actions")
    outcomes = np.ascontiguousarray(
        table if table.ndim == 3 else table[:, None, :], dtype=np.float64)
    table = outcomes.mean(axis=1)
    q0 = (initial_q(table, m, n, learning.delta) if learning.q_init is None
          else np.full((n, m), float(learning.q_init)))
    seeds = np.random.SeedSequence(seed).generate_state(sessions, dtype=np.uint64)
    states = m ** n if learning.memory else 1
    converged, periods, greedy, last = _learn(
        outcomes, q0, m, n, states, learning.alpha, learning.epsilon, learning.beta,
        learning.delta, learning.stable_periods, learning.max_periods,
        learning.stop_at_convergence, seeds)
    profits, actions, length = limit_cycles(table, greedy, last, m, n)
    return SessionResults(converged, periods, profits, actions, length, greedy)


def auction_payoffs(game: AuctionGame) -> Callable[[tuple[int, ...]], tuple[float, ...]]:
    """Stage payoffs (money) of ``game``'s auction when every bidder values the item at
    ``value_max`` and knows it (Banchio & Skrzypacz 2022), from the core's own
    ``expected_payoffs`` (ties split uniformly).

    Example:
        >>> from agora.envs import make_game
        >>> game, _ = make_game("FirstPriceAuction-v1", {"n_players": 2, "granularity": 4,
        ...                                                "value_max": 1.0})
        >>> auction_payoffs(game)((3, 1))  # bid 0.75 wins the item worth 1
        (0.25, 0.0)
    """
    p = game.params
    values = (p.granularity,) * p.n_players
    unit = p.value_max / p.granularity
    return lambda bids: tuple(unit * x for x in expected_payoffs(p.rule, values, bids))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def _uniform(state: np.ndarray) -> float:  # pragma: no cover - compiled
    """SplitMix64: advance ``state[0]`` and return a uniform double in [0, 1)."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def _argmax(row: np.ndarray) -> int:  # pragma: no cover - compiled
    best = 0
    for a in range(1, row.shape[0]):
        if row[a] > row[best]:
            best = a
    return best


@numba.njit(cache=True)
def _session(outcomes: np.ndarray, q0: np.ndarray, m: int, n: int, states: int, alpha: float,
             eps0: float, beta: float, delta: float, stable: int, cap: int, stop: bool,
             rng: np.ndarray, greedy: np.ndarray
             ) -> tuple[bool, int, int]:  # pragma: no cover - compiled
    """One session; fills ``greedy`` and returns (converged, periods, last state).

    ``outcomes`` is ``(m ** n, K, n)``: with ``K > 1`` one outcome is drawn per period."""
    q = np.empty((n, states, m))
    for i in range(n):
        for s in range(states):
            q[i, s, :] = q0[i]
            greedy[i, s] = _argmax(q0[i])
    act = np.empty(n, dtype=np.int64)
    draws = outcomes.shape[1]
    s = int(_uniform(rng) * states)  # a random first state
    calm = 0
    for t in range(cap):
        eps = eps0 * math.exp(-beta * t)
        joint = 0
        for i in range(n):
            if _uniform(rng) < eps:
                act[i] = int(_uniform(rng) * m)
            else:
                act[i] = greedy[i, s]
            joint = joint * m + act[i]
        nxt = joint if states > 1 else 0
        k = int(_uniform(rng) * draws) if draws > 1 else 0
        changed = False
        for i in range(n):
            a = act[i]
            target = outcomes[joint, k, i] + delta * q[i, nxt, greedy[i, nxt]]
            q[i, s, a] = (1.0 - alpha) * q[i, s, a] + alpha * target
            g = _argmax(q[i, s])
            if g != greedy[i, s]:
                greedy[i, s] = g
                changed = True
        calm = 0 if changed else calm + 1
        s = nxt
        if stop and calm >= stable:
            return True, t + 1, s
    return calm >= stable, cap, s


@numba.njit(cache=True, parallel=True)
def _learn(outcomes: np.ndarray, q0: np.ndarray, m: int, n: int, states: int, alpha: float,
           eps0: float, beta: float, delta: float, stable: int, cap: int, stop: bool,
           seeds: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    count = seeds.shape[0]
    converged = np.zeros(count, dtype=np.bool_)
    periods = np.zeros(count, dtype=np.int64)
    last = np.zeros(count, dtype=np.int64)
    greedy = np.zeros((count, n, states), dtype=np.int64)
    for k in numba.prange(count):
        rng = seeds[k:k + 1].copy()
        converged[k], periods[k], last[k] = _session(
            outcomes, q0, m, n, states, alpha, eps0, beta, delta, stable, cap, stop, rng,
            greedy[k])
    return converged, periods, greedy, last


def limit_cycles(table: np.ndarray, greedy: np.ndarray, last: np.ndarray, m: int, n: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow each session's greedy strategies from its last state until a state repeats.

    Args:
        table: :func:`profit_table` of the game.
        greedy: ``(S, n, states)`` greedy actions; one state means memory zero.
        last: ``(S,)`` each session's last state.
        m: actions per player.
        n: players.

    Returns:
        ``(profits, actions, length)``: the ``(S, n)`` mean payoff and mean action index
        over the cycle the path ends in, and the cycle's length.

    Example:
        >>> table = np.arange(8.0).reshape(4, 2)  # 2 players, 2 actions
        >>> greedy = np.array([[[1, 0, 0, 0], [1, 1, 1, 0]]])  # (0,0)->(1,1)->(0,0)
        >>> limit_cycles(table, greedy, np.array([0]), 2, 2)[2].tolist()
        [2]
    """
    count, states = len(last), greedy.shape[2]
    profits, actions = np.zeros((count, n)), np.zeros((count, n))
    length = np.zeros(count, dtype=np.int64)
    for k in range(count):
        seen: dict[int, int] = {}
        path: list[int] = []
        s = int(last[k])
        while s not in seen:
            seen[s] = len(path)
            joint = int(np.ravel_multi_index(tuple(greedy[k, :, s]), (m,) * n))
            path.append(joint)
            s = joint if states > 1 else 0
        cycle = path[seen[s]:]
        profits[k] = table[cycle].mean(axis=0)
        actions[k] = np.array(np.unravel_index(cycle, (m,) * n)).mean(axis=1)
        length[k] = len(cycle)
    return profits, actions, length


def collusion_summary(game: Any, results: SessionResults) -> dict[str, float]:
    """Calvano's collusion index ``Delta = (profit - Nash) / (monopoly - Nash)`` of the
    converged sessions (profit: the firms' mean on the limit cycle), with its spread.

    Uses the game's ``nash_profit`` and ``collusive_profit`` benchmark values. Keys:
    ``sessions``, ``converged``, ``delta_mean``, ``delta_sd``, ``delta_q05`` .. ``delta_q95``,
    ``price_mean`` (mean limit price, when the game has ``prices``), ``periods_mean``.
    NaN where no session converged.
    """
    bench = game.benchmark().values
    nash, monopoly = bench["nash_profit"], bench["collusive_profit"]
    ok = results.converged
    delta = (results.cycle_profits[ok].mean(axis=1) - nash) / (monopoly - nash)
    out = {"sessions": float(len(ok)), "converged": float(ok.sum()),
           "periods_mean": float(results.periods.mean())}
    if not ok.any():
        return {**out, "delta_mean": math.nan, "delta_sd": math.nan, "price_mean": math.nan}
    quantiles = np.quantile(delta, [0.05, 0.25, 0.5, 0.75, 0.95])
    out.update({"delta_mean": float(delta.mean()), "delta_sd": float(delta.std(ddof=1))
                if len(delta) > 1 else 0.0})
    out.update({f"delta_q{int(q * 100):02d}": float(v)
                for q, v in zip((0.05, 0.25, 0.5, 0.75, 0.95), quantiles)})
    prices = getattr(game, "prices", None)
    if prices is not None:  # the grid is linear in the action index
        step = float(prices[1] - prices[0])
        out["price_mean"] = float(prices[0] + step * results.cycle_actions[ok].mean())
    return out
