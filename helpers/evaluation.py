"""Retrieval evaluation that encodes once and scores every Matryoshka dim.

Queries and corpus are encoded once at full dimension; for each dim the vectors are
truncated and re-normalized (truncating a unit vector breaks its unit length), ranked by
cosine similarity, and scored per query with the same definitions as
sentence-transformers' ``InformationRetrievalEvaluator`` (a test checks equality to 1e-6).
Per-query scores feed paired bootstrap confidence intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sentence_transformers.base.evaluation import SentenceEvaluator

ACCURACY_K = (1, 3, 5, 10)
PR_K = (1, 3, 5, 10)
MRR_K, NDCG_K, MAP_K = 10, 10, 100
METRICS = (
    [f"accuracy@{k}" for k in ACCURACY_K]
    + [f"{m}@{k}" for k in PR_K for m in ("precision", "recall")]
    + [f"mrr@{MRR_K}", f"ndcg@{NDCG_K}", f"map@{MAP_K}"]
)


@dataclass
class Encoded:
    """Full-dimension embeddings of an IR set's queries and corpus (float32, row-aligned)."""

    query_ids: list[str]
    corpus_ids: list[str]
    queries: np.ndarray
    corpus: np.ndarray


def encode_ir(model, ir: dict, batch_size: int = 32, show_progress_bar: bool = False) -> Encoded:
    """Encode queries (with the model's query prompt, if any) and corpus once, at full dim."""
    query_ids = [q for q in ir["queries"] if ir["relevant_docs"].get(q)]
    corpus_ids = list(ir["corpus"])
    kwargs = dict(batch_size=batch_size, convert_to_numpy=True, show_progress_bar=show_progress_bar)
    queries = model.encode_query([ir["queries"][q] for q in query_ids], **kwargs)
    corpus = model.encode_document([ir["corpus"][c] for c in corpus_ids], **kwargs)
    return Encoded(query_ids, corpus_ids, queries.astype(np.float32), corpus.astype(np.float32))


def truncate_normalize(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Keep the first ``dim`` coordinates and rescale each row to unit length."""
    cut = vectors[:, :dim]
    norms = np.linalg.norm(cut, axis=1, keepdims=True)
    return cut / np.clip(norms, 1e-12, None)


def rank_by_scores(scores: np.ndarray, corpus_ids: list[str], k: int = MAP_K) -> list[list[str]]:
    """Top-k corpus ids per query by descending score, ties broken by ascending id (like the library)."""
    id_rank = np.argsort(np.argsort(np.array(corpus_ids, dtype=object)))
    k = min(k, scores.shape[1])
    ranked = []
    for row in scores:
        order = np.lexsort((id_rank, -row))[:k]
        ranked.append([corpus_ids[i] for i in order])
    return ranked


def per_query_metrics(ranked: list[list[str]], relevant: list[set[str]]) -> pd.DataFrame:
    """Every published metric for every query (rows), as InformationRetrievalEvaluator defines them."""
    rows = []
    for hits, rel in zip(ranked, relevant):
        flags = np.array([h in rel for h in hits], dtype=float)
        row = {}
        for k in ACCURACY_K:
            row[f"accuracy@{k}"] = float(flags[:k].any())
        for k in PR_K:
            row[f"precision@{k}"] = flags[:k].sum() / k
            row[f"recall@{k}"] = flags[:k].sum() / len(rel)
        first = np.flatnonzero(flags[:MRR_K])
        row[f"mrr@{MRR_K}"] = 1.0 / (first[0] + 1) if first.size else 0.0
        discounts = 1.0 / np.log2(np.arange(2, NDCG_K + 2))
        ideal = discounts[: min(len(rel), NDCG_K)].sum()
        row[f"ndcg@{NDCG_K}"] = float((flags[:NDCG_K] * discounts[: len(flags[:NDCG_K])]).sum() / ideal)
        top = flags[:MAP_K]
        precision_at_hits = np.cumsum(top) / np.arange(1, len(top) + 1)
        row[f"map@{MAP_K}"] = float((precision_at_hits * top).sum() / min(MAP_K, len(rel)))
        rows.append(row)
    return pd.DataFrame(rows, columns=METRICS)


def evaluate_encoded(enc: Encoded, relevant_docs: dict, dims: list[int]) -> pd.DataFrame:
    """Per-query metrics for every dim from one encoding: columns dim, query_id, metrics."""
    relevant = [set(relevant_docs[q]) for q in enc.query_ids]
    frames = []
    for dim in dims:
        scores = truncate_normalize(enc.queries, dim) @ truncate_normalize(enc.corpus, dim).T
        frame = per_query_metrics(rank_by_scores(scores, enc.corpus_ids), relevant)
        frame.insert(0, "query_id", enc.query_ids)
        frame.insert(0, "dim", dim)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def evaluate_model(model, ir: dict, dims: list[int], system: str, batch_size: int = 32) -> pd.DataFrame:
    """Encode once, score every dim; returns per-query rows labelled with ``system``."""
    per_query = evaluate_encoded(encode_ir(model, ir, batch_size), ir["relevant_docs"], dims)
    per_query.insert(0, "system", system)
    return per_query


def bm25_index(texts: list[str]):
    """A bm25s index over ``texts`` with English stop words: the one BM25 set-up of the course."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    return retriever


def evaluate_bm25(ir: dict, system: str = "BM25") -> pd.DataFrame:
    """BM25 (bm25s, English stop words) on the same queries and corpus; ``dim`` is 0 (sparse)."""
    import bm25s

    query_ids = [q for q in ir["queries"] if ir["relevant_docs"].get(q)]
    corpus_ids = list(ir["corpus"])
    retriever = bm25_index([ir["corpus"][c] for c in corpus_ids])
    k = min(MAP_K, len(corpus_ids))
    query_tokens = bm25s.tokenize([ir["queries"][q] for q in query_ids], stopwords="en", show_progress=False)
    docs, _ = retriever.retrieve(query_tokens, k=k, show_progress=False)
    ranked = [[corpus_ids[i] for i in row] for row in docs]
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
