"""Retrieval evaluation that encodes once and scores every Matryoshka dim.

Queries and corpus are encoded once at full dimension; for each dim the vectors are
truncated and re-normalized (truncating a unit vector breaks its unit length), ranked by
cosine similarity, and scored per query with the same definitions as
sentence-transformers' ``InformationRetrievalEvaluator`` (a test checks equality to 1e-6).
Per-query scores feed paired bootstrap confidence intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sentence_transformers.base.evaluation import SentenceEvaluator

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


def summarize(per_query: pd.DataFrame) -> pd.DataFrame:
    """Mean of every metric per (system, dim): the table the library would print."""
    return per_query.groupby(["system", "dim"], sort=False)[list(METRICS)].mean().reset_index()


def paired_bootstrap(
    per_query: pd.DataFrame,
    baseline: str,
    metrics: tuple[str, ...] = ("ndcg@10", "mrr@10", "recall@10", "accuracy@1"),
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """95% CIs of (system - baseline) per dim and metric, resampling the same queries for both.

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
        idx = rng.integers(0, len(paired), size=(n_resamples, len(paired)))
        for metric in metrics:
            diff = paired[metric].to_numpy() - ref[metric].to_numpy()
            boot = diff[idx].mean(axis=1)
            low, high = np.percentile(boot, [2.5, 97.5])
            rows.append({
                "system": system, "dim": dim, "metric": metric, "baseline": baseline,
                "difference": diff.mean(), "ci_low": low, "ci_high": high,
                "significant": bool(low > 0 or high < 0),
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


def quantized_metrics(enc: Encoded, relevant_docs: dict, dims: list[int], system: str) -> pd.DataFrame:
    """Mean metrics at every dim for float32, int8 and binary corpus vectors (sentence-transformers'
    ``quantize_embeddings``), with the bytes each vector takes."""
    from sentence_transformers import quantize_embeddings

    relevant = [set(relevant_docs[q]) for q in enc.query_ids]
    rows = []
    for dim in dims:
        queries, corpus = truncate_normalize(enc.queries, dim), truncate_normalize(enc.corpus, dim)
        int8_corpus = quantize_embeddings(corpus, precision="int8", calibration_embeddings=corpus)
        int8_queries = quantize_embeddings(queries, precision="int8", calibration_embeddings=corpus)
        bits_corpus = np.unpackbits(quantize_embeddings(corpus, precision="ubinary"), axis=1)[:, :dim]
        bits_queries = np.unpackbits(quantize_embeddings(queries, precision="ubinary"), axis=1)[:, :dim]
        variants = {
            "float32": (queries @ corpus.T, dim * 4),
            "int8": (int8_queries.astype(np.float32) @ int8_corpus.astype(np.float32).T, dim),
            # Hamming similarity: bits that agree (a higher score is closer).
            "binary": (-(bits_queries[:, None, :] != bits_corpus[None, :, :]).sum(axis=2).astype(np.float32),
                       int(np.ceil(dim / 8))),
        }
        for precision, (scores, size) in variants.items():
            metrics = per_query_metrics(rank_by_scores(scores, enc.corpus_ids), relevant).mean()
            rows.append({"system": system, "dim": dim, "precision": precision, "bytes": size, **metrics.to_dict()})
    return pd.DataFrame(rows)
