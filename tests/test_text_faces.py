"""The text face and the structured face are one game; parsers and params fail loudly.

Parametrised over every registered id: canonical answers round-trip, illegal answers are
refused with a typed error, the JSON schema offers exactly the legal moves, and a whole
episode played in text equals the same episode played with integers. Hypothesis drives
the parser with arbitrary text and the game cores with random params and moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.agents import Agent, Face, TextTurn, make_agent
from agora.envs import (
    ActionParseError,
    ConfigError,
    IllegalActionError,
    Observation,
    Status,
    make,
    make_game,
    specs,
)
from agora.envs.text import extract_json_object
from agora.experiments import play_episode

ALL_IDS = [s.id for s in specs()]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reachable(env_id: str, episodes: int = 4, seed: int = 0) -> Iterator[tuple[Any, Any, Any]]:
    """(game, text, state) for states reached by random legal play, end states included."""
    game, text = make_game(env_id)
    rng = np.random.default_rng(seed)
    for _ in range(episodes):
        state = game.initial_state(rng)
        while True:
            yield game, text, state
            if game.status(state) is not Status.RUNNING:
                break
            joint = tuple(
                int(rng.choice(np.flatnonzero(game.legal_mask(state, p))))
                for p in game.to_move(state)
            )
            state = game.step(state, joint, rng).state


def _mover_observations(env_id: str) -> list[tuple[Any, Observation[Any]]]:
    out = []
    for game, text, state in _reachable(env_id):
        out.extend((text, game.observe(state, p)) for p in game.to_move(state))
    return out


ILLEGAL_FORMAT_IDS = ALL_IDS


# ----- the two faces agree -----------------------------------------------------------
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_canonical_text_parses_back_to_every_legal_action(env_id: str) -> None:
    checked = 0
    for text, obs in _mover_observations(env_id):
        for a in obs.legal_actions.tolist():
            answer = text.format_action(a, obs)
            assert isinstance(answer, str)
            assert text.parse(answer, obs) == a
            assert text.decode(answer, obs) == a
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("env_id", ILLEGAL_FORMAT_IDS)
def test_formatted_illegal_actions_are_refused(env_id: str) -> None:
    checked = 0
    for game, text, state in _reachable(env_id):
        for p in range(game.num_players):  # movers and waiting players alike
            obs = game.observe(state, p)
            for a in np.flatnonzero(~obs.action_mask).tolist():
                with pytest.raises(IllegalActionError):
                    text.parse(text.format_action(a, obs), obs)
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_action_schema_enumerates_exactly_the_legal_actions(env_id: str) -> None:
    for text, obs in _mover_observations(env_id):
        schema = text.action_schema(obs)
        assert schema["type"] == "object"
        assert schema.get("additionalProperties") is False
        (key,) = schema["required"]
        # the action field, plus at most the optional cheap-talk "message"
        assert set(schema["properties"]) - {"message"} == {key}
        if "message" in schema["properties"]:
            assert schema["properties"]["message"]["type"] == "string"
        prop = schema["properties"][key]
        if "enum" in prop:
            assert prop["type"] == "string"
            answers = [json.dumps({key: v}) for v in prop["enum"]]
        else:
            assert prop["type"] == "integer"
            answers = [json.dumps({key: v}) for v in range(prop["minimum"], prop["maximum"] + 1)]
            assert set(range(prop["minimum"], prop["maximum"] + 1)) == set(
                obs.legal_actions.tolist()
            )
        parsed = [text.parse(ans, obs) for ans in answers]
        assert len(set(parsed)) == len(parsed), "two schema answers mean one action"
        assert sorted(parsed) == obs.legal_actions.tolist()


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_rules_and_render_are_prose(env_id: str) -> None:
    for game, text, state in _reachable(env_id, episodes=1):
        for p in range(game.num_players):
            assert text.rules(p).strip()
            assert text.render(game.observe(state, p)).strip()
    env = make(env_id, render_mode="ansi")
    env.reset(seed=0)
    rendered = env.render()
    assert isinstance(rendered, str) and "player_0" in rendered


class _Replay(Agent):
    """Answers with a fixed list of actions (ints) or answers (text), in order."""

    def __init__(self, moves: list[Any], face: Face) -> None:
        super().__init__()
        self.moves = list(moves)
        self.face = face  # type: ignore[misc]  (instance-level face for the test)
        self.seen: list[TextTurn] = []

    def act(self, obs: Any) -> Any:
        if self.face is Face.TEXT:
            self.seen.append(obs)
        return self.moves.pop(0)


def _equal_result(a: Any, b: Any) -> None:
    assert a.returns == b.returns
    assert a.length == b.length
    np.testing.assert_equal(a.metrics, b.metrics)
    assert a.events["action"] == b.events["action"]
    assert a.events["rewards"] == b.events["rewards"]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_text_episode_equals_structured_episode(env_id: str, seed: int) -> None:
    game, text = make_game(env_id)
    n = game.num_players
    reference = play_episode(game, text, [make_agent("random") for _ in range(n)], seed=seed)
    assert reference.status == "ok"
    ev = reference.events
    ints = [[a for a, p in zip(ev["action"], ev["actor"], strict=True) if p == i] for i in range(n)]
    texts = [
        [t for t, p in zip(ev["action_text"], ev["actor"], strict=True) if p == i] for i in range(n)
    ]
    by_int = play_episode(game, text, [_Replay(m, Face.GAME) for m in ints], seed=seed)
    text_agents = [_Replay(m, Face.TEXT) for m in texts]
    by_text = play_episode(game, text, text_agents, seed=seed)
    assert by_text.status == by_int.status == "ok"
    _equal_result(by_int, reference)
    _equal_result(by_text, reference)
    assert by_text.invalid == [0] * n
    assert by_text.events["reply"] == ev["action_text"]
    for i, agent in enumerate(text_agents):
        assert all(turn.player == i and turn.rules == text.rules(i) for turn in agent.seen)


# ----- the parser under arbitrary input ----------------------------------------------
_SAMPLES = [
    (env_id, text, obs) for env_id in ALL_IDS for text, obs in _mover_observations(env_id)[:12]
]
_KEYS = sorted({key for _, text, obs in _SAMPLES for key in text.action_schema(obs)["required"]})


def _parse_outcome(text: Any, obs: Any, answer: str) -> None:
    try:
        action = text.parse(answer, obs)
    except (ActionParseError, IllegalActionError) as exc:
        assert str(exc)  # the error says what was wrong, for a re-ask
        if isinstance(exc, ActionParseError):
            assert exc.reason
        return
    assert type(action) is int
    assert obs.action_mask[action]


@SETTINGS
@given(sample=st.sampled_from(_SAMPLES), answer=st.text())
def test_parse_of_arbitrary_text_is_legal_or_typed_error(sample: tuple, answer: str) -> None:
    _, text, obs = sample
    _parse_outcome(text, obs, answer)


_ascii = st.text(max_size=12)  # any text, "²" and "--5" included
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | _ascii
    | st.from_regex(r"\A -?[0-9]{1,4} \Z"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ascii, inner, max_size=3),
    max_leaves=6,
)


@SETTINGS
@given(
    sample=st.sampled_from(_SAMPLES),
    obj=st.dictionaries(st.sampled_from(_KEYS) | _ascii, _json_values, max_size=3),
    prefix=_ascii,
    fenced=st.booleans(),
)
def test_parse_of_json_like_answers_is_legal_or_typed_error(
    sample: tuple, obj: dict, prefix: str, fenced: bool
) -> None:
    _, text, obs = sample
    body = json.dumps(obj)
    answer = f"{prefix}```json\n{body}\n```" if fenced else f"{prefix} {body}"
    _parse_outcome(text, obs, answer)


@pytest.mark.parametrize(
    "answer",
    [
        '{"%s": "²"}',
        '{"%s": "--5"}',
        '{"%s": "' + "9" * 5000 + '"}',
        '{"%s": ' + "9" * 5000 + "}",
        '{"%s": ' + "[" * 50_000 + "]" * 50_000 + "}",
    ],
    ids=[
        "superscript-digit",
        "double-minus",
        "5000-digit-string",
        "5000-digit-number",
        "deep-nesting",
    ],
)
def test_pathological_integer_answers_raise_typed_errors(answer: str) -> None:
    text, obs = next((t, o) for t, o in _mover_observations("PublicGoods-v1"))
    key = text.action_schema(obs)["required"][0]
    with pytest.raises((ActionParseError, IllegalActionError)):
        text.parse(answer % key, obs)


# Surrounding text without "{" (it could open another object) or backticks (a fence is
# preferred by design); the object's strings avoid backticks so no fence forms inside it.
_no_brace = st.text(alphabet=st.characters(blacklist_characters="{`"), max_size=40)
_no_tick = st.text(alphabet=st.characters(blacklist_characters="`"), max_size=8)
_flat_objects = st.dictionaries(
    _no_tick,
    st.none()
    | st.booleans()
    | st.integers()
    | _no_tick
    | st.floats(allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=4,
)


@SETTINGS
@given(obj=_flat_objects, before=_no_brace, after=_no_brace)
def test_extract_json_object_finds_an_embedded_object(obj: dict, before: str, after: str) -> None:
    assert extract_json_object(before + json.dumps(obj) + after) == obj


@SETTINGS
@given(
    obj=_flat_objects,
    before=st.text(max_size=40),
    lang=st.sampled_from(["json", ""]),
    indent=st.sampled_from([None, 2]),
)
def test_extract_json_object_prefers_a_fenced_object(
    obj: dict, before: str, lang: str, indent: int | None
) -> None:
    decoy = '{"decoy": true}'
    body = json.dumps(obj, indent=indent)
    assert extract_json_object(f"{decoy} {before.replace('`', '')}\n```{lang}\n{body}\n```") == obj


def test_extract_json_object_skips_broken_braces_and_non_objects() -> None:
    assert extract_json_object('I think {maybe} [1, 2] {"action": "defect"} ok') == {
        "action": "defect"
    }
    assert extract_json_object('```\nnot json {\n```\n{"keep": 3}') == {"keep": 3}
    for bad in ("", "no object here", "[1, 2]", "\"{'a': 1}\"", "{broken", "}{"):
        with pytest.raises(ActionParseError):
            extract_json_object(bad)
    with pytest.raises(ActionParseError):
        extract_json_object(None)  # type: ignore[arg-type]


def _integer_fields() -> list[tuple[Any, Any, str, int, int]]:
    """(text, obs, key, low, high) for every integer answer field met in play."""
    out, seen = [], set()
    for env_id in ALL_IDS:
        for text, obs in _mover_observations(env_id):
            for key, prop in text.action_schema(obs)["properties"].items():
                if prop.get("type") == "integer" and (env_id, key) not in seen:
                    seen.add((env_id, key))
                    out.append((text, obs, key, prop["minimum"], prop["maximum"]))
    return out


INTEGER_FIELDS = _integer_fields()


@pytest.mark.parametrize("field", INTEGER_FIELDS, ids=lambda f: f[2])
def test_integer_field_numeric_edge_cases(field: tuple) -> None:
    text, obs, key, low, high = field
    assert high >= low + 7  # the cases below need a little room

    def parse(value: Any) -> int:
        return text.parse(json.dumps({key: value}), obs)

    assert parse(5.0) == 5 and type(parse(5.0)) is int
    assert parse("7") == 7
    assert parse(" 7 ") == 7
    assert parse(low) == low and parse(high) == high
    for unreadable in (5.5, True, False, None, "five", "5.0", "", [5], {"n": 5}, "1e1"):
        with pytest.raises(ActionParseError):
            parse(unreadable)
    for out_of_range in (high + 1, low - 1, float(high + 1), str(high + 1), "-1", 10**30):
        with pytest.raises(IllegalActionError):
            parse(out_of_range)
    with pytest.raises(ActionParseError, match=key):
        text.parse('{"something_else": 3}', obs)


def _choice_observations() -> list[tuple[str, Any, Any]]:
    """(env_id, text, obs) for every mover observation whose answer is a choice."""
    return [
        (env_id, text, obs)
        for env_id in ALL_IDS
        for text, obs in _mover_observations(env_id)
        if any("enum" in text.action_schema(obs)["properties"][k]
               for k in text.action_schema(obs)["required"])
    ]


CHOICE_SAMPLES = _choice_observations()


@pytest.mark.parametrize("env_id", sorted({e for e, _, _ in CHOICE_SAMPLES}))
def test_choice_fields_are_case_insensitive_and_strict(env_id: str) -> None:
    for _, text, obs in (s for s in CHOICE_SAMPLES if s[0] == env_id):
        schema = text.action_schema(obs)
        for key in schema["required"]:
            prop = schema["properties"][key]
            if "enum" not in prop:
                continue
            for value in prop["enum"]:
                expected = text.parse(json.dumps({key: value}), obs)
                assert text.parse(json.dumps({key: f"  {value.upper()} "}), obs) == expected
                for wrong in (value + "x", 1, None, [value]):
                    with pytest.raises(ActionParseError, match=key):
                        text.parse(json.dumps({key: wrong}), obs)


# ----- game invariants under random params and moves -----------------------------------
def _play_core(game: Any, data: st.DataObject, max_steps: int = 500) -> tuple[Any, list]:
    """Random legal play on the core; returns the end state and the per-step log."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    state = game.initial_state(rng)
    log = []
    for _ in range(max_steps):
        if game.status(state) is not Status.RUNNING:
            break
        movers = game.to_move(state)
        joint = tuple(
            data.draw(st.sampled_from(np.flatnonzero(game.legal_mask(state, p)).tolist()))
            for p in movers
        )
        new, rewards = game.step(state, joint, rng)
        assert len(rewards) == game.num_players
        log.append((state, joint, rewards))
        state = new
    assert game.status(state) is not Status.RUNNING, "the episode did not end"
    assert game.to_move(state) == ()
    return state, log


@SETTINGS
@given(
    n=st.integers(2, 6),
    endowment=st.integers(1, 30),
    m=st.floats(0.1, 8.0),
    rounds=st.integers(1, 8),
    data=st.data(),
)
def test_public_goods_conserves_money(
    n: int, endowment: int, m: float, rounds: int, data: st.DataObject
) -> None:
    game, _ = make_game(
        "PublicGoods-v1",
        {"n_players": n, "endowment": endowment, "multiplier": m, "rounds": rounds},
    )
    state, log = _play_core(game, data)
    assert len(log) == rounds
    for _, joint, rewards in log:
        assert sum(rewards) == pytest.approx(n * endowment + (m - 1) * sum(joint))
        assert all(r >= 0 for r in rewards)
    assert sum(game.returns(state)) == pytest.approx(
        rounds * n * endowment + (m - 1) * sum(sum(j) for _, j, _ in log)
    )
    assert 0.0 <= game.metrics(state)["contribution_rate"] <= 1.0


@SETTINGS
@given(
    pie=st.floats(0.01, 1000),
    granularity=st.integers(1, 40),
    horizon=st.integers(1, 8),
    d0=st.floats(0.01, 1.0),
    d1=st.floats(0.01, 1.0),
    data=st.data(),
)
def test_bargaining_rewards_nonnegative_and_within_the_pie(
    pie: float, granularity: int, horizon: int, d0: float, d1: float, data: st.DataObject
) -> None:
    game, _ = make_game(
        "Bargaining-v1",
        {"pie": pie, "granularity": granularity, "horizon": horizon, "discounts": (d0, d1)},
    )
    state, log = _play_core(game, data)
    assert len(log) <= 2 * horizon
    for _, _, rewards in log:
        assert all(r >= 0 for r in rewards)
    returns = game.returns(state)
    assert all(r >= 0 for r in returns)
    assert sum(returns) <= pie * (1 + 1e-12)
    assert returns == pytest.approx(tuple(map(sum, zip(*[r for *_, r in log], strict=True))))
    metrics = game.metrics(state)
    assert metrics["agreed"] in (0.0, 1.0)
    assert 0.0 <= metrics["efficiency"] <= 1 + 1e-12
    if metrics["agreed"]:
        assert 1 <= metrics["agreement_round"] <= horizon
        assert 0.0 <= metrics["fairness"] <= 1.0


@SETTINGS
@given(
    rounds=st.integers(1, 30),
    delta=st.floats(0.0, 0.95),
    payoffs=st.lists(st.integers(-9, 9), min_size=8, max_size=8),
    data=st.data(),
)
def test_repeated_game_length_within_rounds(
    rounds: int, delta: float, payoffs: list[int], data: st.DataObject
) -> None:
    pay = [[payoffs[0:2], payoffs[2:4]], [payoffs[4:6], payoffs[6:8]]]
    game, _ = make_game("RepeatedPD-v1", {"rounds": rounds, "delta": delta, "payoffs": pay})
    state, log = _play_core(game, data)
    assert 1 <= len(log) <= rounds
    if delta == 0.0:
        assert len(log) == rounds and game.status(state) is Status.TERMINATED
    elif game.status(state) is Status.TRUNCATED:
        assert len(log) == rounds
    for _, (a0, a1), rewards in log:
        assert rewards == tuple(float(x) for x in pay[a0][a1])
    assert game.metrics(state)["rounds"] == len(log)


# ----- bad params ----------------------------------------------------------------------
BAD_PARAMS = [
    ("RepeatedPD-v1", {"rounds": 0}, "rounds"),
    ("RepeatedPD-v1", {"rounds": 2.5}, "rounds"),
    ("RepeatedPD-v1", {"delta": 1.0}, "delta"),
    ("RepeatedPD-v1", {"delta": -0.1}, "delta"),
    ("RepeatedPD-v1", {"payoffs": [[1, 2], [3, 4]]}, "payoffs"),
    ("RepeatedPD-v1", {"labels": ["c", "C"]}, "labels"),
    ("RepeatedPD-v1", {"colour": "red"}, "colour"),
    ("Bargaining-v1", {"discounts": (1.5, 0.9)}, "discounts"),
    ("Bargaining-v1", {"discounts": (0.0, 0.9)}, "discounts"),
    ("Bargaining-v1", {"discounts": (0.9, 0.9, 0.9)}, "discounts"),
    ("Bargaining-v1", {"horizon": 0}, "horizon"),
    ("Bargaining-v1", {"granularity": 0}, "granularity"),
    ("Bargaining-v1", {"pie": 0}, "pie"),
    ("Bargaining-v1", {"rounds": 3}, "rounds"),
    ("PublicGoods-v1", {"rounds": 0}, "rounds"),
    ("PublicGoods-v1", {"n_players": 1}, "n_players"),
    ("PublicGoods-v1", {"endowment": 0}, "endowment"),
    ("PublicGoods-v1", {"multiplier": 0.0}, "multiplier"),
    ("PublicGoods-v1", {"multiplier": float("nan")}, "multiplier"),
]


@pytest.mark.parametrize(("env_id", "params", "name"), BAD_PARAMS)
def test_bad_params_raise_config_error_naming_the_parameter(
    env_id: str, params: dict, name: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        make_game(env_id, params)
    with pytest.raises(ConfigError, match=name):
        make(env_id, **params)


@pytest.mark.parametrize(
    ("env_id", "params", "name"),
    [
        ("RepeatedPD-v1", {"payoffs": [[[3, 3], [0, 5]], [[5, 0], [1]]]}, "payoffs"),
        ("RepeatedPD-v1", {"labels": [1, 2]}, "labels"),
        ("RepeatedPD-v1", {"delta": "0.5"}, "delta"),
        ("RepeatedPD-v1", {"rounds": True}, "rounds"),
        ("Bargaining-v1", {"pie": "1"}, "pie"),
        ("PublicGoods-v1", {"multiplier": "2"}, "multiplier"),
    ],
)
def test_mistyped_params_raise_config_error_naming_the_parameter(
    env_id: str, params: dict, name: str
) -> None:
    with pytest.raises(ConfigError) as info:
        make_game(env_id, params)
    assert name in str(info.value)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_params_round_trip_through_plain_data(env_id: str) -> None:
    game, _ = make_game(env_id)
    data = game.params.to_dict()
    assert json.loads(json.dumps(data)) == data
    again, _ = make_game(env_id, data)
    assert again.params == game.params


def test_cheap_talk_works_through_the_pettingzoo_shell() -> None:
    """Text answers are read by the game's own parser in every shell, and a message in a
    played answer reaches the other player, as in ``agora run``."""
    from agora.envs import make

    env = make("Ultimatum-v1", messages=True)
    env.reset(seed=0)
    game = env.game
    offer = '{"offer": 4, "message": "take it, it is fair"}'
    expected = env._faces.text.parse(offer, game.observe(env.state_, 0))
    env.step(offer)
    assert env.infos["player_1"]["messages"] == ("player_0: take it, it is fair",)
    assert env.state_ != game.initial_state(None) and expected >= 0


def test_an_unreadable_text_answer_follows_the_shell_policy() -> None:
    from agora.envs import ActionParseError, make

    env = make("Ultimatum-v1")
    env.reset(seed=0)
    with pytest.raises(ActionParseError):
        env.step("I offer whatever you like")
    env = make("Ultimatum-v1", on_invalid_action="penalty")
    env.reset(seed=0)
    env.step("I offer whatever you like")
    assert env.rewards["player_0"] == -1.0 and env.infos["player_0"]["invalid_actions"] == 1
