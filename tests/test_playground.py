"""Search playground: one corpus encode per model, one query encode per model per search, per-dim truncation."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.evaluation.metrics import truncate_normalize
from helpers.workshop.playground import build_playground, build_ui, side_by_side
from helpers.workshop.playground.search import BM25, CSS, HIT_COLUMNS

CORPUS = {
    "c-bm25": "BM25 scores a passage by term frequency, saturated by k1, and by inverse document frequency.",
    "c-index": "An inverted index maps each term to the list of documents that contain it, with positions.",
    "c-dense": "Dense retrieval encodes questions and passages into vectors and ranks passages by cosine similarity.",
    "c-matryoshka": "Matryoshka representation learning trains nested prefixes of an embedding to be useful alone.",
    "c-cooking": "Simmer the tomatoes with garlic and olive oil for twenty minutes, then add fresh basil.",
}
DOCUMENTS = {c: f"doc-{c[2:]}.md" for c in CORPUS}
QUESTIONS = {"q1": "Which data structure maps a term to the documents containing it?",
             "q2": "How do you make a tomato sauce with basil?"}
RELEVANT = {"q1": ["c-index"], "q2": ["c-cooking"]}


class CountingModel:
    """Delegates to a SentenceTransformer and counts encode calls."""

    def __init__(self, model):
        self.model, self.queries, self.documents = model, 0, 0

    def encode_query(self, *args, **kwargs):
        self.queries += 1
        return self.model.encode_query(*args, **kwargs)

    def encode_document(self, *args, **kwargs):
        self.documents += 1
        return self.model.encode_document(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.model, name)


@pytest.fixture(scope="module")
def playground(bundled_model):
    return build_playground({"base": bundled_model, "matryoshka": bundled_model}, CORPUS, DOCUMENTS, QUESTIONS,
                            RELEVANT)


def test_corpus_is_encoded_once_and_each_search_encodes_the_query_once_per_model(bundled_model):
    base, tuned = CountingModel(bundled_model), CountingModel(bundled_model)
    pg = build_playground({"base": base, "matryoshka": tuned}, CORPUS)
    assert (base.documents, tuned.documents) == (1, 1)
    for dim in (384, 64, 32, 64):
        pg.search("What is an inverted index?", dim, k=2)
    assert (base.documents, tuned.documents) == (1, 1)
    assert (base.queries, tuned.queries) == (4, 4)
    assert set(pg._by_dim) == {(s, d) for s in ("base", "matryoshka") for d in (384, 64, 32)}


def test_scores_are_cosines_of_truncated_renormalised_vectors(playground, bundled_model):
    query = "ranking passages by cosine similarity of vectors"
    hits = playground.search(query, dim=64, k=5)
    texts = list(CORPUS.values())
    q = truncate_normalize(bundled_model.encode_query([query], convert_to_numpy=True), 64)
    c = truncate_normalize(bundled_model.encode_document(texts, convert_to_numpy=True), 64)
    expected = dict(zip(CORPUS, (c @ q[0]).tolist()))
    base = hits[hits.system == "base"]
    assert list(base.columns) == HIT_COLUMNS
    assert base.score.tolist() == pytest.approx([expected[i] for i in base.chunk_id], abs=1e-5)
    assert base.score.is_monotonic_decreasing and base.chunk_id.iloc[0] == "c-dense"
    # full dim and dim 32 give different scores: truncation really happens
    full = playground.search(query, dim=384, k=5)
    small = playground.search(query, dim=32, k=5)
    assert not np.allclose(full[full.system == "base"].score, small[small.system == "base"].score)


def test_three_systems_side_by_side_with_k_rows_each(playground):
    hits = playground.search("tomatoes with garlic", dim=128, k=3)
    assert hits.groupby("system", sort=False).size().to_dict() == {"base": 3, "matryoshka": 3, BM25: 3}
    assert hits[hits.system == BM25].chunk_id.iloc[0] == "c-cooking"
    table = side_by_side(hits)
    assert table.shape == (3, 3) and list(table.columns) == ["base model", "fine-tuned, Matryoshka", "BM25 (bm25s)"]
    assert (hits.ms > 0).all()


def test_a_test_question_highlights_its_relevant_chunk(playground):
    hits = playground.search(QUESTIONS["q1"], dim=384, k=3)
    base = hits[hits.system == "base"]
    assert base.relevant.tolist() == [c == "c-index" for c in base.chunk_id]
    assert base.relevant.any() and base.relevant_rank.iloc[0] == base.chunk_id.tolist().index("c-index") + 1
    typed = playground.search(QUESTIONS["q1"] + " Explain.", dim=384, k=3)
    assert not typed.relevant.any() and typed.relevant_rank.isna().all()


def test_bad_input_is_refused_with_a_reason(playground):
    with pytest.raises(ValueError, match="empty"):
        playground.search("   ", 64, 3)
    with pytest.raises(ValueError, match=r"\[384, 256, 128, 64, 32\]"):
        playground.search("index", 100, 3)
    with pytest.raises(ValueError, match="between 1 and 5"):
        playground.search("index", 64, 6)


def test_a_stop_word_query_gives_bm25_zero_scores_not_an_error(playground):
    hits = playground.search("the of and", 64, 2)
    assert (hits[hits.system == BM25].score == 0).all()


def test_latency_of_a_search_is_well_under_a_second(playground):
    from helpers.workshop.playground import latency_summary, time_queries

    times = time_queries(playground, list(QUESTIONS.values()) * 3, dim=128)
    assert list(times.columns) == ["base", "matryoshka", BM25, "total"] and len(times) == 6
    assert latency_summary(times).loc["total", "median ms"] < 1000


def test_query_encodes_run_on_one_thread_and_restore_the_count():
    import torch

    from helpers.workshop.playground import one_cpu_thread

    before = torch.get_num_threads()
    with one_cpu_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_widgets_answer_a_typed_question_and_a_picked_test_question(playground):
    pytest.importorskip("ipywidgets")
    ui = build_ui(playground, k=2)
    widgets = {cls: w for w in _walk(ui) for cls in w._dom_classes}
    assert set(CSS.values()) <= set(widgets)
    widgets[CSS["query"]].value = "what does an inverted index store?"
    html = widgets[CSS["results"]].value
    assert html.count('class="playground-hit') == 2 * 3 and "inverted index store" in html
    assert "ms" in widgets[CSS["status"]].value
    widgets[CSS["questions"]].value = QUESTIONS["q2"]
    assert widgets[CSS["query"]].value == QUESTIONS["q2"]
    assert "playground-relevant" in widgets[CSS["results"]].value
    widgets[CSS["dim"]].value = 32
    assert "dim 32" in widgets[CSS["results"]].value
    widgets[CSS["query"]].value = "pasta sauce"
    assert widgets[CSS["questions"]].value == "" and "pasta sauce" in widgets[CSS["results"]].value


def test_the_ui_can_open_on_a_question(playground):
    pytest.importorskip("ipywidgets")
    widgets = {cls: w for w in _walk(build_ui(playground, k=1, initial=QUESTIONS["q1"])) for cls in w._dom_classes}
    assert widgets[CSS["questions"]].value == QUESTIONS["q1"] == widgets[CSS["query"]].value
    assert widgets[CSS["results"]].value.count('class="playground-hit') == 3


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_missing_outputs_name_the_notebook_to_run(tmp_path, monkeypatch):
    from helpers.config import get_profile
    from helpers.pipeline import MissingStepError
    from helpers.workshop.playground import load_playground

    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path))
    with pytest.raises(MissingStepError, match="02_build_pairs"):
        load_playground(get_profile("smoke"))
    (tmp_path / "smoke" / "pairs").mkdir(parents=True)
    (tmp_path / "smoke" / "pairs" / "test_ir.json").write_text('{"queries": {}, "corpus": {}, "relevant_docs": {}}')
    with pytest.raises(MissingStepError, match="03_train_matryoshka"):
        load_playground(get_profile("smoke"))


def test_a_saved_index_answers_in_its_own_column_with_its_latency(bundled_model, tmp_path):
    pytest.importorskip("faiss")
    from helpers.deploy.vector_index import load_index, save_index
    from helpers.lessons.index_recipes import IndexConfig

    vectors = bundled_model.encode_document(list(CORPUS.values()), convert_to_numpy=True)
    config = IndexConfig("binary", 384, 384, multiplier=4)
    served = load_index(save_index(tmp_path / "index", config, vectors, list(CORPUS), model="bundled"))
    pg = build_playground({"base": bundled_model, "matryoshka": bundled_model}, CORPUS, DOCUMENTS, QUESTIONS,
                          RELEVANT, index=served)
    column = "fine-tuned via faiss binary@384 > f32@384 x4"
    assert pg.systems == ["base", "matryoshka", column, BM25]
    hits = pg.search(QUESTIONS["q1"], dim=64, k=3)
    via_index = hits[hits.system == column]
    assert len(via_index) == 3 and via_index.chunk_id.iloc[0] == "c-index" and via_index.relevant_rank.iloc[0] == 1
    assert via_index.ms.iloc[0] == pg.index_search_ms > 0
    # rescored at full dim, the index ranks like the brute-force column at full dim
    full = pg.search(QUESTIONS["q1"], dim=384, k=3)
    assert via_index.chunk_id.tolist() == full[full.system == "matryoshka"].chunk_id.tolist()
    assert via_index.score.tolist() == pytest.approx(full[full.system == "matryoshka"].score.tolist(), abs=1e-5)
    with pytest.raises(ValueError, match="same chunks"):
        build_playground({"base": bundled_model, "matryoshka": bundled_model}, dict(list(CORPUS.items())[:2]),
                         index=served)


def test_the_ui_says_which_index_answered(bundled_model, tmp_path):
    pytest.importorskip("ipywidgets")
    from helpers.deploy.vector_index import load_index, save_index
    from helpers.lessons.index_recipes import IndexConfig

    vectors = bundled_model.encode_document(list(CORPUS.values()), convert_to_numpy=True)
    served = load_index(save_index(tmp_path / "index", IndexConfig("flat", 128), vectors, list(CORPUS), "bundled"))
    pg = build_playground({"base": bundled_model, "matryoshka": bundled_model}, CORPUS, index=served)
    widgets = {cls: w for w in _walk(build_ui(pg, k=2, initial="inverted index")) for cls in w._dom_classes}
    status, results = widgets[CSS["status"]].value, widgets[CSS["results"]].value
    assert "answered by faiss flat@128" in status and "ms of index search" in status
    assert results.count('class="playground-hit') == 2 * 4 and "fine-tuned via faiss flat@128</h4>" in results


def test_load_playground_picks_up_a_saved_index_unless_stale(tmp_path, monkeypatch, bundled_model, capsys):
    import json
    import os

    from helpers.config import BUNDLED_MODEL, get_profile
    from helpers.deploy.vector_index import save_index
    from helpers.lessons.index_recipes import IndexConfig
    from helpers.training.modeling import resolve_model_path
    from helpers.workshop.playground.search import saved_index

    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path))
    profile = get_profile("smoke")
    (profile.outputs / "matryoshka").mkdir(parents=True)
    (profile.outputs / "matryoshka" / "model").symlink_to(resolve_model_path(BUNDLED_MODEL), target_is_directory=True)
    assert saved_index(profile, list(CORPUS)) is None  # notebook 07 not run: no fourth column
    vectors = bundled_model.encode_document(list(CORPUS.values()), convert_to_numpy=True)
    save_index(profile.outputs / "index", IndexConfig("binary", 384), vectors, list(CORPUS), "bundled")
    assert saved_index(profile, list(CORPUS)).config == IndexConfig("binary", 384)
    assert saved_index(profile, ["other-chunk"]) is None
    assert "other chunks" in capsys.readouterr().out
    meta = profile.outputs / "index" / "meta.json"
    os.utime(meta, (1, 1))  # an index older than the fine-tuned model
    assert saved_index(profile, list(CORPUS)) is None
    assert "newer than the index" in capsys.readouterr().out
    assert json.loads(meta.read_text())["name"] == "binary@384"
