"""One-encode evaluation equals the library's per-dim evaluator; bootstrap CIs behave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

from helpers.data.dataset import ir_split, split_questions
from helpers.evaluation.metrics import (
    METRICS,
    encode_ir,
    evaluate_bm25,
    evaluate_encoded,
    paired_bootstrap,
    per_query_metrics,
    quantized_metrics,
    truncate_normalize,
)


@pytest.fixture(scope="module")
def test_ir(course_data):
    test = split_questions(course_data, "chunks", 0.15, 0.2, seed=42)["test"][:60]
    return ir_split(course_data, test)


def test_all_dims_from_one_encode_match_library_per_dim(bundled_model, test_ir):
    dims = [384, 128, 32]
    ours = evaluate_encoded(encode_ir(bundled_model, test_ir), test_ir["relevant_docs"], dims)
    ours = ours.groupby("dim")[list(METRICS)].mean()
    for dim in dims:
        library = InformationRetrievalEvaluator(
            test_ir["queries"], test_ir["corpus"], test_ir["relevant_docs"], truncate_dim=dim, write_csv=False,
            name="t",
        )(bundled_model)
        for metric in METRICS:
            assert ours.loc[dim, metric] == pytest.approx(library[f"t_cosine_{metric}"], abs=1e-6), (dim, metric)


def test_metrics_on_a_hand_ranking():
    frame = per_query_metrics([["x", "a", "y"], ["b", "z"]], [{"a"}, {"b", "c"}])
    assert frame["mrr@10"].tolist() == [0.5, 1.0]
    assert frame["recall@1"].tolist() == [0.0, 0.5]
    assert frame["ndcg@10"][0] == pytest.approx(1 / np.log2(3))
    assert frame["map@100"][1] == pytest.approx(0.5)


def test_truncate_normalize_restores_unit_length():
    vectors = np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)
    cut = truncate_normalize(vectors, 4)
    assert cut.shape == (5, 4) and np.allclose(np.linalg.norm(cut, axis=1), 1)


def _per_query(scores_a, scores_b):
    n = len(scores_a)
    rows = [{"system": s, "dim": 64, "query_id": f"q{i}", **{m: v for m in METRICS}}
            for s, values in (("base", scores_a), ("tuned", scores_b)) for i, v in enumerate(values)]
    assert len(rows) == 2 * n
    return pd.DataFrame(rows)


def test_bootstrap_marks_real_and_null_differences():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.2, 0.8, 80)
    same = paired_bootstrap(_per_query(base, base), "base", metrics=("ndcg@10",))
    assert not same.significant.any() and same.difference.abs().max() == 0
    better = paired_bootstrap(_per_query(base, base + 0.1), "base", metrics=("ndcg@10",))
    assert better.significant.all() and better.ci_low.iloc[0] > 0
    noisy = paired_bootstrap(_per_query(base, base + rng.normal(0, 0.3, 80)), "base", metrics=("ndcg@10",))
    assert noisy.ci_low.iloc[0] < noisy.difference.iloc[0] < noisy.ci_high.iloc[0]


def test_bm25_and_quantization_run(bundled_model, test_ir):
    bm25 = evaluate_bm25(test_ir)
    assert len(bm25) == len(test_ir["queries"]) and bm25["ndcg@10"].mean() > 0.3
    quant = quantized_metrics(encode_ir(bundled_model, test_ir), test_ir["relevant_docs"], [384, 64], "base")
    table = quant.set_index(["dim", "precision"])
    assert table.loc[(384, "float32"), "bytes"] == 1536 and table.loc[(64, "binary"), "bytes"] == 8
    # Quantization loses a little, never everything.
    assert table.loc[(384, "int8"), "ndcg@10"] > 0.8 * table.loc[(384, "float32"), "ndcg@10"]
    assert table.loc[(384, "binary"), "ndcg@10"] > 0.5 * table.loc[(384, "float32"), "ndcg@10"]
