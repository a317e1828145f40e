"""Triples from model text: the answer schema and a tolerant, typed parser.

The extraction call asks for ``{"triples": [{"source", "relation", "target"}, ...]}``
(:func:`triples_schema`, which the embedded model decodes under a grammar). The parser
also accepts a bare JSON list, a single triple object, code fences and prose around the
JSON. Text with no usable JSON raises :class:`TripleParseError`; items that are not
triples are dropped and *counted* with a reason, never silently replaced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agora.envs import AgoraError
from agora.experiments.growth.labels import normalize_label, normalize_relation

FIELDS = ("source", "relation", "target")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class TripleParseError(AgoraError, ValueError):
    """Model text held no JSON list of triples. ``reason`` says why; ``text`` is the text."""

    def __init__(self, reason: str, text: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.text = text


@dataclass(frozen=True)
class Triple:
    """One (source, relation, target) statement, labels as the model wrote them."""

    source: str
    relation: str
    target: str

    def key(self) -> tuple[str, str, str]:
        """Normalised (source, relation, target): the identity used for deduplication."""
        return (normalize_label(self.source), normalize_relation(self.relation),
                normalize_label(self.target))


@dataclass(frozen=True)
class ParsedTriples:
    """The triples found in one answer, and the items rejected with their reasons."""

    triples: tuple[Triple, ...]
    rejected: tuple[tuple[str, str], ...] = ()
    """(item as JSON text, reason) for each item that was not a usable triple."""


def triples_schema(max_triples: int = 6, max_chars: int = 48) -> dict[str, Any]:
    """JSON schema of the extraction answer (bounded so a small model cannot ramble).

    Example:
        >>> triples_schema(3)["properties"]["triples"]["maxItems"]
        3
    """
    text = {"type": "string", "minLength": 1, "maxLength": max_chars}
    item = {"type": "object", "additionalProperties": False, "required": list(FIELDS),
            "properties": dict.fromkeys(FIELDS, text)}
    return {"type": "object", "additionalProperties": False, "required": ["triples"],
            "properties": {"triples": {"type": "array", "maxItems": max_triples,
                                       "items": item}}}


def _json_values(text: str) -> Iterator[Any]:
    """Each JSON object or array that starts at a bracket, fenced chunks first."""
    decoder = json.JSONDecoder(strict=False)  # small models put raw newlines in strings
    for chunk in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        for i, ch in enumerate(chunk):
            if ch in "[{":
                try:
                    yield decoder.raw_decode(chunk, i)[0]
                except (ValueError, RecursionError):
                    continue


def _items(value: Any) -> list[Any] | None:
    """The list of candidate triples a JSON value holds, or None if it holds none."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        if isinstance(value.get("triples"), list):
            return list(value["triples"])
        if all(k in value for k in FIELDS):
            return [value]
    return None


def _check(item: Any) -> Triple | str:
    """A triple, or the reason the item is not one."""
    if not isinstance(item, Mapping):
        return "not an object"
    missing = [k for k in FIELDS if k not in item]
    if missing:
        return f"missing {', '.join(missing)}"
    if not all(isinstance(item[k], str) for k in FIELDS):
        return "a field is not a string"
    triple = Triple(*(str(item[k]).strip() for k in FIELDS))
    source, relation, target = triple.key()
    if not (source and relation and target):
        return "an empty label"
    if source == target:
        return "source and target are the same concept"
    return triple


def parse_triples(text: str) -> ParsedTriples:
    """Read the triples in a model answer.

    The first JSON value holding at least one triple wins (so a stray ``[1]`` in the prose
    does not hide the answer); if none holds one, the first list found is returned with
    its items rejected.

    Raises:
        TripleParseError: when the text holds no JSON list of triples at all.

    Example:
        >>> parse_triples('Here: ```json\\n[{"source": "Silk", "relation": "made of",'
        ...               ' "target": "proteins"}, {"source": "x"}]```').triples
        (Triple(source='Silk', relation='made of', target='proteins'),)
    """
    if not isinstance(text, str):
        raise TripleParseError(f"expected text, got {type(text).__name__}", repr(text))
    first: ParsedTriples | None = None
    for value in _json_values(text):
        items = _items(value)
        if items is None:
            continue
        parsed = _sort(items)
        if parsed.triples:
            return parsed
        first = first or parsed
    if first is None:
        raise TripleParseError("no JSON list of triples found", text)
    return first


def _sort(items: list[Any]) -> ParsedTriples:
    """Split candidate items into triples and rejected items with reasons."""
    good: list[Triple] = []
    bad: list[tuple[str, str]] = []
    for item in items:
        checked = _check(item)
        if isinstance(checked, Triple):
            good.append(checked)
        else:
            bad.append((json.dumps(item, ensure_ascii=False, default=str), checked))
    return ParsedTriples(tuple(good), tuple(bad))


def _words(text: str) -> set[str]:
    return set(normalize_label(text).split())


def ground(parsed: ParsedTriples, text: str) -> ParsedTriples:
    """Move triples whose concepts do not occur in ``text`` (word by word, after
    normalisation) to the rejected items: small models copy the prompt's example.

    Example:
        >>> parsed = parse_triples('[{"source": "Bees", "relation": "make", "target": "honey"},'
        ...                        ' {"source": "silk", "relation": "has", "target": "proteins"}]')
        >>> g = ground(parsed, "Spider silk is made of protein.")
        >>> [t.source for t in g.triples], [r for _, r in g.rejected]
        (['silk'], ['concept not in the text'])
    """
    words = _words(text)
    keep, drop = [], list(parsed.rejected)
    for t in parsed.triples:
        if _words(t.source) <= words and _words(t.target) <= words:
            keep.append(t)
        else:
            drop.append((json.dumps({"source": t.source, "relation": t.relation,
                                     "target": t.target}, ensure_ascii=False),
                         "concept not in the text"))
    return ParsedTriples(tuple(keep), tuple(drop))
