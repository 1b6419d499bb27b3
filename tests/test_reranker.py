"""Notebook 08's reranker (helpers/lessons/rerank.py, helpers/training/reranker.py): it reorders a shortlist by its
scores; the rerank depth comes from val, never from test; the trained model is reused while its inputs are unchanged
and retrained when one changes; negatives never include a correct passage; LAB_RERANKER loads a saved cross-encoder
as it is, without training.

The cross-encoders here are tiny (one layer of width 32, the bundled model's tokenizer): seconds on a CPU.
"""

from __future__ import annotations

import json
import re
import shutil
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.config import BUNDLED_MODEL, RerankerSettings
from helpers.data.dataset import split_questions, training_pairs
from helpers.lessons.rerank import (
    choose_depth,
    first_stage_negatives,
    fit_reranker,
    reorder,
    rerank,
    reranker_for,
    reranker_rows,
    training_ir,
    val_evaluator,
)
from helpers.training.modeling import resolve_model_path
from helpers.training.reranker import fingerprint, read_summary, reranker_recipe

ROOT = Path(__file__).resolve().parents[1]
FUSION = {"method": "rrf", "setting": 60.0, "depth": 10}
SETTINGS = RerankerSettings(epochs=1, batch_size=4, hard_negatives=1, max_length=64, evals_per_epoch=2, val_depth=5,
                            depths=(2, 4), latency_queries=2)


class ScoreByWord:
    """A stand-in cross-encoder: a passage scores the number of times it contains the word "good"."""

    def __init__(self):
        self.seen: list[tuple[str, str]] = []

    def predict(self, pairs, **kwargs):
        self.seen += list(pairs)
        return np.array([passage.split().count("good") for _, passage in pairs], dtype=float)


class BagOfWords:
    """A stand-in bi-encoder: hashed bag-of-words vectors, unit length (what ``encode_ir`` needs of a model)."""

    def _encode(self, texts, **kwargs):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % 64] += 1
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)

    encode_query = encode_document = _encode


# ----------------------------------------------------------------------------- reordering
def test_reorder_sorts_the_top_k_by_score_and_leaves_the_rest():
    assert reorder(["a", "b", "c", "d", "e"], [0.1, 3.0, 2.0], k=3) == ["b", "c", "a", "d", "e"]
    assert reorder(["a", "b", "c"], [1.0, 1.0, 2.0], k=3) == ["c", "a", "b"]  # a tie keeps first-stage order
    assert reorder(["a", "b"], [0.0, 5.0], k=10) == ["b", "a"]  # a depth beyond the list reranks all of it
    assert reorder(["a", "b", "c"], [], k=0) == ["a", "b", "c"]  # depth 0: the first stage alone


def test_rerank_scores_only_the_top_k_with_the_model():
    texts = {"x": "bad", "y": "good good", "z": "good", "w": "good good good"}
    model = ScoreByWord()
    assert rerank(model, "question", ["x", "y", "z", "w"], texts, k=3) == ["y", "z", "x", "w"]
    assert model.seen == [("question", "bad"), ("question", "good good"), ("question", "good")]


# ----------------------------------------------------------------------------- the depth comes from val
def _table(best_depth: int, dims=(64, 32), depths=(0, 10, 20)) -> pd.DataFrame:
    rows = [{"dim": d, "depth": k, "query_id": f"q{i}", "ndcg@10": 0.5 + (0.2 if k == best_depth else 0.0)}
            for d in dims for k in depths for i in range(3)]
    return pd.DataFrame(rows)


def test_the_depth_is_the_best_on_the_table_it_is_given_and_the_cheaper_on_a_tie():
    assert choose_depth(_table(best_depth=20)) == 20
    assert choose_depth(_table(best_depth=10)) == 10
    assert choose_depth(_table(best_depth=0)) == 10  # depth 0 (no reranking) is the baseline, not a candidate
    tie = _table(best_depth=-1)
    assert choose_depth(tie) == 10


def test_notebook_08_chooses_the_depth_on_val_and_uses_only_that_depth_on_test():
    cells = json.loads((ROOT / "notebooks" / "08_rerank.ipynb").read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    calls = re.findall(r"choose_depth\((\w+)\)", code)
    assert calls == ["val_table"], calls
    assert re.search(r"val_table = rerank_table\(reranker, val_ir,", code)
    test_calls = re.findall(r"rerank_table\(reranker, test_ir, [^\n]*", code)
    assert test_calls and all("[depth]" in call for call in test_calls), test_calls


# ----------------------------------------------------------------------------- negatives
def test_mined_negatives_are_training_passages_that_do_not_answer_the_question():
    pairs = [
        {"anchor": "when did luhn index words", "positive": "luhn indexed words in 1958", "positive_id": "p1",
         "answer_ids": ["p1", "p2"]},
        {"anchor": "what did salton build", "positive": "salton built smart", "positive_id": "p3",
         "answer_ids": ["p3"]},
        {"anchor": "who weighted rare words", "positive": "sparck jones weighted rare words", "positive_id": "p4",
         "answer_ids": ["p4", "val-chunk"]},
        {"anchor": "luhn words index again", "positive": "luhn index words at ibm", "positive_id": "p2",
         "answer_ids": ["p2", "p1"]},
    ]
    train_ir = training_ir(pairs)
    assert set(train_ir["corpus"]) == {"p1", "p2", "p3", "p4"}  # a chunk outside training is never a candidate
    negatives = first_stage_negatives(BagOfWords(), train_ir, FUSION, n=2)
    for qid, found in negatives.items():
        assert found and not set(found) & train_ir["relevant_docs"][qid]
        assert set(found) <= set(train_ir["corpus"])
    assert "p2" not in negatives["train-0"]  # the closest passage, but it answers the question too (the guard)
    rows = reranker_rows(train_ir, negatives, 2)
    assert [r["query"] for r in rows] == [p["anchor"] for p in pairs]  # every question had two negatives to give
    assert [r["positive"] for r in rows] == [p["positive"] for p in pairs]
    assert all(set(r) == {"query", "positive", "negative_1", "negative_2"} for r in rows)
    assert all(r["positive"] not in (r["negative_1"], r["negative_2"]) for r in rows)
    fewer = reranker_rows(train_ir, {**negatives, "train-1": negatives["train-1"][:1]}, 2)
    assert "what did salton build" not in [r["query"] for r in fewer] and len(fewer) == len(pairs) - 1


# ----------------------------------------------------------------------------- the cached run
@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    """A one-layer BERT with a one-logit head, saved with the bundled model's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    path = tmp_path_factory.mktemp("tiny-cross-encoder")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(BUNDLED_MODEL))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=1)
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def toy_run(course_data):
    """Eight training pairs with one negative each, four val questions with five candidates each."""
    splits = split_questions(course_data, "chunks", 0.15, 0.2, seed=3)
    pairs = training_pairs(course_data, splits["train"][:8])
    text = course_data.chunk_text
    val_ids = splits["val"][:4]
    others = [c for c in text if c not in {cid for q in val_ids for cid in course_data.relevant[q]}][:4]
    relevant = {q: set(course_data.relevant[q]) for q in val_ids}
    keep = {c for ids in relevant.values() for c in ids} | set(others)
    by_id = {q.id: q for q in course_data.questions}
    val_ir = {"queries": {q: by_id[q].question for q in val_ids}, "corpus": {c: text[c] for c in keep},
              "relevant_docs": relevant}
    hits = [[(c, 1.0) for c in [*others[:2], *sorted(relevant[q]), *others[2:]]] for q in val_ids]
    return pairs, val_ir, val_ids, hits


def _rows(pairs: list[dict]) -> list[dict]:
    train_ir = training_ir(pairs)
    ids = list(train_ir["corpus"])
    negatives = {q: [next(c for c in ids if c not in train_ir["relevant_docs"][q])] for q in train_ir["queries"]}
    return reranker_rows(train_ir, negatives, 1)


def test_the_trained_reranker_is_reused_and_a_changed_input_retrains(tiny_cross_encoder, toy_run, tmp_path, capsys):
    pairs, val_ir, val_ids, hits = toy_run
    mining_model = tmp_path / "bi-encoder"
    mining_model.mkdir()
    (mining_model / "weights.bin").write_bytes(b"weights")
    folder = tmp_path / "reranker"
    evaluator = val_evaluator(val_ir, val_ids, hits, SETTINGS.val_depth)

    def run(train_pairs):
        recipe = reranker_recipe(SETTINGS, str(tiny_cross_encoder), train_pairs, val_ir, FUSION, mining_model)
        model, summary = fit_reranker(SETTINGS, str(tiny_cross_encoder), _rows(train_pairs), evaluator, folder,
                                      recipe, progress=False)
        return model, summary, recipe

    model, first, recipe = run(pairs)
    assert "training from scratch" in capsys.readouterr().out
    assert first["key"] == fingerprint(recipe) and (folder / "model").is_dir()
    assert not (folder / "checkpoints" / first["key"]).exists()  # optimizer states are dropped once the model is saved
    history = pd.read_csv(folder / "val_history.csv")
    assert len(history) >= 2  # at least two checkpoints to choose from
    assert first["best_val_ndcg@10"] == pytest.approx(history["ndcg@10"].max())  # the one best on val is kept
    weights = folder / "model" / "model.safetensors"
    stamp = weights.stat().st_mtime_ns

    _, again, _ = run(pairs)
    assert "reusing the model trained on these inputs" in capsys.readouterr().out
    assert again == first and weights.stat().st_mtime_ns == stamp  # nothing trained, nothing rewritten

    _, changed, changed_recipe = run(pairs[:-1])  # one training pair fewer: another input
    assert "changed since the saved model" in capsys.readouterr().out
    assert changed["key"] == fingerprint(changed_recipe) != first["key"]
    assert read_summary(folder)["key"] == changed["key"] and weights.stat().st_mtime_ns != stamp


def test_the_fingerprint_follows_content_not_paths(toy_run, tmp_path):
    pairs, val_ir, _, _ = toy_run
    model = tmp_path / "a"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"one")
    copy = tmp_path / "b"
    shutil.copytree(model, copy)

    def key(**changes):
        args = {"settings": SETTINGS, "base_model": BUNDLED_MODEL, "pairs": pairs, "val_ir": val_ir, "fusion": FUSION,
                "mining_model": model, **changes}
        return fingerprint(reranker_recipe(**args))

    assert key() == key(mining_model=copy)  # a copied outputs folder stays valid
    (copy / "weights.bin").write_bytes(b"two")
    assert key(mining_model=copy) != key()  # notebook 03 ran again
    assert key(val_ir={**val_ir, "queries": dict(list(val_ir["queries"].items())[:-1])}) != key()
    assert key(fusion={**FUSION, "setting": 30.0}) != key()
    assert key(settings=RerankerSettings(epochs=2)) != key()


def test_lab_reranker_loads_that_cross_encoder_and_trains_nothing(tiny_cross_encoder, toy_run, tmp_path, monkeypatch,
                                                                  capsys):
    pairs, val_ir, val_ids, hits = toy_run
    monkeypatch.setenv("LAB_RERANKER", str(tiny_cross_encoder))
    folder = tmp_path / "reranker"
    model, summary = reranker_for(SETTINGS, BUNDLED_MODEL, _rows(pairs), None, folder, recipe={})
    assert summary == {"pretrained": str(tiny_cross_encoder)}
    assert "no training" in capsys.readouterr().out
    assert not folder.exists()
    assert model.model.config.hidden_size == 32  # the saved tiny model, not the bundled one it would train from
    scores = model.predict([("a question", "a passage"), ("a question", "another passage")])
    assert scores.shape == (2,) and np.isfinite(scores).all()
