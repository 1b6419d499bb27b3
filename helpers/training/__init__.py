"""Training plumbing around notebook 03's recipe (``helpers.lessons.recipe``).

- ``modeling``: load the bundled model or a hub model (prompts, pooling, dims read from the model), devices;
- ``runs``: run folders, resume, the val history and the recipe key that decides whether a checkpoint is reused;
- ``distributed``: several GPUs with torchrun;
- ``reranker``: notebook 08's cross-encoder run: its fingerprint, reuse or resume, what is saved, loading one;
- ``study`` and ``replicate``: the recipe study and the published system's replication (commands).

Notebooks import the names below from ``helpers.training``; ``study`` and ``replicate`` are imported as modules.
"""

from helpers.training.distributed import is_main_process, world_size
from helpers.training.modeling import device_name, device_summary, embedding_dim, load_model, query_prompt
from helpers.training.reranker import BEST_METRIC as RERANKER_METRIC
from helpers.training.reranker import (
    EvaluateAtEnd,
    RerankerRun,
    finish_reranker_run,
    load_cross_encoder,
    read_summary,
    reranker_recipe,
    start_reranker_run,
)
from helpers.training.runs import TrainResult, compact_progress, finish_run, initial_metrics, recipe_of, start_run

__all__ = [
    "RERANKER_METRIC",
    "EvaluateAtEnd",
    "RerankerRun",
    "TrainResult",
    "compact_progress",
    "device_name",
    "device_summary",
    "embedding_dim",
    "finish_reranker_run",
    "finish_run",
    "initial_metrics",
    "is_main_process",
    "load_cross_encoder",
    "load_model",
    "query_prompt",
    "read_summary",
    "recipe_of",
    "reranker_recipe",
    "start_reranker_run",
    "start_run",
    "world_size",
]
