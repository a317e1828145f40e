"""Exact results of evolutionary dynamics, to check the simulated rules against.

Finite, well-mixed populations of ``n`` agents playing a matrix game without
self-interaction: with ``k`` agents of the invader ``A`` and ``n - k`` of the resident ``B``,
``pi_A(k) = ((k-1) a_AA + (n-k) a_AB) / (n-1)`` and
``pi_B(k) = (k a_BA + (n-k-1) a_BB) / (n-1)``. The number of invaders is a birth-death chain
whose step probabilities ``T+(k)``, ``T-(k)`` follow each rule of
:mod:`agora.experiments.population.dynamics` (``fermi``, ``moran_bd``, ``moran_db``; the
Moran rules with ``selection`` exponential or linear and intensity ``beta``). From them:
the fixation probability ``rho = 1 / (1 + sum_k prod_{j<=k} T-(j)/T+(j))``, the full chain
with mutation and its stationary distribution, and the small-mutation limit over the
monomorphic states. Infinite populations: the replicator equation, its trajectories and its
rest points with their stability.

References: Nowak (2006), Evolutionary Dynamics, ch. 6-7; Traulsen, Nowak & Pacheco (2006),
Phys. Rev. E 74, 011909; Fudenberg & Imhof (2006), J. Econ. Theory 131, 251-262 (small
mutation limit); Hofbauer & Sigmund (1998), Evolutionary Games and Population Dynamics.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import expit, logsumexp

from agora.envs.core import is_int, is_real, require

Rule = Literal["fermi", "moran_bd", "moran_db"]
RULES = ("fermi", "moran_bd", "moran_db")


def moran_fixation(r: float, n: int, *, rule: Literal["bd", "db"] = "bd") -> float:
    """Fixation probability of one mutant of constant relative fitness ``r`` among ``n``.

    Birth-death: ``(1 - 1/r) / (1 - 1/r^n)``; death-birth on the complete graph (the dead
    agent does not compete): ``(n-1)/n * (1 - 1/r) / (1 - 1/r^(n-1))``. Both are ``1/n``
    when ``r = 1``.

    Example:
        >>> round(moran_fixation(2.0, 10), 6), moran_fixation(1.0, 10)
        (0.500489, 0.1)
    """
    require(is_real(r) and r > 0, "r", r, "want a number > 0")
    require(is_int(n) and n >= 2, "n", n, "want an int >= 2")
    require(rule in ("bd", "db"), "rule", rule, "want 'bd' or 'db'")
    if r == 1:
        return 1.0 / n
    if rule == "bd":
        return (1 - 1 / r) / (1 - r ** -float(n))
    return (n - 1) / n * (1 - 1 / r) / (1 - r ** -float(n - 1))


def _check(payoffs: Any, n: int, beta: float, rule: str, selection: str,
           invader: int, resident: int) -> np.ndarray:
    A = np.asarray(payoffs, dtype=np.float64)
    require(A.ndim == 2 and A.shape[0] == A.shape[1] >= 2, "payoffs", payoffs,
            "want a square matrix of at least 2 strategies")
    require(is_int(n) and n >= 2, "n", n, "want an int >= 2")
    require(is_real(beta) and beta >= 0, "beta", beta, "want a number >= 0")
    require(rule in RULES, "rule", rule, f"want one of {RULES}")
    require(selection in ("exponential", "linear"), "selection", selection,
            "want 'exponential' or 'linear'")
    S = A.shape[0]
    require(is_int(invader) and 0 <= invader < S, "invader", invader, "want a strategy")
    require(is_int(resident) and 0 <= resident < S and resident != invader, "resident",
            resident, "want a strategy other than the invader")
    return A


def _payoffs(A: np.ndarray, n: int, invader: int, resident: int) -> tuple[np.ndarray, ...]:
    """``k = 0..n`` and the invaders' and residents' mean payoffs at each ``k``."""
    k = np.arange(n + 1, dtype=np.float64)
    a, b = A[invader, invader], A[invader, resident]
    c, d = A[resident, invader], A[resident, resident]
    return k, ((k - 1) * a + (n - k) * b) / (n - 1), (k * c + (n - k - 1) * d) / (n - 1)


def _log_fitness(pi: np.ndarray, beta: float, selection: str) -> np.ndarray:
    if selection == "exponential":
        return beta * pi
    f = 1 - beta + beta * pi
    require(bool((f > 0).all()), "beta", beta,
            f"linear fitness 1 - beta + beta * payoff reaches {f.min()!r} <= 0")
    return np.log(f)


def transition_probabilities(payoffs: Any, n: int, beta: float, rule: Rule = "fermi", *,
                             mu: float = 0.0, selection: str = "exponential",
                             invader: int = 0, resident: int = 1,
                             mutate_to: Literal["any", "other"] = "any",
                             ) -> tuple[np.ndarray, np.ndarray]:
    """``T+(k)`` and ``T-(k)`` for ``k = 0..n`` invaders, one update event of ``rule``.

    With mutation the updated agent takes, with probability ``mu``, a random strategy of
    the two: either of them (``mutate_to="any"``, the rules' convention) or the other one
    (``"other"``, the convention of Traulsen et al. and egttools).

    Example:
        >>> up, down = transition_probabilities([[1, 1], [1, 1]], 4, 1.0)
        >>> up.tolist() == down.tolist() == [0.0, 0.125, 1 / 6, 0.125, 0.0]
        True
    """
    A = _check(payoffs, n, beta, rule, selection, invader, resident)
    require(is_real(mu) and 0 <= mu <= 1, "mu", mu, "want a probability")
    require(mutate_to in ("any", "other"), "mutate_to", mutate_to, "want 'any' or 'other'")
    m = mu * (0.5 if mutate_to == "any" else 1.0)
    k, pa, pb = _payoffs(A, n, invader, resident)
    j = n - k
    if rule == "fermi":
        meet = k * j / (n * (n - 1))
        return ((1 - mu) * meet * expit(beta * (pa - pb)) + m * j / n,
                (1 - mu) * meet * expit(beta * (pb - pa)) + m * k / n)
    la, lb = _log_fitness(pa, beta, selection), _log_fitness(pb, beta, selection)
    top = np.maximum(la, lb)
    fa, fb = np.exp(la - top), np.exp(lb - top)
    with np.errstate(invalid="ignore", divide="ignore"):
        if rule == "moran_bd":
            pick_a, pick_b = k * fa / (k * fa + j * fb), j * fb / (k * fa + j * fb)
            up = (1 - mu) * pick_a * j / (n - 1) + m * (pick_a * j + pick_b * (j - 1)) / (n - 1)
            down = (1 - mu) * pick_b * k / (n - 1) + m * (pick_a * (k - 1) + pick_b * k) / (n - 1)
        else:
            win_a = np.where(k > 0, k * fa / (k * fa + (j - 1) * fb), 0.0)
            win_b = np.where(j > 0, j * fb / ((k - 1) * fa + j * fb), 0.0)
            up = j / n * ((1 - mu) * win_a + m)
            down = k / n * ((1 - mu) * win_b + m)
    return np.nan_to_num(up), np.nan_to_num(down)


def _log_ratios(A: np.ndarray, n: int, beta: float, rule: str, selection: str,
                invader: int, resident: int) -> np.ndarray:
    """``log(T-(k) / T+(k))`` for ``k = 1..n-1`` without mutation, in closed form."""
    k, pa, pb = _payoffs(A, n, invader, resident)
    k, pa, pb = k[1:-1], pa[1:-1], pb[1:-1]
    if rule == "fermi":
        return -beta * (pa - pb)
    la, lb = _log_fitness(pa, beta, selection), _log_fitness(pb, beta, selection)
    if rule == "moran_bd":
        return lb - la
    j = n - k  # death-birth: fB (k fA + (j-1) fB) / (fA ((k-1) fA + j fB))
    with np.errstate(divide="ignore"):  # log 0 = -inf where j = 1 or k = 1
        return (lb - la + np.logaddexp(np.log(k) + la, np.log(j - 1) + lb)
                - np.logaddexp(np.log(k - 1) + la, np.log(j) + lb))


def fixation_probability(payoffs: Any, n: int, beta: float, rule: Rule = "fermi", *,
                         selection: str = "exponential", invader: int = 0,
                         resident: int = 1) -> float:
    """Probability that one ``invader`` takes over a population of ``n - 1`` ``resident``.

    Args:
        payoffs: ``(S, S)`` matrix, ``payoffs[i][j]`` the payoff of an ``i`` against a ``j``.
        n: population size.
        beta: intensity of selection (Fermi ``beta``; the Moran rules' ``w``).
        rule: ``"fermi"``, ``"moran_bd"`` or ``"moran_db"``.
        selection: the Moran rules' fitness, ``"exponential"`` or ``"linear"``.
        invader: the mutant's strategy index.
        resident: the residents' strategy index.

    Example:
        >>> round(fixation_probability([[1, 1], [1, 1]], 10, 5.0), 12)   # neutral: 1/n
        0.1
        >>> round(fixation_probability([[2, 2], [1, 1]], 10, 1.0, "moran_bd",
        ...                            selection="linear"), 6)   # constant fitness r = 2
        0.500489
    """
    A = _check(payoffs, n, beta, rule, selection, invader, resident)
    partial = np.cumsum(_log_ratios(A, n, beta, rule, selection, invader, resident))
    return float(np.exp(-logsumexp(np.concatenate([[0.0], partial]))))


def _stationary(P: np.ndarray) -> np.ndarray:
    """The stationary distribution of a row-stochastic, irreducible matrix ``P``."""
    size = len(P)
    M = P.T - np.eye(size)
    M[-1] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(M, rhs)
    return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()


def transition_matrix(payoffs: Any, n: int, beta: float, mu: float, rule: Rule = "fermi", *,
                      selection: str = "exponential",
                      mutate_to: Literal["any", "other"] = "any") -> np.ndarray:
    """The ``(n+1, n+1)`` row-stochastic chain of the number of strategy-0 agents in a
    population of two strategies, one update event per step, with mutation ``mu``.

    Example:
        >>> P = transition_matrix([[3, 0], [5, 1]], 5, 1.0, 0.1)
        >>> P.shape, bool(np.allclose(P.sum(axis=1), 1))
        ((6, 6), True)
    """
    A = np.asarray(payoffs, dtype=np.float64)
    require(A.shape == (2, 2), "payoffs", payoffs, "want a 2x2 matrix")
    up, down = transition_probabilities(A, n, beta, rule, mu=mu, selection=selection,
                                        invader=0, resident=1, mutate_to=mutate_to)
    P = np.diag(1.0 - up - down)
    P[np.arange(n), np.arange(1, n + 1)] = up[:-1]
    P[np.arange(1, n + 1), np.arange(n)] = down[1:]
    return P


def stationary_distribution(payoffs: Any, n: int, beta: float, rule: Rule = "fermi", *,
                            mu: float | None = None, selection: str = "exponential",
                            mutate_to: Literal["any", "other"] = "any") -> np.ndarray:
    """The long-run distribution of the population.

    Without ``mu`` (the small-mutation limit): over the ``S`` monomorphic states, from the
    embedded chain that moves from ``i`` to ``j`` with probability ``rho(j invades i) /
    (S - 1)``. With ``mu`` (two strategies only): over ``k = 0..n`` strategy-0 agents, the
    stationary distribution of :func:`transition_matrix`.

    Example:
        >>> stationary_distribution([[3, 0], [5, 1]], 10, 1.0).round(4).tolist()   # PD
        [0.0, 1.0]
    """
    if mu is not None:
        return _stationary(transition_matrix(payoffs, n, beta, mu, rule, selection=selection,
                                             mutate_to=mutate_to))
    S = np.asarray(payoffs).shape[0]
    P = np.zeros((S, S))
    for i, j in itertools.permutations(range(S), 2):
        P[i, j] = fixation_probability(payoffs, n, beta, rule, selection=selection,
                                       invader=j, resident=i) / (S - 1)
    P[np.diag_indices(S)] = 1.0 - P.sum(axis=1)
    return _stationary(P)


def replicator_rhs(x: Any, payoffs: Any) -> np.ndarray:
    """The replicator equation's right-hand side ``x_i ((A x)_i - x.A x)``.

    Example:
        >>> replicator_rhs([0.5, 0.5], [[3, 0], [5, 1]]).tolist()   # PD: cooperators fall
        [-0.375, 0.375]
    """
    x = np.asarray(x, dtype=np.float64)
    f = np.asarray(payoffs, dtype=np.float64) @ x
    return x * (f - x @ f)


def replicator_trajectory(x0: Any, payoffs: Any, t_end: float, *,
                          points: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """Shares over time from ``x0`` (solved with scipy's DOP853 at rtol 1e-10).

    Returns:
        ``(t, x)``: ``points`` times in ``[0, t_end]`` and the shares, shape ``(points, S)``.

    Example:
        >>> t, x = replicator_trajectory([0.9, 0.1], [[3, 0], [5, 1]], 20.0)
        >>> bool(x[-1, 1] > 0.999)
        True
    """
    A = np.asarray(payoffs, dtype=np.float64)
    require(is_real(t_end) and t_end > 0, "t_end", t_end, "want a number > 0")
    times = np.linspace(0.0, float(t_end), points)
    sol = solve_ivp(lambda _t, x: replicator_rhs(x, A), (0.0, float(t_end)),
                    np.asarray(x0, dtype=np.float64), method="DOP853", t_eval=times,
                    rtol=1e-10, atol=1e-12)
    return sol.t, sol.y.T


@dataclass(frozen=True)
class RestPoint:
    """A rest point of the replicator equation on the simplex.

    Attributes:
        x: the shares.
        stability: ``"stable"`` (every eigenvalue's real part < 0), ``"unstable"`` (one > 0)
            or ``"neutral"`` (the largest is 0, e.g. centres).
        eigenvalues: of the Jacobian restricted to the simplex's tangent space.
    """

    x: tuple[float, ...]
    stability: str
    eigenvalues: tuple[complex, ...]


def replicator_jacobian(x: Any, payoffs: Any) -> np.ndarray:
    """The Jacobian of :func:`replicator_rhs` at ``x``, in the tangent space of the simplex
    (basis ``e_i - e_last``), shape ``(S-1, S-1)``."""
    x = np.asarray(x, dtype=np.float64)
    A = np.asarray(payoffs, dtype=np.float64)
    f = A @ x
    J = np.diag(f - x @ f) + x[:, None] * (A - (f + A.T @ x)[None, :])
    S = len(x)
    V = np.vstack([np.eye(S - 1), -np.ones((1, S - 1))])  # columns e_i - e_last
    return np.linalg.pinv(V) @ J @ V


def rest_points(payoffs: Any, *, tol: float = 1e-9) -> list[RestPoint]:
    """Every isolated rest point of the replicator equation, with its stability.

    For each support the equal-payoff system is solved; supports whose system is singular
    (a continuum of rest points) are left out. Ordered by support size, then support.

    Example:
        >>> [(p.x, p.stability) for p in rest_points([[3, 0], [5, 1]])]   # PD
        [((1.0, 0.0), 'unstable'), ((0.0, 1.0), 'stable')]
    """
    A = np.asarray(payoffs, dtype=np.float64)
    require(A.ndim == 2 and A.shape[0] == A.shape[1] >= 2, "payoffs", payoffs,
            "want a square matrix of at least 2 strategies")
    S = len(A)
    scale = max(1.0, float(np.abs(A).max()))
    found = []
    for size in range(1, S + 1):
        for support in itertools.combinations(range(S), size):
            x = _support_solution(A, list(support))
            if x is None or (x[list(support)] <= tol).any():
                continue
            eig = np.linalg.eigvals(replicator_jacobian(x, A))
            top = float(eig.real.max())
            kind = ("unstable" if top > tol * scale else
                    "stable" if top < -tol * scale else "neutral")
            found.append(RestPoint(tuple(float(v) for v in x), kind,
                                   tuple(complex(e) for e in eig)))
    return found


def _support_solution(A: np.ndarray, support: list[int]) -> np.ndarray | None:
    """The point with support ``support`` where those strategies earn equally, or None."""
    m = len(support)
    M = np.zeros((m + 1, m + 1))
    M[:m, :m] = A[np.ix_(support, support)]
    M[:m, m] = -1.0
    M[m, :m] = 1.0
    rhs = np.zeros(m + 1)
    rhs[m] = 1.0
    if np.linalg.matrix_rank(M) < m + 1:
        return None
    x = np.zeros(len(A))
    x[support] = np.linalg.solve(M, rhs)[:m]
    return x
