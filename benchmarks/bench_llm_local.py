"""Tokens per second of the embedded model: the agent path against raw llama-cpp-python.

The prompts are ten real text-face turns (rules as the system message; the observation,
which ends with the answer format, as the user message; the action's JSON schema as the
grammar), one per game, first turn of player 0. Each is decoded greedily (temperature 0,
seed 1, max 64 tokens) by:

* **raw**: ``llama_cpp.Llama.create_completion`` called directly on the provider's own
  ``Llama`` (:func:`agora.agents.llm_local.shared_llama`, so the weights, threads and
  context are the same), on the same prompt text
  (:func:`~agora.agents.llm_local.format_prompt`), with the grammar built beforehand;
* **litellm**: ``litellm.completion(model="local/gemma-3-270m", response_format=...)``,
  the path every agora LLM agent takes;
* **LiteLLMModel** (when ``agora.agents.llm`` is present): ``LiteLLMModel.complete``,
  agora's model interface over that same litellm call.

tokens/s = completion tokens / wall seconds of the ten calls, prompt processing included.
Passes are interleaved (the order rotates every repeat) after one untimed warm-up pass
each (model load, litellm's first-call set-up). These machines are shared and noisy (two
identical raw passes differ by up to 10%), so the table shows the best pass of each path
and the verdict uses the median of the per-repeat ratios (each path against the raw pass
of the same repeat). Target: agent path >= 90% of raw. All paths must
produce the same text. The prompts are ~190 tokens and the answers ~8, so prompt
processing dominates the time; the table also shows all tokens (prompt + completion) per
second. A default run takes 3-5 minutes.

Run::

    python benchmarks/bench_llm_local.py [--repeats 5] [--max-tokens 64] [--games 10]
        [--json out.json] [--quick]

``--quick`` (tens of seconds): the first two games, 16 tokens, one repeat. Without the
``local`` extra the script prints why it skips and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from _cli import parse_args, skip

from agora.agents import llm_local
from agora.envs import make_game

TARGET_RATIO = 0.90
GAMES = ("RepeatedPD-v1", "PublicGoods-v1", "Ultimatum-v1", "Cournot-v1",
         "FirstPriceAuction-v1", "BeautyContest-v1", "Trust-v1", "Commons-v1", "ElFarol-v1",
         "DonorGame-v1")

QUICK = {"repeats": 1, "max_tokens": 16, "games": 2}

Prompt = tuple[str, list[dict[str, str]], dict[str, Any]]  # game id, messages, schema
Decoder = Callable[[Prompt], tuple[str, int, int]]  # -> text, prompt and completion tokens


def text_face_prompts(games: int = len(GAMES)) -> list[Prompt]:
    """First turn of player 0 in the first ``games`` games, as a text agent sends them."""
    prompts = []
    for game_id in GAMES[:games]:
        game, text = make_game(game_id)
        state = game.initial_state(np.random.default_rng(0))
        player = game.to_move(state)[0]
        obs = game.observe(state, player)
        messages = [{"role": "system", "content": text.rules(player)},
                    {"role": "user", "content": text.render(obs)}]
        prompts.append((game_id, messages, text.action_schema(obs)))
    return prompts


def raw_decoder(max_tokens: int, prompts: list[Prompt]) -> Decoder:
    from llama_cpp import LlamaGrammar

    llm = llm_local.shared_llama()
    grammars = {json.dumps(s, sort_keys=True): LlamaGrammar.from_json_schema(
        json.dumps(s, sort_keys=True), verbose=False) for _, _, s in prompts}

    def decode(p: Prompt) -> tuple[str, int, int]:
        out = llm.create_completion(llm_local.format_prompt(p[1]), max_tokens=max_tokens,
                                    temperature=0.0, top_p=1.0, seed=1,
                                    grammar=grammars[json.dumps(p[2], sort_keys=True)])
        usage = out["usage"]
        return out["choices"][0]["text"], usage["prompt_tokens"], usage["completion_tokens"]

    return decode


def litellm_decoder(max_tokens: int) -> Decoder:
    llm_local.register_local_provider()
    import litellm

    def decode(p: Prompt) -> tuple[str, int, int]:
        r = litellm.completion(
            model=llm_local.MODEL_ID, messages=p[1], temperature=0, max_tokens=max_tokens,
            seed=1, timeout=60, response_format={
                "type": "json_schema", "json_schema": {"name": "action", "schema": p[2]}})
        return r.choices[0].message.content, r.usage.prompt_tokens, r.usage.completion_tokens

    return decode


def model_decoder(max_tokens: int) -> Decoder | None:
    try:
        from agora.agents.llm.model import LiteLLMModel, Sampling
    except ImportError:
        return None
    model = LiteLLMModel(llm_local.MODEL_ID)

    def decode(p: Prompt) -> tuple[str, int, int]:
        c = model.complete(p[1], Sampling(temperature=0.0, max_tokens=max_tokens, seed=1,
                                          schema=p[2], timeout=60.0))
        return c.text, c.tokens_in, c.tokens_out

    return decode


@dataclass(frozen=True)
class Pass:
    """One pass over the prompts."""

    seconds: float
    prompt_tokens: int
    completion_tokens: int
    texts: tuple[str, ...]

    @property
    def rate(self) -> float:
        """Completion tokens per second (prompt processing included in the time)."""
        return self.completion_tokens / self.seconds


def run_pass(decode: Decoder, prompts: list[Prompt]) -> Pass:
    texts, n_in, n_out = [], 0, 0
    t0 = time.perf_counter()
    for p in prompts:
        text, tokens_in, tokens_out = decode(p)
        texts.append(text)
        n_in += tokens_in
        n_out += tokens_out
    return Pass(time.perf_counter() - t0, n_in, n_out, tuple(texts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--games", type=int, default=len(GAMES), choices=range(1, len(GAMES) + 1),
                    metavar=f"1..{len(GAMES)}", help="prompts: the first N games")
    ap.add_argument("--json", default=None, help="save the results here")
    args = parse_args(ap, QUICK)
    missing = llm_local.missing_packages()
    if missing:
        return skip(f"the embedded model needs {', '.join(missing)} (the 'local' extra)")

    prompts = text_face_prompts(args.games)
    decoders: dict[str, Decoder] = {"raw llama-cpp-python": raw_decoder(args.max_tokens, prompts),
                                    "litellm.completion": litellm_decoder(args.max_tokens)}
    model = model_decoder(args.max_tokens)
    if model is not None:
        decoders["LiteLLMModel.complete"] = model
    names = list(decoders)
    warm = {n: run_pass(decoders[n], prompts) for n in names}  # untimed
    passes: dict[str, list[Pass]] = {n: [] for n in names}
    for r in range(args.repeats):
        for n in names[r % len(names):] + names[:r % len(names)]:
            run = run_pass(decoders[n], prompts)
            if run.texts != warm[names[0]].texts:
                raise AssertionError(f"{n} decoded different text than {names[0]}")
            passes[n].append(run)
    report(names, passes, prompts, args)
    return 0


def report(names: list[str], passes: dict[str, list[Pass]], prompts: list[Prompt],
           args: argparse.Namespace) -> None:
    best = {n: max(passes[n], key=lambda p: p.rate) for n in names}
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, "
          f"n_threads={llm_local.llama_kwargs()['n_threads']}, {len(prompts)} prompts, "
          f"max_tokens={args.max_tokens}, {args.repeats} repeats")
    for (game_id, _, _), text in zip(prompts, best[names[0]].texts):
        print(f"  {game_id:22s} {text}")
    raw = best[names[0]]
    print(f"{'path':24s} {'prompt':>7s} {'compl.':>7s} {'best s':>7s} {'compl. tok/s':>13s} "
          f"{'all tok/s':>10s} {'best/best':>10s} {'median ratio':>13s}")
    rows = []
    for n in names:
        b = best[n]
        ratio = b.rate / raw.rate
        median = float(np.median([p.rate / q.rate for p, q in zip(passes[n], passes[names[0]])]))
        verdict = "" if n == names[0] else ("PASS" if median >= TARGET_RATIO else "FAIL")
        total_rate = (b.prompt_tokens + b.completion_tokens) / b.seconds
        print(f"{n:24s} {b.prompt_tokens:7d} {b.completion_tokens:7d} {b.seconds:7.2f} "
              f"{b.rate:13.2f} {total_rate:10.1f} {ratio:10.1%} {median:13.1%} {verdict}")
        rows.append({"path": n, "prompt_tokens": b.prompt_tokens,
                     "completion_tokens": b.completion_tokens, "seconds": b.seconds,
                     "tokens_per_s": b.rate, "ratio_best": ratio, "ratio_median": median,
                     "pass_seconds": [p.seconds for p in passes[n]]})
    print(f"target: agent path >= {TARGET_RATIO:.0%} of raw completion tokens/s "
          "(median of the per-repeat ratios)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "texts": list(raw.texts), "target": TARGET_RATIO}, f,
                      indent=2)


if __name__ == "__main__":
    raise SystemExit(main())
