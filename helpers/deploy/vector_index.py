"""Plumbing around notebook 07's index recipes (``helpers/lessons/index_recipes.py``, exported from the notebook):
which configurations to compare, quality and scale tables, synthetic distractors, memory arithmetic,
the trade-off plot, and writing / reading the served index under ``outputs/<profile>/index``.

The recipes themselves (building each faiss index, rescoring, the Matryoshka funnel, Milvus) are taught
in notebook 07; ``python -m helpers bench-index`` and notebook 06's playground run the same code.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.evaluation.metrics import Encoded, per_query_metrics, truncate_normalize
from helpers.lessons.index_recipes import IndexConfig, build, build_index, search

INDEX_FOLDER = "index"
SYNTHETIC_NOTE = ("corpus = the real chunks plus synthetic distractors drawn from a Gaussian with the real chunk "
                  "vectors' mean and covariance; queries = the real test questions")


def quality_configs(dims: list[int], multiplier: int = 4, funnel_multiplier: int = 10) -> list[IndexConfig]:
    """Every index kind at every dim, quantized shortlists rescored at their own dim, funnels from each
    smaller dim to the full one (``dims[0]``), and the configurations :func:`scale_configs` times."""
    full = dims[0]
    configs = []
    for dim in dims:
        configs += [IndexConfig(kind, dim) for kind in ("flat", "hnsw", "int8", "binary", "binary-hnsw")]
        configs += [IndexConfig("int8", dim, dim, multiplier), IndexConfig("binary", dim, dim, multiplier)]
    for dim in dims[1:]:
        configs += [IndexConfig("flat", dim, full, funnel_multiplier), IndexConfig("binary", dim, full, funnel_multiplier)]
    return configs + [c for c in scale_configs(full) if c not in configs]


def scale_configs(full: int, multiplier: int = 4, deep: int = 40) -> list[IndexConfig]:
    """The configurations timed at scale: exact search first (the reference), then the candidates.

    Among many distractors the top 10 sit in a crowd of near-ties, so the funnels get deep shortlists
    (``k * deep`` and ``k * 5 * deep`` candidates); re-ranking a few thousand float32 vectors still costs far
    less than one scan of the corpus.
    """
    small = [d for d in (128, 64) if d < full]
    return [
        IndexConfig("flat", full),
        IndexConfig("hnsw", full),
        IndexConfig("int8", full),
        IndexConfig("int8", full, full, multiplier),
        IndexConfig("binary", full),
        IndexConfig("binary", full, full, multiplier),
        IndexConfig("binary", full, full, deep),
        IndexConfig("binary", full, full, 5 * deep),
        IndexConfig("binary-hnsw", full, full, deep),
        *[IndexConfig("flat", d, full, deep) for d in small],
        *[IndexConfig("hnsw", d, full, deep) for d in small[:1]],
    ]


def recall_against(ids: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per query: the share of the reference's top-k rows that ``ids`` also returned."""
    k = reference.shape[1]
    return np.array([len(set(a[:k].tolist()) & set(b.tolist())) / k for a, b in zip(ids, reference)])


def ranking_metrics(ids: np.ndarray, chunk_ids: list[str], relevant: list[set[str]]) -> pd.DataFrame:
    """ndcg@10 and recall@10 per query for rows of ``ids`` (``-1`` = no hit)."""
    ranked = [[chunk_ids[i] for i in row if i >= 0] for row in ids]
    return per_query_metrics(ranked, relevant)[["ndcg@10", "recall@10"]]


def quality_table(enc: Encoded, relevant_docs: dict, configs: list[IndexConfig], system: str,
                  k: int = 10) -> pd.DataFrame:
    """Each configuration on the test questions against the whole corpus: ndcg@10, recall@10, and
    recall@10 against exact float32 search at the full dim."""
    relevant = [set(relevant_docs[q]) for q in enc.query_ids]
    corpus = truncate_normalize(enc.corpus, enc.corpus.shape[1])
    exact, _ = search(IndexConfig("flat", corpus.shape[1]), build_index("flat", corpus), enc.queries, k)
    rerank_cache: dict[int, np.ndarray] = {}
    rows = []
    for config in configs:
        rerank_vectors = None
        if config.rerank_dim is not None:
            rerank_vectors = rerank_cache.setdefault(config.rerank_dim, truncate_normalize(corpus, config.rerank_dim))
        ids, _ = search(config, build(config, corpus), enc.queries, k, rerank_vectors)
        metrics = ranking_metrics(ids, enc.corpus_ids, relevant).mean()
        rows.append({"system": system, "config": config.name, "kind": config.kind, "dim": config.dim,
                     "rerank_dim": config.rerank_dim, "bytes_per_vector": config.bytes_per_vector,
                     "ndcg@10": metrics["ndcg@10"], "recall@10": metrics["recall@10"],
                     "recall@10_vs_exact": recall_against(ids, exact).mean()})
    return pd.DataFrame(rows)


def quality_side_by_side(quality: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration; base and fine-tuned ndcg@10, recall@10 and recall against exact side by side."""
    table = quality.pivot_table(index=["config", "bytes_per_vector"], columns="system", sort=False,
                                values=["ndcg@10", "recall@10", "recall@10_vs_exact"])
    table.columns = [f"{metric} {system}" for metric, system in table.columns]
    return table.round(3)


def scale_summary(scale: pd.DataFrame) -> pd.DataFrame:
    """The scale table with rounded figures, one row per (size, configuration)."""
    columns = ["vectors", "config", "build_s", "index_mib", "p50_ms", "p95_ms", "speed-up_vs_exact",
               "recall@10_vs_exact", "ndcg@10"]
    return scale[columns].round({"build_s": 1, "index_mib": 1, "p50_ms": 3, "p95_ms": 3, "speed-up_vs_exact": 1,
                                 "recall@10_vs_exact": 3, "ndcg@10": 3})


def synthetic_distractors(corpus: np.ndarray, n: int, seed: int = 0, shrinkage: float = 0.1,
                          block: int = 100_000) -> np.ndarray:
    """``n`` unit vectors from a Gaussian with the corpus vectors' mean and covariance.

    The covariance of a few hundred chunks in hundreds of dims is singular, so it is shrunk towards its
    average variance (``shrinkage``) before sampling. Drawn in blocks to bound memory.
    """
    rng = np.random.default_rng(seed)
    mean = corpus.mean(axis=0)
    covariance = np.cov(corpus, rowvar=False)
    dim = covariance.shape[0]
    covariance = (1 - shrinkage) * covariance + shrinkage * np.trace(covariance) / dim * np.eye(dim)
    factor = np.linalg.cholesky(covariance).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, block):
        size = min(block, n - start)
        draw = rng.standard_normal((size, dim), dtype=np.float32) @ factor.T + mean.astype(np.float32)
        out[start: start + size] = draw / np.linalg.norm(draw, axis=1, keepdims=True)
    return out


def index_bytes(index) -> int:
    """Bytes of a faiss index once serialized: its vectors plus, for HNSW, the graph's links."""
    import faiss

    serialize = faiss.serialize_index_binary if isinstance(index, faiss.IndexBinary) else faiss.serialize_index
    return int(serialize(index).nbytes)


@contextmanager
def single_threaded(threads: int = 1):
    """faiss (OpenMP) and numpy's BLAS on ``threads`` threads inside the block; the previous counts after.

    One query is too small to share between threads: on a busy 2-core machine, threads spinning while they
    wait for each other turned a 0.1 ms search into 20 ms.
    """
    import faiss
    from threadpoolctl import threadpool_limits  # installed with sentence-transformers (via scikit-learn)

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        faiss.omp_set_num_threads(previous)


def time_queries(config: IndexConfig, index, queries: np.ndarray, rerank_vectors: np.ndarray | None,
                 k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Search one query at a time (as a server answers them); returns the ids and milliseconds per query.
    Run it inside :func:`single_threaded` to time one query per core."""
    search(config, index, queries[:1], k, rerank_vectors)  # warm-up: first-call allocations
    ids, ms = [], []
    for query in queries:
        start = time.perf_counter()
        found, _ = search(config, index, query[None, :], k, rerank_vectors)
        ms.append((time.perf_counter() - start) * 1000)
        ids.append(found[0])
    return np.stack(ids), np.array(ms)


def scale_benchmark(enc: Encoded, relevant_docs: dict, configs: list[IndexConfig], sizes: list[int],
                    seed: int = 0, threads: int = 1, max_hnsw_full: int = 200_000, progress: bool = True,
                    k: int = 10) -> pd.DataFrame:
    """Build time, index bytes, per-query latency (p50, p95) and recall@10 against exact float32 search for
    each configuration at each corpus size (real chunks + synthetic distractors, see :data:`SYNTHETIC_NOTE`).

    Queries run one at a time on ``threads`` faiss threads. Float HNSW at the full dim is skipped above
    ``max_hnsw_full`` vectors: its build grows to many minutes on 2 cores.
    """
    from tqdm.auto import tqdm

    relevant = [set(relevant_docs[q]) for q in enc.query_ids]
    real = truncate_normalize(enc.corpus, enc.corpus.shape[1])
    full = real.shape[1]
    rows = []
    bar = tqdm(total=len(sizes) * len(configs), desc="index x size", disable=not progress)
    for size in sizes:
        extra = max(0, size - len(real))
        corpus = np.concatenate([real, synthetic_distractors(real, extra, seed)]) if extra else real
        chunk_ids = enc.corpus_ids + [f"synthetic-{i}" for i in range(extra)]
        rerank_cache: dict[int, np.ndarray] = {full: corpus}
        exact = None
        for config in configs:
            bar.set_postfix_str(f"{size:,} {config.name}")
            if config.kind == "hnsw" and config.dim == full and size > max_hnsw_full:
                bar.update()
                continue
            start = time.perf_counter()
            index = build(config, corpus)
            build_s = time.perf_counter() - start
            rerank_vectors = None
            if config.rerank_dim is not None:
                rerank_vectors = rerank_cache.setdefault(config.rerank_dim, truncate_normalize(corpus, config.rerank_dim))
            with single_threaded(threads):
                ids, ms = time_queries(config, index, enc.queries, rerank_vectors, k)
            if exact is None:  # the first configuration is exact float32 search at the full dim
                exact = ids
            metrics = ranking_metrics(ids, chunk_ids, relevant).mean()
            rows.append({"vectors": size, "config": config.name, "kind": config.kind, "dim": config.dim,
                         "rerank_dim": config.rerank_dim, "build_s": build_s, "index_mib": index_bytes(index) / 2**20,
                         "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
                         "recall@10_vs_exact": recall_against(ids, exact).mean(), "ndcg@10": metrics["ndcg@10"]})
            del index
            bar.update()
    bar.close()
    table = pd.DataFrame(rows)
    exact_ms = table[table.config == configs[0].name].set_index("vectors")["p50_ms"]
    table["speed-up_vs_exact"] = table.vectors.map(exact_ms) / table.p50_ms
    return table


def memory_table(scale: pd.DataFrame, n_vectors: int = 100_000_000) -> pd.DataFrame:
    """RAM each configuration's index would need for ``n_vectors``, by arithmetic from the bytes per vector
    measured at the largest size (HNSW links included); re-ranking vectors (float32 at their dim) listed
    apart, since they can stay on disk and be read for the shortlist only."""
    largest = scale[scale.vectors == scale.vectors.max()]
    rows = []
    for row in largest.itertuples():
        per_vector = row.index_mib * 2**20 / row.vectors
        rerank = 0 if pd.isna(row.rerank_dim) else 4 * int(row.rerank_dim)
        rows.append({"config": row.config, "bytes_per_vector": round(per_vector, 1),
                     "index_GiB": per_vector * n_vectors / 2**30, "rerank_vectors_GiB": rerank * n_vectors / 2**30})
    return pd.DataFrame(rows).assign(vectors=n_vectors)


def budget_table(scale: pd.DataFrame, n_vectors: int, budget_mib: float, max_p95_ms: float) -> pd.DataFrame:
    """Per configuration timed at the largest size: its ndcg@10 there (real questions among the real chunks and
    the distractors), index RAM for ``n_vectors`` (bytes per vector measured at that size), p95 latency there,
    and whether it fits the budget."""
    table = scale[scale.vectors == scale.vectors.max()].copy()
    table["index_mib_at_n"] = table.index_mib / table.vectors * n_vectors
    table["fits"] = (table.index_mib_at_n <= budget_mib) & (table.p95_ms <= max_p95_ms)
    return table[["config", "ndcg@10", "index_mib_at_n", "p95_ms", "fits"]].sort_values("ndcg@10", ascending=False)


def pareto_front(table: pd.DataFrame, cost: str, quality: str = "ndcg@10") -> pd.Series:
    """True for rows no other row beats: at most the cost and at least the quality, better in one."""
    costs, values = table[cost].to_numpy(), table[quality].to_numpy()
    front = []
    for c, v in zip(costs, values):
        dominated = ((costs <= c) & (values >= v) & ((costs < c) | (values > v))).any()
        front.append(not dominated)
    return pd.Series(front, index=table.index)


def plot_tradeoffs(quality: pd.DataFrame, scale: pd.DataFrame, path: Path, title: str = ""):
    """Left: ndcg@10 on the real corpus against bytes per vector (every configuration). Right: ndcg@10 at the
    largest size timed (real chunks + distractors) against p50 latency there. Pareto fronts drawn as steps,
    front points labelled."""
    import matplotlib.pyplot as plt

    largest = scale[scale.vectors == scale.vectors.max()]
    timed = largest
    from matplotlib.lines import Line2D

    kind_colors = {"flat": "#1f77b4", "hnsw": "#17becf", "int8": "#ff7f0e", "binary": "#2ca02c",
                   "binary-hnsw": "#98df8a"}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    panels = ((axes[0], quality, "bytes_per_vector", "bytes per vector in the index (log scale)"),
              (axes[1], timed, "p50_ms", f"p50 ms per query at {int(largest.vectors.max()):,} vectors (log scale)"))
    for ax, table, cost, label in panels:
        front = pareto_front(table, cost)
        colors = table.kind.map(kind_colors)
        reranked = table.rerank_dim.notna()
        ax.scatter(table[cost][~reranked], table["ndcg@10"][~reranked], c=colors[~reranked], marker="o", alpha=0.7)
        ax.scatter(table[cost][reranked], table["ndcg@10"][reranked], c=colors[reranked], marker="^", alpha=0.9)
        best = table[front].sort_values(cost)
        ax.step(best[cost], best["ndcg@10"], where="post", color="black", linewidth=1)
        for _, row in best.iterrows():
            ax.annotate(row["config"], (row[cost], row["ndcg@10"]), fontsize=6, xytext=(3, -8),
                        textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("ndcg@10, fine-tuned model, test questions vs the real corpus")
    axes[1].set_ylabel("ndcg@10, same questions, real chunks + synthetic distractors")
    axes[0].set_title("quality vs memory (colour = index kind)")
    axes[1].set_title("quality vs latency, one query at a time, 1 thread")
    handles = [Line2D([], [], color=c, marker="s", linestyle="", label=k) for k, c in kind_colors.items()]
    handles += [Line2D([], [], color="grey", marker="o", linestyle="", label="index alone"),
                Line2D([], [], color="grey", marker="^", linestyle="", label="shortlist re-ranked with float32"),
                Line2D([], [], color="black", label="Pareto front")]
    axes[0].legend(handles=handles, fontsize=7, loc="lower right")
    fig.suptitle(title or "every configuration; black steps = Pareto front (nothing is both cheaper and better)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return fig


# Persisting and serving -------------------------------------------------------------------------------------
@dataclass
class ServedIndex:
    """An index written by :func:`save_index`, ready to answer queries: ids in corpus order, the faiss index,
    and the float32 re-ranking vectors memory-mapped from disk (read for the shortlist only)."""

    config: IndexConfig
    index: object
    chunk_ids: list[str]
    rerank_vectors: np.ndarray | None
    model: str
    folder: Path

    @property
    def name(self) -> str:
        return f"faiss {self.config.name}"

    def search(self, query: np.ndarray, k: int = 10) -> tuple[list[str], list[float], float]:
        """Chunk ids and scores for one full-dim query vector, and the search's milliseconds."""
        with single_threaded():
            start = time.perf_counter()
            ids, scores = search(self.config, self.index, np.asarray(query, dtype=np.float32).reshape(1, -1),
                                 min(k, len(self.chunk_ids)), self.rerank_vectors)
            ms = (time.perf_counter() - start) * 1000
        keep = ids[0] >= 0
        return [self.chunk_ids[i] for i in ids[0][keep]], scores[0][keep].astype(float).tolist(), ms


def save_index(folder: Path, config: IndexConfig, corpus: np.ndarray, chunk_ids: list[str], model: str) -> Path:
    """Build ``config``'s index over full-dim ``corpus`` and write it with everything needed to serve it:
    ``index.faiss``, ``rerank.npy`` (float32 at the re-rank dim, when it re-ranks), ``ids.json``, ``meta.json``."""
    import faiss

    folder.mkdir(parents=True, exist_ok=True)
    index = build(config, corpus)
    writer = faiss.write_index_binary if config.is_binary else faiss.write_index
    writer(index, str(folder / "index.faiss"))
    rerank_file = folder / "rerank.npy"
    if config.rerank_dim is not None:
        np.save(rerank_file, truncate_normalize(corpus, config.rerank_dim).astype(np.float32))
    elif rerank_file.exists():
        rerank_file.unlink()
    (folder / "ids.json").write_text(json.dumps(chunk_ids))
    meta = {"config": asdict(config), "name": config.name, "vectors": len(chunk_ids), "model": model,
            "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return folder


def load_index(folder: Path) -> ServedIndex | None:
    """The index written by :func:`save_index` in ``folder``, or None when there is none."""
    import faiss

    meta_file = folder / "meta.json"
    if not meta_file.exists():
        return None
    meta = json.loads(meta_file.read_text())
    config = IndexConfig(**meta["config"])
    reader = faiss.read_index_binary if config.is_binary else faiss.read_index
    index = reader(str(folder / "index.faiss"))
    rerank = np.load(folder / "rerank.npy", mmap_mode="r") if config.rerank_dim is not None else None
    return ServedIndex(config, index, json.loads((folder / "ids.json").read_text()), rerank, meta["model"], folder)
