"""What the playground (notebook 06) picks up from later notebooks when it is there and still current: notebook 07's
saved index, notebook 08's cross-encoder with its rerank depth. Each loader returns nothing, with one line saying
why, when the output is missing or older than the fine-tuned model it was made from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.config import Profile, reranker_settings


def newer_model_than(profile: Profile, made: Path) -> bool:
    """True when a file of notebook 03's fine-tuned model is newer than ``made``: ``made`` came from an older model."""
    tuned = profile.outputs / "matryoshka" / "model"
    newest_model_file = max((p.stat().st_mtime for p in tuned.rglob("*") if p.is_file()), default=0.0)
    return newest_model_file > made.stat().st_mtime


def saved_index(profile: Profile, corpus_ids: list[str]):
    """Notebook 07's saved index for this profile, or None (with a line saying why) when there is none, it
    holds other chunks, or the fine-tuned model is newer than it."""
    from helpers.deploy.vector_index import INDEX_FOLDER, load_index

    folder = profile.outputs / INDEX_FOLDER
    meta = folder / "meta.json"
    if not meta.exists():
        return None
    if newer_model_than(profile, meta):
        print(f"not using {folder}: the fine-tuned model is newer than the index; re-run notebook 07 to rebuild it")
        return None
    index = load_index(folder)
    if sorted(index.chunk_ids) != sorted(corpus_ids):
        print(f"not using {folder}: it holds other chunks than this corpus; re-run notebook 07 to rebuild it")
        return None
    return index


def saved_reranker(profile: Profile) -> tuple[Any, int]:
    """Notebook 08's cross-encoder and its rerank depth (``results/rerank_choice.json``), or (None, 0) with a line
    saying why when notebook 08 has not run or ran before the fine-tuned model last changed."""
    from helpers.training import load_cross_encoder

    choice_file = profile.outputs / "results" / "rerank_choice.json"
    if not choice_file.exists():
        return None, 0
    if newer_model_than(profile, choice_file):
        print("no reranked column: the fine-tuned model is newer than notebook 08's reranker; re-run notebook 08")
        return None, 0
    choice = json.loads(choice_file.read_text(encoding="utf-8"))
    source = choice["reranker"]  # the trained model's folder, or LAB_RERANKER's hub id or path
    if Path(source).parts[-2:] == ("reranker", "model"):
        source = profile.outputs / "reranker" / "model"  # this profile's trained model, wherever the outputs are now
        if not source.is_dir():
            print(f"no reranked column: {source} is gone; re-run notebook 08")
            return None, 0
    try:
        return load_cross_encoder(source, reranker_settings(profile).max_length), int(choice["depth"])
    except OSError as why:  # a hub id with no network, a folder moved away
        print(f"no reranked column: notebook 08's reranker {source} does not load ({why}); re-run notebook 08")
        return None, 0
