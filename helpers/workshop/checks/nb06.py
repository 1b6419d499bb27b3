"""Checkers for the exercises of notebook 06 (the playground)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from helpers.workshop.checks.common import as_int, checker, close_enough, is_blank, method_hint, verdict
from helpers.workshop.checks.nb04 import require_number


def _scores_by_chunk(playground: Any, question: str, dim: int, system: str) -> tuple[dict[str, float], list[str]]:
    """``system``'s score for every chunk, and its full ranking, from ``playground.search``."""
    hits = playground.search(question, dim, k=len(playground.corpus_ids))
    rows = hits[hits.system == system]
    return dict(zip(rows.chunk_id, rows.score)), list(rows.chunk_id)


def _positions(answer: Any) -> list[int] | None:
    """``answer`` (a list, tuple or numpy array of whole numbers) as a list of ints, else None."""
    if isinstance(answer, (str, bytes, dict, set)):
        return None
    try:
        values = [as_int(p) for p in list(answer)]
    except TypeError:
        return None
    return None if None in values else values


@checker("a list (or numpy array) of corpus positions, e.g. [3, 0, 7, 1, 5]")
def check_ranking_by_hand(
    positions: Any, playground: Any, question: str, dim: int, k: int, system: str = "matryoshka", hint: bool = False
):
    """Notebook 06: the corpus positions of the top-``k`` chunks for ``question`` at ``dim``, ranked by hand, must
    be ``search()``'s top ``k`` for ``system`` (chunks with equal scores may come in either order)."""
    task = f"write rank_corpus: the positions of the {k} chunks closest to the query at dim {dim}, best first"
    advice = (f"both sides must be cut to their first {dim} numbers and made unit length again before the dot "
              "product, and the result sorted from the highest score down")
    more = "np.linalg.norm(x, axis=1, keepdims=True) gives each row's length; np.argsort sorts from lowest to highest"
    if is_blank(positions):
        return verdict(positions, False, "", advice, task=task, more=more, show_more=hint)
    given = _positions(positions)
    if given is None or not all(0 <= p < len(playground.corpus_ids) for p in given):
        return verdict(positions, False, "", f"return {k} corpus positions (integers from 0 to "
                                             f"{len(playground.corpus_ids) - 1}). " + advice, more=more, show_more=hint)
    chosen = [playground.corpus_ids[p] for p in given]
    if len(chosen) != k or len(set(chosen)) != k:
        return verdict(positions, False, "", f"return {k} different positions, got {len(chosen)}. " + advice,
                       more=more, show_more=hint)
    scores, ranking = _scores_by_chunk(playground, question, dim, system)
    expected = ranking[:k]
    same = chosen == expected or all(
        math.isclose(scores[c], scores[e], abs_tol=1e-5) for c, e in zip(chosen, expected)
    )
    why = advice
    if not same:
        vectors = playground.embeddings[system][:, :dim]
        query = playground.query_vector(system, question)[0][:dim]
        raw = [playground.corpus_ids[i] for i in np.argsort(-(vectors @ query), kind="stable")[:k]]
        if chosen == raw and raw != expected:  # checked first: it is the more specific mistake
            why = "the cut corpus vectors were not made unit length again, so long rows win. " + advice
        elif chosen == ranking[-k:][::-1] or chosen == ranking[:k][::-1]:
            why = "your list runs from the lowest score up; the best chunk must come first. " + advice
    return verdict(
        positions,
        same,
        f"your top {k} at dim {dim} is search()'s: a Matryoshka search is a slice, a re-normalisation, a dot product "
        "and a sort, nothing more.",
        why, more=more, show_more=hint,
    )


def figure_questions(source: Path | None = None) -> set[str]:
    """The question(s) Figure 6.1 shows, whose ranks a learner can read off the figure instead of searching."""
    if source is None:
        from helpers.workshop.figures.nb06 import SOURCE as source  # the snapshot the figure is drawn from
    if not source.exists():
        return set()
    with source.open(encoding="utf-8", newline="") as f:
        return {row["question"].strip() for row in csv.DictReader(f)}


@checker("a pair (the test question's exact text, a dim from pg.dims)")
def check_bm25_beats_fine_tuned(answer: Any, playground: Any, system: str = "matryoshka", hint: bool = False,
                                shown: set[str] | None = None):
    """Notebook 06: ``answer`` = (test question, dim) where BM25 ranks the relevant chunk strictly higher than
    ``system`` at that dim, other than the question Figure 6.1 already shows (``shown``, read from its snapshot)."""
    task = "find a test question and a dim at which BM25 ranks the relevant chunk above the fine-tuned model"
    advice = ("the playground shows 'relevant chunk at rank' under each column; you need a test question (so its "
              "relevant chunk is known) and a dim where BM25's rank is the smaller one")
    more = "a loop over pg.questions.values() and pg.dims, calling search(question, dim, k=1), finds one quickly"
    if is_blank(answer):
        return verdict(answer, False, "", advice, task=task, more=more, show_more=hint)
    if isinstance(answer, (str, bytes)) or not isinstance(answer, (tuple, list)) or len(answer) != 2 \
            or not isinstance(answer[0], str):
        return verdict(answer, False, "", "answer a pair (question text, dim). " + advice, more=more, show_more=hint)
    question, dim = answer[0], as_int(answer[1])
    if question.strip() not in {q.strip() for q in playground.questions.values()}:
        return verdict(answer, False, "", "that text is not one of the test questions (copy it exactly, so the "
                                          "playground knows its relevant chunk). " + advice, more=more, show_more=hint)
    if question.strip() in (figure_questions() if shown is None else shown):
        return verdict(answer, False, "", "that is the question Figure 6.1 draws, so its ranks are in the figure; "
                                          "find another one by searching. " + advice, more=more, show_more=hint)
    if dim not in playground.dims:
        return verdict(answer, False, "", f"dim {answer[1]!r} is not one of {playground.dims}. " + advice, more=more,
                       show_more=hint)
    ranks = playground.search(question, dim, k=1).groupby("system", sort=False)["relevant_rank"].first()
    bm25_rank, tuned_rank = int(ranks["BM25"]), int(ranks[system])
    return verdict(
        answer,
        bm25_rank < tuned_rank,
        f"BM25 puts the relevant chunk at rank {bm25_rank}, the fine-tuned model at rank {tuned_rank} (dim {dim}). "
        "Look at the question's words: exact terms (names, numbers, rare words) shared with the chunk are what BM25 "
        "rewards and what a small embedding can blur.",
        f"at dim {dim}, BM25 ranks the relevant chunk {bm25_rank}, the fine-tuned model {tuned_rank}: BM25 must be "
        "strictly better (a smaller rank). " + advice, more=more, show_more=hint,
    )


@checker("a number between 0 and 1, e.g. 0.5")
def check_accuracy_at_3_by_search(share: Any, playground: Any, dim: int, system: str = "matryoshka",
                                  hint: bool = False):
    """Notebook 06: the share of test questions whose relevant chunk ``system`` ranks in the top 3 at ``dim``,
    recomputed with ``playground.search`` (rounded answers pass)."""
    n = len(playground.questions)
    task = f"compute accuracy@3 of the fine-tuned model at dim {dim} with search() alone"
    advice = (f"search every test question with k=3, keep the '{system}' rows, and take the share of questions "
              "with a relevant chunk among them")
    more = f"a number between 0 and 1: the questions with a hit, divided by the {n} test questions"
    if is_blank(share):
        return verdict(share, False, "", advice, task=task, more=more, show_more=hint)
    require_number(share, "a number between 0 and 1, e.g. 0.5")
    hits = [playground.search(q, dim, 3) for q in playground.questions.values()]
    found = sum(bool(h[h.system == system].relevant.any()) for h in hits)
    expected = found / n
    wrong = {100 * expected: "give a share between 0 and 1, not a percentage"}
    if found != expected:
        wrong[float(found)] = f"that is the number of questions; divide it by the {n} test questions"
    return verdict(
        share,
        close_enough(share, expected),
        f"{expected:.1%} of test questions have their chunk in the top 3 at dim {dim}: notebook 04's accuracy@3 for "
        f"{system} at dim {dim} in results/summary.csv, up to floating-point ties.",
        method_hint(share, wrong, advice), more=more, show_more=hint,
    )
