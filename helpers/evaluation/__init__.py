"""Evaluation (notebooks 04-05): metrics over notebook 04's retrieval code, paired bootstrap, quantized scores, and
the plots. ``benchmarks`` (the ``bench-eval`` command) is imported as a module of its own."""

from helpers.evaluation.metrics import (
    MatryoshkaIREvaluator,
    clustered_rows,
    dequantize_int8,
    evaluate_bm25,
    evaluate_model,
    paired_bootstrap,
    quantized_metrics,
    question_clusters,
    summarize,
)
from helpers.evaluation.plots import (
    COLORS,
    LABELS,
    ndcg_by_dim,
    paired_differences,
    plot_bytes,
    plot_dims,
    plot_paired_differences,
    plot_val_curve,
)
from helpers.lessons.retrieval import (
    Encoded,
    encode_ir,
    evaluate_encoded,
    per_query_metrics,
    rank_by_scores,
    truncate_normalize,
)

__all__ = [
    "COLORS",
    "Encoded",
    "LABELS",
    "MatryoshkaIREvaluator",
    "clustered_rows",
    "dequantize_int8",
    "encode_ir",
    "evaluate_bm25",
    "evaluate_encoded",
    "evaluate_model",
    "ndcg_by_dim",
    "paired_bootstrap",
    "paired_differences",
    "per_query_metrics",
    "plot_bytes",
    "plot_dims",
    "plot_paired_differences",
    "plot_val_curve",
    "quantized_metrics",
    "question_clusters",
    "rank_by_scores",
    "summarize",
    "truncate_normalize",
]
