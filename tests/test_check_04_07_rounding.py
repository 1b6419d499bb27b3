"""The checkers of notebooks 04-07 under the shared contract: a right answer rounded to 3 decimals (or 3 significant
digits), or written as a string, passes; a plausible wrong one, of any type, raises ExerciseError with a hint (a method
hint only for the method that gives it); a blank one prints what to do and a hint that does not hold the answer, and
returns None (no stray output in a notebook)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_check_05_06 import (  # noqa: F401  (playground is a fixture)
    INDEX_QUESTION,
    PREFIX_QUESTION,
    QUERY_VECTORS,
    per_query_rows,
    playground,
)
from test_vector_index import tiny_scale, toy  # noqa: F401  (toy is a fixture)

from helpers.workshop.checks import (
    ExerciseError,
    check_accuracy_at_3_by_search,
    check_best_config_within_budget,
    check_bm25_beats_fine_tuned,
    check_dim_keeping_share,
    check_funnel_prefix,
    check_index_budget,
    check_paired_difference_dims,
    check_query_ndcg,
    check_random_ndcg,
    check_ranking_by_hand,
    check_rescore_multiplier,
    check_worse_count,
    random_ndcg_at_10,
    smallest_rescore_multiplier,
)


def blank_prints_no_answer(capsys, call, answer_text: str) -> None:
    """A blank answer returns None and prints the task and a hint, but not ``answer_text``."""
    capsys.readouterr()  # forget what the right answers above printed
    assert call(None) is None
    out = capsys.readouterr().out
    assert out.startswith("[NOT ANSWERED YET]") and "hint:" in out
    assert answer_text not in out
    call(None, hint=True)
    assert "more help:" in capsys.readouterr().out


# 04 -------------------------------------------------------------------------------------------------------------------

def test_random_ndcg_accepts_the_rounded_answer_and_a_string(capsys):
    exact = random_ndcg_at_10(12)
    assert f"{exact:.3f}" == "0.379"
    for answer in (0.379, "0.379", " 0.3786 ", np.float64(exact), round(exact, 4)):
        assert check_random_ndcg(answer, n_chunks=12)
    for wrong in (0.38, 0.4, 0.37):  # rounded too far, or a guess
        with pytest.raises(ExerciseError, match="average over the ranks"):
            check_random_ndcg(wrong, n_chunks=12)
    with pytest.raises(ExerciseError, match="divided by 10"):
        check_random_ndcg(round(exact * 12 / 10, 3), n_chunks=12)
    with pytest.raises(ExerciseError, match="beyond the tenth"):
        check_random_ndcg(sum(1 / math.log2(r + 1) for r in range(1, 13)) / 12, n_chunks=12)
    with pytest.raises(ExerciseError, match="expected a number"):
        check_random_ndcg([0.379], n_chunks=12)
    with pytest.raises(ExerciseError):
        check_random_ndcg("zero point four", n_chunks=12)
    blank_prints_no_answer(capsys, lambda a, **kw: check_random_ndcg(a, n_chunks=12, **kw), "0.379")


def test_query_ndcg_accepts_rounding_and_names_only_the_wrong_method_it_sees(capsys):
    hits, relevant = ["x", "a", "y", "b", "z"], {"a", "b", "missing"}  # one relevant chunk was never retrieved
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    right = dcg / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    assert check_query_ndcg(round(right, 3), hits, relevant)
    assert check_query_ndcg(f"{right:.3g}", hits, relevant)
    with pytest.raises(ExerciseError, match="that is the DCG"):
        check_query_ndcg(round(dcg, 3), hits, relevant)
    with pytest.raises(ExerciseError, match="not only those the ranking found"):
        check_query_ndcg(dcg / (1 + 1 / math.log2(3)), hits, relevant)
    with pytest.raises(ExerciseError, match="DCG / IDCG") as err:  # a plain wrong number: no method named
        check_query_ndcg(0.9, hits, relevant)
    assert "that is the DCG" not in str(err.value)
    with pytest.raises(ExerciseError, match="expected a number"):
        check_query_ndcg({"ndcg": right}, hits, relevant)
    blank_prints_no_answer(capsys, lambda a, **kw: check_query_ndcg(a, hits, relevant, **kw), f"{right:.3f}")


def test_worse_count_reads_strings_and_names_ties_better_and_every_dim(tmp_path, capsys):
    rows = [("base", 64, "q1", 0.5), ("matryoshka", 64, "q1", 0.4), ("base", 64, "q2", 0.5),
            ("matryoshka", 64, "q2", 0.5), ("base", 64, "q3", 0.2), ("matryoshka", 64, "q3", 0.9),
            ("base", 64, "q4", 0.3), ("matryoshka", 64, "q4", 0.8), ("base", 64, "q6", 0.1),
            ("matryoshka", 64, "q6", 0.2),
            ("base", 384, "q1", 0.9), ("matryoshka", 384, "q1", 0.1), ("base", 384, "q2", 0.9),
            ("matryoshka", 384, "q2", 0.1), ("base", 384, "q3", 0.9), ("matryoshka", 384, "q3", 0.1)]
    path = tmp_path / "per_query.csv"
    pd.DataFrame(rows, columns=["system", "dim", "query_id", "ndcg@10"]).to_csv(path, index=False)
    for answer in (1, "1", 1.0, np.int64(1)):
        assert check_worse_count(answer, path, dim=64)
    with pytest.raises(ExerciseError, match="ties"):
        check_worse_count(2, path, dim=64)  # one worse, one tie
    with pytest.raises(ExerciseError, match="got better"):
        check_worse_count(3, path, dim=64)
    with pytest.raises(ExerciseError, match="over every dim"):
        check_worse_count("4", path, dim=64)
    with pytest.raises(ExerciseError, match="expected a whole number"):
        check_worse_count([1], path, dim=64)
    with pytest.raises(ExerciseError):
        check_worse_count(1.5, path, dim=64)
    blank_prints_no_answer(capsys, lambda a, **kw: check_worse_count(a, path, dim=64, **kw), "1 of")


# 05 -------------------------------------------------------------------------------------------------------------------

@pytest.fixture
def per_query_csv(tmp_path: Path) -> Path:
    """matryoshka keeps 95% down to 128, plain MNRL only down to 256, the base model only at 384."""
    rows = per_query_rows("matryoshka", {384: 0.80, 256: 0.79, 128: 0.77, 64: 0.70, 32: 0.50})
    rows += per_query_rows("mnrl", {384: 0.80, 256: 0.78, 128: 0.70, 64: 0.60, 32: 0.40})
    rows += per_query_rows("base", {384: 0.70, 256: 0.60, 128: 0.55, 64: 0.50, 32: 0.30})  # only 384 keeps 95%
    path = tmp_path / "per_query.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_dim_share_accepts_a_string_and_names_the_other_line(per_query_csv, capsys):
    for answer in (128, "128", 128.0, " 128"):
        assert check_dim_keeping_share(answer, per_query_csv)
    with pytest.raises(ExerciseError, match="the 'mnrl' line"):
        check_dim_keeping_share("256", per_query_csv)  # right for plain MNRL, not for Matryoshka
    with pytest.raises(ExerciseError, match="not a Matryoshka dim"):
        check_dim_keeping_share("one hundred", per_query_csv)
    with pytest.raises(ExerciseError, match="under 95%"):
        check_dim_keeping_share(64, per_query_csv)
    blank_prints_no_answer(capsys, lambda a, **kw: check_dim_keeping_share(a, per_query_csv, **kw), "128 keeps")


@pytest.fixture
def bootstrap_csv(tmp_path: Path) -> Path:
    """Clustered rows exclude 0 at 128 only; the naive per-question rows (narrower) at 384 and 128."""
    rows = []
    for unit, intervals in (("test chunk", {384: (-0.01, 0.08), 128: (0.03, 0.12), 32: (-0.05, 0.04)}),
                            ("question", {384: (0.01, 0.06), 128: (0.05, 0.10), 32: (-0.02, 0.01)})):
        rows += [{"system": "matryoshka", "dim": d, "metric": "ndcg@10", "baseline": "base", "difference": (lo + hi) / 2,
                  "ci_low": lo, "ci_high": hi, "significant": lo > 0 or hi < 0, "unit": unit, "n_units": 10}
                 for d, (lo, hi) in intervals.items()]
    path = tmp_path / "bootstrap.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_paired_dims_accept_strings_and_name_the_naive_rows(bootstrap_csv, per_query_csv, capsys):
    for answer in ({128}, ["128"], (128.0,)):
        assert check_paired_difference_dims(answer, bootstrap_csv, per_query_csv)
    with pytest.raises(ExerciseError, match="resample single questions"):
        check_paired_difference_dims({384, 128}, bootstrap_csv, per_query_csv)
    with pytest.raises(ExerciseError, match="answer a set"):
        check_paired_difference_dims("128", bootstrap_csv, per_query_csv)  # a string is not a set of dims
    with pytest.raises(ExerciseError, match="answer a set"):
        check_paired_difference_dims(128, bootstrap_csv, per_query_csv)
    blank_prints_no_answer(
        capsys, lambda a, **kw: check_paired_difference_dims(a, bootstrap_csv, per_query_csv, **kw), "{128}")


def test_budget_accepts_a_string_dim_and_rejects_a_gb_reading(tmp_path, capsys):
    # 10 million vectors: 1 GiB leaves 107 bytes each, 1 GB 100; int8 at 104 bytes fits the first only
    rows = [{"system": "matryoshka", "dim": d, "precision": p, "bytes": b, "ndcg@10": q}
            for d, p, b, q in ((104, "int8", 104, 0.70), (96, "int8", 96, 0.68), (384, "binary", 48, 0.65),
                               (384, "float32", 1536, 0.80))]
    path = tmp_path / "quantization.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    assert check_best_config_within_budget(("matryoshka", "104", "INT8"), path)
    with pytest.raises(ExerciseError, match=r"a GiB is 2\*\*30 bytes"):
        check_best_config_within_budget(["matryoshka", 96, "int8"], path)  # the best within 10**9 bytes
    with pytest.raises(ExerciseError, match="another row that fits scores higher") as err:
        check_best_config_within_budget(["matryoshka", 384, "binary"], path)
    assert "2**30" not in str(err.value)
    with pytest.raises(ExerciseError, match="over the budget"):
        check_best_config_within_budget(("matryoshka", 384, "float32"), path)
    with pytest.raises(ExerciseError, match="answer a tuple"):
        check_best_config_within_budget("matryoshka, 104, int8", path)
    blank_prints_no_answer(capsys, lambda a, **kw: check_best_config_within_budget(a, path, **kw), "104")


# 06 -------------------------------------------------------------------------------------------------------------------

def test_accuracy_at_3_accepts_rounding_and_names_a_percentage(playground, capsys):  # noqa: F811
    for answer in (0.5, "0.5", "0.500", np.float32(0.5)):
        assert check_accuracy_at_3_by_search(answer, playground, dim=64)
    with pytest.raises(ExerciseError, match="not a percentage"):
        check_accuracy_at_3_by_search(50, playground, dim=64)
    with pytest.raises(ExerciseError, match="share of questions"):
        check_accuracy_at_3_by_search(0.75, playground, dim=64)
    with pytest.raises(ExerciseError):
        check_accuracy_at_3_by_search([0.5], playground, dim=64)
    blank_prints_no_answer(capsys, lambda a, **kw: check_accuracy_at_3_by_search(a, playground, dim=64, **kw), "50.0%")


def test_ranking_by_hand_names_the_order_and_the_missing_renormalisation(playground):  # noqa: F811
    query, corpus = QUERY_VECTORS[PREFIX_QUESTION], playground.embeddings["matryoshka"]
    cut = corpus[:, :32] / np.linalg.norm(corpus[:, :32], axis=1, keepdims=True)
    right = np.argsort(-(cut @ query[:32]))[:2]
    assert check_ranking_by_hand(right.astype(np.int64), playground, PREFIX_QUESTION, 32, 2)
    with pytest.raises(ExerciseError, match="lowest score up"):
        check_ranking_by_hand(np.argsort(cut @ query[:32])[:2], playground, PREFIX_QUESTION, 32, 2)
    with pytest.raises(ExerciseError, match="not made unit length again"):
        check_ranking_by_hand(np.argsort(-(corpus[:, :32] @ query[:32]))[:2], playground, PREFIX_QUESTION, 32, 2)
    with pytest.raises(ExerciseError, match="integers"):
        check_ranking_by_hand([99, 100], playground, PREFIX_QUESTION, 32, 2)  # past the end of the corpus


def test_bm25_win_takes_a_string_dim(playground):  # noqa: F811
    assert check_bm25_beats_fine_tuned((INDEX_QUESTION, "32"), playground)
    with pytest.raises(ExerciseError, match="answer a pair"):
        check_bm25_beats_fine_tuned((INDEX_QUESTION, 32, "extra"), playground)


# 07 -------------------------------------------------------------------------------------------------------------------

def test_index_budget_strips_spaces_and_wants_a_name(capsys):
    scale = tiny_scale()
    assert check_index_budget(" binary@384 > f32@384 x4 ", scale)
    with pytest.raises(ExerciseError, match="as a string"):
        check_index_budget(384, scale)
    with pytest.raises(ExerciseError, match="not in the `config` column"):
        check_index_budget("binary", scale)
    blank_prints_no_answer(capsys, lambda a, **kw: check_index_budget(a, scale, **kw), "binary@384 > f32@384 x4:")


def test_rescore_multiplier_reads_strings_and_says_why_a_wrong_one_fails(toy, capsys):  # noqa: F811
    candidates = (1, 2, 4, 8, 16, 30)
    expected = smallest_rescore_multiplier(toy, target=0.95, candidates=candidates)
    assert expected is not None and expected < 30
    assert check_rescore_multiplier(str(expected), toy, target=0.95, candidates=candidates)
    with pytest.raises(ExerciseError, match="a smaller multiplier also reaches"):
        check_rescore_multiplier(30, toy, target=0.95, candidates=candidates)
    if expected > 1:
        with pytest.raises(ExerciseError, match="under 0.95"):
            check_rescore_multiplier(1, toy, target=0.95, candidates=candidates)
    with pytest.raises(ExerciseError, match="not one of"):
        check_rescore_multiplier(3, toy, target=0.95, candidates=candidates)
    blank_prints_no_answer(capsys, lambda a, **kw: check_rescore_multiplier(a, toy, target=0.95, **kw), f"x{expected}:")


def test_funnel_prefix_wants_the_shortest_binary_prefix_and_names_the_other_rows(capsys):
    rows = [("matryoshka", "flat@384", "flat", 384, None, 0.80),
            ("matryoshka", "binary@384 > f32@384 x4", "binary", 384, 384.0, 0.80),
            ("matryoshka", "binary@256 > f32@384 x10", "binary", 256, 384.0, 0.795),
            ("matryoshka", "binary@128 > f32@384 x10", "binary", 128, 384.0, 0.785),
            ("matryoshka", "binary@64 > f32@384 x10", "binary", 64, 384.0, 0.76),
            ("matryoshka", "flat@128 > f32@384 x10", "flat", 128, 384.0, 0.80),
            ("matryoshka", "flat@64 > f32@384 x10", "flat", 64, 384.0, 0.79),
            ("base", "flat@384", "flat", 384, None, 0.70),
            ("base", "binary@384 > f32@384 x4", "binary", 384, 384.0, 0.70),
            ("base", "binary@256 > f32@384 x10", "binary", 256, 384.0, 0.69),
            ("base", "binary@128 > f32@384 x10", "binary", 128, 384.0, 0.67)]
    quality = pd.DataFrame(rows, columns=["system", "config", "kind", "dim", "rerank_dim", "ndcg@10"])
    for answer in (128, "128", 128.0):
        assert check_funnel_prefix(answer, quality)
    with pytest.raises(ExerciseError, match="float32 \\(flat\\) shortlists"):
        check_funnel_prefix(64, quality)
    with pytest.raises(ExerciseError, match="base model's answer"):
        check_funnel_prefix(256, quality)
    with pytest.raises(ExerciseError, match="a shorter prefix also keeps"):
        check_funnel_prefix(384, quality)
    with pytest.raises(ExerciseError, match="not one of the prefix dims"):
        check_funnel_prefix(100, quality)
    blank_prints_no_answer(capsys, lambda a, **kw: check_funnel_prefix(a, quality, **kw), "128 dims:")
