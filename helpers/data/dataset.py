"""From documents and questions to training pairs and IR evaluation sets: the routes and the file plumbing.

The split logic itself (:class:`CourseData`, :func:`split_questions`, :func:`training_pairs`,
:func:`ir_split`) is taught in notebook 02 and exported to :mod:`helpers.lessons.splits`; it is
re-exported here so ``from helpers.data.dataset import split_questions`` keeps working.

Questions come by one of four routes (``$LAB_QUESTIONS``), all ending in the same files:
``shipped`` (data/questions, the course corpus only), ``file`` (the user's own questions),
``llm`` (any OpenAI-compatible endpoint) and ``ict`` (offline; its val/test sets are a labelled proxy).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from helpers.config import CORPUS_DIR, QUESTIONS_DIR, Profile
from helpers.data.corpus import (
    Chunk,
    Document,
    chunk_documents,
    corpus_folder,
    is_course_corpus,
    load_corpus,
    user_path,
)
from helpers.data.jsonl import read_jsonl, write_jsonl
from helpers.data.lineage import content_digest, record
from helpers.data.problems import Problem, raise_if_errors
from helpers.data.questions import (
    DataError,
    Question,
    chunks_overlapping,
    evidence_chunks,
    load_questions,
    map_to_chunks,
    quote_pattern,
)
from helpers.lessons.splits import SPLITS, CourseData, chunk_groups, ir_split, split_questions, training_pairs

__all__ = [
    "SPLITS", "CourseData", "chunk_groups", "ir_split", "split_questions", "training_pairs",
    "ROUTES", "question_route", "describe_route", "build_course_data", "load_user_questions",
    "ict_course_data", "ict_proxy_sets", "limit_splits", "write_pairs", "prepare_pairs", "load_ir", "load_pairs",
]

QUESTIONS_ENV = "LAB_QUESTIONS"
QUESTIONS_FILE_ENV = "LAB_QUESTIONS_FILE"
TEST_QUESTIONS_ENV = "LAB_TEST_QUESTIONS"  # your own questions as the test set (helpers.data.own_test)
ROUTES = ("shipped", "file", "llm", "ict")
ICT_PROXY_LABEL = (
    "ICT PROXY test set: each query is a sentence cut out of its held-out chunk, which is searched without it. "
    "It measures whether the model finds the passage a sentence came from; it does not measure real questions. "
    "For a real test set use LAB_QUESTIONS=file or llm."
)
_ROUTE_NOTES = {
    "shipped": "questions: shipped (the hand-written, evidence-anchored questions in data/questions/)",
    "file": "questions: file (your own questions from $LAB_QUESTIONS_FILE)",
    "llm": "questions: llm (an OpenAI-compatible endpoint; answers cached per chunk)",
    "ict": "questions: ict (offline Inverse Cloze Task; val/test are a PROXY, not real questions)",
}


def question_route(corpus_dir: Path | None = None) -> str:
    """The question route from ``$LAB_QUESTIONS``; unset: "shipped" for the course corpus, else "ict"."""
    value = os.environ.get(QUESTIONS_ENV, "").strip().lower()
    if not value:
        return "shipped" if is_course_corpus(corpus_dir or corpus_folder()) else "ict"
    if value not in ROUTES:
        raise ValueError(f"{QUESTIONS_ENV}={value!r}: choose one of {', '.join(ROUTES)}")
    return value


def describe_route(route: str) -> str:
    """One line saying where this run's questions come from (and, for ict, that its test set is a proxy)."""
    note = _ROUTE_NOTES[route]
    if os.environ.get(TEST_QUESTIONS_ENV, "").strip() and route in ("ict", "llm"):
        return (f"questions: {route} for training; test: your own questions from ${TEST_QUESTIONS_ENV} "
                f"({os.environ[TEST_QUESTIONS_ENV].strip()}), never trained on")
    if route == "ict" and not os.environ.get(QUESTIONS_ENV):
        note += f". Chosen because {QUESTIONS_ENV} is unset and the corpus is your own; set it to file or llm for real questions"
    return note


def questions_file() -> Path:
    """``$LAB_QUESTIONS_FILE`` for the ``file`` route; a clear error when it is unset or missing."""
    value = os.environ.get(QUESTIONS_FILE_ENV, "").strip()
    if not value:
        raise DataError(
            f"{QUESTIONS_ENV}=file needs {QUESTIONS_FILE_ENV}=<your questions: a .jsonl file or a folder of them, "
            "or a published/LlamaIndex pair file>; see notebook 02 on writing them"
        )
    path = user_path(value)
    if not path.exists():
        raise DataError(f"{QUESTIONS_FILE_ENV}={value}: no such file or folder")
    return path


# ----------------------------------------------------------------------------- the file route

def _pair_format(path: Path) -> bool:
    """True for a file in the published or LlamaIndex pair format (one JSON object with its relevance map)."""
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and ("relevant_contexts" in data or "relevant_docs" in data)


def _locate(passage: str, docs: list[Document]):
    """(document, start, end) of the first occurrence of ``passage`` in the corpus, whitespace collapsed (see
    :func:`helpers.data.questions.find_quote`); None when absent."""
    pattern = quote_pattern(passage)
    if pattern is None:
        return None
    for doc in docs:
        match = pattern.search(doc.text)
        if match:
            return doc, match.start(), match.end()
    return None


def pairs_to_course_data(path: Path, documents: list[Document], chunks: list[Chunk]) -> CourseData:
    """Questions from a published/LlamaIndex pair file, their passages located in the corpus's chunks.

    A chunk is relevant when it holds at least half of the passage, or the passage at least half of it.
    """
    from helpers.data.readers import read_pairs

    pairs = read_pairs(path)
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.document, []).append(chunk)
    questions, relevant = [], {}
    for qid, passage_ids in pairs.relevant_docs.items():
        scored: dict[str, int] = {}
        document = ""
        for pid in passage_ids:
            found = _locate(pairs.corpus[pid], documents)
            if found is None:
                raise DataError(
                    f"{path}: question {qid!r}: passage {pid!r} is not in the extracted text of any document in the "
                    "corpus (whitespace ignored); make the file from these documents, or use this course's JSONL format"
                )
            doc, start, end = found
            document = document or doc.name
            for overlap, chunk in chunks_overlapping(start, end, by_doc.get(doc.name, []), relative_to_chunk=True):
                scored[chunk.id] = max(scored.get(chunk.id, 0), overlap)
        if not scored:
            continue  # a question without passages: nothing to learn or test
        relevant[qid] = sorted(scored, key=lambda cid: -scored[cid])
        questions.append(Question(qid, pairs.queries[qid], document, evidence="", kind="file", source=f"{path}: {qid}"))
    if not questions:
        raise DataError(f"{path}: no question points to a passage; check its relevance map")
    return CourseData(documents, chunks, questions, relevant)


def load_user_questions(
    path: Path, documents: list[Document], chunks: list[Chunk], problems: list[Problem] | None = None
) -> CourseData:
    """Questions from a JSONL file or folder (this course's format) or a published/LlamaIndex pair file.

    Every record of a JSONL file is checked, its evidence located too: given a ``problems`` list, the problems
    are appended to it and the bad records left out; without one, a DataError lists every error at once.
    """
    path = Path(path)
    if _pair_format(path):
        return pairs_to_course_data(path, documents, chunks)
    found: list[Problem] = [] if problems is None else problems
    questions = load_questions(path, problems=found)
    relevant = map_to_chunks(questions, documents, chunks, problems=found)
    if problems is None:
        raise_if_errors(found)
    placed = [q for q in questions if q.id in relevant]
    return CourseData(documents, chunks, placed, relevant, touching=evidence_chunks(placed, documents, chunks))


def evidence_course_data(questions: list[Question], documents: list[Document], chunks: list[Chunk]) -> CourseData:
    """CourseData for evidence-anchored questions: relevant chunks, and every chunk touching the evidence."""
    return CourseData(documents, chunks, questions, map_to_chunks(questions, documents, chunks),
                      touching=evidence_chunks(questions, documents, chunks))


def build_course_data(
    corpus_dir: Path = CORPUS_DIR,
    questions_dir: Path = QUESTIONS_DIR,
    chunk_size: int = 750,
    chunk_overlap: int = 20,
) -> CourseData:
    """Load, chunk and map: the entry point ``validate-data`` and the commands share."""
    documents = load_corpus(corpus_dir)
    chunks = chunk_documents(documents, chunk_size, chunk_overlap)
    return load_user_questions(questions_dir, documents, chunks)


# ----------------------------------------------------------------------------- the ict route

def ict_course_data(documents: list[Document], chunks: list[Chunk], seed: int = 42) -> CourseData:
    """One ICT pseudo-question per chunk (a sentence of it), as CourseData that splits like any other."""
    from helpers.data.ict import ict_examples

    records = ict_examples(chunks, seed=seed)
    questions = [Question(r["id"], r["question"], r["document"], evidence="", kind="ict", source="ict")
                 for r in records]
    return CourseData(documents, chunks, questions, {r["id"]: [r["chunk_id"]] for r in records})


def ict_proxy_sets(data: CourseData, splits: dict[str, list[str]], seed: int = 42) -> tuple[list[dict], dict, dict]:
    """Training pairs and the labelled proxy val/test IR sets of the ``ict`` route.

    Training positives lose their query sentence most of the time (Lee et al., 2019). A val/test
    query is a sentence of a held-out chunk, and that chunk is searched *without* the sentence, so
    the query is never found by copying.
    """
    from helpers.data.ict import ict_example

    by_id = {c.id: c for c in data.chunks}
    train = []
    for q in splits["train"]:
        chunk_id = data.relevant[q][0]
        example = ict_example(by_id[chunk_id], seed=seed)
        train.append({"anchor": example["question"], "positive": example["passage"], "positive_id": chunk_id,
                      "answer_ids": [chunk_id]})
    sets = []
    for name in ("val", "test"):
        corpus = data.chunk_text
        queries, relevant = {}, {}
        for q in splits[name]:
            chunk = by_id[data.relevant[q][0]]
            example = ict_example(chunk, seed=seed, keep_probability=0.0)
            queries[q], relevant[q] = example["question"], [chunk.id]
            corpus[chunk.id] = example["passage"]
        sets.append({"queries": queries, "corpus": corpus, "relevant_docs": relevant, "protocol": "whole-corpus",
                     "label": ICT_PROXY_LABEL})
    return train, sets[0], sets[1]


# ----------------------------------------------------------------------------- writing the files

def limit_splits(splits: dict[str, list[str]], profile: Profile) -> dict[str, list[str]]:
    """A seeded subset of each split for quick profiles (``max_train_pairs``, ``max_eval_questions``)."""
    splits = dict(splits)
    rng = random.Random(profile.seed)
    if profile.max_train_pairs:
        splits["train"] = sorted(rng.sample(splits["train"], min(profile.max_train_pairs, len(splits["train"]))))
    if profile.max_eval_questions:
        for name in ("val", "test"):
            splits[name] = sorted(rng.sample(splits[name], min(profile.max_eval_questions, len(splits[name]))))
    return splits


def write_pairs(
    profile: Profile, splits: dict[str, list[str]], train: list[dict], val_ir: dict, test_ir: dict,
    route: str = "shipped", folder: str = "pairs",
) -> dict[str, Path]:
    """Write ``pairs/{train.jsonl, val_ir.json, test_ir.json, splits.json}`` (or under another ``folder`` of the
    profile's outputs); refuse an empty split."""
    for name, size in (("train", len(train)), ("val", len(val_ir["queries"])), ("test", len(test_ir["queries"]))):
        if not size:
            raise DataError(
                f"the {name} split is empty ({sum(len(v) for v in splits.values())} questions in all, route {route}); "
                "add documents or questions (see README, 'Use your own documents')"
            )
    out = profile.outputs / folder
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / "train.jsonl", "val": out / "val_ir.json", "test": out / "test_ir.json",
             "splits": out / "splits.json"}
    write_jsonl(paths["train"], train)
    for name, ir in (("val", val_ir), ("test", test_ir)):
        paths[name].write_text(json.dumps(ir, ensure_ascii=False), encoding="utf-8")
    meta = {"regime": profile.split_regime, "seed": profile.seed, "questions": route,
            "proxy": test_ir.get("label") == ICT_PROXY_LABEL, "test_label": test_ir.get("label"), **splits}
    paths["splits"].write_text(json.dumps(meta, indent=1), encoding="utf-8")
    record(profile.outputs, folder, parents=["chunks.jsonl", "corpus.jsonl"], files=[p.name for p in paths.values()],
           settings=pairs_settings(profile, route, train, val_ir, test_ir))
    return paths


def pairs_settings(profile: Profile, route: str, train: list[dict], val_ir: dict, test_ir: dict) -> dict:
    """What decided notebook 02's files besides notebook 01's chunks, for their lineage record (question files by
    the fingerprint of their content)."""
    settings = {"route": route, "split_regime": profile.split_regime, "val_fraction": profile.val_fraction,
                "test_fraction": profile.test_fraction, "seed": profile.seed, "max_train_pairs": profile.max_train_pairs,
                "max_eval_questions": profile.max_eval_questions, "train_pairs": len(train),
                "val_questions": len(val_ir["queries"]), "test_questions": len(test_ir["queries"])}
    files = {"questions_file": QUESTIONS_FILE_ENV if route == "file" else None, "own_test_questions": TEST_QUESTIONS_ENV}
    for key, env in files.items():
        value = os.environ.get(env, "").strip() if env else ""
        if value and user_path(value).exists():
            settings[key] = content_digest(user_path(value))[:12]
    if os.environ.get("LAB_ICT_ALL_CHUNKS", "").strip():
        settings["ict_all_chunks"] = os.environ["LAB_ICT_ALL_CHUNKS"].strip()
    return settings


def prepare_pairs(profile: Profile, data: CourseData | None = None, route: str = "shipped") -> dict[str, Path]:
    """Split, build pairs and IR sets, and write them: what notebook 02 does, in one call."""
    data = data or build_course_data(chunk_size=profile.chunk_size, chunk_overlap=profile.chunk_overlap)
    splits = split_questions(data, profile.split_regime, profile.val_fraction, profile.test_fraction, profile.seed)
    splits = limit_splits(splits, profile)
    if route == "ict":
        train, val_ir, test_ir = ict_proxy_sets(data, splits, seed=profile.seed)
    else:
        train, val_ir, test_ir = training_pairs(data, splits["train"]), ir_split(data, splits["val"]), ir_split(
            data, splits["test"])
    return write_pairs(profile, splits, train, val_ir, test_ir, route=route)


def load_ir(path: Path) -> dict:
    """Read an IR set written by :func:`write_pairs`; relevant docs come back as sets."""
    ir = json.loads(Path(path).read_text(encoding="utf-8"))
    ir["relevant_docs"] = {q: set(ids) for q, ids in ir["relevant_docs"].items()}
    return ir


def load_pairs(path: Path) -> list[dict[str, str]]:
    """Read training pairs (JSON Lines of anchor/positive)."""
    return read_jsonl(path)
