"""Independent multi-agent learners in three social dilemmas, reported against theory.

Every player of a game learns on its own (no shared parameters, no opponent model) and the
outcome of each seed is compared with the game's own benchmark:

* ``cournot``: ``Cournot-v1``, two firms, one-shot stage game (quantities ``0..60``);
  theory: the Cournot-Nash quantity 40 vs the collusive (joint-monopoly) quantity 30.
* ``public_goods``: ``PublicGoods-v1``, three players, endowment 5, multiplier 1.6, one
  round; theory: free riding (contribute 0, dominant) vs full contribution (optimal).
* ``pd``: the prisoner's dilemma of ``RepeatedPD-v1`` (action 0 cooperates, 1 defects),
  repeated; theory: mutual defection (the stage equilibrium) vs mutual cooperation.

Two learners: ``tabular``, independent Q-learners from :mod:`agora.experiments.collusion`
(one compiled kernel, one session per seed; stateless in Cournot and public goods, memory
one in the PD, discount 0.95), with payoffs read from the game core's own ``step``; and
``rllib``, independent multi-agent PPO through ``agora train``'s rllib backend
(:func:`~agora.experiments.train.run_training`), one module per player, each seed's
trained modules then played greedily for one episode.

Per seed the report gives each player's mean action (in the game's units; in the PD the
defection rate) and payoff per round, the benchmark's Nash and optimum values, the
*cooperation index* ``(x - nash) / (optimum - nash)`` of the mean action and of the mean
payoff (0 at the equilibrium, 1 at the optimum; the payoff one is Calvano et al.'s Delta),
and whether the seed converged:

* tabular: no player's greedy action changed in any state for ``stable_periods`` periods;
* rllib: on the greedy episode every learner puts at least :data:`CONVERGED_PROB` of its
  policy's probability on its greedy action in every state it meets.

Seeds that did not converge stay in the table, counted: independent learning in
general-sum games need not converge (Foster, Golowich & Kakade 2023).

Example:
    >>> rows = tabular_rows(GAMES["pd"], seeds=2, learning=QLearning(
    ...     beta=1e-3, memory=0, stable_periods=500, max_periods=50_000))
    >>> rows["action_mean"].tolist(), rows["converged"].all()
    ([1.0, 1.0], np.True_)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agora.envs import ConfigError, make_game
from agora.experiments.collusion import QLearning, run_sessions

CONVERGED_PROB = 0.9
"""rllib: the greedy action's least policy probability for a seed to count as converged."""

ROW_COLUMNS = ("game", "learner", "seed", "players", "joint", "action_mean", "payoff_mean",
               "nash_action", "optimum_action", "nash_payoff", "optimum_payoff",
               "action_index", "payoff_index", "distance_nash", "converged", "steps",
               "wall_s")
"""The per-seed columns of the report (written to Parquet)."""

SUMMARY_STATS = ("mean", "sd", "min", "max")


@dataclass(frozen=True)
class MarlGame:
    """One game of the study: the id and params, and how each learner plays it.

    Attributes:
        key: short name in the report.
        env: the registry id.
        params: the id's params (one round: the learners see the stage game).
        learning: the tabular learners' parameters.
        rllib_params: params for the rllib learners (the PD plays 10 rounds there).
        reward_scale: rllib's reward scale (payoffs to about one).
    """

    key: str
    env: str
    params: Mapping[str, Any]
    learning: QLearning
    rllib_params: Mapping[str, Any] = field(default_factory=dict)
    reward_scale: float = 1.0

    def game(self, rllib: bool = False) -> Any:
        """The pure game core (with the rllib params when ``rllib``)."""
        return make_game(self.env, {**self.params, **(self.rllib_params if rllib else {})})[0]


GAMES: dict[str, MarlGame] = {
    "cournot": MarlGame("cournot", "Cournot-v1", {"rounds": 1, "q_max": 60},
                        QLearning(alpha=0.15, beta=1e-5, delta=0.95, memory=0),
                        reward_scale=1 / 800),
    "public_goods": MarlGame("public_goods", "PublicGoods-v1",
                             {"n_players": 3, "endowment": 5, "multiplier": 1.6, "rounds": 1},
                             QLearning(alpha=0.15, beta=1e-5, delta=0.95, memory=0),
                             reward_scale=1 / 8),
    "pd": MarlGame("pd", "RepeatedPD-v1", {"rounds": 1},
                   QLearning(alpha=0.15, beta=1e-5, delta=0.95, memory=1),
                   rllib_params={"rounds": 10}, reward_scale=1 / 5),
}
"""The three games of issue 14, with the learners' settings."""


def core_payoffs(game: Any) -> Callable[[tuple[int, ...]], tuple[float, ...]]:
    """Stage payoffs read from the game core's own ``step`` from its initial state.

    Example:
        >>> game = GAMES["public_goods"].game()
        >>> core_payoffs(game)((5, 0, 0))  # the pot of 5 becomes 8, shared by three
        (2.666..., 7.666..., 7.666...)
    """
    rng = np.random.default_rng(0)
    start = game.initial_state(rng)
    return lambda joint: tuple(float(r) for r in game.step(start, tuple(joint), rng).rewards)


def theory(key: str, game: Any) -> dict[str, float]:
    """Each player's Nash and optimum action (game units) and payoff per round.

    Example:
        >>> theory("cournot", GAMES["cournot"].game())["nash_action"]
        40.0
    """
    b = game.benchmark().values
    if key == "cournot":
        return {"nash_action": b["nash_quantity"], "optimum_action": b["collusive_quantity"],
                "nash_payoff": b["nash_profit"], "optimum_payoff": b["collusive_profit"]}
    if key == "public_goods":
        return {"nash_action": b["nash_contribution"],
                "optimum_action": b["optimum_contribution"],
                "nash_payoff": b["nash_payoff_per_round"],
                "optimum_payoff": b["optimum_payoff_per_round"]}
    if key == "pd":
        return {"nash_action": float(b["nash_action_0"]), "optimum_action": 0.0,
                "nash_payoff": b["nash_payoff_0"],
                "optimum_payoff": b["social_optimum_per_round"] / 2}
    raise ConfigError(f"game: unknown key {key!r}; known: {sorted(GAMES)}")


def action_values(game: Any) -> np.ndarray:
    """Each action index's value in the game's units (Cournot: the quantity)."""
    value = getattr(game, "value", None)
    return np.array([value(k) if value else float(k) for k in range(game.num_actions)])


def seed_row(key: str, learner: str, seed: int, actions: np.ndarray, payoffs: np.ndarray,
             bench: Mapping[str, float], converged: bool, steps: int,
             wall_s: float) -> dict[str, Any]:
    """One seed's report row from each player's mean action and payoff per round."""
    a, p = float(np.mean(actions)), float(np.mean(payoffs))
    span_a = bench["optimum_action"] - bench["nash_action"]
    span_p = bench["optimum_payoff"] - bench["nash_payoff"]
    return {"game": key, "learner": learner, "seed": seed, "players": len(actions),
            "joint": ",".join(f"{x:g}" for x in np.round(actions, 3)), "action_mean": a,
            "payoff_mean": p, **bench,  # + 0.0: no -0.0 where the span is negative (PD)
            "action_index": (a - bench["nash_action"]) / span_a + 0.0,
            "payoff_index": (p - bench["nash_payoff"]) / span_p + 0.0,
            "distance_nash": abs(a - bench["nash_action"]), "converged": bool(converged),
            "steps": int(steps), "wall_s": float(wall_s)}


def tabular_rows(g: MarlGame, seeds: int, root_seed: int = 0,
                 learning: QLearning | None = None) -> pd.DataFrame:
    """``seeds`` independent Q-learning sessions of ``g`` (session k is seed k).

    The outcome of a seed is its limit cycle: the greedy strategies played from the last
    state until a state repeats (collusion.py), averaged over the cycle.
    """
    game = g.game()
    learn = learning or g.learning
    start = time.perf_counter()
    res = run_sessions(game, learn, seeds, root_seed, payoffs=core_payoffs(game))
    wall = (time.perf_counter() - start) / seeds
    values, bench = action_values(game), theory(g.key, game)
    rows = []
    for k in range(seeds):
        idx = res.cycle_actions[k]  # mean action index on the cycle
        actions = np.interp(idx, np.arange(len(values)), values)
        rows.append(seed_row(g.key, "tabular", k, actions, res.cycle_profits[k], bench,
                             res.converged[k], res.periods[k], wall))
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd, min and max over seeds of each game and learner, with the benchmark.

    Example:
        >>> rows = pd.DataFrame([{**{c: 0.0 for c in ROW_COLUMNS}, "game": "pd",
        ...     "learner": "x", "action_mean": v, "converged": True} for v in (0.0, 1.0)])
        >>> summarise(rows)[["action_mean_mean", "action_mean_sd"]].round(3).values.tolist()
        [[0.5, 0.707]]
    """
    out = []
    for (game, learner), grp in rows.groupby(["game", "learner"], sort=False):
        row: dict[str, Any] = {"game": game, "learner": learner, "seeds": len(grp),
                               "converged": int(grp["converged"].sum())}
        for col in ("action_mean", "payoff_mean", "action_index", "payoff_index",
                    "distance_nash"):
            x = grp[col].astype(float)
            row.update({f"{col}_mean": x.mean(), f"{col}_sd": x.std(ddof=1)
                        if len(x) > 1 else 0.0, f"{col}_min": x.min(), f"{col}_max": x.max()})
        for col in ("nash_action", "optimum_action", "nash_payoff", "optimum_payoff"):
            row[col] = float(grp[col].iloc[0])
        row["wall_s"] = float(grp["wall_s"].sum())
        out.append(row)
    return pd.DataFrame(out)


def markdown(summary: pd.DataFrame) -> str:
    """The summary as a markdown table: mean (sd) [min, max] over seeds beside theory."""
    head = ("| game | learner | converged | action: mean (sd) [min, max] | Nash | optimum "
            "| payoff: mean (sd) | Nash | optimum | coop. index (action) | wall s |")
    lines = [head, "|" + "---|" * 11]
    for r in summary.to_dict("records"):
        lines.append(
            f"| {r['game']} | {r['learner']} | {r['converged']}/{r['seeds']} "
            f"| {r['action_mean_mean']:.2f} ({r['action_mean_sd']:.2f}) "
            f"[{r['action_mean_min']:.2f}, {r['action_mean_max']:.2f}] "
            f"| {r['nash_action']:g} | {r['optimum_action']:g} "
            f"| {r['payoff_mean_mean']:.2f} ({r['payoff_mean_sd']:.2f}) "
            f"| {r['nash_payoff']:g} | {r['optimum_payoff']:g} "
            f"| {r['action_index_mean']:.2f} [{r['action_index_min']:.2f}, "
            f"{r['action_index_max']:.2f}] | {r['wall_s']:.1f} |")
    return "\n".join(lines)


RLLIB_HYPERPARAMETERS: dict[str, Any] = {"train_batch_size_per_learner": 500,
                                         "minibatch_size": 100, "num_epochs": 5, "lr": 1e-3}
"""PPO settings for small budgets (four iterations of 500 env steps in 2,000)."""


def rllib_config(g: MarlGame, budget: int, seeds: Sequence[int], name: str | None = None,
                 hyperparameters: Mapping[str, Any] | None = None) -> Any:
    """The ``agora train`` config of independent PPO learners on every seat of ``g``.

    Example:
        >>> cfg = rllib_config(GAMES["public_goods"], 1000, [0, 1])
        >>> cfg.learners, cfg.policies
        (['player_0', 'player_1', 'player_2'], 'independent')
    """
    from agora.experiments.train import parse_train_config

    n = g.game(rllib=True).num_players
    return parse_train_config({
        "name": name or f"marl-{g.key}", "env": g.env,
        "params": {**g.params, **g.rllib_params}, "backend": "rllib",
        "learners": [f"player_{i}" for i in range(n)], "policies": "independent",
        "hyperparameters": dict(hyperparameters or RLLIB_HYPERPARAMETERS),
        "reward_scale": g.reward_scale, "n_envs": 1, "total_timesteps": budget,
        "seeds": list(seeds), "eval_episodes": 0})


def greedy_episode(cfg: Any, checkpoint: Path, seed: int
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Play one episode with each learner's greedy action from its trained module.

    Returns:
        Each player's mean action index and mean payoff per round (unscaled), and the
        least probability a module gave its greedy action on the way.
    """
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModule

    from agora.agents._rllib_masking import batch_of_one
    from agora.experiments.train_rllib import env_config, learners_env_class

    base = checkpoint / "learner_group" / "learner" / "rl_module"
    modules = {a: RLModule.from_checkpoint(str((base / a).resolve())) for a in cfg.learners}
    env = learners_env_class()(env_config(cfg, seed))
    obs, _ = env.reset(seed=seed)
    acts: dict[str, list[int]] = {a: [] for a in cfg.learners}
    pays: dict[str, list[float]] = {a: [] for a in cfg.learners}
    least = 1.0
    while True:
        joint = {}
        for a, o in obs.items():
            with torch.no_grad():
                out = modules[a].forward_inference(batch_of_one(o))
            probs = torch.softmax(out["action_dist_inputs"][0], -1).numpy()
            joint[a] = int(probs.argmax())
            least = min(least, float(probs.max()))
            acts[a].append(joint[a])
        obs, rew, term, trunc, _ = env.step(joint)
        for a, r in rew.items():
            pays[a].append(r / cfg.reward_scale)
        if term["__all__"] or trunc["__all__"]:
            break
    return (np.array([np.mean(acts[a]) for a in cfg.learners]),
            np.array([np.mean(pays[a]) for a in cfg.learners]), least)


def rllib_rows(g: MarlGame, budget: int, seeds: Sequence[int], out: str | Path,
               hyperparameters: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Train independent PPO learners on ``g`` with ``agora train`` (one run directory
    ``out``, ``budget`` env steps per seed), then report each seed's greedy episode."""
    from agora.experiments.train import run_training

    cfg = rllib_config(g, budget, seeds, hyperparameters=hyperparameters)
    start = time.perf_counter()
    summary = run_training(cfg, out, progress=False)
    wall = (time.perf_counter() - start) / len(seeds)
    game = g.game(rllib=True)
    values, bench = action_values(game), theory(g.key, game)
    rows = []
    for seed, path in sorted(summary.checkpoints.items()):
        idx, pay, least = greedy_episode(cfg, path, seed)
        actions = np.interp(idx, np.arange(len(values)), values)
        curve = summary.curves[summary.curves["seed"] == seed]
        steps = int(curve["step"].max()) if len(curve) else budget
        rows.append(seed_row(g.key, "rllib", seed, actions, pay, bench,
                             least >= CONVERGED_PROB, steps, wall))
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))
