"""The exercise checkers of notebooks 05 and 06: each accepts the right answer, raises ExerciseError on a plausible
wrong one, and returns None without raising while the exercise is blank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_playground import CORPUS  # the same five chunks as the playground tests

from helpers.workshop.checks import (
    ExerciseError,
    check_accuracy_at_3_by_search,
    check_best_config_within_budget,
    check_bm25_beats_fine_tuned,
    check_dim_keeping_share,
    check_paired_difference_dims,
    check_ranking_by_hand,
    dims_with_overlapping_bands,
    figure_questions,
)
from helpers.workshop.playground import build_playground

DIMS = [384, 256, 128, 64, 32]


# Notebook 05: small tables with the columns notebooks 04 and 05 write ------------------------------------------------


@pytest.fixture
def quantization_csv(tmp_path: Path) -> Path:
    """10 million vectors in 1 GiB leave 107 bytes each: float32 never fits; int8 fits up to 64 dims, binary always.
    The best row that fits (matryoshka, 384, binary) is neither the best row overall nor the smallest that fits."""
    rows = []
    for system, lift in (("base", 0.0), ("matryoshka", 0.05)):
        for dim in DIMS:
            for precision, size, loss in (("float32", dim * 4, 0.0), ("int8", dim, 0.02), ("binary", dim // 8, 0.3)):
                rows.append({"system": system, "dim": dim, "precision": precision, "bytes": size,
                             "ndcg@10": 0.4 + dim / 1000 + lift - loss})
    path = tmp_path / "quantization.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_budget_checker_accepts_only_the_best_configuration_that_fits(quantization_csv, capsys):
    assert check_best_config_within_budget(("matryoshka", 384, "binary"), quantization_csv)
    assert "the best that fits" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="another row that fits scores higher"):
        check_best_config_within_budget(("matryoshka", 64, "int8"), quantization_csv)  # fits, but beaten
    with pytest.raises(ExerciseError, match="over the budget"):
        check_best_config_within_budget(("matryoshka", 384, "float32"), quantization_csv)  # best overall, too big
    with pytest.raises(ExerciseError, match="not a row of the table"):
        check_best_config_within_budget(("matryoshka", 100, "int8"), quantization_csv)
    with pytest.raises(ExerciseError, match=r"tuple \(system, dim, precision\)"):
        check_best_config_within_budget("matryoshka", quantization_csv)


def test_budget_checker_follows_the_budget_it_is_given(quantization_csv):
    # with 2 GiB, int8 at 128 dims fits (2 bytes per dim more than binary 384) and scores higher
    assert check_best_config_within_budget(("matryoshka", 128, "int8"), quantization_csv, budget_bytes=2 * 2**30)
    with pytest.raises(ExerciseError):
        check_best_config_within_budget(("matryoshka", 384, "binary"), quantization_csv, budget_bytes=2 * 2**30)


def test_budget_checker_is_not_answered_while_blank(quantization_csv, capsys):
    assert check_best_config_within_budget(None, quantization_csv) is None
    assert check_best_config_within_budget(..., quantization_csv) is None
    assert "[NOT ANSWERED YET]" in capsys.readouterr().out


def per_query_rows(system: str, means: dict[int, float], n_queries: int = 20, spread: float = 0.0) -> list[dict]:
    """Per-query ndcg@10 with the given mean per dim; ``spread`` alternates +/- around it (the mean stays exact)."""
    return [{"system": system, "dim": dim, "query_id": f"q{i}", "ndcg@10": mean + spread * (-1) ** i}
            for dim, mean in means.items() for i in range(n_queries)]


@pytest.fixture
def per_query_csv(tmp_path: Path) -> Path:
    # matryoshka keeps 96% at 128 and 87.5% at 64 (not monotone above 128: 256 beats 384), so the answer is 128
    matryoshka = {384: 0.80, 256: 0.81, 128: 0.77, 64: 0.70, 32: 0.50}
    base = {384: 0.70, 256: 0.69, 128: 0.60, 64: 0.50, 32: 0.30}
    rows = per_query_rows("matryoshka", matryoshka, spread=0.15) + per_query_rows("base", base, spread=0.15)
    rows += [{"system": "BM25", "dim": 0, "query_id": f"q{i}", "ndcg@10": 0.9} for i in range(20)]
    path = tmp_path / "per_query.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_dim_checker_wants_the_smallest_dim_keeping_95_percent(per_query_csv, capsys):
    assert check_dim_keeping_share(128, per_query_csv)
    assert check_dim_keeping_share(np.int64(128), per_query_csv)  # read from a DataFrame
    assert "96.2%" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="under 95%"):
        check_dim_keeping_share(64, per_query_csv)
    with pytest.raises(ExerciseError, match="the 'base' line"):
        check_dim_keeping_share(256, per_query_csv)  # the base model's answer
    with pytest.raises(ExerciseError, match="not a Matryoshka dim"):
        check_dim_keeping_share(100, per_query_csv)
    with pytest.raises(ExerciseError):
        check_dim_keeping_share(0.96, per_query_csv)  # a ratio, not a dim
    # the base model loses more: 128 keeps only 85.7% of its full dim, so the answer is 256
    assert check_dim_keeping_share(256, per_query_csv, system="base")
    assert check_dim_keeping_share(None, per_query_csv) is None


@pytest.fixture
def bootstrap_csv(tmp_path: Path) -> Path:
    intervals = {384: (0.02, 0.09), 256: (-0.01, 0.08), 128: (0.03, 0.12), 64: (-0.05, 0.04), 32: (-0.09, -0.01)}
    rows = [{"system": "matryoshka", "dim": dim, "metric": "ndcg@10", "baseline": "base", "difference": (lo + hi) / 2,
             "ci_low": lo, "ci_high": hi, "significant": lo > 0 or hi < 0} for dim, (lo, hi) in intervals.items()]
    # other metrics and the MNRL comparison must not leak into the answer
    rows += [{**row, "metric": "mrr@10", "ci_low": 0.01, "ci_high": 0.02} for row in rows]
    rows += [{**row, "baseline": "mnrl", "ci_low": 0.01, "ci_high": 0.02} for row in rows[:5]]
    path = tmp_path / "bootstrap.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_paired_checker_wants_the_dims_whose_interval_excludes_zero(bootstrap_csv, per_query_csv, capsys):
    assert check_paired_difference_dims({384, 128, 32}, bootstrap_csv, per_query_csv)
    assert check_paired_difference_dims([32, 128, 384], bootstrap_csv, per_query_csv)
    assert "bands of the first plot overlap" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="dim 256 the interval contains 0"):
        check_paired_difference_dims({384, 256, 128, 32}, bootstrap_csv, per_query_csv)
    with pytest.raises(ExerciseError, match="missing"):
        check_paired_difference_dims({384, 128}, bootstrap_csv, per_query_csv)  # forgot the one below 0
    with pytest.raises(ExerciseError):
        check_paired_difference_dims(set(), bootstrap_csv, per_query_csv)
    assert check_paired_difference_dims(None, bootstrap_csv, per_query_csv) is None


def test_an_empty_set_is_right_when_no_interval_excludes_zero(bootstrap_csv, per_query_csv):
    assert check_paired_difference_dims(set(), bootstrap_csv, per_query_csv, system="matryoshka", baseline="nobody")


def test_bands_overlap_when_the_per_query_spread_is_wide(tmp_path):
    wide = pd.DataFrame(per_query_rows("a", {384: 0.80, 32: 0.50}, spread=0.15)
                        + per_query_rows("b", {384: 0.75, 32: 0.20}, spread=0.15))
    assert dims_with_overlapping_bands(wide, "a", "b") == {384}


# Notebook 06: a playground over a fake model whose vectors are chosen by hand ------------------------------------------

INDEX_QUESTION = "Which inverted index maps a term to the documents containing it?"
COOKING_QUESTION = "How do you simmer tomatoes with garlic and basil?"
PREFIX_QUESTION = "Which chunk points exactly along the first axis?"
QUESTIONS = {"q-index": INDEX_QUESTION, "q-cooking": COOKING_QUESTION}
RELEVANT = {"q-index": ["c-index"], "q-cooking": ["c-cooking"]}
FULL_DIM = 64  # Matryoshka dims 64 and 32


def unit(prefix: dict[int, float], fill_axis: int) -> np.ndarray:
    """A unit vector with the given first-half coordinates, its length made up on one second-half axis, so that
    its 32-dim prefix is NOT unit length (re-normalising it matters)."""
    vector = np.zeros(FULL_DIM, dtype=np.float32)
    for axis, value in prefix.items():
        vector[axis] = value
    vector[fill_axis] = np.sqrt(1 - (vector**2).sum())
    return vector


CHUNK_VECTORS = {
    "c-bm25": unit({0: 0.1}, 32),  # short prefix along axis 0: first by cosine at dim 32, last by raw dot product
    "c-index": unit({0: 0.6, 1: 0.6}, 33),
    "c-dense": unit({2: 0.5}, 34),
    "c-matryoshka": unit({3: 0.5}, 35),
    "c-cooking": unit({4: 0.9}, 36),
}
QUERY_VECTORS = {
    INDEX_QUESTION: -CHUNK_VECTORS["c-index"],  # the dense model puts the relevant chunk last: BM25 wins
    COOKING_QUESTION: CHUNK_VECTORS["c-cooking"],  # the dense model puts it first: BM25 cannot win
    PREFIX_QUESTION: np.eye(FULL_DIM, dtype=np.float32)[0],
}


class HandMadeModel:
    """Stands in for a SentenceTransformer: the vectors above, no network, no randomness."""

    def get_embedding_dimension(self) -> int:
        return FULL_DIM

    def encode_document(self, texts: list[str], **_) -> np.ndarray:
        by_text = {text: CHUNK_VECTORS[chunk_id] for chunk_id, text in CORPUS.items()}
        return np.stack([by_text[t] for t in texts])

    def encode_query(self, texts: list[str], **_) -> np.ndarray:
        return np.stack([QUERY_VECTORS[t] for t in texts])


@pytest.fixture(scope="module")
def playground():
    model = HandMadeModel()
    return build_playground({"base": model, "matryoshka": model}, CORPUS, questions=QUESTIONS, relevant_docs=RELEVANT)


def rank_corpus(query_vector: np.ndarray, corpus_vectors: np.ndarray, dim: int, k: int) -> np.ndarray:
    """The solution of notebook 06's exercise 1."""
    query = query_vector[:dim] / np.linalg.norm(query_vector[:dim])
    corpus = corpus_vectors[:, :dim] / np.linalg.norm(corpus_vectors[:, :dim], axis=1, keepdims=True)
    return np.argsort(-(corpus @ query))[:k]


def test_ranking_by_hand_matches_search_only_when_truncated_and_renormalised(playground, capsys):
    query, corpus = QUERY_VECTORS[PREFIX_QUESTION], playground.embeddings["matryoshka"]
    right = rank_corpus(query, corpus, 32, 2)
    assert [playground.corpus_ids[i] for i in right] == ["c-bm25", "c-index"]
    assert check_ranking_by_hand(right, playground, PREFIX_QUESTION, 32, 2)
    assert check_ranking_by_hand(list(right), playground, PREFIX_QUESTION, 32, 2)  # a list is fine too
    assert "[OK]" in capsys.readouterr().out
    not_renormalised = np.argsort(-(corpus[:, :32] @ query[:32]))[:2]
    not_truncated = rank_corpus(query, corpus, FULL_DIM, 2)
    lowest_first = np.argsort(corpus[:, :32] @ query[:32] / np.linalg.norm(corpus[:, :32], axis=1))[:2]
    for wrong in (not_renormalised, not_truncated, lowest_first):
        with pytest.raises(ExerciseError, match="unit length"):
            check_ranking_by_hand(wrong, playground, PREFIX_QUESTION, 32, 2)
    with pytest.raises(ExerciseError, match="2 different positions"):
        check_ranking_by_hand(right[:1], playground, PREFIX_QUESTION, 32, 2)
    with pytest.raises(ExerciseError, match="integers"):
        check_ranking_by_hand(["c-bm25", "c-index"], playground, PREFIX_QUESTION, 32, 2)  # ids, not positions
    assert check_ranking_by_hand(None, playground, PREFIX_QUESTION, 32, 2) is None


def test_chunks_with_equal_scores_may_come_in_either_order(playground):
    # c-dense, c-matryoshka and c-cooking all score 0 for the prefix question at dim 32
    ranking = list(playground.search(PREFIX_QUESTION, 32, k=5).query("system == 'matryoshka'").chunk_id)
    swapped = ranking[:2] + ranking[2:][::-1]
    positions = [playground.corpus_ids.index(c) for c in swapped]
    assert check_ranking_by_hand(positions, playground, PREFIX_QUESTION, 32, 5)


def test_bm25_question_must_be_a_test_question_bm25_wins(playground, capsys):
    assert check_bm25_beats_fine_tuned((INDEX_QUESTION, 32), playground)
    assert "BM25 puts the relevant chunk at rank 1" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="strictly better"):
        check_bm25_beats_fine_tuned((COOKING_QUESTION, 64), playground)  # a tie at rank 1 is not a win
    with pytest.raises(ExerciseError, match="not one of the test questions"):
        check_bm25_beats_fine_tuned((INDEX_QUESTION + " Explain.", 32), playground)
    with pytest.raises(ExerciseError, match="not one of"):
        check_bm25_beats_fine_tuned((INDEX_QUESTION, 100), playground)
    with pytest.raises(ExerciseError):
        check_bm25_beats_fine_tuned(INDEX_QUESTION, playground)  # the dim is missing
    assert check_bm25_beats_fine_tuned(None, playground) is None
    with pytest.raises(ExerciseError, match="Figure 6.1"):  # read off the figure, not found by searching
        check_bm25_beats_fine_tuned((INDEX_QUESTION, 32), playground, shown={INDEX_QUESTION})


def test_figure_questions_reads_the_snapshot(tmp_path):
    source = tmp_path / "06-one-question.csv"
    source.write_text("question_id,question,dim\nq-1,Who wrote it? ,384\nq-1,Who wrote it? ,384\n", encoding="utf-8")
    assert figure_questions(source) == {"Who wrote it?"}
    assert figure_questions(tmp_path / "missing.csv") == set()


def test_accuracy_at_3_is_recomputed_with_search(playground):
    # the fine-tuned model ranks the cooking chunk first and the index chunk last (5th): one question of two
    assert check_accuracy_at_3_by_search(0.5, playground, dim=64)
    with pytest.raises(ExerciseError, match="divide it by the 2 test questions"):
        check_accuracy_at_3_by_search(1, playground, dim=64)  # a count, not a share
    with pytest.raises(ExerciseError):
        check_accuracy_at_3_by_search("half", playground, dim=64)
    assert check_accuracy_at_3_by_search(None, playground, dim=64) is None
