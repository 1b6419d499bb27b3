"""The course's steps as functions: each notebook calls one, and reads what the previous wrote.

Files under ``outputs/<profile>/``:
  corpus.jsonl, chunks.jsonl          <- 01_load_corpus
  pairs/{train.jsonl, val_ir.json, test_ir.json, splits.json}   <- 02_build_pairs
  matryoshka/model, mnrl/model        <- 03_train_matryoshka
  results/{hybrid_choice.json, per_query.csv, summary.csv, bootstrap.csv}   <- 04_evaluate_retrieval
  plots/*.png                         <- 05_plot_dims_vs_ndcg
  lineage/<output>.json               <- each step, for what it wrote: what it was made from (``require`` checks it)
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
from helpers.data.lineage import PRODUCED_BY, MissingStepError, StaleOutputError  # noqa: F401 (re-exported)
from helpers.data.lineage import check as check_lineage
from helpers.data.lineage import record as record_lineage
from helpers.data.own_test import ict_all_chunks, own_test_sets, test_questions_file  # noqa: F401 (notebook 02)
from helpers.data.questions import DataError, load_questions


def _how_to_run(profile: Profile) -> str:
    split = "" if profile.split_regime == "chunks" else f" --split {profile.split_regime}"
    env = "" if profile.split_regime == "chunks" else f" LAB_SPLIT={profile.split_regime}"
    return f"with LAB_PROFILE={profile.name}{env} (or `python -m helpers course --profile {profile.name}{split}`)"


def require(profile: Profile, relative: str) -> Path:
    """Path of an earlier step's output; a clear error naming the notebook to run first.

    The output must also still match what it was made from (``helpers.data.lineage``): when an earlier notebook ran
    again since, :class:`StaleOutputError` says what changed and which notebook to re-run.
    """
    path = profile.outputs / relative
    if not path.exists():
        top = relative.split("/")[0]
        notebook = PRODUCED_BY.get(top, "the previous notebook")
        raise MissingStepError(f"{path} is missing: run notebooks/{notebook}.ipynb first {_how_to_run(profile)}")
    check_lineage(profile.outputs, relative, _how_to_run(profile))
    return path


# 01 -------------------------------------------------------------------------------------------
def save_corpus(profile: Profile, documents: list[Document], chunks: list[Chunk], corpus_dir: Path | None = None
                ) -> None:
    """Write ``corpus.jsonl`` and ``chunks.jsonl`` for the next notebook, each with its lineage record."""
    write_jsonl(profile.outputs / "corpus.jsonl", (asdict(d) for d in documents))
    write_jsonl(profile.outputs / "chunks.jsonl", (asdict(c) for c in chunks))
    record_lineage(profile.outputs, "corpus.jsonl", settings={
        "corpus": Path(corpus_dir or corpus_folder()).name, "documents": len(documents),
        "characters": sum(len(d.text) for d in documents)})
    record_lineage(profile.outputs, "chunks.jsonl", parents=["corpus.jsonl"], settings={
        "corpus": Path(corpus_dir or corpus_folder()).name, "documents": len(documents),
        "chunk_size": profile.chunk_size, "chunk_overlap": profile.chunk_overlap, "chunks": len(chunks)})


def step_load_corpus(profile: Profile, corpus_dir: Path | None = None) -> tuple[list[Document], list[Chunk]]:
    """Extract and chunk the corpus (default: ``$LAB_CORPUS`` or data/corpus); save both for the next notebook."""
    documents = load_corpus(corpus_dir or corpus_folder())
    chunks = chunk_documents(documents, profile.chunk_size, profile.chunk_overlap)
    save_corpus(profile, documents, chunks, corpus_dir)
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
        merged, splits, train, val_ir, test_ir = own_test_sets(data, profile, route, own)
        paths = write_pairs(profile, splits, train, val_ir, test_ir, route=route)
        sync_held_out_pairs(profile, data, route)
        return paths
    sync_held_out_pairs(profile, data, route)
    return prepare_pairs(profile, data, route=route)


HELD_OUT_PAIRS = "pairs/held_out"


def sync_held_out_pairs(profile: Profile, data: CourseData, route: str) -> dict[str, Path] | None:
    """With your own test questions and ``LAB_ICT_ALL_CHUNKS=1``, also write the pairs of the default (your test
    chunks held out of training) under ``pairs/held_out/``: notebook 03 trains the same recipe on them, and 04
    shows both models on the same test questions. Otherwise remove that folder, so no old twin is evaluated.

    ``data`` is the route's own data, before your questions were added.
    """
    import shutil

    folder = profile.outputs / HELD_OUT_PAIRS
    if not (test_questions_file() and ict_all_chunks()):
        shutil.rmtree(folder, ignore_errors=True)
        return None
    _, splits, train, val_ir, test_ir = own_test_sets(data, profile, route, test_questions_file(), all_chunks=False)
    return write_pairs(profile, splits, train, val_ir, test_ir, route=route, folder=HELD_OUT_PAIRS)


# 03 -------------------------------------------------------------------------------------------
def step_train(profile: Profile, matryoshka: bool = True, progress: bool = True):
    """Notebook 03's ``fine_tune`` on notebook 02's pairs, choosing the checkpoint on val; returns a TrainResult."""
    from helpers.lessons.recipe import fine_tune

    pairs = load_pairs(require(profile, "pairs/train.jsonl"))
    val_ir = load_ir(require(profile, "pairs/val_ir.json"))
    return fine_tune(profile, pairs, val_ir, profile.outputs / ("matryoshka" if matryoshka else "mnrl"),
                     matryoshka=matryoshka, progress=progress)


# 04 -------------------------------------------------------------------------------------------
SYSTEMS = {"base": None, "matryoshka": "matryoshka/model", "mnrl": "mnrl/model",
           # LAB_ICT_ALL_CHUNKS=1 only: the same recipe trained with your test chunks held out (pairs/held_out/)
           "matryoshka-held-out": "matryoshka_held_out/model"}
OPTIONAL_SYSTEMS = ("mnrl", "matryoshka-held-out")  # evaluated when notebook 03 trained them


HYBRID_CHOICE = "results/hybrid_choice.json"  # the fusion chosen on val (notebook 04), read by every hybrid row
HYBRID_SYSTEMS = ("base", "matryoshka", "mnrl")  # the dense systems fused with BM25 (the held-out twin is not)


def choose_hybrid(profile: Profile, model=None, reuse=None) -> dict:
    """Choose the hybrid's fusion on val, once, and save it to ``results/hybrid_choice.json`` (with lineage).

    The grid (``fusion_grid``: RRF's k and score fusion's weight) is run on the val questions with the fine-tuned
    model; the criterion is the mean val ndcg@10 over dims of ``matryoshka+bm25`` (``choose_fusion``). ``model`` is
    that model when already loaded; ``reuse`` is its ``Encoded`` of another IR set over the same corpus (notebook
    04's test encoding), whose corpus vectors are then reused so that only the val questions are encoded. The file
    also keeps the whole val table and, for context, the val ndcg@10 of the dense model and of BM25 alone.
    """
    import json
    import time

    from helpers.config import matryoshka_dims
    from helpers.evaluation.metrics import (
        Encoded,
        encode_ir,
        evaluate_bm25,
        evaluate_encoded,
        fusion_grid,
        ir_bm25_hits,
    )
    from helpers.lessons.hybrid import RETRIEVE_DEPTH, RRF_KS, WEIGHTS, choose_fusion
    from helpers.training.modeling import load_model

    start = time.perf_counter()
    val_ir = load_ir(require(profile, "pairs/val_ir.json"))
    model = model if model is not None else load_model(str(require(profile, "matryoshka/model")))
    if reuse is not None and list(reuse.corpus_ids) == list(val_ir["corpus"]):
        query_ids = [q for q in val_ir["queries"] if val_ir["relevant_docs"].get(q)]
        queries = model.encode_query([val_ir["queries"][q] for q in query_ids], batch_size=32, convert_to_numpy=True)
        enc = Encoded(query_ids, list(reuse.corpus_ids), queries.astype("float32"), reuse.corpus)
    else:
        enc = encode_ir(model, val_ir)
    dims = matryoshka_dims(enc.queries.shape[1])
    lexical = ir_bm25_hits(val_ir, enc.query_ids, enc.corpus_ids, RETRIEVE_DEPTH)
    grid = fusion_grid(enc, lexical, val_ir["relevant_docs"], dims, RRF_KS, WEIGHTS, RETRIEVE_DEPTH)
    choice = choose_fusion(grid)
    dense = evaluate_encoded(enc, val_ir["relevant_docs"], dims).groupby("dim", sort=False)["ndcg@10"].mean()
    choice.update({
        "dense_system": "matryoshka", "depth": RETRIEVE_DEPTH, "dims": dims, "val_questions": len(enc.query_ids),
        "criterion": f"{choice['criterion']} of matryoshka+bm25", "grid": grid.to_dict("records"),
        "dense_alone": {str(d): float(v) for d, v in dense.items()},
        "bm25_alone": float(evaluate_bm25(val_ir)["ndcg@10"].mean()), "seconds": time.perf_counter() - start,
    })
    path = profile.outputs / HYBRID_CHOICE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(choice, indent=1), encoding="utf-8")
    record_lineage(profile.outputs, HYBRID_CHOICE, ["pairs/val_ir.json", "matryoshka/model"], settings={
        "method": choice["method"], "setting": choice["setting"], "depth": RETRIEVE_DEPTH,
        "grid": {"rrf k": list(RRF_KS), "score weight": list(WEIGHTS)}, "criterion": choice["criterion"]})
    return choice


def load_hybrid_choice(profile: Profile) -> dict:
    """The fusion chosen on val by :func:`choose_hybrid` (``require``: missing or stale names notebook 04)."""
    import json

    return json.loads(require(profile, HYBRID_CHOICE).read_text(encoding="utf-8"))


def hybrid_hits(choice: dict, enc, ir: dict, dim: int, k: int | None = None) -> list:
    """The chosen hybrid's ranking for every query of ``enc`` at ``dim``: per query a list of (chunk id, fused
    score), best first, the top ``k`` (default: every fused candidate). What a reranker reranks."""
    from helpers.evaluation.metrics import dense_hits, ir_bm25_hits
    from helpers.lessons.hybrid import fuse_all

    lexical = ir_bm25_hits(ir, enc.query_ids, enc.corpus_ids, choice["depth"])
    return fuse_all(dense_hits(enc, dim, choice["depth"]), lexical, choice["method"], choice["setting"], k)


def encode_systems(profile: Profile, test_ir: dict) -> dict:
    """Load the base model and each fine-tune that exists; encode the test set once per model (``encode_ir``)."""
    from tqdm.auto import tqdm

    from helpers.evaluation.metrics import encode_ir
    from helpers.training.modeling import load_model

    paths = {}  # every fine-tune is checked (``require``: present, not stale) before any model is loaded
    for system, relative in SYSTEMS.items():
        if relative is not None:
            if system in OPTIONAL_SYSTEMS and not (profile.outputs / relative).exists():
                continue  # the ablation and the held-out comparison are optional
            if system == "matryoshka-held-out" and not (profile.outputs / HELD_OUT_PAIRS).exists():
                continue  # a twin from an earlier run with LAB_ICT_ALL_CHUNKS=1
        paths[system] = None if relative is None else require(profile, relative)
    encoded = {}
    for system, path in tqdm(paths.items(), desc="encode test set", unit="model"):
        model = load_model(profile.model, profile.max_seq_length) if path is None else load_model(str(path))
        encoded[system] = encode_ir(model, test_ir)
    return encoded


def record_results(profile: Profile, systems, protocol: str = "whole-corpus", hybrid: dict | None = None) -> None:
    """Record what notebook 04's tables were made from: the test set, every fine-tuned model scored, and the
    hybrid's val choice when the tables have hybrid rows."""
    suffix = "" if protocol == "whole-corpus" else "_test_chunks_only"
    parents = ["pairs/test_ir.json", *(SYSTEMS[s] for s in systems if SYSTEMS.get(s))]
    settings = {"protocol": protocol, "systems": sorted(systems), "base_model": profile.model, "seed": profile.seed}
    if hybrid is not None:
        parents.append(HYBRID_CHOICE)
        settings["hybrid"] = f"{hybrid['method']} {hybrid['parameter']}={hybrid['setting']:g}"
    for table in ("per_query", "summary", "bootstrap"):
        if (profile.outputs / "results" / f"{table}{suffix}.csv").exists():
            record_lineage(profile.outputs, f"results/{table}{suffix}.csv", parents, settings)


def _only_test_chunks(encoded, keep: set[str]):
    """The published protocol: the same embeddings, with the candidates cut to the chunks in ``keep``."""
    from helpers.evaluation.metrics import Encoded

    rows = [i for i, c in enumerate(encoded.corpus_ids) if c in keep]
    return Encoded(encoded.query_ids, [encoded.corpus_ids[i] for i in rows], encoded.queries, encoded.corpus[rows])


def score_systems(profile: Profile, encoded: dict, test_ir: dict, protocol: str = "whole-corpus"):
    """Every dim of every encoded system (``evaluate_encoded``) plus BM25, bootstrap CIs; saved under results/.

    ``bootstrap.csv`` holds two sets of paired intervals, told apart by ``unit``: "test chunk" resamples test
    chunks with all their questions (the intervals the course reads, see ``clustered_rows``), "question"
    resamples questions one by one (too narrow, kept to show the difference).
    """
    from helpers.config import matryoshka_dims
    from helpers.evaluation.metrics import (
        evaluate_bm25,
        evaluate_encoded,
        paired_bootstrap,
        question_clusters,
        summarize,
    )

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
    choice = None  # the hybrid is scored on the whole corpus only: the published protocol's pool changes BM25's idf
    if protocol == "whole-corpus" and (profile.outputs / HYBRID_CHOICE).exists():
        choice = load_hybrid_choice(profile)
        frames += _hybrid_frames(choice, encoded, test_ir, dims)
    elif protocol == "whole-corpus":
        print(f"no {HYBRID_CHOICE} (notebook 04's `choose_hybrid`): the tables have no hybrid rows")
    per_query = pd.concat(frames, ignore_index=True)
    per_query = per_query[["system", *[c for c in per_query.columns if c != "system"]]]
    summary = summarize(per_query)
    comparisons = _comparisons(per_query, dims)
    clusters = question_clusters(test_ir["relevant_docs"])
    bootstrap = pd.concat(
        [paired_bootstrap(frame, baseline=baseline, seed=profile.seed, clusters=by)
         for by in (clusters, None) for frame, baseline in comparisons],
        ignore_index=True,
    )
    out = profile.outputs / "results"
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if protocol == "whole-corpus" else "_test_chunks_only"
    per_query.to_csv(out / f"per_query{suffix}.csv", index=False)
    summary.to_csv(out / f"summary{suffix}.csv", index=False)
    bootstrap.to_csv(out / f"bootstrap{suffix}.csv", index=False)
    record_results(profile, list(encoded), protocol, hybrid=choice)
    return {"per_query": per_query, "summary": summary, "bootstrap": bootstrap}


def _hybrid_frames(choice: dict, encoded: dict, ir: dict, dims: list[int]) -> list[pd.DataFrame]:
    """Per-query rows of each dense system of :data:`HYBRID_SYSTEMS` fused with BM25 by the val choice."""
    from helpers.evaluation.metrics import evaluate_hybrid, ir_bm25_hits
    from helpers.lessons.hybrid import hybrid_name

    fused = [s for s in HYBRID_SYSTEMS if s in encoded]
    if not fused:
        return []
    first = encoded[fused[0]]
    lexical = ir_bm25_hits(ir, first.query_ids, first.corpus_ids, choice["depth"])
    return [evaluate_hybrid(encoded[s], lexical, ir["relevant_docs"], dims, choice["method"], choice["setting"],
                            choice["depth"]).assign(system=hybrid_name(s)) for s in fused]


def _comparisons(per_query: pd.DataFrame, dims: list[int]) -> list[tuple[pd.DataFrame, str]]:
    """The (rows, baseline) pairs of the paired bootstrap: each dense system against base, Matryoshka against plain
    MNRL, and each hybrid against BM25 alone, against its own dense system alone, and against base's hybrid."""
    from helpers.lessons.hybrid import HYBRID_SUFFIX, hybrid_name

    systems = list(dict.fromkeys(per_query.system))
    hybrids = [s for s in systems if s.endswith(HYBRID_SUFFIX)]
    comparisons = [(per_query[~per_query.system.isin(hybrids)], "base")]
    if "mnrl" in systems:  # what the Matryoshka loss buys over the same budget without it
        comparisons.append((per_query[per_query.system.isin(["matryoshka", "mnrl"])], "mnrl"))
    if not hybrids:
        return comparisons
    bm25 = per_query[per_query.system == "BM25"]  # dim 0: copied to every dim, so each dim pairs with it
    bm25_at_dims = pd.concat([bm25.assign(dim=d) for d in dims], ignore_index=True)
    comparisons.append((pd.concat([per_query[per_query.system.isin(hybrids)], bm25_at_dims]), "BM25"))
    for hybrid in hybrids:
        dense = hybrid.removesuffix(HYBRID_SUFFIX)
        comparisons.append((per_query[per_query.system.isin([hybrid, dense])], dense))
    if hybrid_name("base") in hybrids and len(hybrids) > 1:  # what fine-tuning buys once BM25 is fused
        comparisons.append((per_query[per_query.system.isin(hybrids)], hybrid_name("base")))
    return comparisons


def step_evaluate(profile: Profile, protocol: str = "whole-corpus") -> dict[str, pd.DataFrame]:
    """Notebook 04's evaluation: base, fine-tunes (Matryoshka, plain MNRL), BM25 and their hybrids on the test
    questions, the hybrid's fusion chosen on val first (``choose_hybrid``)."""
    test_ir = load_ir(require(profile, "pairs/test_ir.json"))
    encoded = encode_systems(profile, test_ir)
    if protocol == "whole-corpus" and "matryoshka" in encoded:
        choose_hybrid(profile, reuse=encoded["matryoshka"])
    return score_systems(profile, encoded, test_ir, protocol)
