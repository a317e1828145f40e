"""The Gymnasium view of one player of a game, the others played by fixed opponents.

What an RL library needs from it, each a constructor option with a default that changes
nothing in records:

* ``opponents``: names, specs or agents, keyed by player index or name, built against the
  env's own game and fresh per env (:mod:`agora.envs.opponents`); ``default_opponent``
  fills the other seats (``make_gym`` passes the id's declared default opponent);
* ``observation_format``: ``"dict"``, ``"flat"`` or ``"rllib"`` (:mod:`agora.envs.obs_formats`);
* ``action_masks()``: the legal actions now (sb3-contrib's MaskablePPO calls it);
* ``reward_scale``: the RL reward is ``reward_scale`` times the payoff (default 1.0: the
  payoff itself); ``info["payoff"]`` always holds the unscaled payoff of the step;
* ``render_mode``: ``"ansi"`` or None; another mode raises :class:`RenderModeError`, a
  ``TypeError`` too, which SB3's ``make_vec_env`` tolerates by building the env without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np

from agora.envs.adapters import _Faces, check_render_mode
from agora.envs.core import Game, Observation, Status, is_real, uniform_legal
from agora.envs.errors import ActionParseError, ConfigError, GameOverError, IllegalActionError
from agora.envs.invalid import InvalidPolicy
from agora.envs.obs_formats import check_format, format_observation, format_space
from agora.envs.opponents import build_opponents
from agora.envs.seeding import EpisodeStreams, Seeder, as_generator, generator
from agora.envs.text import TextFace
from agora.envs.turns import Face, agent_input, face_of, read_reply

_RUNNING = Status.RUNNING


class _UniformOpponent:
    """Default fixed opponent: a uniformly random legal action, drawn from the seat's seed
    exactly as the registered ``random`` agent draws it."""

    def __init__(self) -> None:
        self.rng = generator(0)

    def reset(self, seed: int, player: int) -> None:
        self.rng = generator(seed)

    def act(self, obs: Observation[Any]) -> int:
        return uniform_legal(self.rng, obs)


class SinglePlayerEnv(gymnasium.Env):  # type: ignore[type-arg]
    """Gymnasium view of one player of a game, the others played by fixed opponents.

    Opponents are given as in :mod:`agora.envs.opponents` (names need the agent resolver
    of ``agora.agents``); a seat given none plays ``default_opponent``, and with no default
    a uniformly random legal action, exactly as the ``random`` agent does.
    ``reset(seed=S)`` follows the one seeding rule (:mod:`agora.envs.seeding`): the game's
    chance comes from the rules stream of ``S`` and each opponent with a
    ``reset(seed=..., player=...)`` method gets the seed of its seat, so ``agora run``'s
    episode of seed ``S`` replays here with the recorded actions.

    Invalid actions follow the declared policy of :mod:`agora.envs.invalid`:
    ``on_invalid_action="raise"`` raises :class:`IllegalActionError`; ``"penalty"`` (the
    default here, since unmasked RL libraries sample any action) leaves the state
    unchanged, pays ``invalid_penalty`` (in the units of the RL reward: not scaled), counts
    the event in ``info["invalid_actions"]`` and truncates the episode after
    ``max_invalid_actions`` of them. The other options are described in the module doc.

    Example:
        >>> import gymnasium, agora.envs
        >>> env = gymnasium.make("agora/Cournot-v1", observation_format="flat",
        ...                      reward_scale=0.01, opponents={"player_1": "cournot_nash"})
        >>> obs, info = env.reset(seed=1)
        >>> obs.shape == env.observation_space.shape, env.unwrapped.action_masks().all()
        (True, np.True_)
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any] | None = None,
                 player: int = 0, opponents: Mapping[Any, Any] | None = None,
                 render_mode: str | None = None, on_invalid_action: str = "penalty",
                 invalid_penalty: float = -1.0, max_invalid_actions: int = 100, *,
                 default_opponent: Any = None, observation_format: str = "dict",
                 reward_scale: float = 1.0) -> None:
        self.invalid = InvalidPolicy(on_invalid_action, invalid_penalty, max_invalid_actions)
        if not (isinstance(player, int) and 0 <= player < game.num_players):
            raise ConfigError(f"player={player!r} is not in 0..{game.num_players - 1}")
        check_render_mode(render_mode)
        if not (is_real(reward_scale) and reward_scale > 0):
            raise ConfigError(f"reward_scale={reward_scale!r} is not a finite number > 0")
        self.game, self.text, self.player = game, text, player
        self.render_mode = render_mode
        self.reward_scale = float(reward_scale)
        self.observation_format = check_format(observation_format)
        self._faces = _Faces(game, text)
        self.observation_space = format_space(self._faces.observation_space_,
                                              self.observation_format)
        self.action_space = self._faces.action_space_
        built = build_opponents(opponents, game, player, default_opponent, text)
        self._opponents: dict[int, Any] = {
            j: built.get(j) or _UniformOpponent()
            for j in range(game.num_players) if j != player}
        self._face = {j: face_of(o) for j, o in self._opponents.items()}
        self._text_seats = [j for j, f in self._face.items() if f is Face.TEXT]
        # per-env constants of the hot loop: who hears rewards, the all-legal int8 mask
        self._hear = {j: tell for j, o in self._opponents.items()
                      if (tell := getattr(o, "observe", None)) is not None}
        self._n_actions = game.num_actions
        self._ones8 = np.ones(self._n_actions, np.int8) if game.always_legal else None
        self._rules: dict[int, str] = {}  # text opponents' rules, told once per episode
        self._seeder = Seeder()
        self._rng: Any = None  # the rules stream of the episode (see _np_random)
        self.state_: Any = None

    @property
    def _np_random(self) -> np.random.Generator | None:  # type: ignore[override]
        """Gymnasium's generator slot, read through the episode's rules stream: the
        stream becomes a generator only when something draws from it or asks for it."""
        rng = getattr(self, "_rng", None)
        return None if rng is None else as_generator(rng)

    @_np_random.setter
    def _np_random(self, value: np.random.Generator | None) -> None:
        self._rng = value

    @property
    def opponents(self) -> dict[int, Any]:
        """The opponent of each other seat (this env's own instances)."""
        return dict(self._opponents)

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[Any, dict[str, Any]]:
        streams = self._seeder.reset(seed, self.game.num_players)
        if streams is not None:  # else the last episode's streams go on (Gymnasium's way)
            self._rng = streams.rules  # a generator only once the game draws from it
            self._np_random_seed = self._seeder.seed
        elif self._rng is None:
            self._rng = self.np_random  # Gymnasium seeds it from entropy
        self._reset_opponents(streams)
        self._rules.clear()
        self.invalid.reset()
        self.state_ = self.game.initial_state(self._rng)
        self.state_, reward = self._advance(self.state_)
        info = {"skipped_reward": reward, "seed": self._seeder.seed}
        return self._obs(), (info | self._calls()) if self._text_seats else info

    def _calls(self) -> dict[str, Any]:
        """``{"opponent_calls": [...]}``: the model-call records of text opponents since
        the last step (each with its ``actor``), as ``agora run`` records them; ``{}``
        when no opponent calls a model."""
        calls = [{"actor": j, **record} for j in self._text_seats
                 if hasattr(self._opponents[j], "drain_calls")
                 for record in self._opponents[j].drain_calls()]
        return {"opponent_calls": calls} if calls else {}

    def _obs(self) -> Any:
        """This player's observation now, in arrays the caller owns."""
        g, state, me = self.game, self.state_, self.player
        m8 = self._ones8
        if m8 is None or g.status(state) is not _RUNNING:
            m8 = self._faces.mask8(g.legal_mask(state, me))  # else always legal, our turn
        obs = {"observation": np.array(g.encode(state, me)), "action_mask": np.array(m8)}
        fmt = self.observation_format
        return obs if fmt == "dict" else format_observation(obs, fmt)

    def action_masks(self) -> np.ndarray:
        """Boolean mask of this player's legal actions now (for MaskablePPO).

        Raises:
            GameOverError: before the first ``reset()``.
        """
        if self.state_ is None:
            raise GameOverError("action_masks() called before reset()")
        return np.array(self.game.legal_mask(self.state_, self.player), dtype=bool)

    def _reset_opponents(self, streams: EpisodeStreams | None) -> None:
        """Each seat's opponent gets its seat's seed; in continued streams the default
        random opponent goes on with its own stream and others get a seed drawn from the
        sequence."""
        for j, opp in self._opponents.items():
            if streams is not None and hasattr(opp, "reset"):
                opp.reset(seed=streams.agent_seed(j), player=j)
            elif hasattr(opp, "reset") and not isinstance(opp, _UniformOpponent):
                opp.reset(seed=self._seeder.next_seed(), player=j)

    def _advance(self, state: Any) -> tuple[Any, float]:
        """Let opponents move until it is our turn or the game ends (sequential games)."""
        reward = 0.0
        g, me = self.game, self.player
        while g.status(state) is _RUNNING:
            movers = g.to_move(state)
            if me in movers:
                break
            joint = tuple([self._opponent_action(state, j) for j in movers])
            state, rewards = g.step(state, joint, self._rng)
            self._tell_opponents(movers, state, rewards)
            reward += rewards[me]
        return state, reward

    def _opponent_action(self, state: Any, j: int) -> int:
        """Seat ``j``'s action: its agent's turn as in ``agora run`` (text agents answer in
        text through the text face; :mod:`agora.envs.turns`)."""
        face = self._face[j]
        if face is not Face.TEXT:
            obs = (self._faces.obs(state, j) if face is Face.TENSOR
                   else self.game.observe(state, j))
            return self._faces.check(state, j, self._opponents[j].act(obs))
        obs = self.game.observe(state, j)
        turn = agent_input(self.game, self.text, face, state, obs, self._rules)
        try:
            return read_reply(self.game, self.text, face, state, obs,
                              self._opponents[j].act(turn))
        except (ActionParseError, IllegalActionError) as exc:
            raise IllegalActionError(f"opponent player_{j} ({type(self._opponents[j]).__name__})"
                                     f" gave no legal action: {exc}") from exc

    def _tell_opponents(self, movers: tuple[int, ...], state: Any,
                        rewards: tuple[float, ...]) -> None:
        """Each opponent that moved hears its reward, as in ``agora run``'s loop."""
        hear = self._hear
        done = None
        for j in movers:
            tell = hear.get(j)
            if tell is not None:
                if done is None:
                    done = self.game.status(state) is not _RUNNING
                tell(float(rewards[j]), done)

    def _mine(self, state: Any, action: Any) -> int | None:
        """This player's action as played, or ``None``: invalid under ``penalty``."""
        g, me = self.game, self.player
        if self._ones8 is not None and type(action) is int and 0 <= action < self._n_actions:
            return action  # always legal, and it is our turn
        if isinstance(action, str):
            action = self._faces.read(state, me, action, self.invalid.raises)
        if self.invalid.raises:
            return self._faces.check(state, me, action)
        return int(action) if g.is_legal(state, me, action) else None

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        g, state, me = self.game, self.state_, self.player
        if state is None or g.status(state) is not _RUNNING or self.invalid.exhausted:
            raise GameOverError("step() called after the episode ended; call reset()")
        mine = self._mine(state, action)
        if mine is None:
            penalty, capped, penalty_info = self.invalid.penalise()
            return self._obs(), penalty, False, capped, {**penalty_info, "payoff": 0.0}
        movers = g.to_move(state)
        if len(movers) == 1:  # our turn alone (sequential games)
            state, rewards = g.step(state, (mine,), self._rng)
        else:
            joint = tuple([mine if j == me else self._opponent_action(state, j)
                           for j in movers])
            state, rewards = g.step(state, joint, self._rng)
            self._tell_opponents(movers, state, rewards)  # our own seat hears nothing here
        state, later = self._advance(state)
        self.state_ = state
        return self._result(state, float(rewards[me] + later))

    def _result(self, state: Any, payoff: float) -> tuple[Any, float, bool, bool, dict]:
        """A valid step's return value: observation, scaled reward, flags, info."""
        g = self.game
        status = g.status(state)
        info: dict[str, Any] = {"invalid_actions": self.invalid.count, "payoff": payoff}
        if self._text_seats:
            info.update(self._calls())
        if status is not _RUNNING:
            info.update(returns=g.returns(state), metrics=g.metrics(state))
        return (self._obs(), payoff * self.reward_scale, status is Status.TERMINATED,
                status is Status.TRUNCATED, info)

    def render(self) -> str | None:  # type: ignore[override]
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        return self._faces.ansi(self.state_)
