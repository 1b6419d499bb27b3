"""The course's steps as functions: each notebook calls one, and reads what the previous wrote.

Files under ``outputs/<profile>/``:
  corpus.jsonl, chunks.jsonl          <- 01_load_corpus
  pairs/{train.jsonl, val_ir.json, test_ir.json, splits.json}   <- 02_build_pairs
  matryoshka/model, mnrl/model        <- 03_train_matryoshka
  results/{per_query.csv, summary.csv, bootstrap.csv}           <- 04_evaluate_retrieval
  plots/*.png                         <- 05_plot_dims_vs_ndcg
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from helpers.config import CORPUS_DIR, QUESTIONS_DIR, Profile
from helpers.corpus import Chunk, Document, chunk_documents, load_corpus
from helpers.dataset import CourseData, load_ir, load_pairs, prepare_pairs
from helpers.jsonl import read_jsonl, write_jsonl  # noqa: F401 (notebook 02 imports write_jsonl here)
from helpers.questions import load_questions, map_to_chunks

PRODUCED_BY = {
    "chunks.jsonl": "01_load_corpus",
    "corpus.jsonl": "01_load_corpus",
    "pairs": "02_build_pairs",
    "matryoshka": "03_train_matryoshka",
    "mnrl": "03_train_matryoshka",
    "results": "04_evaluate_retrieval",
    "plots/ndcg_vs_dim.png": "05_plot_dims_vs_ndcg",
}


class MissingStepError(FileNotFoundError):
    """An earlier notebook has not been run for this profile."""


def require(profile: Profile, relative: str) -> Path:
    """Path of an earlier step's output; a clear error naming the notebook to run first."""
    path = profile.outputs / relative
    if not path.exists():
        top = relative.split("/")[0]
        notebook = PRODUCED_BY.get(top, "the previous notebook")
        raise MissingStepError(
            f"{path} is missing: run notebooks/{notebook}.ipynb first with LAB_PROFILE={profile.name} "
            f"(or `python -m helpers course --profile {profile.name}`)"
        )
    return path


# 01 -------------------------------------------------------------------------------------------
def step_load_corpus(profile: Profile, corpus_dir: Path = CORPUS_DIR) -> tuple[list[Document], list[Chunk]]:
    """Extract and chunk the corpus; save documents and chunks for the next notebook."""
    documents = load_corpus(corpus_dir)
    chunks = chunk_documents(documents, profile.chunk_size, profile.chunk_overlap)
    write_jsonl(profile.outputs / "corpus.jsonl", (asdict(d) for d in documents))
    write_jsonl(profile.outputs / "chunks.jsonl", (asdict(c) for c in chunks))
    return documents, chunks


# 02 -------------------------------------------------------------------------------------------
def load_course_data(profile: Profile, questions_dir: Path = QUESTIONS_DIR) -> CourseData:
    """Documents and chunks saved by notebook 01, plus the questions mapped onto those chunks."""
    documents = [Document(**r) for r in read_jsonl(require(profile, "corpus.jsonl"))]
    chunks = [Chunk(**r) for r in read_jsonl(require(profile, "chunks.jsonl"))]
    known = {d.name for d in documents}
    questions = [q for q in load_questions(questions_dir) if q.document in known]
    return CourseData(documents, chunks, questions, map_to_chunks(questions, documents, chunks))


def step_build_pairs(profile: Profile, data: CourseData | None = None) -> dict[str, Path]:
    return prepare_pairs(profile, data or load_course_data(profile))


# 03 -------------------------------------------------------------------------------------------
def step_train(profile: Profile, matryoshka: bool = True, progress: bool = True):
    """Train on notebook 02's pairs, choosing the checkpoint on val; returns a TrainResult."""
    from helpers.training import train

    pairs = load_pairs(require(profile, "pairs/train.jsonl"))
    val_ir = load_ir(require(profile, "pairs/val_ir.json"))
    return train(profile, pairs, val_ir, profile.outputs / ("matryoshka" if matryoshka else "mnrl"),
                 matryoshka=matryoshka, progress=progress)


# 04 -------------------------------------------------------------------------------------------
SYSTEMS = {"base": None, "matryoshka": "matryoshka/model", "mnrl": "mnrl/model"}


def step_evaluate(profile: Profile, protocol: str = "whole-corpus") -> dict[str, pd.DataFrame]:
    """Base, fine-tuned (Matryoshka and plain MNRL) and BM25 on the test questions; every dim."""
    from helpers.config import matryoshka_dims
    from helpers.evaluation import evaluate_bm25, evaluate_model, paired_bootstrap, summarize
    from helpers.modeling import embedding_dim, load_model

    test_ir = load_ir(require(profile, "pairs/test_ir.json"))
    if protocol == "test-chunks-only":
        keep = {c for ids in test_ir["relevant_docs"].values() for c in ids}
        test_ir["corpus"] = {c: t for c, t in test_ir["corpus"].items() if c in keep}
    frames = []
    dims = None
    for system, relative in SYSTEMS.items():
        if relative is None:
            model = load_model(profile.model, profile.max_seq_length)
        else:
            path = profile.outputs / relative
            if system == "mnrl" and not path.exists():
                continue  # the ablation is optional
            model = load_model(str(require(profile, relative)))
        dims = dims or matryoshka_dims(embedding_dim(model))
        frames.append(evaluate_model(model, test_ir, dims, system))
    frames.append(evaluate_bm25(test_ir))
    per_query = pd.concat(frames, ignore_index=True)
    summary = summarize(per_query)
    bootstrap = paired_bootstrap(per_query, baseline="base", seed=profile.seed)
    if "mnrl" in set(per_query.system):  # what the Matryoshka loss buys over the same budget without it
        pair = per_query[per_query.system.isin(["matryoshka", "mnrl"])]
        bootstrap = pd.concat([bootstrap, paired_bootstrap(pair, baseline="mnrl", seed=profile.seed)], ignore_index=True)
    out = profile.outputs / "results"
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if protocol == "whole-corpus" else "_test_chunks_only"
    per_query.to_csv(out / f"per_query{suffix}.csv", index=False)
    summary.to_csv(out / f"summary{suffix}.csv", index=False)
    bootstrap.to_csv(out / f"bootstrap{suffix}.csv", index=False)
    return {"per_query": per_query, "summary": summary, "bootstrap": bootstrap}
