"""Checkers for the exercises of notebook 01 (chunking)."""

from __future__ import annotations

from typing import Any

from helpers.workshop.checks.common import checker, is_blank, pair_of_ints, verdict, wrong_shape


@checker("a pair (number of chunks, longest chunk in characters), e.g. (12, 345)")
def check_small_chunks(answer: Any, text: str, chunk_size: int = 400, chunk_overlap: int = 20,
                       hint: bool = False):
    """Notebook 01, exercise 1: (number of chunks, longest chunk in characters) of ``text`` at ``chunk_size``."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    pieces = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap).split_text(text)
    expected = (len(pieces), max(len(p) for p in pieces))
    given = pair_of_ints(answer)
    advice = (f"cut the example document alone with your chunk_documents at chunk_size={chunk_size}, then count the "
              "chunks and measure the longest one's text")
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a pair (number of chunks, longest chunk in characters)")
    elif given[0] == expected[0] and given[1] == chunk_size != expected[1]:
        advice = f"the count is right, but no chunk is {chunk_size} characters long: measure the longest one"
    elif given == tuple(reversed(expected)):
        advice = "the two numbers are swapped: (number of chunks, longest in characters)"
    return verdict(answer, given == expected,
                   f"{expected[0]} chunks, the longest {expected[1]} characters: under the budget of {chunk_size}, "
                   "because the splitter prefers a paragraph or word boundary to a full chunk.", advice,
                   task=f"predict, then compute (chunks, longest chunk in characters) at chunk_size={chunk_size}",
                   more=f"chunk_documents([example], {chunk_size}, {chunk_overlap}) gives the chunks; len() of each "
                        "chunk's .text is its length", show_more=hint)


def overlap_text(first: Any, second: Any) -> str:
    """The text two consecutive chunks of one document share, from their offsets."""
    if second.start >= first.end:
        return ""
    return first.text[second.start - first.start :]


@checker("a string: the text the two chunks share")
def check_overlap_text(answer: Any, first: Any, second: Any, hint: bool = False):
    """Notebook 01, exercise 2: the text ``first`` and ``second`` both hold."""
    expected = overlap_text(first, second)
    ok = isinstance(answer, str) and answer == expected and second.text.startswith(answer)
    advice = ("both chunks carry offsets into the same document: the shared characters are those from where the "
              "second chunk starts to where the first one ends")
    if not isinstance(answer, str) and not is_blank(answer):
        advice = wrong_shape(answer, "a string: the text the two chunks share")
    elif isinstance(answer, str) and answer and answer != expected and first.text.endswith(answer):
        advice = ("a tail of the first chunk, but not the shared part: its length comes from the offsets, not from "
                  "chunk_overlap (the splitter repeats whole pieces, a heading or whole words, so the overlap is usually "
                  "shorter)")
    return verdict(answer, ok,
                   f"{len(expected)} characters ({expected!r}) appear at the end of one chunk and the start of the "
                   "next: context carried across the cut.", advice,
                   task="compute, from the two chunks' start, end and text, the text both chunks hold",
                   more="positions inside first.text count from first.start, so document position p is "
                        "first.text[p - first.start]", show_more=hint)


@checker("a pair (chunks over the limit, tokens in the longest chunk), e.g. (3, 200)")
def check_truncation_counts(answer: Any, token_counts: list[int], limit: int, hint: bool = False):
    """Notebook 01, exercise 3: (chunks longer than ``limit`` tokens, tokens in the longest chunk)."""
    expected = (sum(n > limit for n in token_counts), max(token_counts))
    given = pair_of_ints(answer)
    advice = f"count the chunks with more tokens than {limit}, and give the longest chunk's length in tokens"
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a pair (chunks over the limit, tokens in the longest chunk)")
    elif given[1] == expected[1] and given[0] == sum(n >= limit for n in token_counts):
        advice = f"a chunk of exactly {limit} tokens fits: count only the longer ones"
    elif given[0] == expected[0] and given[1] == limit:
        advice = f"{limit} is the limit, not the longest chunk: give the longest chunk's own token count"
    return verdict(answer, given == expected,
                   f"{expected[0]} chunk(s) over {limit} tokens; the longest has {expected[1]} tokens, so a model "
                   f"reading at most {limit} would drop {max(0, expected[1] - limit)} of them without a warning.",
                   advice,
                   task=f"from token_counts, compute (chunks over {limit} tokens, tokens in the longest chunk)",
                   more="token_counts holds one number per chunk, in model tokens; compare each with the limit",
                   show_more=hint)
