"""Every Nash equilibrium of a 2x2 bimatrix stage game, tied payoffs included.

A mixed profile is written ``(p, q)``: player 0 plays action 0 with probability ``p``,
player 1 with probability ``q``. Player 0's advantage of action 0 over action 1 is linear
in ``q`` and player 1's is linear in ``p``, so each axis splits into at most three points
and two open intervals on which the advantage has one sign. The equilibrium set is the
union of the boxes ``I x J`` of such pieces on which both players best-respond. In a
generic game these boxes are points (the pure equilibria and at most one completely mixed
one); with ties they can be segments or the whole square, and the set is a continuum.

Arithmetic is exact (``Fraction``) so that ties are ties and no zero becomes ``1e-17``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import product

_ZERO, _ONE = Fraction(0), Fraction(1)


@dataclass(frozen=True)
class EquilibriumBox:
    """A box of mixed profiles that are all Nash equilibria.

    Attributes:
        p: ``(low, high)`` probability of action 0 for player 0.
        q: ``(low, high)`` probability of action 0 for player 1.
    """

    p: tuple[Fraction, Fraction]
    q: tuple[Fraction, Fraction]

    @property
    def isolated(self) -> bool:
        """Whether the box is a single profile."""
        return self.p[0] == self.p[1] and self.q[0] == self.q[1]

    def contains(self, other: EquilibriumBox) -> bool:
        """Whether ``other`` lies inside this box."""
        return (self.p[0] <= other.p[0] and other.p[1] <= self.p[1]
                and self.q[0] <= other.q[0] and other.q[1] <= self.q[1])

    def corners(self) -> list[tuple[Fraction, Fraction]]:
        """The box's distinct corner profiles ``(p, q)``."""
        return sorted(set(product(self.p, self.q)))


def _exact(pay: tuple) -> tuple:
    return tuple(tuple(tuple(Fraction(x) for x in cell) for cell in row) for row in pay)


def _advantages(pay: tuple) -> tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]]:
    """Each player's advantage of action 0, as its values when the other plays 1 and 0."""
    adv0 = (pay[0][1][0] - pay[1][1][0], pay[0][0][0] - pay[1][0][0])
    adv1 = (pay[1][0][1] - pay[1][1][1], pay[0][0][1] - pay[0][1][1])
    return adv0, adv1


def _sign(adv: tuple[Fraction, Fraction], x: Fraction) -> int:
    value = (1 - x) * adv[0] + x * adv[1]
    return (value > 0) - (value < 0)


def _pieces(adv: tuple[Fraction, Fraction]) -> list[tuple[Fraction, Fraction, int]]:
    """Points and open intervals of the other player's probability where ``adv`` keeps one
    sign, as ``(low, high, sign)`` with the sign taken inside the piece."""
    cuts = {_ZERO, _ONE}
    if adv[0] != adv[1]:
        root = adv[0] / (adv[0] - adv[1])
        if _ZERO < root < _ONE:
            cuts.add(root)
    points = sorted(cuts)
    pieces = [(x, x, _sign(adv, x)) for x in points]
    pieces += [(a, b, _sign(adv, (a + b) / 2)) for a, b in zip(points, points[1:], strict=False)]
    return pieces


def _fits(low: Fraction, high: Fraction, sign: int) -> bool:
    """Whether all own probabilities in ``[low, high]`` are best responses given ``sign``."""
    if sign > 0:
        return low == high == _ONE
    if sign < 0:
        return low == high == _ZERO
    return True


def equilibrium_boxes(pay: tuple) -> list[EquilibriumBox]:
    """The Nash equilibrium set of ``pay[a0][a1] = (u0, u1)`` as maximal boxes.

    Args:
        pay: the bimatrix; numbers are converted exactly to fractions.

    Returns:
        Boxes (points, segments or the square) whose union is the equilibrium set, none
        inside another, sorted by ``(p, q)`` descending (pure ``(0, 0)`` first).
    """
    adv0, adv1 = _advantages(_exact(pay))
    found = []
    for q_lo, q_hi, s0 in _pieces(adv0):
        for p_lo, p_hi, s1 in _pieces(adv1):
            if _fits(p_lo, p_hi, s0) and _fits(q_lo, q_hi, s1):
                found.append(EquilibriumBox((p_lo, p_hi), (q_lo, q_hi)))
    unique = list(dict.fromkeys(found))
    maximal = [b for b in unique if not any(o != b and o.contains(b) for o in unique)]
    return sorted(maximal, key=lambda b: (-b.p[1], -b.q[1], -b.p[0], -b.q[0]))


def profile_payoffs(pay: tuple, p: float, q: float) -> tuple[float, float]:
    """Both players' expected payoffs when they play action 0 with probabilities p, q."""
    weights = ((p * q, p * (1 - q)), ((1 - p) * q, (1 - p) * (1 - q)))
    return tuple(sum(weights[a][b] * pay[a][b][i] for a in (0, 1) for b in (0, 1))
                 for i in (0, 1))  # type: ignore[return-value]


def listed_profiles(boxes: list[EquilibriumBox]) -> list[tuple[float, float]]:
    """The profiles a benchmark lists: every equilibrium if the set is finite, else the
    corners of its boxes; pure profiles first, each group in ``(a0, a1)`` order."""
    corners = {c for box in boxes for c in box.corners()}

    def key(c: tuple[Fraction, Fraction]) -> tuple[bool, Fraction, Fraction]:
        pure = c[0] in (_ZERO, _ONE) and c[1] in (_ZERO, _ONE)
        return (not pure, -c[0], -c[1])

    return [(float(p), float(q)) for p, q in sorted(corners, key=key)]


def _l1_to_segment(x: tuple[float, float], a: tuple[float, float],
                   b: tuple[float, float]) -> float:
    """L1 distance from ``x`` to the segment ``[a, b]`` (exact: a convex piecewise-linear
    function of the position on the segment is least at a kink or an end)."""
    d = (b[0] - a[0], b[1] - a[1])
    ts = [0.0, 1.0] + [min(1.0, max(0.0, (x[k] - a[k]) / d[k])) for k in (0, 1) if d[k]]
    return min(abs(x[0] - a[0] - t * d[0]) + abs(x[1] - a[1] - t * d[1]) for t in ts)


def _gap(value: float, low: float, high: float) -> float:
    return max(low - value, 0.0, value - high)


def payoff_images(pay: tuple, boxes: list[EquilibriumBox]
                  ) -> list[tuple[tuple[float, float], ...]]:
    """The payoff pairs at each box's corners: a point, a segment's two ends, or a
    rectangle's four corners (see :func:`payoff_distance`). They depend on the game only,
    so a game computes them once."""
    return [tuple(profile_payoffs(pay, float(p), float(q)) for p, q in box.corners())
            for box in boxes]


def payoff_distance(pay: tuple, boxes: list[EquilibriumBox], x: tuple[float, float],
                    images: list[tuple[tuple[float, float], ...]] | None = None) -> float:
    """L1 distance from the payoff pair ``x`` to the nearest equilibrium's payoff pair.

    On a segment of equilibria the payoffs move along a segment (one probability is fixed
    and payoffs are linear in the other). A box with both sides open only arises when each
    player is indifferent everywhere, so player 0's payoff depends on ``q`` alone and
    player 1's on ``p`` alone: its payoff image is a rectangle. ``images`` are
    :func:`payoff_images` of ``boxes`` when the caller has them already.
    """
    best = float("inf")
    for ends in images if images is not None else payoff_images(pay, boxes):
        if len(ends) == 4:
            u0 = [u[0] for u in ends]
            u1 = [u[1] for u in ends]
            dist = _gap(x[0], min(u0), max(u0)) + _gap(x[1], min(u1), max(u1))
        else:
            dist = _l1_to_segment(x, ends[0], ends[-1])
        best = min(best, dist)
    return best


def pure_nash(pay: tuple) -> list[tuple[int, int]]:
    """Pure-strategy Nash equilibria of a 2x2 bimatrix ``pay[a0][a1] = (u0, u1)``."""
    eq = []
    for a0 in (0, 1):
        for a1 in (0, 1):
            best0 = pay[a0][a1][0] >= pay[1 - a0][a1][0]
            best1 = pay[a0][a1][1] >= pay[a0][1 - a1][1]
            if best0 and best1:
                eq.append((a0, a1))
    return eq


def mixed_nash(pay: tuple) -> tuple[float, float] | None:
    """Probabilities (p0, p1) of action 0 in the fully mixed equilibrium, if one exists."""
    d1 = pay[0][0][1] - pay[0][1][1] - pay[1][0][1] + pay[1][1][1]
    d0 = pay[0][0][0] - pay[1][0][0] - pay[0][1][0] + pay[1][1][0]
    if d0 == 0 or d1 == 0:
        return None
    p0 = (pay[1][1][1] - pay[1][0][1]) / d1  # makes player 1 indifferent
    p1 = (pay[1][1][0] - pay[0][1][0]) / d0  # makes player 0 indifferent
    if 0 < p0 < 1 and 0 < p1 < 1:
        return p0, p1
    return None


def listed_values(pay: tuple, boxes: list[EquilibriumBox]) -> dict[str, float]:
    """Count, continuum flag and each listed equilibrium's probabilities and payoffs."""
    listed = listed_profiles(boxes)
    values: dict[str, float] = {
        "nash_count": float(len(listed)),
        "nash_continuum": float(not all(b.isolated for b in boxes)),
    }
    for k, (p, q) in enumerate(listed):
        u0, u1 = profile_payoffs(pay, p, q)
        values.update({f"nash_{k}_prob0_0": p, f"nash_{k}_prob0_1": q,
                       f"nash_{k}_payoff_0": u0, f"nash_{k}_payoff_1": u1})
    return values


def grim_trigger_threshold(pay: tuple) -> float | None:
    """Least continuation probability at which grim trigger sustains mutual action 0.

    Each player must prefer ``R / (1 - d)`` to deviating once for ``T + d P / (1 - d)``,
    i.e. ``d >= (T - R) / (T - P)`` with its own payoffs; the binding one is the larger.

    Returns:
        The threshold, or ``None`` unless both players face a prisoner's dilemma
        (``T > R > P > S`` in their own payoffs, action 0 = cooperate).
    """
    own = [(pay[0][0][0], pay[0][1][0], pay[1][0][0], pay[1][1][0]),  # R, S, T, P
           (pay[0][0][1], pay[1][0][1], pay[0][1][1], pay[1][1][1])]
    if not all(t > r > p > s for r, s, t, p in own):
        return None
    return max((t - r) / (t - p) for r, s, t, p in own)
