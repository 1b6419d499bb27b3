"""Checkers for the exercises of notebook 01 (chunking)."""

from __future__ import annotations

from typing import Any

from helpers.workshop.checks.common import pair_of_ints, verdict


def check_small_chunks(answer: Any, text: str, chunk_size: int = 400, chunk_overlap: int = 20) -> bool:
    """Notebook 01, exercise 1: (number of chunks, longest chunk in characters) of ``text`` at ``chunk_size``."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    pieces = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap).split_text(text)
    expected = (len(pieces), max(len(p) for p in pieces))
    given = pair_of_ints(answer)
    hint = (f"run chunk_documents([example], {chunk_size}, {chunk_overlap}) and give (len(chunks), the largest "
            "len(c.text)) for the example document only; the longest chunk is rarely exactly the budget, because the "
            "splitter cuts at paragraph breaks, line breaks and spaces")
    if given is not None and given[0] == expected[0] and given[1] == chunk_size != expected[1]:
        hint = f"the count is right, but no chunk is {chunk_size} characters long: measure the longest one"
    return verdict(answer, given == expected,
                   f"{expected[0]} chunks, the longest {expected[1]} characters: under the budget of {chunk_size}, "
                   "because the splitter prefers a paragraph or word boundary to a full chunk.", hint)


def overlap_text(first: Any, second: Any) -> str:
    """The text two consecutive chunks of one document share, from their offsets."""
    if second.start >= first.end:
        return ""
    return first.text[second.start - first.start :]


def check_overlap_text(answer: Any, first: Any, second: Any) -> bool:
    """Notebook 01, exercise 2: the text ``first`` and ``second`` both hold."""
    expected = overlap_text(first, second)
    ok = isinstance(answer, str) and answer == expected and second.text.startswith(answer)
    return verdict(answer, ok,
                   f"{len(expected)} characters ({expected!r}) carried from one chunk to the next: context, not "
                   "lost words (with chunk_overlap=0 the splitter would still lose nothing).",
                   "the second chunk starts at second.start, before the first ends at first.end: take the first "
                   "chunk's text from position second.start - first.start to its end (a string; empty when "
                   "second.start >= first.end). The last chunk_overlap characters are not it: the overlap stops at a "
                   "word boundary")


def check_truncation_counts(answer: Any, token_counts: list[int], limit: int) -> bool:
    """Notebook 01, exercise 3: (chunks longer than ``limit`` tokens, tokens in the longest chunk)."""
    expected = (sum(n > limit for n in token_counts), max(token_counts))
    given = pair_of_ints(answer)
    hint = (f"count the chunks with more than {limit} tokens (a chunk of exactly {limit} fits), and give the longest "
            "chunk's length in tokens, not characters; both are printed by the token-count cell")
    return verdict(answer, given == expected,
                   f"{expected[0]} chunk(s) over {limit} tokens; the longest has {expected[1]} tokens, so it loses "
                   f"{max(0, expected[1] - limit)} tokens the model never reads.", hint)
