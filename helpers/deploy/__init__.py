"""Deployment (notebook 07): faiss indexes of the fine-tuned vectors, their quality against exact search, the
scale benchmark, and the saved index the playground serves. Imports faiss: only notebook 07 and ``bench-index``
need it."""

from helpers.deploy.vector_index import (
    SYNTHETIC_NOTE,
    budget_table,
    load_index,
    memory_table,
    plot_tradeoffs,
    quality_configs,
    quality_side_by_side,
    quality_table,
    ranking_metrics,
    recall_against,
    save_index,
    scale_benchmark,
    scale_configs,
    scale_summary,
    single_threaded,
)
from helpers.lessons.index_recipes import IndexConfig, build, build_index, rerank, search

__all__ = [
    "SYNTHETIC_NOTE",
    "IndexConfig",
    "budget_table",
    "build",
    "build_index",
    "load_index",
    "memory_table",
    "plot_tradeoffs",
    "quality_configs",
    "quality_side_by_side",
    "quality_table",
    "ranking_metrics",
    "recall_against",
    "rerank",
    "save_index",
    "scale_benchmark",
    "scale_configs",
    "scale_summary",
    "search",
    "single_threaded",
]
