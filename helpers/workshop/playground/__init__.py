"""Search playground (notebook 06): one question, top-k chunks from the base model, the fine-tuned model and
BM25 side by side, at any Matryoshka dim. ``search`` builds and times it; ``ui`` shows it (table, HTML, widgets)."""

from helpers.workshop.playground.search import (
    Playground,
    build_playground,
    latency_summary,
    load_playground,
    one_cpu_thread,
    time_queries,
)
from helpers.workshop.playground.ui import build_ui, render_html, side_by_side, widgets_available

__all__ = [
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
