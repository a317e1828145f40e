"""One adapter layer that turns any :class:`~agora.envs.core.Game` into API shells.

* :class:`ParallelGameEnv`: a PettingZoo ``ParallelEnv`` for simultaneous-move games.
* :class:`AECGameEnv`: a PettingZoo ``AECEnv`` for turn-based games.
* :class:`SinglePlayerEnv`: a Gymnasium ``Env`` for one player of any game facing fixed
  opponent policies (or a single-agent task).

The shells own the shared rules (agent bookkeeping, illegal actions, finished agents,
reward accumulation), so no game re-implements them. Observations are
``{"observation": float32 vector, "action_mask": int8 vector}``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv

from agora.envs.core import Game, Observation, Status, uniform_legal
from agora.envs.errors import ConfigError, GameOverError, IllegalActionError
from agora.envs.text import TextFace

_RUNNING, _TERMINATED = Status.RUNNING, Status.TERMINATED


@runtime_checkable
class Policy(Protocol):
    """Anything that picks an action from a typed observation (agents satisfy this)."""

    def act(self, obs: Observation[Any]) -> Any: ...


def agent_name(i: int) -> str:
    """PettingZoo name of player ``i``."""
    return f"player_{i}"


class _Faces:
    """Spaces and observation dicts for one game (shared by every shell)."""

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any] | None) -> None:
        self.game = game
        self.text = text
        low, high = game.observation_bounds()
        n = game.num_actions
        self.observation_space_ = spaces.Dict({
            "observation": spaces.Box(low, high, game.observation_shape, np.float32),
            "action_mask": spaces.Box(0, 1, (n,), np.int8),
        })
        self.action_space_ = spaces.Discrete(n)
        self._mask_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def mask8(self, mask: np.ndarray) -> np.ndarray:
        """int8 copy of a bool mask, cached per (read-only) mask object."""
        hit = self._mask_cache.get(id(mask))
        if hit is not None and hit[0] is mask:
            return hit[1]
        m8 = mask.astype(np.int8)
        if not mask.flags.writeable:  # games return cached, immutable masks
            self._mask_cache[id(mask)] = (mask, m8)
        return m8

    def obs(self, state: Any, player: int) -> dict[str, np.ndarray]:
        g = self.game
        return {"observation": g.encode(state, player),
                "action_mask": self.mask8(g.legal_mask(state, player))}

    def check(self, state: Any, player: int, action: Any) -> int:
        """The action as an int, or :class:`IllegalActionError`."""
        g = self.game
        if g.always_legal and type(action) is int and 0 <= action < g.num_actions:
            return action
        if not g.is_legal(state, player, action):
            raise IllegalActionError(
                f"{agent_name(player)} played {action!r}, which is not a legal action now "
                f"(legal: {np.flatnonzero(g.legal_mask(state, player)).tolist()})"
            )
        return int(action)

    def fresh_obs(self, state: Any, player: int) -> dict[str, np.ndarray]:
        """Like :meth:`obs` but with arrays the caller owns (Gymnasium's contract)."""
        return {k: np.array(v) for k, v in self.obs(state, player).items()}

    def ansi(self, state: Any) -> str:
        g = self.game
        if self.text is None:
            return repr(state)
        lines = []
        for i in range(g.num_players):
            lines.append(f"[{agent_name(i)}] {self.text.render(g.observe(state, i))}")
        return "\n".join(lines)


class _PettingZooShell:
    """What the Parallel and AEC shells share: set-up, spaces, render and global state.

    Spaces come from one :class:`_Faces` object, so every call returns the same object.
    """

    game: Game[Any, Any, Any]
    metadata: dict[str, Any]

    def _setup(self, game: Game[Any, Any, Any], text: TextFace[Any] | None,
               render_mode: str | None) -> None:
        if render_mode not in (None, "ansi"):
            raise ConfigError(f"render_mode={render_mode!r} is not supported; use 'ansi'")
        self.game = game
        self.text = text
        self.render_mode = render_mode
        self._faces = _Faces(game, text)
        self.possible_agents = [agent_name(i) for i in range(game.num_players)]
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self._rng = np.random.default_rng()
        self.state_: Any = None
        self.metadata = {**self.metadata, "name": game.info.name}

    def observation_space(self, agent: str) -> spaces.Space:
        return self._faces.observation_space_

    def action_space(self, agent: str) -> spaces.Space:
        return self._faces.action_space_

    def render(self) -> str | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        return self._faces.ansi(self.state_)

    def state(self) -> np.ndarray:
        return np.concatenate([self.game.encode(self.state_, i)
                               for i in range(self.game.num_players)])

    def close(self) -> None:
        pass


class ParallelGameEnv(_PettingZooShell, ParallelEnv):
    """PettingZoo Parallel API over a simultaneous-move game.

    Example:
        >>> from agora.envs import make
        >>> env = make("RepeatedPD-v0", rounds=3)
        >>> obs, infos = env.reset(seed=0)
        >>> obs, rewards, terms, truncs, infos = env.step({"player_0": 0, "player_1": 1})
        >>> rewards
        {'player_0': 0.0, 'player_1': 5.0}
    """

    metadata = {"render_modes": ["ansi"], "name": "agora_parallel", "is_parallelizable": True}

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any] | None = None,
                 render_mode: str | None = None) -> None:
        self._setup(game, text, render_mode)
        self.agents: list[str] = []
        self._all8 = np.ones(game.num_actions, np.int8) if game.always_legal else None
        if self._all8 is not None:
            self._all8.flags.writeable = False

    def reset(self, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, Any], dict[str, dict]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state_ = self.game.initial_state(self._rng)
        self.agents = [agent_name(i) for i in self.game.to_move(self.state_)]
        obs = {a: self._faces.obs(self.state_, self._index[a]) for a in self.agents}
        return obs, {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        names = self.agents
        if not names:
            raise GameOverError("step() called after the episode ended; call reset()")
        game, state = self.game, self.state_
        movers = game.to_move(state)
        try:
            joint = tuple([actions[a] for a in names])
        except KeyError as exc:
            raise IllegalActionError(f"no action given for {exc.args[0]}") from None
        if not self._fast_legal(joint):
            check = self._faces.check
            joint = tuple([check(state, i, a) for i, a in zip(movers, joint)])
        state, rewards = game.step(state, joint, self._rng)
        self.state_ = state
        running = game.status(state) is _RUNNING
        m8 = self._all8
        if m8 is not None and running:
            encode = game.encode
            obs = {a: {"observation": encode(state, i), "action_mask": m8}
                   for i, a in zip(movers, names)}
        else:
            obs = {a: self._faces.obs(state, i) for i, a in zip(movers, names)}
        rew = {a: rewards[i] for i, a in zip(movers, names)}
        infos: dict[str, dict] = {a: {} for a in names}
        if running:
            flags = dict.fromkeys(names, False)
            return obs, rew, flags, flags.copy(), infos
        self.agents = []
        term = game.status(state) is _TERMINATED
        return obs, rew, dict.fromkeys(names, term), dict.fromkeys(names, not term), infos

    def _fast_legal(self, joint: tuple[Any, ...]) -> bool:
        """True when every action is a plain in-range int of an always-legal game."""
        if not self.game.always_legal:
            return False
        n = self.game.num_actions
        for a in joint:
            if type(a) is not int or not 0 <= a < n:
                return False
        return True


class AECGameEnv(_PettingZooShell, AECEnv):
    """PettingZoo AEC API over a turn-based game.

    Example:
        >>> from agora.envs import make
        >>> env = make("Bargaining-v0")
        >>> env.reset(seed=0)
        >>> env.agent_selection
        'player_0'
        >>> env.step(60); env.step(1)  # keep 60 units; the responder accepts
        >>> env.rewards["player_1"]
        0.4
    """

    metadata = {"render_modes": ["ansi"], "name": "agora_aec", "is_parallelizable": False}

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any] | None = None,
                 render_mode: str | None = None) -> None:
        super().__init__()
        self._setup(game, text, render_mode)

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state_ = self.game.initial_state(self._rng)
        self.agents = self.possible_agents[:]
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self.agent_selection = agent_name(self.game.to_move(self.state_)[0])

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        return self._faces.obs(self.state_, self._index[agent])

    def step(self, action: Any) -> None:
        if not self.agents:
            raise GameOverError("step() called after the episode ended; call reset()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        player = self._index[agent]
        legal = self._faces.check(self.state_, player, action)
        self._cumulative_rewards[agent] = 0.0
        self.state_, rewards = self.game.step(self.state_, (legal,), self._rng)
        self.rewards = {a: rewards[self._index[a]] for a in self.agents}
        status = self.game.status(self.state_)
        if status is not Status.RUNNING:
            flags = self.terminations if status is Status.TERMINATED else self.truncations
            for a in self.agents:
                flags[a] = True
        else:
            self.agent_selection = agent_name(self.game.to_move(self.state_)[0])
        self._accumulate_rewards()


class _UniformOpponent:
    """Default fixed opponent: a uniformly random legal action from the env's own rng."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def act(self, obs: Observation[Any]) -> int:
        return uniform_legal(self.rng, obs)


class SinglePlayerEnv(gymnasium.Env):
    """Gymnasium view of one player of a game, the others played by fixed policies.

    Opponents are :class:`Policy` objects keyed by player index (agents from
    ``agora.agents`` qualify); a missing opponent plays uniformly random legal actions
    drawn from this env's seeded generator. Opponents with a ``reset(seed=..., player=...)``
    method are reset with seeds spawned from the episode seed.

    Illegal actions follow a declared policy: ``"raise"`` raises
    :class:`IllegalActionError`; ``"penalty"`` (the default, since unmasked RL libraries
    sample any action) leaves the state unchanged, pays ``illegal_penalty``, counts the
    event in ``info["illegal_actions"]`` and truncates the episode after
    ``max_illegal_actions`` of them.

    Example:
        >>> import gymnasium, agora.envs
        >>> env = gymnasium.make("agora/RepeatedPD-v0")
        >>> obs, info = env.reset(seed=1)
        >>> obs["action_mask"].tolist()
        [1, 1]
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any] | None = None,
                 player: int = 0, opponents: dict[int, Policy] | None = None,
                 render_mode: str | None = None, illegal_action: str = "penalty",
                 illegal_penalty: float = -1.0, max_illegal_actions: int = 100) -> None:
        if illegal_action not in ("raise", "penalty"):
            raise ConfigError(f"illegal_action={illegal_action!r}; use 'raise' or 'penalty'")
        if not 0 <= player < game.num_players:
            raise ConfigError(f"player={player} is not in 0..{game.num_players - 1}")
        if render_mode not in (None, "ansi"):
            raise ConfigError(f"render_mode={render_mode!r} is not supported; use 'ansi'")
        self.game = game
        self.text = text
        self.player = player
        self.render_mode = render_mode
        self._faces = _Faces(game, text)
        self.observation_space = self._faces.observation_space_
        self.action_space = self._faces.action_space_
        self._given = dict(opponents or {})
        self._opponents: dict[int, Any] = {}
        self.state_: Any = None
        self.illegal_action = illegal_action
        self.illegal_penalty = float(illegal_penalty)
        self.max_illegal_actions = max_illegal_actions
        self.illegal_actions = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        rng = self.np_random
        self._opponents = {}
        for j in range(self.game.num_players):
            if j == self.player:
                continue
            opp = self._given.get(j) or _UniformOpponent(rng)
            if hasattr(opp, "reset"):
                opp.reset(seed=int(rng.integers(2**63)), player=j)
            self._opponents[j] = opp
        self.illegal_actions = 0
        self.state_ = self.game.initial_state(rng)
        self.state_, reward = self._advance(self.state_)
        return self._faces.fresh_obs(self.state_, self.player), {"skipped_reward": reward}

    def _advance(self, state: Any) -> tuple[Any, float]:
        """Let opponents move until it is our turn or the game ends (sequential games)."""
        reward = 0.0
        g = self.game
        while g.status(state) is Status.RUNNING and self.player not in g.to_move(state):
            joint = tuple(self._opponent_action(state, j) for j in g.to_move(state))
            state, rewards = g.step(state, joint, self.np_random)
            reward += rewards[self.player]
        return state, reward

    def _opponent_action(self, state: Any, j: int) -> int:
        return self._faces.check(state, j, self._opponents[j].act(self.game.observe(state, j)))

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        g, state = self.game, self.state_
        if state is None or g.status(state) is not Status.RUNNING or (
            self.illegal_actions >= self.max_illegal_actions
        ):
            raise GameOverError("step() called after the episode ended; call reset()")
        if self.illegal_action == "penalty" and not g.is_legal(state, self.player, action):
            self.illegal_actions += 1
            capped = self.illegal_actions >= self.max_illegal_actions
            penalty_info = {"illegal_action": True, "illegal_actions": self.illegal_actions}
            return (self._faces.fresh_obs(state, self.player), self.illegal_penalty, False,
                    capped, penalty_info)
        mine = self._faces.check(state, self.player, action)
        joint = tuple(mine if j == self.player else self._opponent_action(state, j)
                      for j in g.to_move(state))
        state, rewards = g.step(state, joint, self.np_random)
        state, later = self._advance(state)
        self.state_ = state
        status = g.status(state)
        info: dict[str, Any] = {"illegal_actions": self.illegal_actions}
        if status is not Status.RUNNING:
            info.update(returns=g.returns(state), metrics=g.metrics(state))
        return (self._faces.fresh_obs(state, self.player), float(rewards[self.player] + later),
                status is Status.TERMINATED, status is Status.TRUNCATED, info)

    def render(self) -> str | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        return self._faces.ansi(self.state_)
