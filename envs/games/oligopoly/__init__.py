"""Repeated oligopoly: Cournot quantity competition and Bertrand price competition.

``n_firms`` firms play one of three stage games ``rounds`` times, choosing simultaneously on
a grid (action ``k`` means the value ``k / granularity``; marginal cost ``c = cost``):

* ``Cournot-v1``: quantities ``q_i``; price ``P = max(0, a - b Q)``, ``Q = sum(q)``;
  profit ``q_i (P - c)``.
* ``Bertrand-v1`` (homogeneous good): prices ``p_i``; the lowest price ``p`` sells
  ``D(p) = max(0, (a - p) / b)`` units, split equally among the firms tied at ``p``;
  profit ``(p_i - c)`` times the units firm i sells.
* ``BertrandDifferentiated-v1``: prices ``p_i``; firm i sells
  ``q_i = max(0, alpha - beta p_i + gamma sum_{j != i} p_j)``; profit ``(p_i - c) q_i``.
* ``LogitBertrand-v1`` (Calvano et al. 2020): prices from a grid of ``n_prices`` points
  spanning ``[p^N - xi (p^M - p^N), p^M + xi (p^M - p^N)]``; firm i sells the logit share
  ``q_i = exp((a - p_i)/mu) / (sum_j exp((a - p_j)/mu) + exp(a0/mu))``; profit
  ``(p_i - c) q_i``. Action ``k`` is the k-th grid price, not ``k / granularity``.

Players: ``n_firms`` (>= 2), moving simultaneously every round.
Actions: grid index ``k`` in ``0..q_max*granularity`` (or ``p_max``); always legal.
Observations: typed :class:`OligopolyView`; tensor: round progress, own last action and the
others' mean, min and max last action (fractions of the grid; 0 before round 1).
Payoffs: each round's profit (negative when selling below cost).
Episode end: after ``rounds`` rounds.
Benchmark (per firm and round): Cournot ``q* = (a-c)/(b(n+1))``, the joint-monopoly
(collusive) share ``(a-c)/(2bn)`` and the competitive ``Q = (a-c)/b``; homogeneous Bertrand
``p* = c`` (on a grid the lowest price above ``c`` is an equilibrium too: both symmetric grid
equilibria are reported); differentiated ``p* = (alpha + beta c)/(2 beta - gamma (n-1))``
and the collusive price; logit ``p^N`` and ``p^M`` from their first-order conditions
(``p = c + mu / (1 - q_i)`` and ``p = c + mu / (1 - sum_j q_j)``). ``grid_error`` says how
far the grid is from the closed form.
Metrics: ``gain_<i>`` (total profit), ``fairness`` (1 - Gini of profits), ``mean_action``,
``total_quantity`` and ``mean_price`` (per round), ``consumer_surplus`` (per round; NaN for
differentiated demand when a firm's demand was cut at 0; logit: the surplus over the outside
good), ``efficiency`` (total surplus /
competitive total surplus), ``collusion_index`` ((profit - Nash) / (collusive - Nash),
Calvano et al. 2020), ``distance_to_benchmark`` (``|mean_action - equilibrium|``).
Reference: Cournot (1838); Bertrand (1883); Singh & Vives (1984), RAND J. Econ. 15(4);
Calvano, Calzolari, Denicolo & Pastorello (2020), AER 110(10).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
``LogitBertrand-v1`` was first released at v1, under that rule.
"""

from __future__ import annotations

from agora.envs.games.oligopoly.base import (
    FRAMINGS,
    MAX_GRID,
    BertrandParams,
    CournotParams,
    DiffBertrandParams,
    OligopolyGame,
    OligopolyParams,
    OligopolyState,
    OligopolyView,
    StageOutcome,
)
from agora.envs.games.oligopoly.logit import (
    LogitBertrandGame,
    LogitBertrandParams,
    logit_shares,
    symmetric_prices,
)
from agora.envs.games.oligopoly.markets import BertrandGame, CournotGame, DiffBertrandGame
from agora.envs.spec import EnvSpec

__all__ = ["FRAMINGS", "MAX_GRID", "BertrandGame", "BertrandParams", "CournotGame",
           "CournotParams", "DiffBertrandGame", "DiffBertrandParams", "LogitBertrandGame",
           "LogitBertrandParams", "OligopolyGame",
           "OligopolyParams", "OligopolyState", "OligopolyView", "StageOutcome", "SPECS",
           "logit_shares", "symmetric_prices"]


SPECS = (
    EnvSpec("Cournot-v1", CournotGame, "agora.envs.games.oligopoly_text:CournotText",
            summary="Repeated N-firm Cournot quantity competition (P = a - bQ, cost c)",
            default_opponent="cournot_nash"),
    EnvSpec("Bertrand-v1", BertrandGame, "agora.envs.games.oligopoly_text:BertrandText",
            summary="Repeated N-firm Bertrand price competition, homogeneous good",
            default_opponent="bertrand_undercut"),
    EnvSpec("BertrandDifferentiated-v1", DiffBertrandGame,
            "agora.envs.games.oligopoly_text:DiffBertrandText",
            summary="Repeated N-firm Bertrand competition with linear differentiated demand",
            default_opponent="bertrand_nash"),
    EnvSpec("LogitBertrand-v1", LogitBertrandGame,
            "agora.envs.games.oligopoly_text:LogitBertrandText",
            summary="Repeated N-firm Bertrand with logit demand on Calvano et al.'s price grid",
            default_opponent="bertrand_nash"),
)
