"""One adapter layer that turns any :class:`~agora.envs.core.Game` into API shells.

* :class:`ParallelGameEnv`: a PettingZoo ``ParallelEnv`` for simultaneous-move games.
* :class:`AECGameEnv`: a PettingZoo ``AECEnv`` for turn-based games.
* :class:`WorldEnv`: the Gymnasium shell of a single-agent task (design and graph worlds).

The Gymnasium view of one player of a game is :class:`~agora.envs.single_player.SinglePlayerEnv`.

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

from agora.envs.core import Game, Observation, Status
from agora.envs.errors import (
    ActionParseError,
    GameOverError,
    IllegalActionError,
    RenderModeError,
)
from agora.envs.invalid import InvalidPolicy
from agora.envs.seeding import Seeder, as_generator
from agora.envs.text import Mailbox, TextFace

_RUNNING, _TERMINATED = Status.RUNNING, Status.TERMINATED
_MISSING = object()


class _Penalised(Exception):
    """Carries a penalised step's return value out of the checks (penalty policy)."""

    def __init__(self, result: tuple[dict, dict, dict, dict, dict]) -> None:
        super().__init__("penalised")
        self.result = result


@runtime_checkable
class Policy(Protocol):
    """Anything that picks an action from a typed observation (agents satisfy this)."""

    def act(self, obs: Observation[Any]) -> Any: ...


def check_render_mode(render_mode: str | None) -> None:
    """Every shell draws text (``"ansi"``) or nothing.

    Raises:
        RenderModeError: any other mode; a ``ConfigError`` and a ``TypeError``, so that
            Stable-Baselines3's ``make_vec_env`` (which asks for ``"rgb_array"``) builds
            the env again without a render mode, as it does for envs that take none.
    """
    if render_mode not in (None, "ansi"):
        raise RenderModeError(f"render_mode={render_mode!r} is not supported; use 'ansi' "
                              "or None")


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
        self.action_space_: spaces.Discrete = spaces.Discrete(n)
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
        if action is _MISSING:
            raise IllegalActionError(f"no action given for {agent_name(player)}")
        if not g.is_legal(state, player, action):
            raise IllegalActionError(
                f"{agent_name(player)} played {action!r}, which is not a legal action now "
                f"(legal: {np.flatnonzero(g.legal_mask(state, player)).tolist()})"
            )
        return int(action)

    def read(self, state: Any, player: int, action: Any, raises: bool) -> Any:
        """A text answer as the action the text face reads from it (other actions pass).

        An unreadable or illegal answer raises its typed error when ``raises``; otherwise
        it is passed on unchanged, to be treated as the invalid action it is.
        """
        if not isinstance(action, str) or self.text is None:
            return action
        try:
            return self.text.parse(action, self.game.observe(state, player))
        except (ActionParseError, IllegalActionError):
            if raises:
                raise
            return action

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
               render_mode: str | None, policy: dict[str, Any]) -> None:
        self.invalid = InvalidPolicy(**policy)
        check_render_mode(render_mode)
        self.game = game
        self.text = text
        self.render_mode = render_mode
        self._faces = _Faces(game, text)
        self.possible_agents = [agent_name(i) for i in range(game.num_players)]
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self._seeder = Seeder()
        self._rng = np.random.default_rng()
        self.mail = Mailbox(game.num_players)
        self.state_: Any = None
        self.metadata = {**self.metadata, "name": game.info.name}

    def _new_episode(self, seed: int | None) -> None:
        """Seed the episode by the one rule (:mod:`agora.envs.seeding`; ``seed=None``
        continues the last episode's stream) and deal it."""
        # the seeder decides, except when it would only say "continue" again (the hot path
        # of unseeded resets in a training loop)
        if seed is not None or not self._seeder.continuing:
            streams = self._seeder.reset(seed, self.game.num_players)
            if streams is not None:
                self._rng = streams.rules
        self.state_ = self.game.initial_state(self._rng)
        self.invalid.count = 0
        if self.mail.log:
            self.mail = Mailbox(self.game.num_players)

    @property
    def episode_seed(self) -> int | None:
        """The seed of the current episode (``None`` when it continues the last one's
        streams, after ``reset()`` without a seed)."""
        return self._seeder.seed

    def _post(self, player: int, reply: Any, state: Any) -> None:
        """Deliver the cheap talk of a played text answer (see :class:`Mailbox`)."""
        if isinstance(reply, str) and self.text is not None:
            self.mail.post(player, reply, self.game.observe(state, player), self.text)

    def _messages(self, player: int) -> dict[str, Any]:
        """``{"messages": (...)}`` once anyone has talked this episode, else ``{}``."""
        return {"messages": self.mail.collect(player)} if self.mail.log else {}

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
        >>> env = make("RepeatedPD-v1", rounds=3)
        >>> obs, infos = env.reset(seed=0)
        >>> obs, rewards, terms, truncs, infos = env.step({"player_0": 0, "player_1": 1})
        >>> rewards
        {'player_0': 0.0, 'player_1': 5.0}
    """

    metadata = {"render_modes": ["ansi"], "name": "agora_parallel", "is_parallelizable": True}

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any] | None = None,
                 render_mode: str | None = None, on_invalid_action: str = "raise",
                 invalid_penalty: float = -1.0, max_invalid_actions: int = 100) -> None:
        self._setup(game, text, render_mode, {
            "on_invalid_action": on_invalid_action, "invalid_penalty": invalid_penalty,
            "max_invalid_actions": max_invalid_actions})
        self.agents: list[str] = []
        self._all8 = np.ones(game.num_actions, np.int8) if game.always_legal else None
        if self._all8 is not None:
            self._all8.flags.writeable = False

    def reset(self, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, Any], dict[str, dict]]:
        self._new_episode(seed)
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
        except KeyError:
            joint = tuple([actions.get(a, _MISSING) for a in names])
        if self._fast_legal(joint):
            state, rewards = game.step(state, joint, self._rng)
        else:
            try:
                state, rewards = self._slow_step(movers, names, joint)
            except _Penalised as done:  # invalid actions under the penalty policy
                return done.result
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
        infos: dict[str, dict] = ({a: self._messages(i) for i, a in zip(movers, names)}
                                  if self.mail.log else {a: {} for a in names})
        if running:
            flags = dict.fromkeys(names, False)
            return obs, rew, flags, flags.copy(), infos
        self.agents = []
        term = game.status(state) is _TERMINATED
        return obs, rew, dict.fromkeys(names, term), dict.fromkeys(names, not term), infos

    def _slow_step(self, movers: tuple[int, ...], names: list[str], joint: tuple[Any, ...]
                   ) -> Any:
        """A step whose actions need reading (text answers) or checking."""
        game, state = self.game, self.state_
        read, raises = self._faces.read, self.invalid.raises
        acts = tuple([read(state, i, x, raises) for i, x in zip(movers, joint)])
        if not raises:
            bad = [a for i, a, x in zip(movers, names, acts) if not game.is_legal(state, i, x)]
            if bad:
                raise _Penalised(self._penalise(bad))
        check = self._faces.check
        acts = tuple([check(state, i, a) for i, a in zip(movers, acts)])
        new, rewards = game.step(state, acts, self._rng)
        for i, reply in zip(movers, joint):
            self._post(i, reply, state)
        return new, rewards

    def _penalise(self, offenders: list[str]) -> tuple[dict, dict, dict, dict, dict]:
        """Invalid actions under ``penalty``: nothing moves; offenders pay and are counted."""
        penalty, capped, info = self.invalid.penalise()
        names, state = self.agents, self.state_
        obs = {a: self._faces.obs(state, self._index[a]) for a in names}
        rew = {a: penalty if a in offenders else 0.0 for a in names}
        infos = {a: dict(info, invalid_action=a in offenders) for a in names}
        if capped:
            self.agents = []
        return obs, rew, dict.fromkeys(names, False), dict.fromkeys(names, capped), infos

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
        >>> env = make("Bargaining-v1")
        >>> env.reset(seed=0)
        >>> env.agent_selection
        'player_0'
        >>> env.step(60); env.step(1)  # keep 60 units; the responder accepts
        >>> env.rewards["player_1"]
        0.4
    """

    metadata = {"render_modes": ["ansi"], "name": "agora_aec", "is_parallelizable": False}

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any] | None = None,
                 render_mode: str | None = None, on_invalid_action: str = "raise",
                 invalid_penalty: float = -1.0, max_invalid_actions: int = 100) -> None:
        super().__init__()
        self._setup(game, text, render_mode, {
            "on_invalid_action": on_invalid_action, "invalid_penalty": invalid_penalty,
            "max_invalid_actions": max_invalid_actions})

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self._new_episode(seed)
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
        player, reply = self._index[agent], action
        action = self._faces.read(self.state_, player, action, self.invalid.raises)
        if not self.invalid.raises and not self.game.is_legal(self.state_, player, action):
            self._penalise(agent)
            return
        legal = self._faces.check(self.state_, player, action)
        self._cumulative_rewards[agent] = 0.0
        before = self.state_
        self.state_, rewards = self.game.step(self.state_, (legal,), self._rng)
        self._post(player, reply, before)
        self.rewards = {a: rewards[self._index[a]] for a in self.agents}
        status = self.game.status(self.state_)
        if status is not Status.RUNNING:
            flags = self.terminations if status is Status.TERMINATED else self.truncations
            for a in self.agents:
                flags[a] = True
        else:
            self.agent_selection = agent_name(self.game.to_move(self.state_)[0])
            self.infos[self.agent_selection] = self._messages(
                self._index[self.agent_selection])
        self._accumulate_rewards()


    def _penalise(self, agent: str) -> None:
        """An invalid action under ``penalty``: the state stays, the agent pays, keeps the
        turn, and the count is in every agent's info; the cap truncates the episode."""
        penalty, capped, info = self.invalid.penalise()
        self._cumulative_rewards[agent] = 0.0
        self.rewards = {a: penalty if a == agent else 0.0 for a in self.agents}
        for a in self.agents:
            self.infos[a] = dict(info, invalid_action=a == agent)
            self.truncations[a] = capped
        self._accumulate_rewards()


class WorldEnv(gymnasium.Env):  # type: ignore[type-arg]
    """The Gymnasium shell of a single-agent world (the design and graph families).

    It owns what every such shell shares, written once: the one seeding rule
    (``reset(seed=S)`` replays ``agora run``'s episode of seed ``S``; ``info["seed"]``), the
    one invalid-action policy (:mod:`agora.envs.invalid`), the end of the episode
    (:class:`GameOverError` after it) and ``render``. A family's env declares its spaces and
    fills in five hooks: :meth:`_start` (deal the episode from the rules stream, split the
    way the family's episode player splits it), :meth:`_decode` (an action-space element
    as a world action, or :class:`IllegalActionError`), :meth:`_play` (apply a world
    action), :meth:`_obs` and :meth:`_over`; :meth:`_refuse` decides what an invalid
    action costs under ``penalty`` (by default the declared ``invalid_penalty``).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, world: Any, render_mode: str | None = None,
                 on_invalid_action: str = "penalty", invalid_penalty: float = -1.0,
                 max_invalid_actions: int = 100) -> None:
        check_render_mode(render_mode)
        self.world = world
        self.render_mode = render_mode
        self.invalid = InvalidPolicy(on_invalid_action, invalid_penalty, max_invalid_actions)
        self.state_: Any = None
        self._seeder = Seeder()

    # ----- the family's hooks -----------------------------------------------------------
    def _start(self, rules: np.random.Generator) -> dict[str, Any]:
        """Set ``state_`` to a fresh episode dealt from ``rules``; extra reset info."""
        raise NotImplementedError

    def _decode(self, action: Any) -> Any:
        """The world action of an action-space element (raise IllegalActionError)."""
        raise NotImplementedError

    def _play(self, move: Any) -> tuple[float, bool, bool, dict[str, Any]]:
        """Apply a world action: (reward, terminated, truncated, info)."""
        raise NotImplementedError

    def _obs(self) -> Any:
        raise NotImplementedError

    def _over(self) -> bool:
        """Whether the episode has ended."""
        raise NotImplementedError

    def _refuse(self, exc: IllegalActionError) -> tuple[float, bool, bool, dict[str, Any]]:
        """An invalid action under ``penalty``: nothing happens; the declared penalty."""
        penalty, capped, info = self.invalid.penalise()
        return penalty, False, capped, info

    def _ansi(self) -> str:
        return repr(self.state_)

    # ----- Gymnasium API ----------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Any, dict[str, Any]]:
        streams = self._seeder.reset(seed, 1)
        if streams is not None:  # else the last episode's stream goes on (Gymnasium's way)
            self._np_random = as_generator(streams.rules)
            self._np_random_seed = self._seeder.seed
        self.invalid.reset()
        info = self._start(self.np_random)
        return self._obs(), {**self.invalid.info(), "seed": self._seeder.seed, **info}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.state_ is None or self._over() or self.invalid.exhausted:
            raise GameOverError("step() called after the episode ended; call reset()")
        try:
            reward, terminated, truncated, info = self._play(self._decode(action))
        except IllegalActionError as exc:
            if self.invalid.raises:
                raise
            reward, terminated, truncated, info = self._refuse(exc)
        return (self._obs(), float(reward), terminated, truncated,
                {**info, **self.invalid.info()})

    def render(self) -> str | None:  # type: ignore[override]
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        return "(not reset)" if self.state_ is None else self._ansi()
