"""The offline Inverse Cloze Task (Lee et al., 2019): no model at all. One sentence of each chunk becomes the
pseudo-query and the rest of the chunk its passage."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from helpers.data.corpus import Chunk

ICT_KEEP_PROBABILITY = 0.1  # Lee et al. (2019) leave the sentence in its passage 10% of the time


# --------------------------------------------------------------------------- Inverse Cloze Task

# No maintained sentence splitter is installed (nltk needs a separate data download, pysbd is
# unmaintained), so this is a careful regex: a sentence ends at . ! or ? (plus closing quotes or
# brackets) followed by whitespace and a character that is not a lowercase letter, unless the
# word before the full stop is a known abbreviation or an initial ("e.g.", "et al.", "U.S.").
# Blank lines always end a sentence. Merging two sentences by mistake is harmless here.
_ABBREVIATIONS = frozenset(
    "al approx ca cf ch dr e.g eq eqs etc fig figs i.e inc jr ltd mr mrs ms no nos pp prof ref refs sec sr st "
    "vol vs".split()
)
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+(?![a-z]))")
_PARAGRAPH = re.compile(r"\S(?:(?!\n[ \t]*\n).)*", re.S)


def _is_abbreviation(before: str) -> bool:
    word = before.split()[-1].lstrip("([\"'“‘").lower() if before.split() else ""
    return word in _ABBREVIATIONS or bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, in order, without whitespace."""
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        body, base = para.group().rstrip(), para.start()
        start = 0
        for match in _SENTENCE_END.finditer(body):
            if body[match.start()] == "." and _is_abbreviation(body[start : match.start()]):
                continue
            spans.append((base + start, base + match.end()))
            start = match.end() + len(body[match.end() :]) - len(body[match.end() :].lstrip())
        if start < len(body):
            spans.append((base + start, base + len(body)))
    return spans


def _remove_span(text: str, start: int, end: int) -> str:
    left, right = text[:start], text[end:]
    gap = left[len(left.rstrip()) :] + right[: len(right) - len(right.lstrip())]
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left + right
    return left + ("\n\n" if "\n\n" in gap else " ") + right


def ict_example(chunk: Chunk, seed: int = 42, keep_probability: float = ICT_KEEP_PROBABILITY,
                min_words: int = 4) -> dict:
    """One Inverse Cloze Task pair for one chunk: a sentence and the rest of the chunk.

    The sentence is drawn among those with at least ``min_words`` words (all, if none has),
    with a generator seeded by ``seed`` and the chunk id, so the choice does not depend on the
    other chunks. With probability ``keep_probability`` the sentence stays in its passage, as in
    the paper, so the model also learns that word overlap matters. A chunk of one sentence is
    cut in two halves at a word boundary: one is the query, the other the passage.
    """
    if not 0.0 <= keep_probability <= 1.0:
        raise ValueError(f"keep_probability must be between 0 and 1, got {keep_probability}")
    text = chunk.text
    if not text.strip():
        raise ValueError(f"chunk {chunk.id} of {chunk.document} is empty")
    rng = random.Random(f"{seed}:{chunk.id}")
    spans = split_sentences(text)
    long_enough = [s for s in spans if len(text[s[0] : s[1]].split()) >= min_words] or spans
    if len(spans) >= 2:
        start, end = rng.choice(long_enough)
        query = text[start:end]
        kept = rng.random() < keep_probability
        passage = text if kept else _remove_span(text, start, end)
        method = "sentence"
    else:
        words = text.split()
        if len(words) >= 2:
            half = len(words) // 2
            first, second = " ".join(words[:half]), " ".join(words[half:])
            query, passage = (first, second) if rng.random() < 0.5 else (second, first)
            kept, method = False, "halves"
        else:
            query, passage, kept, method = text.strip(), text.strip(), True, "whole"
    return {
        "id": f"ict-{chunk.id.removeprefix('c-')}-{seed}", "question": query, "chunk_id": chunk.id,
        "document": chunk.document, "source": "ict", "passage": passage, "kept": kept, "method": method,
        "seed": seed,
    }


def ict_examples(chunks: Sequence[Chunk], seed: int = 42, keep_probability: float = ICT_KEEP_PROBABILITY,
                 min_words: int = 4) -> list[dict]:
    """One Inverse Cloze Task pair per chunk (see :func:`ict_example`); seeded and deterministic."""
    return [ict_example(c, seed, keep_probability, min_words) for c in chunks]


