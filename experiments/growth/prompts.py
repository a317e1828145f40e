"""The three prompts of an iteration (answer, extract, question) and their answer readers.

Prompts are short because the embedded model is small. The extraction and question calls
send a JSON schema, so the embedded model decodes them under a grammar and providers with
structured output comply; the answer is free text (a grammar slows the embedded model
three to five times, and the answer needs no structure).
Readers return None for junk; the loop counts it and never invents content silently
(the only stand-in is :func:`fallback_question`, recorded as a fallback).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from agora.experiments.growth.triples import triples_schema

MAX_QUESTION_CHARS = 240
MIN_WORDS = 3
"""A question needs at least this many words ("silk" alone is junk)."""
_TURN = re.compile(r"^\s*(?:System|User|Assistant):", re.MULTILINE)


def _text_schema(key: str, max_chars: int) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": [key],
            "properties": {key: {"type": "string", "minLength": 1, "maxLength": max_chars}}}


QUESTION_SCHEMA = _text_schema("question", MAX_QUESTION_CHARS)


def answer_messages(question: str) -> list[dict[str, str]]:
    """Ask for a short factual answer that names concrete concepts (free text: the
    embedded model decodes three to five times slower under a grammar)."""
    return [{"role": "system", "content": (
                "You are a scientist. Answer the question in two or three sentences that name "
                "concrete concepts.")},
            {"role": "user", "content": question}]


EXTRACT_EXAMPLE = ('Example: "Bees make honey from nectar." gives {"triples": [{"source": "bee", '
                   '"relation": "makes", "target": "honey"}, {"source": "honey", "relation": '
                   '"made from", "target": "nectar"}]}')


def extract_messages(answer: str, max_triples: int) -> list[dict[str, str]]:
    """Ask for up to ``max_triples`` (concept, relation, concept) triples from ``answer``.

    The prompt names no placeholder values: small models copy them (``"..."``).
    """
    return [{"role": "system", "content": (
                f"Extract up to {max_triples} knowledge-graph triples from the text: each links "
                "a source concept to a target concept by a short verb. Reply with a JSON "
                'object whose "triples" field lists objects with the fields "source", '
                f'"relation" and "target".\n{EXTRACT_EXAMPLE}')},
            {"role": "user", "content": f"Text: {answer}"}]


def question_messages(concepts: Sequence[str]) -> list[dict[str, str]]:
    """Ask for one follow-up question about (or connecting) ``concepts``.

    The previous question is not shown: small models copy it.
    """
    task = "connects these concepts" if len(concepts) > 1 else "explores this concept"
    return [{"role": "system", "content": (
                f"Write one short, creative research question that {task}. Reply with a "
                'JSON object whose "question" field holds the question.')},
            {"role": "user", "content": f"Concepts: {'; '.join(concepts)}"}]


def extract_schema(max_triples: int) -> dict[str, Any]:
    """The extraction call's schema (see :func:`~.triples.triples_schema`)."""
    return triples_schema(max_triples)


def _field(text: str, key: str) -> str | None:
    try:
        obj = json.loads(text, strict=False)  # small models put raw newlines in strings
    except (ValueError, RecursionError):
        return None
    value = obj.get(key) if isinstance(obj, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def strip_turns(text: str) -> str:
    """Cut a reply where it starts to invent the next chat turn (a line opening with
    ``System:``, ``User:`` or ``Assistant:``), as small base models do.

    Example:
        >>> strip_turns("Silk is a protein.\\n\\nUser: and wool?")
        'Silk is a protein.'
    """
    return _TURN.split(text, maxsplit=1)[0].strip()


def _whole_sentences(text: str) -> str:
    """``text`` up to its last sentence end (all of it when it has none)."""
    end = max(text.rfind(c) for c in ".!?")
    return text[:end + 1] if end > 0 else text


def read_answer(text: str) -> str | None:
    """The answer: the reply (or its ``answer`` field, when it is JSON) cut before any
    invented chat turn and after its last whole sentence; None when nothing is left.

    Example:
        >>> read_answer(" Silk is a protein. It is strong.\\nUser: and wool? It")
        'Silk is a protein. It is strong.'
        >>> read_answer('{"answer": "Silk is a protein."}'), read_answer("  "), read_answer("{")
        ('Silk is a protein.', None, None)
    """
    field = _field(text, "answer")
    if field is None:
        field = text.strip() if not text.strip().startswith("{") else None
    cleaned = _whole_sentences(strip_turns(field)) if field else ""
    return cleaned.strip() or None


def read_question(text: str) -> str | None:
    """The ``question`` field (or a plain one-line reply), None for junk (empty, too long,
    fewer than :data:`MIN_WORDS` words).

    Example:
        >>> read_question('{"question": "How do beta sheets stiffen silk?"}')
        'How do beta sheets stiffen silk?'
        >>> read_question('{"question": ""}'), read_question("???"), read_question('{"quest'),
        (None, None, None)
        >>> read_question('{"question": "silk"}') is None
        True
    """
    found = _field(text, "question")
    if found is None:
        plain = text.strip()
        one_line = "\n" not in plain and not plain.startswith("{")
        found = plain if one_line and any(c.isalpha() for c in plain) else None
    if found is None or len(found) > MAX_QUESTION_CHARS or len(found.split()) < MIN_WORDS:
        return None
    return found


def fallback_question(concepts: Sequence[str]) -> str:
    """The template question used (and counted) when the model's question is junk.

    Example:
        >>> fallback_question(["silk", "keratin"])
        'How are silk and keratin related?'
    """
    if not concepts:
        return "What other concepts are related to this topic?"
    if len(concepts) == 1:
        return f"What else is known about {concepts[0]}?"
    return f"How are {', '.join(concepts[:-1])} and {concepts[-1]} related?"
