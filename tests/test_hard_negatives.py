"""Hard-negative mining (notebook 03's ``mine_negatives``), ICT pairs, dim weights and the profile switches."""

from __future__ import annotations

import pytest

from helpers.config import DIM_WEIGHTS, get_profile, matryoshka_weights
from helpers.lessons.recipe import add_ict_pairs, mine_negatives, training_dataset

# Three topics; the "colbert-b" chunk answers the ColBERT question as well as "colbert-a" does (a fact stated twice).
PASSAGES = {
    "colbert-a": "ColBERT was created by Omar Khattab and Matei Zaharia at Stanford in 2020; it scores a query "
                 "against a passage by late interaction over token vectors.",
    "colbert-b": "Omar Khattab and Matei Zaharia of Stanford introduced ColBERT, a late-interaction retriever "
                 "that keeps one vector per token.",
    "bm25": "BM25 saturates term frequency with k1 and normalises document length with b, usually 0.75.",
    "hnsw": "HNSW builds a layered proximity graph and searches it greedily from the top layer down.",
    "glove": "GloVe fits word vectors to the logarithm of global co-occurrence counts.",
}


def pair(question: str, positive: str, answers: list[str]) -> dict:
    return {"anchor": question, "positive": PASSAGES[positive], "positive_id": positive, "answer_ids": answers}


@pytest.fixture
def pairs() -> list[dict]:
    return [
        pair("Who created ColBERT?", "colbert-a", ["colbert-a", "colbert-b"]),
        pair("Which parameter normalises document length in BM25?", "bm25", ["bm25"]),
        pair("How does HNSW search its graph?", "hnsw", ["hnsw"]),
        pair("What does GloVe fit its vectors to?", "glove", ["glove"]),
        pair("What does ColBERT keep per token?", "colbert-b", ["colbert-b"]),
    ]


def test_the_guard_keeps_labelled_answers_out_of_the_negatives(bundled_model, pairs):
    unguarded = mine_negatives(bundled_model, pairs, num_negatives=1, guard=False)
    guarded = mine_negatives(bundled_model, pairs, num_negatives=1)
    # Without the guard the base model's top non-positive for the ColBERT question is the other ColBERT chunk.
    assert unguarded[0]["negative_1"] == PASSAGES["colbert-b"]
    assert guarded[0]["negative_1"] != PASSAGES["colbert-b"]
    for row in guarded:
        assert all(PASSAGES[cid] != row["negative_1"] for cid in row["answer_ids"])
        assert row["negative_1"] != row["positive"]
    # The positive scores higher than the mined negative, as the scores column says.
    assert all(len(row["scores"]) == 2 for row in guarded)


def test_negatives_come_from_training_positives_only(bundled_model, pairs):
    mined = mine_negatives(bundled_model, pairs, num_negatives=2)
    candidates = {p["positive"] for p in pairs}
    assert all(row[k] in candidates for row in mined for k in ("negative_1", "negative_2"))
    # An answer id outside the training chunks (a val/test chunk) is not a candidate and does not break mining.
    pairs[1]["answer_ids"] = ["bm25", "a-test-chunk"]
    assert len(mine_negatives(bundled_model, pairs, num_negatives=1)) == len(pairs)


def test_pairs_without_enough_candidates_are_left_out_with_a_count(bundled_model, pairs, capsys):
    assert len(mine_negatives(bundled_model, pairs, num_negatives=3)) == len(pairs)  # 5 chunks: enough for all
    # Two chunks: each question has one candidate left, so asking for two leaves both pairs out, and says so.
    assert mine_negatives(bundled_model, pairs[:2], num_negatives=2) == []
    assert "2 of 2 pairs had fewer than 2 candidate negatives" in capsys.readouterr().out
    with pytest.raises(ValueError, match="num_negatives"):
        mine_negatives(bundled_model, pairs, num_negatives=0)


def test_training_dataset_orders_the_columns_for_the_loss(bundled_model, pairs):
    mined = mine_negatives(bundled_model, pairs, num_negatives=2)
    assert training_dataset(mined).column_names == ["anchor", "positive", "negative_1", "negative_2"]
    assert training_dataset(pairs).column_names == ["anchor", "positive"]


def test_ict_pairs_add_one_query_per_training_chunk(pairs):
    rows = add_ict_pairs(pairs, seed=1)
    extra = rows[len(pairs):]
    assert rows[: len(pairs)] == pairs
    assert sorted(r["positive_id"] for r in extra) == sorted({p["positive_id"] for p in pairs})
    for row in extra:
        full = PASSAGES[row["positive_id"]]
        assert row["anchor"] in full and row["anchor"] != full  # a sentence (or half) of the chunk
    assert add_ict_pairs(pairs, seed=1) == rows  # seeded


def test_profile_switches(monkeypatch):
    monkeypatch.setenv("LAB_HARD_NEGATIVES", "2")
    assert get_profile("default").hard_negatives == 2
    monkeypatch.setenv("LAB_HARD_NEGATIVES", "two")
    with pytest.raises(ValueError, match="LAB_HARD_NEGATIVES"):
        get_profile("default")
    monkeypatch.delenv("LAB_HARD_NEGATIVES")
    with pytest.raises(ValueError, match="dim_weights"):
        get_profile("default", dim_weights="heavy")
    assert set(DIM_WEIGHTS) == {"equal", "small-heavy"}


def test_dim_weights_follow_the_models_dims():
    assert matryoshka_weights("equal", [384, 256, 128, 64, 32]) is None
    assert matryoshka_weights("small-heavy", [384, 256, 128, 64, 32]) == [1.0, 1.25, 1.5, 1.75, 2.0]
    assert matryoshka_weights("small-heavy", [1024, 768, 512, 256, 128, 64])[-1] == 2.0
