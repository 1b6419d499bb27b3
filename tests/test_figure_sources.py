"""The data behind notebooks 04-07's concept figures: the hand-scored list's arithmetic, the front of figure 5.1, the
question figure 6.1 picks, and the funnel timings of figure 7.1 (measured on a toy corpus), and the committed snapshots
have the columns the drawings read."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.evaluation.metrics import Encoded
from helpers.workshop.figures import nb04, nb05, nb06, nb07


def test_the_hand_scored_list_is_ndcg():
    score = nb04.worked_example((2, 5), n_relevant=2)
    assert score["dcg"] == pytest.approx(1 / math.log2(3) + 1 / math.log2(6))
    assert score["idcg"] == pytest.approx(1 + 1 / math.log2(3))
    assert nb04.worked_example((11,), n_relevant=1)["ndcg"] == 0  # below the cut counts nothing


def test_the_front_keeps_what_nothing_beats():
    table = pd.DataFrame({"bytes": [4, 8, 8, 32, 128], "ndcg@10": [0.2, 0.5, 0.4, 0.45, 0.7]})
    assert list(nb05.front(table)["bytes"]) == [4, 8, 128]


def test_the_question_shown_is_the_first_on_which_the_systems_disagree():
    ranks = {
        "q1": {"base": 1, "matryoshka": 1, "BM25": 2},  # two systems agree
        "q2": {"base": 5, "matryoshka": 1, "BM25": 2},  # all differ, one outside the top 3
        "q3": {"base": 3, "matryoshka": 1, "BM25": 2},  # all differ inside the top 3
        "q4": {"base": math.nan, "matryoshka": 1, "BM25": 2},
    }
    assert nb06.choose(ranks) == "q3"
    assert nb06.choose({q: ranks[q] for q in ("q1", "q2", "q4")}) == "q2"
    with pytest.raises(ValueError):
        nb06.choose({"q1": ranks["q1"]})


def test_the_funnel_is_timed_stage_by_stage():
    rng = np.random.default_rng(0)
    corpus = rng.standard_normal((200, 64)).astype(np.float32)
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    enc = Encoded([f"q{i}" for i in range(5)], [f"c{i}" for i in range(200)], corpus[:5].copy(), corpus)
    table = nb07.measure(enc, size=1_000, short_dim=16, multiplier=4, k=10).set_index("stage")
    assert list(table.index) == ["shortlist", "re-rank", "exact"]
    assert table.loc["shortlist", "candidates_out"] == 40 and table.loc["re-rank", "candidates_in"] == 40
    assert table.loc["shortlist", "candidates_in"] == 1_000 and (table.p50_ms > 0).all()
    assert 0 <= table["recall@10_vs_exact"].iloc[0] <= 1


@pytest.mark.parametrize("module, columns", [
    (nb05, {"system", "dim", "precision", "bytes", "ndcg@10"}),
    (nb06, {"question", "system", "rank", "score", "document", "relevant", "relevant_rank", "text"}),
    (nb07, {"stage", "candidates_in", "candidates_out", "dim", "p50_ms", "recall@10_vs_exact", "queries"}),
])
def test_the_committed_snapshots_have_what_the_figures_read(module, columns):
    assert columns <= set(pd.read_csv(module.SOURCE).columns), module.SOURCE.name
