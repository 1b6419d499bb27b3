"""The checkers of notebook 04: each accepts the right answer, rejects a plausible wrong one with a hint
(ExerciseError), and only prints a hint for an exercise left blank. The contract: tests/test_check_common.py; 01-03:
tests/test_check_01_02.py and tests/test_check_03.py."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers.workshop.checks import (
    ExerciseError,
    check_query_ndcg,
    check_random_ndcg,
    check_worse_count,
    random_ndcg_at_10,
)


def test_query_ndcg():
    hits, relevant = ["x", "a", "y", "b"], {"a", "b"}
    right = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert check_query_ndcg(right, hits, relevant)
    assert check_query_ndcg(None, hits, relevant) is None
    with pytest.raises(ExerciseError, match="that is the DCG"):
        check_query_ndcg(1 / math.log2(3) + 1 / math.log2(5), hits, relevant)


def test_worse_count(tmp_path):
    rows = [("base", 64, "q1", 0.5), ("matryoshka", 64, "q1", 0.4), ("base", 64, "q2", 0.5),
            ("matryoshka", 64, "q2", 0.5), ("base", 64, "q3", 0.2), ("matryoshka", 64, "q3", 0.9),
            ("base", 384, "q1", 0.9), ("matryoshka", 384, "q1", 0.1)]
    path = tmp_path / "per_query.csv"
    pd.DataFrame(rows, columns=["system", "dim", "query_id", "ndcg@10"]).to_csv(path, index=False)
    assert check_worse_count(1, path, dim=64)
    assert check_worse_count(None, path, dim=64) is None
    with pytest.raises(ExerciseError, match="ties"):
        check_worse_count(2, path, dim=64)


def test_random_ndcg():
    assert check_random_ndcg(random_ndcg_at_10(12), 12)
    assert check_random_ndcg(None, 12) is None
    with pytest.raises(ExerciseError, match="divided by 10"):
        check_random_ndcg(random_ndcg_at_10(12) * 12 / 10, 12)
