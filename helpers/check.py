"""Exercise checkers: each prints [OK] or [TRY AGAIN] with a hint, and returns True/False.

They never raise on a wrong answer, so a notebook keeps running while a learner experiments.
"""

from __future__ import annotations

import math


def _report(ok: bool, success: str, hint: str) -> bool:
    print(f"[OK] {success}" if ok else f"[TRY AGAIN] {hint}")
    return ok


def check_chunking(pieces: list[str], chunk_size: int) -> bool:
    """Chunks must respect the character budget and cover the text without gaps."""
    if not pieces:
        return _report(False, "", "no chunks: did you pass the document's text to split_text()?")
    longest = max(len(p) for p in pieces)
    return _report(
        longest <= chunk_size,
        f"{len(pieces)} chunks, the longest {longest} characters (budget {chunk_size}).",
        f"a chunk has {longest} characters, over the budget of {chunk_size}: create the splitter with "
        f"chunk_size={chunk_size}.",
    )


def check_leak_share(share: float, test_ir: dict, train_pairs: list[dict]) -> bool:
    """The share of test questions whose best chunk is also a training positive."""
    positives = {row["positive"] for row in train_pairs}
    rel = test_ir["relevant_docs"]
    expected = sum(test_ir["corpus"][sorted(ids)[0]] in positives for ids in rel.values()) / len(rel)
    return _report(
        math.isclose(share, expected, abs_tol=1e-9),
        f"{expected:.0%} of test questions ask about a chunk seen in training. In the 'chunks' regime this is 0 by "
        "construction; in the 'questions' regime it is high, which is why that regime scores higher.",
        "count the test questions whose first relevant chunk's text is among the training positives, then divide by "
        "the number of test questions (a number between 0 and 1).",
    )


def check_negatives(answer: int, batch_size: int = 16, accumulation: int = 4) -> bool:
    """In-batch negatives per question for a batch size and gradient accumulation."""
    expected = batch_size - 1
    if answer == batch_size * accumulation - 1:
        return _report(False, "", "gradient accumulation adds up gradients of separate micro-batches; each question "
                                  "is only scored against the passages of its own micro-batch.")
    return _report(
        answer == expected,
        f"{expected}: every other positive in the micro-batch of {batch_size}. Accumulation does not add negatives; "
        "CachedMultipleNegativesRankingLoss does.",
        f"a question's negatives are the other positives in its batch of {batch_size}.",
    )


def random_ndcg_at_10(n_chunks: int) -> float:
    """Expected ndcg@10 of a random ranking of ``n_chunks`` with one relevant chunk."""
    return sum(1 / math.log2(rank + 1) for rank in range(1, min(10, n_chunks) + 1)) / n_chunks


def check_random_ndcg(value: float, n_chunks: int = 12) -> bool:
    expected = random_ndcg_at_10(n_chunks)
    return _report(
        math.isclose(value, expected, rel_tol=1e-6),
        f"{expected:.3f}. A random ranker already scores {expected:.2f} when only {n_chunks} chunks compete, so "
        "0.9 or 1.0 under that protocol says little; over a whole corpus of ~150 chunks random is below 0.03.",
        "average 1/log2(rank+1) over the ranks 1..10 the relevant chunk can take; the ranks beyond 10 add 0; "
        f"each of the {n_chunks} ranks is equally likely.",
    )


BYTES_PER_DIM = {"float32": 4.0, "int8": 1.0, "binary": 1 / 8}


def check_memory_budget(n_vectors: int, dim: int, precision: str, budget_bytes: int) -> bool:
    """Whether ``n_vectors`` vectors of ``dim`` at ``precision`` fit in ``budget_bytes``."""
    if precision not in BYTES_PER_DIM:
        return _report(False, "", f"precision must be one of {', '.join(BYTES_PER_DIM)}")
    need = n_vectors * math.ceil(dim * BYTES_PER_DIM[precision])
    return _report(
        need <= budget_bytes,
        f"{n_vectors:,} x {dim} dims in {precision} = {need / 2**30:.2f} GiB, within {budget_bytes / 2**30:.2f} GiB.",
        f"{n_vectors:,} x {dim} dims in {precision} needs {need / 2**30:.2f} GiB, over {budget_bytes / 2**30:.2f} GiB: "
        "try fewer dims or a smaller precision.",
    )
