"""The readings of notebooks 04, 05 and 07 say what small hand-made tables show: a difference is called real only when
its clustered interval excludes 0, directions follow the signs, BM25 comparisons are computed when bootstrap.csv has
none, and the index reading names the winners of each budget and whether any funnel was both fast and exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.evaluation import readings
from helpers.evaluation.readings import (
    bytes_front,
    compare_sentence,
    comparisons,
    kept_shares,
    listing,
    read_deployment,
    read_dims,
    read_evaluation,
    read_precision,
)

DIMS = (384, 64)


def boot_row(system, baseline, dim, low, high, unit="test chunk"):
    return {"system": system, "baseline": baseline, "dim": dim, "metric": "ndcg@10", "difference": (low + high) / 2,
            "ci_low": low, "ci_high": high, "significant": low > 0 or high < 0, "unit": unit, "n_units": 30}


@pytest.fixture
def tables():
    """Matryoshka vs base: not significant at 384, significant at 64; vs MNRL: behind at 384 (significant), unclear at
    64. The naive per-question rows claim significance everywhere and must be ignored."""
    summary = pd.DataFrame([
        ("base", 384, 0.76), ("matryoshka", 384, 0.77), ("mnrl", 384, 0.79),
        ("base", 64, 0.60), ("matryoshka", 64, 0.68), ("mnrl", 64, 0.66), ("BM25", 0, 0.78)],
        columns=["system", "dim", "ndcg@10"])
    bootstrap = pd.DataFrame([
        boot_row("matryoshka", "base", 384, -0.02, 0.05), boot_row("matryoshka", "base", 64, 0.02, 0.14),
        boot_row("matryoshka", "mnrl", 384, -0.04, -0.001), boot_row("matryoshka", "mnrl", 64, -0.01, 0.05),
        boot_row("mnrl", "base", 384, 0.01, 0.06), boot_row("mnrl", "base", 64, 0.01, 0.11),
        boot_row("matryoshka", "base", 384, 0.001, 0.03, unit="question"),
    ])
    return summary, bootstrap


def test_listing_and_intervals():
    assert listing([384]) == "384"
    assert listing([384, 256, 64]) == "384, 256 and 64"
    assert readings.interval(0.051, 0.016, 0.09) == "+0.051 [+0.016, +0.090]"


def test_only_the_clustered_interval_decides(tables):
    summary, bootstrap = tables
    rows = comparisons(summary, bootstrap)
    tuned = rows[(rows.system == "matryoshka") & (rows.baseline == "base")].set_index("dim")
    assert not tuned.loc[384, "significant"] and tuned.loc[64, "significant"]
    assert tuned.loc[384, "mean"] == pytest.approx(0.77) and tuned.loc[384, "baseline_mean"] == pytest.approx(0.76)
    sentence = compare_sentence(rows, "matryoshka", "base")
    assert sentence.startswith("The Matryoshka fine-tune against the base model:")
    assert "ahead, with the interval above 0, at 64 (" in sentence
    assert "not measurably different (the interval includes 0) at 384 (" in sentence
    assert "behind" not in sentence


def test_a_significant_deficit_reads_behind(tables):
    summary, bootstrap = tables
    sentence = compare_sentence(comparisons(summary, bootstrap), "matryoshka", "mnrl")
    assert "behind, with the interval below 0, at 384" in sentence
    assert "not measurably different (the interval includes 0) at 64" in sentence


def test_bm25_comparisons_are_computed_from_per_query_when_missing(tables):
    summary, bootstrap = tables
    rng = np.random.default_rng(0)
    n = 40
    per_query = pd.concat([
        pd.DataFrame({"system": "BM25", "dim": 0, "query_id": [f"q{i}" for i in range(n)], "ndcg@10": 0.8}),
        pd.DataFrame({"system": "matryoshka", "dim": 384, "query_id": [f"q{i}" for i in range(n)],
                      "ndcg@10": 0.8 + rng.normal(0, 0.01, n)}),
        pd.DataFrame({"system": "matryoshka", "dim": 64, "query_id": [f"q{i}" for i in range(n)], "ndcg@10": 0.5}),
    ])
    rows = comparisons(summary, bootstrap, per_query, clusters={f"q{i}": f"c{i // 2}" for i in range(n)})
    bm25 = rows[rows.baseline == "BM25"].set_index("dim")
    assert set(bm25.source) == {"computed here from per_query.csv"}
    assert bm25.loc[64, "significant"] and bm25.loc[64, "difference"] == pytest.approx(-0.3)
    assert not bm25.loc[384, "significant"]
    lines = read_evaluation(rows)
    assert any("against BM25: behind, with the interval below 0, at 64" in line for line in lines)
    assert any("BM25 has no dim: it scores 0.780" in line for line in lines)


def test_hybrid_rows_are_read_when_present(tables):
    summary, bootstrap = tables
    hybrid = pd.DataFrame([boot_row("matryoshka+bm25", "base", d, 0.03, 0.09) for d in DIMS])
    summary = pd.concat([summary, pd.DataFrame({"system": "matryoshka+bm25", "dim": DIMS, "ndcg@10": [0.82, 0.75]})])
    lines = read_evaluation(comparisons(summary, pd.concat([bootstrap, hybrid])))
    assert any(line.startswith("The hybrid of the Matryoshka fine-tune and BM25 against the base model: ahead, with "
                               "the interval above 0, at every dim") for line in lines)


def test_kept_shares_and_the_smallest_dim_keeping_95_percent(tables):
    summary, bootstrap = tables
    kept = kept_shares(summary)
    assert kept.loc[64, "matryoshka"] == pytest.approx(0.68 / 0.77)
    lines = read_dims(summary, comparisons(summary, bootstrap))
    assert lines[0].startswith("The Matryoshka fine-tune keeps 88% at 64 dims of its 384-dim ndcg@10; the smallest "
                               "dim keeping 95% is 384.")
    assert any(line.startswith("At 64 dims: Matryoshka 0.680, plain MNRL 0.660, base 0.600") for line in lines)


@pytest.fixture
def quant():
    rows = [("matryoshka", d, p, b, q) for d, p, b, q in (
        (384, "float32", 1536, 0.78), (384, "int8", 384, 0.779), (384, "binary", 48, 0.74),
        (32, "float32", 128, 0.58), (128, "int8", 128, 0.74), (32, "int8", 32, 0.57), (256, "binary", 32, 0.70))]
    rows.append(("base", 384, "float32", 1536, 0.99))  # another system must not enter matryoshka's reading
    return pd.DataFrame(rows, columns=["system", "dim", "precision", "bytes", "ndcg@10"])


def test_bytes_front_keeps_what_nothing_beats(quant):
    front = bytes_front(quant[quant.system == "matryoshka"])
    assert list(zip(front.dim, front.precision)) == [(256, "binary"), (384, "binary"), (384, "int8"),
                                                      (384, "float32")]


def test_precision_reading_compares_equal_bytes(quant):
    lines = read_precision(quant)
    assert "For the Matryoshka fine-tune at 32 bytes per vector, 256 dims binary (0.700) beats 32 dims int8 (0.570)." in lines
    assert "For the Matryoshka fine-tune at 128 bytes per vector, 128 dims int8 (0.740) beats 32 dims float32 (0.580)." in lines
    own = next(line for line in lines if line.startswith("Among the Matryoshka fine-tune's own"))
    assert "0.990" not in own  # another system never enters the fine-tune's own front


def test_precision_reading_says_when_another_system_beats_it(quant):
    lines = read_precision(quant)
    front = next(line for line in lines if line.startswith("Over every system together"))
    assert "384 dims float32 of the base model (1536 B, 0.990)" in front
    assert "1 of its 4 steps belongs to another system than the Matryoshka fine-tune." in front
    alone = read_precision(quant[quant.system == "matryoshka"])
    assert not any(line.startswith("Over every system together") for line in alone)


def scale_rows():
    # the first row is exact search at full dim, as scale_benchmark writes it
    configs = [("flat@384", "flat", 384, None, 146.5, 12.0, 13.0, 1.0, 0.70),
               ("binary@384", "binary", 384, None, 4.6, 0.5, 0.6, 0.30, 0.50),
               ("binary@384 > f32@384 x40", "binary", 384, 384.0, 4.6, 1.0, 1.2, 0.96, 0.69),
               ("flat@64 > f32@384 x40", "flat", 64, 384.0, 24.4, 1.1, 1.3, 0.80, 0.66),
               ("int8@384", "int8", 384, None, 36.6, 4.0, 4.5, 0.99, 0.70)]
    table = pd.DataFrame(configs, columns=["config", "kind", "dim", "rerank_dim", "index_mib", "p50_ms", "p95_ms",
                                           "recall@10_vs_exact", "ndcg@10"])
    table.insert(0, "vectors", 100_000)
    table["speed-up_vs_exact"] = 12.0 / table.p50_ms
    return table


def quality_rows():
    return pd.DataFrame([("matryoshka", "flat@384", "flat", 384, None, 0.80),
                         ("matryoshka", "binary@384", "binary", 384, None, 0.74),
                         ("matryoshka", "binary@384 > f32@384 x4", "binary", 384, 384.0, 0.80),
                         ("matryoshka", "flat@64 > f32@384 x10", "flat", 64, 384.0, 0.79)],
                        columns=["system", "config", "kind", "dim", "rerank_dim", "ndcg@10"])


def test_deployment_reading_names_the_fast_and_exact_funnel():
    lines = read_deployment(quality_rows(), scale_rows())
    assert "On the course corpus, binary@384 keeps 92.5% of exact float32 ndcg@10 (0.740 against 0.800)." in lines
    assert any("configurations both 10x faster than exact search and at recall 0.95: binary@384 > f32@384 x40." in line
               for line in lines)
    memory = next(line for line in lines if line.startswith("By memory"))
    assert "binary@384 > f32@384 x40" in memory and "int8@384" in memory and "flat@64" not in memory


def test_deployment_reading_says_when_no_funnel_is_both():
    scale = scale_rows()
    scale.loc[scale.config == "binary@384 > f32@384 x40", "recall@10_vs_exact"] = 0.90
    lines = read_deployment(quality_rows(), scale)
    assert any(line.startswith("No shortlist-then-re-rank configuration here is both 10x faster than exact search and at "
                               "recall 0.95") and
               "binary@384 > f32@384 x40, reaches recall 0.900" in line for line in lines)


def test_key_numbers_quote_the_full_and_smallest_dims(tables):
    summary, bootstrap = tables
    recap = readings.key_numbers(summary, comparisons(summary, bootstrap))
    assert list(recap.index) == [384, 64]
    assert recap.loc[64, "matryoshka"] == pytest.approx(0.68) and recap.loc[384, "BM25"] == pytest.approx(0.78)
    assert recap.loc[64, "matryoshka − base"] == "+0.080 [+0.020, +0.140] *"
    assert recap.loc[384, "matryoshka − base"].endswith("]")  # not significant: no star
