"""Checkers for the exercises of notebook 06 (the playground)."""

from __future__ import annotations

import math
from typing import Any

from helpers.workshop.checks.common import is_blank, verdict


def _scores_by_chunk(playground: Any, question: str, dim: int, system: str) -> tuple[dict[str, float], list[str]]:
    """``system``'s score for every chunk, and its full ranking, from ``playground.search``."""
    hits = playground.search(question, dim, k=len(playground.corpus_ids))
    rows = hits[hits.system == system]
    return dict(zip(rows.chunk_id, rows.score)), list(rows.chunk_id)


def check_ranking_by_hand(
    positions: Any, playground: Any, question: str, dim: int, k: int, system: str = "matryoshka"
) -> bool:
    """Notebook 06: the corpus positions of the top-``k`` chunks for ``question`` at ``dim``, ranked by hand, must
    be ``search()``'s top ``k`` for ``system`` (chunks with equal scores may come in either order)."""
    hint = (f"cut the query vector and every corpus vector to their first {dim} numbers, divide each corpus row by "
            "its own length (a cut unit vector is no longer unit length), take the dot products, and return the "
            f"positions of the {k} highest scores, highest first (np.argsort sorts from lowest to highest).")
    if is_blank(positions):
        return verdict(positions, False, "", hint)
    try:
        chosen = [playground.corpus_ids[int(p)] for p in list(positions)]
    except (TypeError, ValueError, IndexError):
        return verdict(positions, False, "", f"return {k} corpus positions (integers). " + hint)
    if len(chosen) != k or len(set(chosen)) != k:
        return verdict(positions, False, "", f"return {k} different positions, got {len(chosen)}. " + hint)
    scores, ranking = _scores_by_chunk(playground, question, dim, system)
    expected = ranking[:k]
    same = chosen == expected or all(
        math.isclose(scores[c], scores[e], abs_tol=1e-5) for c, e in zip(chosen, expected)
    )
    return verdict(
        positions,
        same,
        f"your top {k} at dim {dim} is search()'s: a Matryoshka search is a slice, a re-normalisation, a dot product "
        "and a sort, nothing more.",
        hint,
    )


def check_bm25_beats_fine_tuned(answer: Any, playground: Any, system: str = "matryoshka") -> bool:
    """Notebook 06: ``answer`` = (test question, dim) where BM25 ranks the relevant chunk strictly higher than
    ``system`` at that dim."""
    hint = ("pick a question from the playground's test set (pg.questions) and a dim from pg.dims where BM25's "
            "'relevant chunk at rank' is smaller than the fine-tuned model's; answer (question text, dim).")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not (isinstance(answer, tuple | list) and len(answer) == 2 and isinstance(answer[0], str)):
        return verdict(answer, False, "", hint)
    question, dim = answer
    if question.strip() not in {q.strip() for q in playground.questions.values()}:
        return verdict(answer, False, "", "that text is not one of the test questions (copy it exactly, so the "
                                          "playground knows its relevant chunk). " + hint)
    if dim not in playground.dims:
        return verdict(answer, False, "", f"dim {dim} is not one of {playground.dims}. " + hint)
    ranks = playground.search(question, dim, k=1).groupby("system", sort=False)["relevant_rank"].first()
    bm25_rank, tuned_rank = int(ranks["BM25"]), int(ranks[system])
    return verdict(
        answer,
        bm25_rank < tuned_rank,
        f"BM25 puts the relevant chunk at rank {bm25_rank}, the fine-tuned model at rank {tuned_rank} (dim {dim}). "
        "Look at the question's words: exact terms (names, numbers, rare words) shared with the chunk are what BM25 "
        "rewards and what a small embedding can blur.",
        f"at dim {dim}, BM25 ranks the relevant chunk {bm25_rank}, the fine-tuned model {tuned_rank}: BM25 must be "
        "strictly better (a smaller rank). " + hint,
    )


def check_accuracy_at_3_by_search(share: Any, playground: Any, dim: int, system: str = "matryoshka") -> bool:
    """Notebook 06: the share of test questions whose relevant chunk ``system`` ranks in the top 3 at ``dim``,
    recomputed with ``playground.search``."""
    hint = (f"call search(question, dim={dim}, k=3) for every test question, keep the rows of system '{system}', "
            "and count the questions where any row has relevant == True; divide by the number of test questions "
            f"({len(playground.questions)}): a number between 0 and 1.")
    if is_blank(share):
        return verdict(share, False, "", hint)
    hits = [playground.search(q, dim, 3) for q in playground.questions.values()]
    expected = sum(bool(h[h.system == system].relevant.any()) for h in hits) / len(hits)
    try:
        ok = math.isclose(float(share), expected, abs_tol=1e-9)
    except (TypeError, ValueError):
        ok = False
    return verdict(
        share,
        ok,
        f"{expected:.1%} of test questions have their chunk in the top 3 at dim {dim}: notebook 04's accuracy@3 for "
        f"{system} at dim {dim} in results/summary.csv, up to floating-point ties.",
        hint,
    )
