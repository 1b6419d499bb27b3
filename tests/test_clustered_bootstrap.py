"""Clustered paired bootstrap: questions about one test chunk are resampled together."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from helpers.evaluation.metrics import CLUSTERED_UNIT, clustered_rows, paired_bootstrap, question_clusters
from helpers.evaluation.plots import paired_differences

METRICS = ("ndcg@10", "mrr@10")


def _per_query(base: np.ndarray, tuned: np.ndarray, dims=(64,)) -> pd.DataFrame:
    rows = [{"system": system, "dim": dim, "query_id": f"q{i:03d}", **{m: v for m in METRICS}}
            for dim in dims for system, values in (("base", base), ("tuned", tuned)) for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def _old_paired_bootstrap(per_query, baseline, metrics, n_resamples=2000, seed=0):
    """The function as it was before clustering, kept here to pin the default behaviour."""
    rng = np.random.default_rng(seed)
    base = per_query[per_query.system == baseline].set_index(["dim", "query_id"])
    rows = []
    for (system, dim), group in per_query[per_query.system != baseline].groupby(["system", "dim"], sort=False):
        if (dim, group.query_id.iloc[0]) not in base.index:
            continue
        paired = group.set_index("query_id")
        ref = base.loc[dim].loc[paired.index]
        idx = rng.integers(0, len(paired), size=(n_resamples, len(paired)))
        for metric in metrics:
            diff = paired[metric].to_numpy() - ref[metric].to_numpy()
            low, high = np.percentile(diff[idx].mean(axis=1), [2.5, 97.5])
            rows.append({"system": system, "dim": dim, "metric": metric, "baseline": baseline,
                         "difference": diff.mean(), "ci_low": low, "ci_high": high,
                         "significant": bool(low > 0 or high < 0)})
    return pd.DataFrame(rows)


@pytest.fixture
def clustered_set():
    """10 chunks x 8 questions: differences vary a lot between chunks and hardly within one."""
    rng = np.random.default_rng(3)
    n_clusters, size = 10, 8
    cluster_effect = rng.normal(0.05, 0.2, n_clusters)
    diff = np.repeat(cluster_effect, size) + rng.normal(0, 0.01, n_clusters * size)
    base = rng.uniform(0.3, 0.7, n_clusters * size)
    per_query = _per_query(base, base + diff, dims=(384, 64))
    clusters = {f"q{i:03d}": f"c{i // size}" for i in range(n_clusters * size)}
    return per_query, clusters


def test_clustered_interval_is_wider_than_the_naive_one(clustered_set):
    per_query, clusters = clustered_set
    naive = paired_bootstrap(per_query, "base", metrics=METRICS, seed=1)
    clustered = paired_bootstrap(per_query, "base", metrics=METRICS, seed=1, clusters=clusters)
    assert len(naive) == len(clustered) == 4
    def width(table):
        return (table.ci_high - table.ci_low).to_numpy()

    assert (width(clustered) > 1.8 * width(naive)).all()  # about sqrt(8) wider when questions of a chunk agree
    assert np.allclose(clustered.difference, naive.difference)  # the point estimate does not change
    assert set(naive.unit) == {"question"} and set(naive.n_units) == {80}
    assert set(clustered.unit) == {CLUSTERED_UNIT} and set(clustered.n_units) == {10}


def test_default_is_the_old_bootstrap_for_the_same_seed(clustered_set):
    per_query, _ = clustered_set
    new = paired_bootstrap(per_query, "base", metrics=METRICS, seed=7)
    old = _old_paired_bootstrap(per_query, "base", metrics=METRICS, seed=7)
    pd.testing.assert_frame_equal(new.drop(columns=["unit", "n_units"]), old)


def test_clustered_mean_weighs_clusters_by_their_questions():
    # one cluster of 3 questions (difference 1) and one of 1 question (difference 0): a resample that draws
    # both clusters once has mean 3/4, not 1/2; drawing one cluster twice gives 1 or 0
    base = np.zeros(4)
    per_query = _per_query(base, np.array([1.0, 1.0, 1.0, 0.0]))
    clusters = {"q000": "a", "q001": "a", "q002": "a", "q003": "b"}
    table = paired_bootstrap(per_query, "base", metrics=("ndcg@10",), clusters=clusters, n_resamples=4000)
    row = table.iloc[0]
    assert row.difference == pytest.approx(0.75) and row.n_units == 2
    assert row.ci_low == pytest.approx(0.0) and row.ci_high == pytest.approx(1.0)


def test_clusters_are_fast_enough():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 160)
    per_query = _per_query(base, base + rng.normal(0, 0.1, 160))
    clusters = {f"q{i:03d}": f"c{i % 40}" for i in range(160)}
    start = time.perf_counter()
    paired_bootstrap(per_query, "base", metrics=METRICS, clusters=clusters)
    assert time.perf_counter() - start < 1.0


def test_question_clusters_merge_questions_that_share_a_chunk():
    relevant = {
        "q1": ["c5"], "q2": {"c5"},          # the same chunk
        "q3": ["c7", "c2"], "q4": ["c2"],    # q3 and q4 share c2 ...
        "q5": ["c7", "c9"], "q6": {"c9"},    # ... and q5 joins them through c7, q6 through c9 (transitive)
        "q7": ["c3"],                        # alone
        "q8": [],                            # no relevant chunk: a cluster of its own
    }
    clusters = question_clusters(relevant)
    assert clusters["q1"] == clusters["q2"] == "c5"
    assert clusters["q3"] == clusters["q4"] == clusters["q5"] == clusters["q6"] == "c2"  # the smallest chunk id
    assert clusters["q7"] == "c3"
    assert clusters["q8"] == "question:q8"
    assert set(clusters) == set(relevant)
    # the labels do not depend on the order questions come in
    assert question_clusters(dict(reversed(list(relevant.items())))) == clusters


def test_question_clusters_from_a_chained_graph():
    relevant = {f"q{i}": [f"c{i}", f"c{i + 1}"] for i in range(20)}
    assert set(question_clusters(relevant).values()) == {"c0"}


def test_clustered_rows_pick_the_clustered_unit_and_keep_old_files(clustered_set):
    per_query, clusters = clustered_set
    both = pd.concat([paired_bootstrap(per_query, "base", metrics=METRICS, clusters=clusters),
                      paired_bootstrap(per_query, "base", metrics=METRICS)], ignore_index=True)
    assert set(clustered_rows(both).unit) == {CLUSTERED_UNIT} and len(clustered_rows(both)) == 4
    old = both.drop(columns=["unit", "n_units"])
    assert len(clustered_rows(old)) == len(old)  # written before clustering: all rows
    table = paired_differences(both)
    assert set(table.unit) == {CLUSTERED_UNIT} and len(table) == 2  # ndcg@10 at two dims


def test_the_notebook_05_checker_reads_the_clustered_rows():
    from helpers.workshop.checks.nb05 import dims_with_paired_difference

    rows = [{"system": "matryoshka", "baseline": "base", "metric": "ndcg@10", "dim": 384, "unit": unit,
             "ci_low": low, "ci_high": high} for unit, low, high in (("question", 0.01, 0.05), (CLUSTERED_UNIT, -0.01, 0.07))]
    table = pd.DataFrame(rows)
    assert dims_with_paired_difference(table, "matryoshka", "base") == set()  # the naive interval would exclude 0
    assert dims_with_paired_difference(table[table.unit == "question"], "matryoshka", "base") == {384}
