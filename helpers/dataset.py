"""From documents and evidence-anchored questions to training pairs and IR evaluation sets.

Two split regimes:
- ``chunks`` (the published system's): chunks are split; a question follows its chunks, so
  test questions ask about text the model never trained on.
- ``questions``: questions are split; test questions are new questions about chunks that
  may have been trained on (the "more questions about my own docs" use case).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from helpers.config import CORPUS_DIR, QUESTIONS_DIR, Profile
from helpers.corpus import Chunk, Document, chunk_documents, load_corpus
from helpers.jsonl import read_jsonl, write_jsonl
from helpers.questions import Question, load_questions, map_to_chunks

SPLITS = ("train", "val", "test")


@dataclass
class CourseData:
    """The corpus as chunks, the questions, and each question's relevant chunks (best first)."""

    documents: list[Document]
    chunks: list[Chunk]
    questions: list[Question]
    relevant: dict[str, list[str]]

    @property
    def chunk_text(self) -> dict[str, str]:
        return {c.id: c.text for c in self.chunks}


def build_course_data(
    corpus_dir: Path = CORPUS_DIR,
    questions_dir: Path = QUESTIONS_DIR,
    chunk_size: int = 750,
    chunk_overlap: int = 20,
) -> CourseData:
    """Load, chunk and map: the single entry point notebooks and commands share."""
    documents = load_corpus(corpus_dir)
    chunks = chunk_documents(documents, chunk_size, chunk_overlap)
    questions = load_questions(questions_dir)
    relevant = map_to_chunks(questions, documents, chunks)
    return CourseData(documents, chunks, questions, relevant)


def _chunk_groups(chunk_ids: list[str], relevant: dict[str, list[str]]) -> list[list[str]]:
    """Union chunks that share a question, so one question never straddles two splits."""
    parent = {cid: cid for cid in chunk_ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ids in relevant.values():
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])
    groups: dict[str, list[str]] = {}
    for cid in chunk_ids:
        groups.setdefault(find(cid), []).append(cid)
    return list(groups.values())


def split_questions(
    data: CourseData, regime: str, val_fraction: float, test_fraction: float, seed: int
) -> dict[str, list[str]]:
    """Seeded split of question ids into train/val/test under one regime."""
    rng = random.Random(seed)
    qids = sorted(data.relevant)
    if regime == "questions":
        rng.shuffle(qids)
        n_test, n_val = round(len(qids) * test_fraction), round(len(qids) * val_fraction)
        return {
            "test": sorted(qids[:n_test]),
            "val": sorted(qids[n_test : n_test + n_val]),
            "train": sorted(qids[n_test + n_val :]),
        }
    if regime != "chunks":
        raise ValueError(f"unknown split regime {regime!r}; use 'chunks' or 'questions'")
    groups = _chunk_groups([c.id for c in data.chunks], data.relevant)
    groups.sort(key=lambda g: sorted(g)[0])
    rng.shuffle(groups)
    chunk_split: dict[str, str] = {}
    targets = [("test", test_fraction), ("val", val_fraction)]
    counts = Counter(ids[0] for ids in data.relevant.values())  # questions per primary chunk
    total = len(data.relevant)
    taken: Counter = Counter()
    for group in groups:
        split = "train"
        for name, fraction in targets:
            if taken[name] < fraction * total:
                split = name
                break
        for cid in group:
            chunk_split[cid] = split
        taken[split] += sum(counts[cid] for cid in group)
    result: dict[str, list[str]] = {s: [] for s in SPLITS}
    for qid in qids:
        result[chunk_split[data.relevant[qid][0]]].append(qid)
    return result


def training_pairs(data: CourseData, qids: list[str]) -> list[dict[str, str]]:
    """(anchor, positive) rows: the question and its best chunk, in that column order."""
    by_id = {q.id: q for q in data.questions}
    text = data.chunk_text
    return [{"anchor": by_id[q].question, "positive": text[data.relevant[q][0]]} for q in qids]


def ir_split(data: CourseData, qids: list[str], protocol: str = "whole-corpus") -> dict:
    """Queries, corpus and relevant docs in InformationRetrievalEvaluator's shape.

    ``whole-corpus`` searches every chunk (the honest default); ``test-chunks-only`` searches
    only the chunks relevant to these questions (the published protocol, much easier).
    """
    by_id = {q.id: q for q in data.questions}
    relevant = {q: sorted(data.relevant[q]) for q in qids}
    if protocol == "whole-corpus":
        corpus = data.chunk_text
    elif protocol == "test-chunks-only":
        keep = {cid for ids in relevant.values() for cid in ids}
        corpus = {c.id: c.text for c in data.chunks if c.id in keep}
    else:
        raise ValueError(f"unknown protocol {protocol!r}; use 'whole-corpus' or 'test-chunks-only'")
    return {
        "queries": {q: by_id[q].question for q in qids},
        "corpus": corpus,
        "relevant_docs": relevant,
        "protocol": protocol,
    }


def prepare_pairs(profile: Profile, data: CourseData | None = None) -> dict[str, Path]:
    """Split, write train pairs and val/test IR sets under ``outputs/<profile>/pairs``."""
    data = data or build_course_data(chunk_size=profile.chunk_size, chunk_overlap=profile.chunk_overlap)
    splits = split_questions(data, profile.split_regime, profile.val_fraction, profile.test_fraction, profile.seed)
    rng = random.Random(profile.seed)
    if profile.max_train_pairs:
        splits["train"] = sorted(rng.sample(splits["train"], min(profile.max_train_pairs, len(splits["train"]))))
    if profile.max_eval_questions:
        for name in ("val", "test"):
            splits[name] = sorted(rng.sample(splits[name], min(profile.max_eval_questions, len(splits[name]))))
    out = profile.outputs / "pairs"
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / "train.jsonl", "splits": out / "splits.json"}
    write_jsonl(paths["train"], training_pairs(data, splits["train"]))
    for name in ("val", "test"):
        paths[name] = out / f"{name}_ir.json"
        paths[name].write_text(json.dumps(ir_split(data, splits[name]), ensure_ascii=False), encoding="utf-8")
    paths["splits"].write_text(
        json.dumps({"regime": profile.split_regime, "seed": profile.seed, **splits}, indent=1), encoding="utf-8"
    )
    return paths


def load_ir(path: Path) -> dict:
    """Read an IR set written by :func:`prepare_pairs`; relevant docs come back as sets."""
    ir = json.loads(Path(path).read_text(encoding="utf-8"))
    ir["relevant_docs"] = {q: set(ids) for q, ids in ir["relevant_docs"].items()}
    return ir


def load_pairs(path: Path) -> list[dict[str, str]]:
    """Read training pairs (JSON Lines of anchor/positive)."""
    return read_jsonl(path)
