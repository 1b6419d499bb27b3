"""Retrieval evaluation that encodes once and scores every Matryoshka dim.

Queries and corpus are encoded once at full dimension; for each dim the vectors are
truncated and re-normalized (truncating a unit vector breaks its unit length), ranked by
cosine similarity, and scored per query with the same definitions as
sentence-transformers' ``InformationRetrievalEvaluator`` (a test checks equality to 1e-6).
Per-query scores feed paired bootstrap confidence intervals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from sentence_transformers.base.evaluation import SentenceEvaluator

from helpers.lessons.hybrid import RETRIEVE_DEPTH, RRF_KS, WEIGHTS, Hits, bm25_hits, fuse_all, top_hits

# Taught and written in notebook 04 (cells marked `#| export retrieval`), re-exported for older imports.
from helpers.lessons.retrieval import (  # noqa: F401
    ACCURACY_K,
    MAP_K,
    METRICS,
    MRR_K,
    NDCG_K,
    PR_K,
    Encoded,
    bm25_index,
    bm25_rank,
    encode_ir,
    evaluate_encoded,
    per_query_metrics,
    rank_by_scores,
    truncate_normalize,
)


def evaluate_model(model, ir: dict, dims: list[int], system: str, batch_size: int = 32) -> pd.DataFrame:
    """Encode once, score every dim; returns per-query rows labelled with ``system``."""
    per_query = evaluate_encoded(encode_ir(model, ir, batch_size), ir["relevant_docs"], dims)
    per_query.insert(0, "system", system)
    return per_query


def evaluate_bm25(ir: dict, system: str = "BM25") -> pd.DataFrame:
    """BM25 (notebook 04's ``bm25_index`` and ``bm25_rank``) on the same queries and corpus; ``dim`` is 0."""
    query_ids = [q for q in ir["queries"] if ir["relevant_docs"].get(q)]
    corpus_ids = list(ir["corpus"])
    retriever = bm25_index([ir["corpus"][c] for c in corpus_ids])
    ranked = bm25_rank(retriever, [ir["queries"][q] for q in query_ids], corpus_ids)
    frame = per_query_metrics(ranked, [set(ir["relevant_docs"][q]) for q in query_ids])
    frame.insert(0, "query_id", query_ids)
    frame.insert(0, "dim", 0)
    frame.insert(0, "system", system)
    return frame


def dense_hits(enc: Encoded, dim: int, depth: int = RETRIEVE_DEPTH) -> list[Hits]:
    """Each query's ``depth`` best chunks at ``dim`` (truncated, re-normalised cosine), as the hybrid's dense side."""
    return top_hits(truncate_normalize(enc.queries, dim) @ truncate_normalize(enc.corpus, dim).T, enc.corpus_ids, depth)


def ir_bm25_hits(ir: dict, query_ids: list[str], corpus_ids: list[str] | None = None,
                 depth: int = RETRIEVE_DEPTH) -> list[Hits]:
    """BM25's side of the hybrid for ``query_ids`` of an IR set (``bm25_hits`` over a fresh ``bm25_index``)."""
    corpus_ids = list(ir["corpus"]) if corpus_ids is None else corpus_ids
    retriever = bm25_index([ir["corpus"][c] for c in corpus_ids])
    return bm25_hits(retriever, [ir["queries"][q] for q in query_ids], corpus_ids, depth)


def _fused_metrics(dense: list[Hits], lexical: list[Hits], relevant: list[set[str]], method: str,
                   setting: float) -> pd.DataFrame:
    """Per-query metrics of one fusion of ``dense`` and ``lexical`` (aligned lists of hits)."""
    fused = fuse_all(dense, lexical, method, setting, k=MAP_K)
    return per_query_metrics([[c for c, _ in hits] for hits in fused], relevant)


def evaluate_hybrid(enc: Encoded, lexical: list[Hits], relevant_docs: dict, dims: list[int], method: str,
                    setting: float, depth: int = RETRIEVE_DEPTH) -> pd.DataFrame:
    """Per-query metrics of one fusion at every dim, like ``evaluate_encoded``; ``lexical`` is aligned with
    ``enc.query_ids`` (``ir_bm25_hits``)."""
    relevant = [set(relevant_docs[q]) for q in enc.query_ids]
    frames = []
    for dim in dims:
        frame = _fused_metrics(dense_hits(enc, dim, depth), lexical, relevant, method, setting)
        frame.insert(0, "query_id", enc.query_ids)
        frame.insert(0, "dim", dim)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def fusion_grid(enc: Encoded, lexical: list[Hits], relevant_docs: dict, dims: list[int],
                rrf_ks: tuple = RRF_KS, weights: tuple = WEIGHTS, depth: int = RETRIEVE_DEPTH) -> pd.DataFrame:
    """Mean ndcg@10, mrr@10 and recall@10 of every fusion setting (RRF's k, score fusion's weight) at every dim:
    the val table ``choose_fusion`` reads. The dense candidates are ranked once per dim for all settings."""
    relevant = [set(relevant_docs[q]) for q in enc.query_ids]
    settings = [("rrf", float(k)) for k in rrf_ks] + [("score", float(w)) for w in weights]
    rows = []
    for dim in dims:
        dense = dense_hits(enc, dim, depth)
        for method, setting in settings:
            means = _fused_metrics(dense, lexical, relevant, method, setting).mean()
            rows.append({"method": method, "setting": setting, "dim": dim,
                         **{m: float(means[m]) for m in ("ndcg@10", "mrr@10", "recall@10")}})
    return pd.DataFrame(rows)


def summarize(per_query: pd.DataFrame) -> pd.DataFrame:
    """Mean of every metric per (system, dim): the table the library would print."""
    return per_query.groupby(["system", "dim"], sort=False)[list(METRICS)].mean().reset_index()


def question_clusters(relevant_docs: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Each query id -> its cluster: questions that share a relevant chunk, directly or through other questions.

    The connected components of the question-chunk graph (union-find over chunk ids). A cluster is named by the
    smallest chunk id in it, so the labels do not depend on the order of ``relevant_docs``. A question without
    relevant chunks is a cluster of its own, named ``"question:<id>"``.
    """
    parent: dict[str, str] = {}

    def root(chunk: str) -> str:
        while parent[chunk] != chunk:
            parent[chunk] = parent[parent[chunk]]  # path halving
            chunk = parent[chunk]
        return chunk

    for chunks in relevant_docs.values():
        chunks = sorted(chunks)
        for chunk in chunks:
            parent.setdefault(chunk, chunk)
        for chunk in chunks[1:]:
            a, b = root(chunks[0]), root(chunk)
            if a != b:
                parent[max(a, b)] = min(a, b)  # the smaller id stays the root: it names the component
    return {q: root(min(chunks)) if chunks else f"question:{q}" for q, chunks in relevant_docs.items()}


CLUSTERED_UNIT = "test chunk"  # the `unit` of rows resampled by cluster; "question" for the naive bootstrap


def clustered_rows(bootstrap: pd.DataFrame) -> pd.DataFrame:
    """The rows of a ``paired_bootstrap`` table that resampled test chunks (``unit`` == ``CLUSTERED_UNIT``).

    A table without a ``unit`` column (written before clustering) or without clustered rows comes back whole.
    """
    if "unit" not in bootstrap.columns or not (bootstrap.unit == CLUSTERED_UNIT).any():
        return bootstrap
    return bootstrap[bootstrap.unit == CLUSTERED_UNIT]


def paired_bootstrap(
    per_query: pd.DataFrame,
    baseline: str,
    metrics: tuple[str, ...] = ("ndcg@10", "mrr@10", "recall@10", "accuracy@1"),
    n_resamples: int = 2000,
    seed: int = 0,
    clusters: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """95% CIs of (system - baseline) per dim and metric, resampling the same queries for both.

    Without ``clusters`` every query is resampled on its own (``unit`` "question"). With ``clusters`` (query id ->
    cluster id, e.g. from :func:`question_clusters`) each resample draws as many clusters as there are, with
    replacement, and takes all the questions of each drawn cluster; the statistic is the mean difference over the
    drawn questions, so a cluster weighs as many questions as it holds (``unit`` "test chunk"). Questions about
    one chunk are not independent, and resampling them one by one gives intervals that are too narrow. A query
    missing from ``clusters`` is a cluster of its own. ``n_units`` is the number of questions or clusters.

    Each row says whether the interval excludes 0 (``significant``).
    """
    rng = np.random.default_rng(seed)
    base = per_query[per_query.system == baseline].set_index(["dim", "query_id"])
    rows = []
    for (system, dim), group in per_query[per_query.system != baseline].groupby(["system", "dim"], sort=False):
        ref_dim = dim if (dim, group.query_id.iloc[0]) in base.index else None
        if ref_dim is None:
            continue
        paired = group.set_index("query_id")
        ref = base.loc[dim].loc[paired.index]
        if clusters is None:
            idx = rng.integers(0, len(paired), size=(n_resamples, len(paired)))
            unit, n_units = "question", len(paired)
        else:
            codes, labels = pd.factorize(pd.Series([clusters.get(q, f"question:{q}") for q in paired.index]))
            n_units = len(labels)
            drawn = rng.integers(0, n_units, size=(n_resamples, n_units))
            # times[r, c]: how often resample r drew cluster c
            offsets = (drawn + n_units * np.arange(n_resamples)[:, None]).ravel()
            times = np.bincount(offsets, minlength=n_resamples * n_units).reshape(n_resamples, n_units)
            drawn_questions = times @ np.bincount(codes, minlength=n_units)
            unit = CLUSTERED_UNIT
        for metric in metrics:
            diff = paired[metric].to_numpy() - ref[metric].to_numpy()
            if clusters is None:
                boot = diff[idx].mean(axis=1)
            else:
                boot = (times @ np.bincount(codes, weights=diff, minlength=n_units)) / drawn_questions
            low, high = np.percentile(boot, [2.5, 97.5])
            rows.append({
                "system": system, "dim": dim, "metric": metric, "baseline": baseline,
                "difference": diff.mean(), "ci_low": low, "ci_high": high,
                "significant": bool(low > 0 or high < 0), "unit": unit, "n_units": n_units,
            })
    return pd.DataFrame(rows)


class MatryoshkaIREvaluator(SentenceEvaluator):
    """A Trainer evaluator: one encode of val queries and corpus, ndcg@10 etc. at every dim.

    Its primary metric is the mean ndcg@10 over dims, so the checkpoint chosen is the one
    best across the whole Matryoshka range, not only at full size.
    """

    def __init__(self, ir: dict, dims: list[int], name: str = "val", batch_size: int = 32):
        super().__init__()
        self.ir, self.dims, self.name, self.batch_size = ir, dims, name, batch_size
        self.primary_metric = f"{name}_mean_ndcg@10"
        self.greater_is_better = True
        self.history: list[dict] = []

    def __call__(self, model, output_path=None, epoch: float = -1, steps: int = -1) -> dict[str, float]:
        per_query = evaluate_encoded(encode_ir(model, self.ir, self.batch_size), self.ir["relevant_docs"], self.dims)
        means = per_query.groupby("dim")[["ndcg@10", "mrr@10", "recall@10"]].mean()
        metrics = {f"{self.name}_dim{d}_{m}": float(means.loc[d, m]) for d in self.dims for m in means.columns}
        metrics[self.primary_metric] = float(means["ndcg@10"].mean())
        self.history.append({"epoch": epoch, "steps": steps, **metrics})
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics


def int8_ranges(calibration: np.ndarray) -> np.ndarray:
    """Per-dimension (min, max) of ``calibration``, shape (2, dim): what ``quantize_embeddings(...,
    calibration_embeddings=...)`` computes to place its 256 buckets."""
    return np.vstack((calibration.min(axis=0), calibration.max(axis=0)))


def dequantize_int8(codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Floats back from ``quantize_embeddings(..., precision="int8")`` codes quantized with ``ranges``.

    The library maps dimension j's [min_j, max_j] to 256 buckets of width step_j = (max_j - min_j) / 255 (a step of
    0 becomes 1) and stores floor((x - min_j) / step_j) - 128; decoding gives min_j + (code + 128) * step_j, the lower
    edge of the bucket, as sentence-transformers' own rescoring does. A value inside the range comes back at most
    one step below itself.
    """
    ranges = ranges.astype(np.float32, copy=False)
    steps = (ranges[1] - ranges[0]) / 255
    steps = np.where(steps == 0, 1, steps)
    return ((codes.astype(np.float32) + 128) * steps + ranges[0]).astype(np.float32)


def quantized_metrics(enc: Encoded, relevant_docs: dict, dims: list[int], system: str) -> pd.DataFrame:
    """Mean metrics at every dim for float32, int8 and binary corpus vectors (sentence-transformers'
    ``quantize_embeddings``), with the bytes each vector takes.

    int8 is scored as a deployed index scores it (faiss ``IndexScalarQuantizer`` with 8 bits, inner product):
    the corpus codes, calibrated per dim on the corpus, are decoded back to floats and ranked by their dot
    product with the float32 queries. The search is asymmetric: only the corpus is quantized, the queries stay
    float32. (Dot products of the raw codes would rank by vectors shifted by each dim's offset, which no index
    does.) Binary quantizes both sides and ranks by Hamming similarity.
    """
    from sentence_transformers import quantize_embeddings

    relevant = [set(relevant_docs[q]) for q in enc.query_ids]
    rows = []
    for dim in dims:
        queries, corpus = truncate_normalize(enc.queries, dim), truncate_normalize(enc.corpus, dim)
        ranges = int8_ranges(corpus)
        int8_corpus = dequantize_int8(quantize_embeddings(corpus, precision="int8", ranges=ranges), ranges)
        bits_corpus = np.unpackbits(quantize_embeddings(corpus, precision="ubinary"), axis=1)[:, :dim]
        bits_queries = np.unpackbits(quantize_embeddings(queries, precision="ubinary"), axis=1)[:, :dim]
        variants = {
            "float32": (queries @ corpus.T, dim * 4),
            "int8": (queries @ int8_corpus.T, dim),
            # Hamming similarity: bits that agree (a higher score is closer).
            "binary": (-(bits_queries[:, None, :] != bits_corpus[None, :, :]).sum(axis=2).astype(np.float32),
                       int(np.ceil(dim / 8))),
        }
        for precision, (scores, size) in variants.items():
            metrics = per_query_metrics(rank_by_scores(scores, enc.corpus_ids), relevant).mean()
            rows.append({"system": system, "dim": dim, "precision": precision, "bytes": size, **metrics.to_dict()})
    return pd.DataFrame(rows)
