"""Search playground (notebook 06): one question, top-k chunks from the base model, the fine-tuned model, BM25
their hybrid and the reranked hybrid side by side, at any Matryoshka dim. ``search`` builds and times it; ``ui`` shows it (table, HTML, widgets)."""

from helpers.workshop.playground.search import (
    HYBRID,
    RERANKED,
    Playground,
    build_playground,
    latency_summary,
    load_playground,
    one_cpu_thread,
    time_queries,
)
from helpers.workshop.playground.ui import build_ui, render_html, side_by_side, widgets_available

__all__ = [
    "HYBRID",
    "RERANKED",
    "Playground",
    "build_playground",
    "latency_summary",
    "load_playground",
    "one_cpu_thread",
    "time_queries",
    "build_ui",
    "render_html",
    "side_by_side",
    "widgets_available",
]
