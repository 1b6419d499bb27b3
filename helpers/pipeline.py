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

from helpers.config import QUESTIONS_DIR, Profile
from helpers.data.corpus import Chunk, Document, chunk_documents, corpus_folder, load_corpus
from helpers.data.dataset import (
    CourseData,
    evidence_course_data,
    ict_course_data,
    load_ir,
    load_pairs,
    load_user_questions,
    prepare_pairs,
    question_route,
    questions_file,
    write_pairs,
)
from helpers.data.jsonl import read_jsonl, write_jsonl  # noqa: F401 (notebook 02 imports write_jsonl here)
from helpers.data.own_test import ict_all_chunks, own_test_sets, test_questions_file  # noqa: F401 (notebook 02)
from helpers.data.questions import DataError, load_questions

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
def save_corpus(profile: Profile, documents: list[Document], chunks: list[Chunk]) -> None:
    """Write ``corpus.jsonl`` and ``chunks.jsonl`` for the next notebook."""
    write_jsonl(profile.outputs / "corpus.jsonl", (asdict(d) for d in documents))
    write_jsonl(profile.outputs / "chunks.jsonl", (asdict(c) for c in chunks))


def step_load_corpus(profile: Profile, corpus_dir: Path | None = None) -> tuple[list[Document], list[Chunk]]:
    """Extract and chunk the corpus (default: ``$LAB_CORPUS`` or data/corpus); save both for the next notebook."""
    documents = load_corpus(corpus_dir or corpus_folder())
    chunks = chunk_documents(documents, profile.chunk_size, profile.chunk_overlap)
    save_corpus(profile, documents, chunks)
    return documents, chunks


# 02 -------------------------------------------------------------------------------------------
def _llm_course_data(profile: Profile, documents: list[Document], chunks: list[Chunk]) -> CourseData:
    """Questions from an OpenAI-compatible endpoint, cached per chunk under ``outputs/<profile>/``."""
    from helpers.data.generate import generate_questions, to_course_data
    from helpers.data.llm_client import LLMConfig

    result = generate_questions(chunks, LLMConfig(n_questions=2), cache_path=profile.outputs / "llm_questions.jsonl")
    print(result.summary)
    if result.failures:
        print(f"{len(result.failures)} chunk(s) got no questions after retries; they stay in the corpus as "
              "distractors. Run again to retry only those.")
    if not result.records:
        raise DataError("the LLM gave no questions for any chunk; check OPENAI_BASE_URL, the model and the key")
    return to_course_data(result.records, documents, chunks)


def load_course_data(profile: Profile, route: str | None = None, questions_dir: Path | None = None) -> CourseData:
    """Documents and chunks saved by notebook 01, plus questions from one route, mapped onto those chunks.

    ``route`` (default: :func:`helpers.data.dataset.question_route`) is shipped, file, llm or ict.
    """
    documents = [Document(**r) for r in read_jsonl(require(profile, "corpus.jsonl"))]
    chunks = [Chunk(**r) for r in read_jsonl(require(profile, "chunks.jsonl"))]
    route = route or question_route()
    if route == "ict":
        return ict_course_data(documents, chunks, seed=profile.seed)
    if route == "llm":
        return _llm_course_data(profile, documents, chunks)
    if route == "file":
        return load_user_questions(questions_dir or questions_file(), documents, chunks)
    known = {d.name for d in documents}
    questions = [q for q in load_questions(questions_dir or QUESTIONS_DIR) if q.document in known]
    if not questions:
        raise DataError(
            "none of the shipped questions (data/questions/) is about these documents: they belong to the course "
            "corpus. For your own documents set LAB_QUESTIONS=file, llm or ict (README: 'Use your own documents')"
        )
    return evidence_course_data(questions, documents, chunks)


def step_build_pairs(profile: Profile, data: CourseData | None = None, route: str | None = None) -> dict[str, Path]:
    """Notebook 02 in one call: questions from a route, split, pairs and IR sets written under ``pairs/``."""
    route = route or question_route()
    data = data or load_course_data(profile, route)
    own = test_questions_file()
    if own:  # $LAB_TEST_QUESTIONS: your own questions are the test set, the route's pairs train
        data, splits, train, val_ir, test_ir = own_test_sets(data, profile, route, own)
        return write_pairs(profile, splits, train, val_ir, test_ir, route=route)
    return prepare_pairs(profile, data, route=route)


# 03 -------------------------------------------------------------------------------------------
def step_train(profile: Profile, matryoshka: bool = True, progress: bool = True):
    """Notebook 03's ``fine_tune`` on notebook 02's pairs, choosing the checkpoint on val; returns a TrainResult."""
    from helpers.lessons.recipe import fine_tune

    pairs = load_pairs(require(profile, "pairs/train.jsonl"))
    val_ir = load_ir(require(profile, "pairs/val_ir.json"))
    return fine_tune(profile, pairs, val_ir, profile.outputs / ("matryoshka" if matryoshka else "mnrl"),
                     matryoshka=matryoshka, progress=progress)


# 04 -------------------------------------------------------------------------------------------
SYSTEMS = {"base": None, "matryoshka": "matryoshka/model", "mnrl": "mnrl/model"}


def encode_systems(profile: Profile, test_ir: dict) -> dict:
    """Load the base model and each fine-tune that exists; encode the test set once per model (``encode_ir``)."""
    from tqdm.auto import tqdm

    from helpers.evaluation.metrics import encode_ir
    from helpers.training.modeling import load_model

    encoded = {}
    for system, relative in tqdm(SYSTEMS.items(), desc="encode test set", unit="model"):
        if relative is None:
            model = load_model(profile.model, profile.max_seq_length)
        else:
            if system == "mnrl" and not (profile.outputs / relative).exists():
                continue  # the ablation is optional
            model = load_model(str(require(profile, relative)))
        encoded[system] = encode_ir(model, test_ir)
    return encoded


def _only_test_chunks(encoded, keep: set[str]):
    """The published protocol: the same embeddings, with the candidates cut to the chunks in ``keep``."""
    from helpers.evaluation.metrics import Encoded

    rows = [i for i, c in enumerate(encoded.corpus_ids) if c in keep]
    return Encoded(encoded.query_ids, [encoded.corpus_ids[i] for i in rows], encoded.queries, encoded.corpus[rows])


def score_systems(profile: Profile, encoded: dict, test_ir: dict, protocol: str = "whole-corpus"):
    """Every dim of every encoded system (``evaluate_encoded``) plus BM25, bootstrap CIs; saved under results/."""
    from helpers.config import matryoshka_dims
    from helpers.evaluation.metrics import evaluate_bm25, evaluate_encoded, paired_bootstrap, summarize

    if protocol == "test-chunks-only":
        keep = {c for ids in test_ir["relevant_docs"].values() for c in ids}
        test_ir = {**test_ir, "corpus": {c: t for c, t in test_ir["corpus"].items() if c in keep}}
        encoded = {system: _only_test_chunks(enc, keep) for system, enc in encoded.items()}
    elif protocol != "whole-corpus":
        raise ValueError(f"unknown protocol {protocol!r}; use 'whole-corpus' or 'test-chunks-only'")
    dims = matryoshka_dims(next(iter(encoded.values())).queries.shape[1])
    frames = [evaluate_encoded(enc, test_ir["relevant_docs"], dims).assign(system=system)
              for system, enc in encoded.items()]
    frames.append(evaluate_bm25(test_ir))
    per_query = pd.concat(frames, ignore_index=True)
    per_query = per_query[["system", *[c for c in per_query.columns if c != "system"]]]
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


def step_evaluate(profile: Profile, protocol: str = "whole-corpus") -> dict[str, pd.DataFrame]:
    """Notebook 04's evaluation: base, fine-tunes (Matryoshka, plain MNRL) and BM25 on the test questions."""
    test_ir = load_ir(require(profile, "pairs/test_ir.json"))
    return score_systems(profile, encode_systems(profile, test_ir), test_ir, protocol)
