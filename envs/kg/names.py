"""Anonymised names: pronounceable random tokens, so a language model cannot answer from
memory.

Example:
    >>> from agora.envs.kg.graph import KnowledgeGraph
    >>> kg = KnowledgeGraph.from_named("toy", [("ann", "likes", "bob")])
    >>> out = anonymise(kg, np.random.default_rng(0), "entities")
    >>> out.relation_names, out.entity_names != kg.entity_names
    (('likes',), True)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from agora.envs.errors import ConfigError
from agora.envs.kg.graph import KnowledgeGraph

ANONYMISE = ("none", "entities", "all")
"""What :func:`anonymise` may rename."""

_CONSONANTS = "bdfghklmnprstvz"
_VOWELS = "aeiou"


def tokens(n: int, rng: np.random.Generator, syllables: int = 3) -> tuple[str, ...]:
    """``n`` distinct pronounceable tokens of consonant-vowel syllables.

    Example:
        >>> t = tokens(5, np.random.default_rng(0))
        >>> len(set(t)), all(len(x) == 6 for x in t)
        (5, True)
    """
    base = len(_CONSONANTS) * len(_VOWELS)
    while base**syllables < 2 * n:
        syllables += 1
    codes = rng.choice(base**syllables, size=n, replace=False)
    out = []
    for code in codes.tolist():
        word = []
        for _ in range(syllables):
            code, s = divmod(code, base)
            word.append(_CONSONANTS[s // len(_VOWELS)] + _VOWELS[s % len(_VOWELS)])
        out.append("".join(word))
    return tuple(out)


def anonymise(kg: KnowledgeGraph, rng: np.random.Generator, which: str) -> KnowledgeGraph:
    """Rename entities (``"entities"``) or entities and relations (``"all"``) with random
    tokens; relation tokens have two syllables and entity tokens three or more."""
    if which not in ANONYMISE:
        raise ConfigError(f"anonymise={which!r} must be one of {ANONYMISE}")
    if which == "none":
        return kg
    out = replace(kg, entity_names=tokens(kg.num_entities, rng, 3))
    if which == "all":
        out = replace(out, relation_names=tokens(kg.num_relations, rng, 2))
    return out
