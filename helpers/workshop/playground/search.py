"""Search playground (notebook 06): one question, top-k chunks from the base model, the fine-tuned
model and BM25 side by side, at any Matryoshka dim.

Each model's corpus is encoded once, at full dimension. For a dim ``d`` the corpus matrix is
truncated to its first ``d`` columns and re-normalised once (then cached), so a query costs one
query encode per model plus a matrix-vector product. :meth:`Playground.search` is a plain
function returning a DataFrame; :func:`build_ui` wraps it in ipywidgets for a notebook frontend.

When notebook 07 has saved an index under ``outputs/<profile>/index``, :func:`load_playground` adds one more
column: the fine-tuned model's query searched through that faiss index (named in the column), with the
index's own search time beside the query's total. When notebook 04 has chosen the hybrid's fusion on val
(``results/hybrid_choice.json``), one more: the fine-tuned model fused with BM25 (``matryoshka+bm25``), timed as a
whole (query encode, both searches and the fusion). When notebook 08 has trained (or plugged in) a cross-encoder
and chosen its depth on val (``results/rerank_choice.json``), one more: that hybrid's top ``depth`` reranked
(``matryoshka+bm25+rerank``), timed as the hybrid plus the cross-encoder.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.config import Profile, matryoshka_dims
from helpers.evaluation.metrics import bm25_index, rank_by_scores, truncate_normalize
from helpers.lessons.hybrid import fuse, hybrid_name, top_hits
from helpers.workshop.playground.saved import saved_index, saved_reranker

BM25 = "BM25"
TUNED = "matryoshka"  # the fine-tuned model, whose vectors a saved index holds
HYBRID = hybrid_name(TUNED)  # the fine-tuned model fused with BM25, by notebook 04's val choice
RERANKED = f"{HYBRID}+rerank"  # that hybrid's top candidates reordered by notebook 08's cross-encoder
SYSTEM_ORDER = ("base", TUNED, BM25, HYBRID, RERANKED)
HIT_COLUMNS = ["system", "rank", "score", "chunk_id", "document", "relevant", "relevant_rank", "ms", "text"]
# CSS classes a browser test (tests/browser) looks for.
CSS = {
    "box": "playground",
    "questions": "playground-questions",
    "query": "playground-query",
    "search": "playground-search",
    "dim": "playground-dim",
    "k": "playground-k",
    "systems": "playground-systems",
    "status": "playground-status",
    "results": "playground-results",
}


@dataclass
class Playground:
    """Everything a search needs, built once: the corpus, each model with its full-dim corpus
    embeddings, a BM25 index, and the test questions with their relevant chunks."""

    corpus_ids: list[str]
    corpus_texts: list[str]
    documents: list[str]
    models: dict[str, Any]
    embeddings: dict[str, np.ndarray]
    bm25: Any
    dims: list[int]
    questions: dict[str, str] = field(default_factory=dict)
    relevant_docs: dict[str, list[str]] = field(default_factory=dict)
    index: Any = None  # a helpers.deploy.vector_index.ServedIndex over the fine-tuned model's vectors, or None
    index_search_ms: float = float("nan")  # the index's own search time for the last query
    hybrid: dict | None = None  # notebook 04's fusion chosen on val (method, setting, depth), or None: no hybrid
    reranker: Any = None  # notebook 08's cross-encoder (anything with ``predict(pairs)``), or None: no reranked column
    rerank_depth: int = 0  # how many of the hybrid's candidates it reorders (notebook 08's val choice)
    position: dict[str, int] = field(init=False, repr=False)
    _by_dim: dict[tuple[str, int], np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.position = {chunk_id: i for i, chunk_id in enumerate(self.corpus_ids)}

    def corpus_at(self, system: str, dim: int) -> np.ndarray:
        """The system's corpus vectors truncated to ``dim`` and re-normalised (computed once per dim)."""
        key = (system, dim)
        if key not in self._by_dim:
            self._by_dim[key] = truncate_normalize(self.embeddings[system], dim)
        return self._by_dim[key]

    def relevant_for(self, query: str) -> set[str]:
        """Relevant chunk ids when ``query`` is a test question verbatim, else an empty set."""
        wanted = query.strip()
        for qid, text in self.questions.items():
            if text.strip() == wanted:
                return set(self.relevant_docs.get(qid, []))
        return set()

    @property
    def index_system(self) -> str | None:
        """The column name of the saved index (which index answers), or None without one."""
        return None if self.index is None else f"fine-tuned via {self.index.name}"

    def query_vector(self, system: str, query: str) -> np.ndarray:
        """The model's full-dim query embedding (one row), encoded on one CPU thread."""
        with one_cpu_thread():
            return self.models[system].encode_query([query], convert_to_numpy=True).astype(np.float32)

    def scores(self, system: str, query: str, dim: int, vector: np.ndarray | None = None) -> np.ndarray:
        """One score per chunk: cosine at ``dim`` for a model, the BM25 score for BM25."""
        if system == BM25:
            import bm25s

            tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
            if not tokens:  # only stop words: BM25 has nothing to match
                return np.zeros(len(self.corpus_ids), dtype=np.float32)
            return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)
        vector = self.query_vector(system, query) if vector is None else vector
        return (self.corpus_at(system, dim) @ truncate_normalize(vector, dim)[0]).astype(np.float32)

    def search(self, query: str, dim: int | None = None, k: int = 5, systems: list[str] | None = None
               ) -> pd.DataFrame:
        """Top-``k`` chunks per system for ``query`` at Matryoshka ``dim`` (default: full dim).

        One row per (system, rank) with columns :data:`HIT_COLUMNS`; ``ms`` is that system's time
        for this query (encode + score + rank), ``relevant`` marks the test set's relevant chunks
        when the query is a test question, and ``relevant_rank`` is where the first relevant chunk
        landed in the full ranking (NaN otherwise). ``systems`` keeps some of :attr:`systems` (default: all).
        """
        query = validate_query(query)
        dim = self.dims[0] if dim is None else validate_dim(dim, self.dims)
        k = validate_k(k, len(self.corpus_ids))
        chosen = validate_systems(systems, self.systems)
        relevant = self.relevant_for(query)
        rows = []
        encoded: dict[str, tuple[np.ndarray, float]] = {}  # the fine-tuned query vector, reused by the index
        for system in chosen:
            if system == self.index_system:
                rows += self._index_rows(query, k, relevant, encoded)
                continue
            if system in (HYBRID, RERANKED):
                rows += self._hybrid_rows(query, dim, k, relevant, encoded, rerank=system == RERANKED)
                continue
            start = time.perf_counter()
            vector = None if system == BM25 else self.query_vector(system, query)
            if vector is not None:
                encoded[system] = (vector, (time.perf_counter() - start) * 1000)
            scores = self.scores(system, query, dim, vector)
            ranked = rank_by_scores(scores[None, :], self.corpus_ids, k=len(self.corpus_ids))[0]
            ms = (time.perf_counter() - start) * 1000
            first_relevant = next((i + 1 for i, c in enumerate(ranked) if c in relevant), np.nan)
            for rank, chunk_id in enumerate(ranked[:k], start=1):
                i = self.position[chunk_id]
                rows.append({
                    "system": system, "rank": rank, "score": float(scores[i]), "chunk_id": chunk_id,
                    "document": self.documents[i], "relevant": chunk_id in relevant,
                    "relevant_rank": first_relevant, "ms": ms, "text": self.corpus_texts[i],
                })
        return pd.DataFrame(rows, columns=HIT_COLUMNS)

    def _hybrid_rows(self, query: str, dim: int, k: int, relevant: set[str], encoded: dict, rerank: bool = False
                     ) -> list[dict]:
        """Hit rows of the fine-tuned model fused with BM25 (notebook 04's ``fuse``, its val choice), and with
        ``rerank`` its top :attr:`rerank_depth` reordered by the cross-encoder (notebook 08's ``reorder``: the rest
        keep their place). ``ms`` is the whole search: the query encode (the fine-tuned column's, reused and counted
        here too), the dense and BM25 scores, the fusion and, reranked, the cross-encoder. ``score`` is the fused
        score, or for the reranked top the cross-encoder's."""
        from helpers.lessons.rerank import reorder

        choice = self.hybrid
        start = time.perf_counter()
        if TUNED in encoded:
            vector, encode_ms = encoded[TUNED]
        else:
            vector, encode_ms = self.query_vector(TUNED, query), 0.0
        dense = top_hits(self.scores(TUNED, query, dim, vector)[None, :], self.corpus_ids, choice["depth"])[0]
        lexical = top_hits(self.scores(BM25, query, dim)[None, :], self.corpus_ids, choice["depth"], min_score=0.0)[0]
        hits = fuse(dense, lexical, choice["method"], choice["setting"])
        if rerank:
            top = [c for c, _ in hits[: self.rerank_depth]]
            with one_cpu_thread():
                scores = self.reranker.predict([(query, self.corpus_texts[self.position[c]]) for c in top],
                                               show_progress_bar=False) if top else []
            by_chunk = {**dict(hits), **{c: float(v) for c, v in zip(top, scores)}}
            hits = [(c, by_chunk[c]) for c in reorder([c for c, _ in hits], scores, len(top))]
        ms = encode_ms + (time.perf_counter() - start) * 1000
        return self._rows(RERANKED if rerank else HYBRID, hits, k, relevant, ms)

    def _rows(self, system: str, hits: list[tuple[str, float]], k: int, relevant: set[str], ms: float) -> list[dict]:
        """Hit rows of one system from its ranked (chunk id, score) list: its top ``k``, with the rank of the first
        relevant chunk in the whole list (NaN when none is in it)."""
        first_relevant = next((i + 1 for i, (c, _) in enumerate(hits) if c in relevant), np.nan)
        rows = []
        for rank, (chunk_id, score) in enumerate(hits[:k], start=1):
            i = self.position[chunk_id]
            rows.append({
                "system": system, "rank": rank, "score": float(score), "chunk_id": chunk_id,
                "document": self.documents[i], "relevant": chunk_id in relevant, "relevant_rank": first_relevant,
                "ms": ms, "text": self.corpus_texts[i],
            })
        return rows

    def _index_rows(self, query: str, k: int, relevant: set[str], encoded: dict) -> list[dict]:
        """Hit rows answered by the saved index: the fine-tuned column's query vector (encoded once per search)
        searched at the index's own dims. ``ms`` is the index search alone (also kept in
        :attr:`index_search_ms`): the encode is counted once, in the fine-tuned column. ``relevant_rank`` is
        NaN when the relevant chunk is not in the top k."""
        if TUNED not in encoded:
            start = time.perf_counter()
            encoded[TUNED] = (self.query_vector(TUNED, query), (time.perf_counter() - start) * 1000)
        vector, _ = encoded[TUNED]
        chunk_ids, scores, self.index_search_ms = self.index.search(vector[0], k)
        return self._rows(self.index_system, list(zip(chunk_ids, scores)), k, relevant, self.index_search_ms)

    @property
    def systems(self) -> list[str]:
        """The models in display order, the saved index (when there is one), BM25, then the hybrid (when chosen) and
        the reranked hybrid (when notebook 08 made one)."""
        ordered = [s for s in SYSTEM_ORDER if s in self.models]
        extra = [self.index_system] if self.index_system else []
        hybrid = [HYBRID] if self.hybrid is not None and TUNED in self.models else []
        if hybrid and self.reranker is not None and self.rerank_depth > 0:
            hybrid.append(RERANKED)
        return ordered + [s for s in self.models if s not in SYSTEM_ORDER] + extra + [BM25] + hybrid


@contextmanager
def one_cpu_thread():
    """Run torch CPU ops on one thread inside the block, then restore the previous count.

    One short query is too small to share between threads: on a busy 2-core machine, two torch
    threads made a single query encode about 25 times slower than one thread (500 ms against 20 ms).
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def validate_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the query is empty: type a question (or pick one of the test questions)")
    return query.strip()


def validate_dim(dim: int, dims: list[int]) -> int:
    if int(dim) not in dims:
        raise ValueError(f"dim {dim} is not one of the Matryoshka dims {dims}: pick one of those")
    return int(dim)


def validate_systems(systems: list[str] | None, known: list[str]) -> list[str]:
    """``systems`` in display order (None: all of ``known``); an unknown or empty choice is refused with a reason."""
    if systems is None:
        return list(known)
    unknown = [s for s in systems if s not in known]
    if unknown or not systems:
        raise ValueError(f"systems {list(systems)}: choose one or more of {known}")
    return [s for s in known if s in systems]


def validate_k(k: int, n_chunks: int) -> int:
    if not 1 <= int(k) <= n_chunks:
        raise ValueError(f"k={k}: choose a number of results between 1 and {n_chunks} (the corpus size)")
    return int(k)


def build_playground(
    models: dict[str, Any],
    corpus: dict[str, str],
    documents: dict[str, str] | None = None,
    questions: dict[str, str] | None = None,
    relevant_docs: dict[str, list[str]] | None = None,
    batch_size: int = 32,
    index: Any = None,
    hybrid: dict | None = None,
    reranker: Any = None,
    rerank_depth: int = 0,
) -> Playground:
    """Encode ``corpus`` once per model at full dim and index it for BM25 (bm25s, English stop words).

    ``index`` (a :class:`helpers.deploy.vector_index.ServedIndex` over the same chunks, built from the ``matryoshka``
    model's vectors) adds a column answered through that index. ``hybrid`` (notebook 04's val choice, with its
    ``method``, ``setting`` and ``depth``) adds the ``matryoshka`` model fused with BM25; ``reranker`` (a
    cross-encoder) with ``rerank_depth`` adds that hybrid reranked.
    """
    from helpers.training.modeling import embedding_dim

    if not corpus:
        raise ValueError("the corpus is empty: nothing to search")
    corpus_ids = list(corpus)
    texts = [corpus[c] for c in corpus_ids]
    embeddings = {
        name: model.encode_document(texts, batch_size=batch_size, convert_to_numpy=True).astype(np.float32)
        for name, model in models.items()
    }
    full_dim = min(embedding_dim(m) for m in models.values())
    bm25 = bm25_index(texts)
    documents = documents or {}
    if index is not None and (TUNED not in models or sorted(index.chunk_ids) != sorted(corpus_ids)):
        raise ValueError("the index must hold the same chunks as the corpus, encoded by the 'matryoshka' model")
    if hybrid is not None and TUNED not in models:
        raise ValueError("the hybrid fuses BM25 with the 'matryoshka' model: pass that model too")
    return Playground(
        corpus_ids=corpus_ids, corpus_texts=texts, documents=[documents.get(c, "") for c in corpus_ids],
        models=dict(models), embeddings=embeddings, bm25=bm25, dims=matryoshka_dims(full_dim),
        questions=dict(questions or {}), relevant_docs={q: list(v) for q, v in (relevant_docs or {}).items()},
        index=index, hybrid=hybrid, reranker=reranker if hybrid is not None else None, rerank_depth=rerank_depth,
    )


def load_playground(profile: Profile) -> Playground:
    """The course's playground: base model vs notebook 03's Matryoshka model over notebook 02's corpus.

    Stops with :func:`helpers.pipeline.require`'s message (naming the notebook to run) when an
    earlier step's output is missing. When notebook 07 saved an index for this model and corpus
    (``outputs/<profile>/index``), a column searches through it (see :func:`saved_index`); when notebook 04 chose
    the hybrid's fusion (``results/hybrid_choice.json``, still current), a column fuses the fine-tuned model with BM25.
    """
    from helpers.data.dataset import load_ir
    from helpers.pipeline import HYBRID_CHOICE, MissingStepError, load_hybrid_choice, read_jsonl, require
    from helpers.training.modeling import load_model

    test_ir = load_ir(require(profile, "pairs/test_ir.json"))
    tuned_path = require(profile, "matryoshka/model")
    chunks_file = profile.outputs / "chunks.jsonl"
    documents = {r["id"]: r["document"] for r in read_jsonl(chunks_file)} if chunks_file.exists() else {}
    models = {
        "base": load_model(profile.model, profile.max_seq_length),
        "matryoshka": load_model(str(tuned_path)),
    }
    index = saved_index(profile, list(test_ir["corpus"]))
    hybrid = None
    if (profile.outputs / HYBRID_CHOICE).exists():
        try:
            hybrid = load_hybrid_choice(profile)
        except MissingStepError as why:  # stale: the fine-tuned model changed since notebook 04 chose
            print(f"no hybrid column: {str(why).splitlines()[0]}")
    reranker, depth = saved_reranker(profile) if hybrid is not None else (None, 0)
    return build_playground(models, test_ir["corpus"], documents, test_ir["queries"], test_ir["relevant_docs"],
                            index=index, hybrid=hybrid, reranker=reranker, rerank_depth=depth)


def time_queries(playground: Playground, queries: list[str], dim: int | None = None, k: int = 5) -> pd.DataFrame:
    """Milliseconds per query and system (one row per query), from :meth:`Playground.search`.

    ``total`` is the whole ``search`` call: the hybrid's column counts the fine-tuned query encode it shares, so
    the columns' sum would count that encode twice.
    """
    rows = []
    for query in queries:
        start = time.perf_counter()
        hits = playground.search(query, dim, k)
        total = (time.perf_counter() - start) * 1000
        per_system = hits.groupby("system", sort=False)["ms"].first()
        rows.append({**per_system.to_dict(), "total": total})
    return pd.DataFrame(rows)


def latency_summary(times: pd.DataFrame) -> pd.DataFrame:
    """Median, 95th percentile and max milliseconds per system, rounded for display."""
    return times.agg(["median", lambda s: s.quantile(0.95), "max"]).set_axis(["median ms", "p95 ms", "max ms"]).T.round(1)
