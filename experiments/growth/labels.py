"""Concept labels: the one normal form under which two mentions are the same node.

Normalisation folds case and Unicode forms, turns punctuation into spaces, collapses
whitespace and strips simple English plurals word by word. It is deliberately simple and
idempotent (normalising twice changes nothing); merging near-synonyms is the embedding
merge's job, not this function's.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+|_+")
_KEEP_S = ("ss", "us", "is", "os", "as")
"""Word endings whose final "s" is not a plural (glass, virus, analysis, chaos, gas)."""


def singular(word: str) -> str:
    """A simple singular of one lower-case word (suffix rules, no dictionary).

    Example:
        >>> [singular(w) for w in ("cities", "boxes", "proteins", "glass", "virus", "dna")]
        ['city', 'box', 'protein', 'glass', 'virus', 'dna']
    """
    if len(word) < 4 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(_KEEP_S):
        return word[:-1]
    return word


def normalize_label(text: str) -> str:
    """The normal form of a concept label ("" when nothing word-like is left).

    Example:
        >>> normalize_label("  Spider-Silk   Proteins! ")
        'spider silk protein'
        >>> normalize_label(normalize_label("Beta Sheets")) == normalize_label("beta sheet")
        True
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = _NON_WORD.sub(" ", folded).split()
    return " ".join(singular(w) for w in words)


def normalize_relation(text: str) -> str:
    """The normal form of a relation: like a label, but verbs keep their "s".

    Example:
        >>> normalize_relation("Is Part_Of")
        'is part of'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())
