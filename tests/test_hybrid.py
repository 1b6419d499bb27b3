"""Hybrid retrieval (notebook 04's `#| export hybrid` cells): fusion by hand, the choice on val, the tables' rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.config import get_profile
from helpers.lessons.hybrid import (
    best_first,
    choose_fusion,
    fine_tuning_reading,
    fuse,
    minmax,
    rrf_scores,
    top_hits,
)


def ids(hits) -> list[str]:
    return [chunk_id for chunk_id, _ in hits]


def test_rrf_on_hand_made_rankings_gives_the_known_order():
    scores = rrf_scores([["a", "b", "c"], ["b", "d"]], k=60)
    assert scores == pytest.approx({"a": 1 / 61, "b": 1 / 62 + 1 / 61, "c": 1 / 63, "d": 1 / 62})
    assert ids(best_first(scores)) == ["b", "a", "d", "c"]
    # k decides between one list's winner (A, first once) and a chunk both lists rank third (B)
    lists = [["A", "x", "B"], ["y", "z", "B"]]
    assert ids(best_first(rrf_scores(lists, k=0)))[:3] == ["A", "y", "B"]
    assert ids(best_first(rrf_scores(lists, k=60)))[0] == "B"
    assert ids(fuse([("A", 0.9), ("x", 0.5), ("B", 0.1)], [("y", 3.0), ("z", 2.0), ("B", 1.0)], "rrf", 60))[0] == "B"


def test_minmax_and_unknown_methods():
    assert minmax([("a", 3.0), ("b", 1.0), ("c", 2.0)]) == {"a": 1.0, "b": 0.0, "c": 0.5}
    assert minmax([("a", 2.0), ("b", 2.0)]) == {"a": 1.0, "b": 1.0} and minmax([]) == {}
    with pytest.raises(ValueError, match="rrf"):
        fuse([("a", 1.0)], [], "max", 1)


def test_score_fusion_with_weight_one_or_zero_is_one_side_alone():
    rng = np.random.default_rng(0)
    corpus = [f"c{i:02d}" for i in range(30)]
    dense = top_hits(rng.normal(size=(1, 30)), corpus, depth=30)[0]  # every chunk, as when depth >= corpus
    lexical = top_hits(np.clip(rng.normal(size=(1, 30)), 0, None), corpus, depth=30, min_score=0.0)[0]
    assert 5 < len(lexical) < 30  # BM25's zero scores were dropped
    assert ids(fuse(dense, lexical, "score", 1.0)) == ids(dense)
    # BM25's last candidate normalises to 0, as does every chunk BM25 did not return: before it, BM25's order
    assert ids(fuse(dense, lexical, "score", 0.0))[: len(lexical) - 1] == ids(lexical)[:-1]


def test_hybrid_with_weight_one_evaluates_as_the_dense_model_alone():
    from helpers.evaluation import Encoded, evaluate_encoded, evaluate_hybrid

    rng = np.random.default_rng(1)
    corpus = [f"c{i:02d}" for i in range(20)]
    enc = Encoded([f"q{i}" for i in range(8)], corpus, rng.normal(size=(8, 16)).astype(np.float32),
                  rng.normal(size=(20, 16)).astype(np.float32))
    relevant = {f"q{i}": {corpus[i], corpus[i + 5]} for i in range(8)}
    lexical = [[(corpus[(i * 3) % 20], 2.0), (corpus[i], 1.0)] for i in range(8)]
    pd.testing.assert_frame_equal(evaluate_hybrid(enc, lexical, relevant, [16, 8], "score", 1.0),
                                  evaluate_encoded(enc, relevant, [16, 8]))


def test_choose_fusion_takes_the_best_mean_over_dims_and_the_first_of_ties():
    grid = pd.DataFrame([
        {"method": "rrf", "setting": 10.0, "dim": 64, "ndcg@10": 0.5}, {"method": "rrf", "setting": 10.0, "dim": 32, "ndcg@10": 0.9},
        {"method": "score", "setting": 0.5, "dim": 64, "ndcg@10": 0.8}, {"method": "score", "setting": 0.5, "dim": 32, "ndcg@10": 0.7},
        {"method": "score", "setting": 0.7, "dim": 64, "ndcg@10": 0.7}, {"method": "score", "setting": 0.7, "dim": 32, "ndcg@10": 0.8},
    ])
    choice = choose_fusion(grid)
    assert (choice["method"], choice["setting"], choice["parameter"]) == ("score", 0.5, "weight")
    assert choice["value"] == pytest.approx(0.75)


# A corpus of one word per chunk and one-hot chunk vectors, so that each side's ranking is known exactly.
WORDS = ["apple", "banana", "cherry", "damson", "elder", "fig", "grape", "hazel", "iris", "juniper", "kiwi", "lemon"]
DIM = 64  # matryoshka_dims(64) == [64, 32]


def one_hot(i: int) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[i] = 1.0
    return vector


def split_sets() -> tuple[dict, dict, dict]:
    """Val and test sets that want opposite fusions. Query j's relevant chunk is c{j+6} in both.

    Val: the question's vector is its chunk's, its words another chunk's (c{j}): dense is right, BM25 wrong, and
    only a dense weight above 0.5 ranks it first. Test: the reverse, and RRF (both votes for the relevant chunk)
    or a weight below 0.5 wins.
    """
    corpus = {f"c{i:02d}": WORDS[i] for i in range(12)}
    vectors = {WORDS[i]: one_hot(i) for i in range(12)}
    val = {"queries": {}, "corpus": corpus, "relevant_docs": {}}
    test = {"queries": {}, "corpus": corpus, "relevant_docs": {}}
    for j in range(6):
        val["queries"][f"v{j}"] = f"tell me {WORDS[j]}"
        vectors[f"tell me {WORDS[j]}"] = one_hot(j + 6)
        test["queries"][f"t{j}"] = f"tell me {WORDS[j + 6]}"
        vectors[f"tell me {WORDS[j + 6]}"] = one_hot(j)
        val["relevant_docs"][f"v{j}"] = [f"c{j + 6:02d}"]
        test["relevant_docs"][f"t{j}"] = [f"c{j + 6:02d}"]
    return val, test, vectors


class LookupModel:
    """Encodes a text by looking its vector up: a model whose rankings the test knows."""

    def __init__(self, vectors: dict[str, np.ndarray]):
        self.vectors = vectors

    def encode_query(self, texts, **kwargs):
        return np.stack([self.vectors[t] for t in texts])

    encode_document = encode_query


@pytest.fixture
def course(tmp_path, monkeypatch):
    from helpers.data.lineage import record

    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path))
    profile = get_profile("smoke", split_regime="chunks")
    val, test, vectors = split_sets()
    pairs = profile.outputs / "pairs"
    pairs.mkdir(parents=True)
    (pairs / "val_ir.json").write_text(json.dumps(val))
    (pairs / "test_ir.json").write_text(json.dumps(test))
    record(profile.outputs, "pairs", settings={"made by": "tests/test_hybrid.py"})
    return profile, val, test, LookupModel(vectors)


def test_the_fusion_is_chosen_on_val_not_test(course):
    from helpers.evaluation import encode_ir, fusion_grid, ir_bm25_hits
    from helpers.pipeline import HYBRID_CHOICE, choose_hybrid, load_hybrid_choice

    profile, val, test, model = course
    choice = choose_hybrid(profile, model=model)

    def best_on(ir: dict) -> tuple[str, float]:
        enc = encode_ir(model, ir)
        grid = fusion_grid(enc, ir_bm25_hits(ir, enc.query_ids), ir["relevant_docs"], [64, 32])
        best = choose_fusion(grid)
        return best["method"], best["setting"]

    assert (choice["method"], choice["setting"]) == best_on(val) == ("score", 0.6)
    assert best_on(test) == ("rrf", 10.0)  # what choosing on test would have picked
    assert choice["val_questions"] == 6 and choice["dims"] == [64, 32] and choice["depth"] == 100
    assert load_hybrid_choice(profile) == choice
    lineage = json.loads((profile.outputs / "lineage" / f"{HYBRID_CHOICE}.json").read_text())
    assert "pairs/val_ir.json" in lineage["parents"] and lineage["settings"]["method"] == "score"


def test_the_tables_hold_the_val_choice_per_dim_with_its_intervals(course):
    from helpers.evaluation import encode_ir, evaluate_hybrid, ir_bm25_hits
    from helpers.pipeline import choose_hybrid, score_systems

    profile, val, test, model = course
    choose_hybrid(profile, model=model)
    encoded = {"base": encode_ir(model, test), "matryoshka": encode_ir(model, test)}
    results = score_systems(profile, encoded, test)
    rows = set(zip(results["summary"].system, results["summary"].dim))
    assert {(s, d) for s in ("base+bm25", "matryoshka+bm25") for d in (64, 32)} <= rows
    assert not any(s == "mnrl+bm25" for s, _ in rows)  # no ablation here, so no ablation hybrid
    # the reported hybrid is the val choice (score fusion, weight 0.6), worse on this test set than RRF would be
    tuned = results["summary"].set_index(["system", "dim"]).loc[("matryoshka+bm25", 64), "ndcg@10"]
    lexical = ir_bm25_hits(test, encoded["matryoshka"].query_ids)
    for setting, method in ((0.6, "score"), (10.0, "rrf")):
        frame = evaluate_hybrid(encoded["matryoshka"], lexical, test["relevant_docs"], [64], method, setting)
        assert (frame["ndcg@10"].mean() == pytest.approx(tuned)) == (method == "score")
    boot = pd.read_csv(profile.outputs / "results" / "bootstrap.csv")
    pairs = set(zip(boot.system, boot.baseline))
    assert {("matryoshka+bm25", "BM25"), ("base+bm25", "BM25"), ("matryoshka+bm25", "matryoshka"),
            ("base+bm25", "base"), ("matryoshka+bm25", "base+bm25"), ("matryoshka", "base")} <= pairs
    assert ("matryoshka+bm25", "base") not in pairs  # a hybrid is compared with its own dense side, not another's
    hybrid_rows = boot[boot.system.str.endswith("+bm25")]
    assert set(hybrid_rows.unit) == {"test chunk", "question"} and set(hybrid_rows.dim) == {64, 32}
    reading = fine_tuning_reading(results["summary"], boot)
    assert len(reading) == 4 and reading[0].startswith("dim 64: BM25") and reading[1].startswith("dim 32: BM25")
    assert reading[-2].startswith("fine-tuning pays on top of BM25")
    summary = Path(profile.outputs / "results" / "summary.csv")
    assert set(pd.read_csv(summary).system) >= {"BM25", "base+bm25", "matryoshka+bm25"}


def test_the_reading_says_where_intervals_exclude_zero():
    summary = pd.DataFrame([
        {"system": "BM25", "dim": 0, "ndcg@10": 0.70},
        {"system": "base+bm25", "dim": 64, "ndcg@10": 0.72}, {"system": "matryoshka+bm25", "dim": 64, "ndcg@10": 0.80},
        {"system": "base+bm25", "dim": 32, "ndcg@10": 0.71}, {"system": "matryoshka+bm25", "dim": 32, "ndcg@10": 0.72},
    ])
    row = {"metric": "ndcg@10", "unit": "test chunk"}
    bootstrap = pd.DataFrame([
        {**row, "system": "matryoshka+bm25", "baseline": "base+bm25", "dim": 64, "difference": 0.08, "ci_low": 0.03, "ci_high": 0.12},
        {**row, "system": "matryoshka+bm25", "baseline": "base+bm25", "dim": 32, "difference": 0.01, "ci_low": -0.02, "ci_high": 0.04},
        {**row, "system": "matryoshka+bm25", "baseline": "BM25", "dim": 64, "difference": 0.10, "ci_low": 0.05, "ci_high": 0.15},
        {**row, "system": "matryoshka+bm25", "baseline": "BM25", "dim": 32, "difference": 0.02, "ci_low": -0.01, "ci_high": 0.05},
        {**row, "system": "base+bm25", "baseline": "BM25", "dim": 64, "difference": 0.02, "ci_low": -0.01, "ci_high": 0.05},
        {**row, "system": "base+bm25", "baseline": "BM25", "dim": 32, "difference": 0.01, "ci_low": -0.02, "ci_high": 0.04},
        # the naive rows say otherwise at 32; the reading must use the clustered ones
        {**row, "unit": "question", "system": "matryoshka+bm25", "baseline": "base+bm25", "dim": 32, "difference": 0.01,
         "ci_low": 0.005, "ci_high": 0.02},
    ])
    lines = fine_tuning_reading(summary, bootstrap)
    assert lines[0].startswith("dim 64: BM25 0.700, base+bm25 0.720, matryoshka+bm25 0.800")
    assert "+0.080 [+0.030, +0.120] (excludes 0, above)" in lines[0]
    assert "(includes 0)" in lines[1]
    assert lines[2] == ("fine-tuning pays on top of BM25 (matryoshka+bm25 above base+bm25, interval above 0) at 64; "
                        "not shown (interval includes 0) at 32; it costs (interval below 0) at no dim.")
    assert lines[3] == "matryoshka+bm25 beats BM25 alone (interval above 0) at 64; base+bm25 at no dim."
    assert "nothing to read" in fine_tuning_reading(summary[summary.system == "BM25"], bootstrap)[0]


@pytest.fixture
def smoke_outputs(request):
    if not getattr(request.config, "notebooks_collected", False):
        pytest.skip("the notebooks were not executed in this pytest run (run `make test` or include notebooks/)")
    return get_profile().outputs


def test_the_smoke_course_saved_a_val_choice_and_hybrid_rows(smoke_outputs):
    choice = json.loads((smoke_outputs / "results" / "hybrid_choice.json").read_text())
    assert choice["method"] in ("rrf", "score") and len(choice["grid"]) == 11 * len(choice["dims"])
    summary = pd.read_csv(smoke_outputs / "results" / "summary.csv")
    for system in ("base+bm25", "matryoshka+bm25", "mnrl+bm25"):
        assert sorted(summary[summary.system == system].dim, reverse=True) == choice["dims"]
    boot = pd.read_csv(smoke_outputs / "results" / "bootstrap.csv")
    assert {("matryoshka+bm25", "BM25"), ("matryoshka+bm25", "base+bm25")} <= set(zip(boot.system, boot.baseline))


PLAYGROUND_CORPUS = {
    "c-bm25": "BM25 scores a passage by term frequency, saturated by k1, and by inverse document frequency.",
    "c-index": "An inverted index maps each term to the list of documents that contain it, with positions.",
    "c-dense": "Dense retrieval encodes questions and passages into vectors and ranks passages by cosine similarity.",
    "c-cooking": "Simmer the tomatoes with garlic and olive oil for twenty minutes, then add fresh basil.",
}
RRF_60 = {"method": "rrf", "setting": 60.0, "parameter": "k", "depth": 100}


def test_the_playground_offers_the_hybrid_with_its_time(bundled_model):
    from helpers.workshop.playground import HYBRID, build_playground
    from helpers.workshop.playground.search import BM25, TUNED

    pg = build_playground({"base": bundled_model, TUNED: bundled_model}, PLAYGROUND_CORPUS, hybrid=RRF_60)
    assert pg.systems == ["base", TUNED, BM25, HYBRID]
    query = "how does an inverted index find documents for a term?"
    hits = pg.search(query, dim=64, k=4)
    assert hits.groupby("system", sort=False).size().to_dict() == {"base": 4, TUNED: 4, BM25: 4, HYBRID: 4}
    dense = top_hits(pg.scores(TUNED, query, 64)[None, :], pg.corpus_ids)[0]
    lexical = top_hits(pg.scores(BM25, query, 64)[None, :], pg.corpus_ids, min_score=0.0)[0]
    fused = hits[hits.system == HYBRID]
    assert fused.chunk_id.tolist() == ids(fuse(dense, lexical, "rrf", 60))
    assert fused.score.tolist() == pytest.approx([s for _, s in fuse(dense, lexical, "rrf", 60)])
    # its time is the whole hybrid search: at least the fine-tuned column's query encode, which it reuses
    assert (fused.ms > 0).all() and fused.ms.iloc[0] >= hits[hits.system == TUNED].ms.iloc[0] * 0.5
    only = pg.search(query, dim=64, k=2, systems=[HYBRID])
    assert set(only.system) == {HYBRID} and only.chunk_id.tolist() == fused.chunk_id.tolist()[:2]
    with pytest.raises(ValueError, match="choose one or more"):
        pg.search(query, 64, 2, systems=["nobody"])
    with pytest.raises(ValueError, match="matryoshka"):
        build_playground({"base": bundled_model}, PLAYGROUND_CORPUS, hybrid=RRF_60)


def test_the_playground_ui_ticks_the_hybrid_on_and_off(bundled_model):
    pytest.importorskip("ipywidgets")
    from helpers.workshop.playground import HYBRID, build_playground, build_ui
    from helpers.workshop.playground.search import CSS, TUNED

    pg = build_playground({"base": bundled_model, TUNED: bundled_model}, PLAYGROUND_CORPUS, hybrid=RRF_60)

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    ui = build_ui(pg, k=2)
    found = {cls: w for w in walk(ui) for cls in w._dom_classes}
    ticks = {t.description: t for t in found[CSS["systems"]].children}
    found[CSS["query"]].value = "tomato sauce with basil"
    results, status = found[CSS["results"]], found[CSS["status"]]
    assert results.value.count('class="playground-hit') == 2 * 4 and f'data-system="{HYBRID}"' in results.value
    assert "fine-tuned + BM25 (hybrid)" in status.value and "rrf k=60" in status.value
    ticks["fine-tuned + BM25 (hybrid)"].value = False
    assert results.value.count('class="playground-hit') == 2 * 3 and f'data-system="{HYBRID}"' not in results.value
    for tick in ticks.values():
        tick.value = False
    assert "at least one system" in status.value


class ReverseReranker:
    """A stand-in cross-encoder: it scores a candidate higher the later it came, so its reordering is known."""

    def __init__(self):
        self.calls = []

    def predict(self, pairs, show_progress_bar=False):
        self.calls.append(list(pairs))
        return [float(i) for i in range(len(pairs))]


def test_the_playground_offers_the_reranked_hybrid_with_its_time(bundled_model):
    from helpers.workshop.playground import HYBRID, RERANKED, build_playground
    from helpers.workshop.playground.search import BM25, TUNED

    reranker = ReverseReranker()
    pg = build_playground({"base": bundled_model, TUNED: bundled_model}, PLAYGROUND_CORPUS, hybrid=RRF_60,
                          reranker=reranker, rerank_depth=3)
    assert pg.systems == ["base", TUNED, BM25, HYBRID, RERANKED]
    query = "how does an inverted index find documents for a term?"
    hits = pg.search(query, dim=64, k=4)
    fused = hits[hits.system == HYBRID].chunk_id.tolist()
    reranked = hits[hits.system == RERANKED]
    assert reranked.chunk_id.tolist() == fused[:3][::-1] + fused[3:4]  # the top 3 reordered, the rest in place
    assert [text for _, text in reranker.calls[-1]] == [PLAYGROUND_CORPUS[c] for c in fused[:3]]
    assert all(question == query for question, _ in reranker.calls[-1])
    assert reranked.score.tolist()[:3] == [2.0, 1.0, 0.0]  # the cross-encoder's scores for what it reordered
    assert (reranked.ms >= hits[hits.system == HYBRID].ms.iloc[0] * 0.5).all()  # the hybrid's time is in it
    # no reranker, or no hybrid to rerank: no column
    assert RERANKED not in build_playground({TUNED: bundled_model}, PLAYGROUND_CORPUS, hybrid=RRF_60).systems
    assert RERANKED not in build_playground({TUNED: bundled_model}, PLAYGROUND_CORPUS, reranker=reranker,
                                            rerank_depth=3).systems
