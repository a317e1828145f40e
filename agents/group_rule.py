"""Contribution rules of the public goods game as data: five numbers per strategy.

A :class:`GroupRule` contributes ``round(initial * E)`` in round 1 (``E`` the endowment).
Afterwards, with ``mean`` the others' mean contribution last round, it contributes
``min(E, round(base * E + slope * mean))`` when ``mean >= threshold * E``, else
``round(below * E)``. The registered public goods heuristics are such rules, with their
exact arithmetic (Python's ``round`` is numpy's ``rint``: half to even; ``0.0 * x`` adds
nothing), so a population of them plays as array operations over all agents at once
(:mod:`agora.experiments.population.group_kernel`) with the payoffs of the episode loop:

* ``fixed_contributor(fraction)``: ``initial = base = fraction``, ``slope = 0``;
* ``conditional_cooperator(initial, slope)``: ``base = 0``;
* ``threshold_contributor(initial, threshold, above, below)``: ``base = above``,
  ``slope = 0``.

Example:
    >>> group_rule_of({"name": "conditional_cooperator", "slope": 0.5}).row().tolist()
    [0.5, 0.0, 0.5, 0.0, 0.0]
    >>> group_rule_of("tit_for_tat") is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.base import AgentSpec, table_of
from agora.envs import ConfigError
from agora.envs.core import is_real
from agora.envs.games.public_goods_vec import rule_contributions

__all__ = ["GroupRule", "contributions", "group_rule_of"]


def _unit(key: str, value: Any) -> float:
    if isinstance(value, bool) or not (is_real(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"parameter {key}={value!r} must be a number in [0, 1]")
    return float(value)


def _slope(value: Any) -> float:
    if isinstance(value, bool) or not (is_real(value) and value >= 0):
        raise ConfigError(f"parameter slope={value!r} must be a number >= 0")
    return float(value)


@dataclass(frozen=True)
class GroupRule:
    """A contribution rule (see the module docstring); fractions are of the endowment.

    Attributes:
        name: a label (the heuristic's name).
        initial: contribution in round 1.
        base: contribution when the others gave nothing (with ``threshold = 0``).
        slope: tokens added per token of the others' mean last contribution.
        threshold: the others' mean, as a fraction, at or above which the rule follows
            ``base`` and ``slope``.
        below: contribution when the others' mean is under ``threshold``.

    Raises:
        ConfigError: a fraction outside [0, 1] or a negative slope, naming the key.

    Example:
        >>> GroupRule("free_rider", 0.0, 0.0, 0.0, 0.0, 0.0).contribution(20, None)
        0
    """

    name: str
    initial: float
    base: float
    slope: float
    threshold: float
    below: float

    def __post_init__(self) -> None:
        for key in ("initial", "base", "threshold", "below"):
            object.__setattr__(self, key, _unit(key, getattr(self, key)))
        object.__setattr__(self, "slope", _slope(self.slope))

    def row(self) -> np.ndarray:
        """``[initial, base, slope, threshold, below]`` (float64), one row of a table."""
        return np.array([self.initial, self.base, self.slope, self.threshold, self.below])

    def contribution(self, endowment: int, others_last: tuple[int, ...] | None) -> int:
        """This rule's contribution given the others' last contributions (None: round 1)."""
        if others_last is None:
            return round(self.initial * endowment)
        mean = sum(others_last) / len(others_last)
        if mean >= self.threshold * endowment:
            return min(endowment, round(self.base * endowment + self.slope * mean))
        return round(self.below * endowment)


def contributions(rules: np.ndarray, last: np.ndarray | None, endowment: int) -> np.ndarray:
    """Every seat's contribution at once: :meth:`GroupRule.contribution` over arrays (the
    arithmetic lives in :func:`agora.envs.games.public_goods_vec.rule_contributions`, so
    the public goods vector env plays these rules without importing agents).

    Args:
        rules: ``(G, k, 5)`` each seat's :meth:`GroupRule.row`.
        last: ``(G, k)`` last round's contributions, or None in round 1.
        endowment: tokens per round.

    Returns:
        ``(G, k)`` int64 contributions.

    Example:
        >>> cc = group_rule_of("conditional_cooperator").row()
        >>> contributions(np.stack([[cc, cc, cc]]), np.array([[0, 10, 20]]), 20).tolist()
        [[15, 10, 5]]
    """
    return rule_contributions(rules, last, endowment)


def _fixed(fraction: float = 0.5) -> GroupRule:
    f = _unit("fraction", fraction)
    return GroupRule("fixed_contributor", f, f, 0.0, 0.0, 0.0)


def _conditional(initial: float = 0.5, slope: float = 1.0) -> GroupRule:
    return GroupRule("conditional_cooperator", _unit("initial", initial), 0.0, _slope(slope),
                     0.0, 0.0)


def _threshold(initial: float = 1.0, threshold: float = 0.5, above: float = 1.0,
               below: float = 0.0) -> GroupRule:
    return GroupRule("threshold_contributor", _unit("initial", initial),
                     _unit("above", above), 0.0, _unit("threshold", threshold),
                     _unit("below", below))


_FACTORIES: dict[str, Callable[..., GroupRule]] = {
    "fixed_contributor": _fixed,
    "conditional_cooperator": _conditional,
    "threshold_contributor": _threshold,
}


def group_rule_of(spec: GroupRule | AgentSpec | str | Mapping[str, Any]) -> GroupRule | None:
    """The contribution rule of a public goods strategy spec, or None when it has none.

    Accepted: a :class:`GroupRule`, or the spec of a registered heuristic that is one
    (``fixed_contributor``, ``conditional_cooperator``, ``threshold_contributor``, with
    their parameters and defaults). Anything else (a language model, a learner) gives None.

    Raises:
        ConfigError: one of these names with an unknown or invalid parameter.

    Example:
        >>> group_rule_of({"name": "fixed_contributor", "fraction": 0.25}).row().tolist()
        [0.25, 0.25, 0.0, 0.0, 0.0]
    """
    if isinstance(spec, GroupRule):
        return spec
    parsed = AgentSpec.parse(spec)
    return table_of(parsed, _FACTORIES)
