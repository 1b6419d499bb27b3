"""Train on generated pairs, test on your own questions (``LAB_TEST_QUESTIONS=<file>``).

A user can write 30-50 trustworthy questions about their documents, not 500. This route makes those questions
the test set (and val too when there are at least :data:`OWN_VAL_MIN` of them), never training; the training
pairs come from the ``ict`` or ``llm`` route over the other chunks. The chunks that hold an answer to one of your
questions stay out of training, so the test measures retrieval of passages the model never saw as positives;
``LAB_ICT_ALL_CHUNKS=1`` lets the ``ict`` route train on every chunk (ICT needs no labels, which is legitimate
in use: the documents are yours), and the test set's label says so.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from helpers.config import Profile
from helpers.data.corpus import user_path
from helpers.data.dataset import TEST_QUESTIONS_ENV, ict_proxy_sets, limit_splits, load_user_questions
from helpers.data.questions import DataError
from helpers.lessons.splits import CourseData, ir_split, split_questions, training_pairs

ICT_ALL_CHUNKS_ENV = "LAB_ICT_ALL_CHUNKS"
OWN_VAL_MIN = 60  # with this many questions of your own, val comes from them too (else from held-out pairs)


def test_questions_file() -> Path | None:
    """``$LAB_TEST_QUESTIONS`` (your own questions, the test set), or None when it is unset."""
    value = os.environ.get(TEST_QUESTIONS_ENV, "").strip()
    if not value:
        return None
    path = user_path(value)
    if not path.exists():
        raise DataError(f"{TEST_QUESTIONS_ENV}={value}: no such file or folder")
    return path


def ict_all_chunks() -> bool:
    """``$LAB_ICT_ALL_CHUNKS`` is set to 1/true/yes: the ``ict`` route also trains on the test chunks' text."""
    return os.environ.get(ICT_ALL_CHUNKS_ENV, "").strip().lower() in ("1", "true", "yes")


def _chunks_of(data: CourseData, qids: list[str]) -> set[str]:
    return {cid for q in qids for cid in [*data.relevant[q], *data.touching.get(q, [])]}


def own_test_sets(
    data: CourseData, profile: Profile, route: str, path: Path, all_chunks: bool | None = None
) -> tuple[CourseData, dict[str, list[str]], list[dict], dict, dict]:
    """(data with your questions added, splits, training pairs, val IR set, test IR set) for this route.

    ``data`` holds the generated questions of the ``ict`` or ``llm`` route over every chunk; ``path`` your own
    questions (validated like ``validate-data`` does: every problem of the file at once).
    """
    if route not in ("ict", "llm"):
        raise DataError(f"{TEST_QUESTIONS_ENV} goes with LAB_QUESTIONS=ict or llm (training pairs need a generator); "
                        f"got LAB_QUESTIONS={route}. With LAB_QUESTIONS=file your questions are split instead")
    all_chunks = ict_all_chunks() if all_chunks is None else all_chunks
    if all_chunks and route != "ict":
        raise DataError(f"{ICT_ALL_CHUNKS_ENV}=1 goes with LAB_QUESTIONS=ict only: LLM questions about the test "
                        "chunks would be near copies of your test questions")
    own = load_user_questions(path, data.documents, data.chunks)
    own_ids = sorted(own.relevant)
    if len(own_ids) >= OWN_VAL_MIN:  # enough of your own: val and test both come from them, chunk groups apart
        halves = split_questions(own, "chunks", 0.5, 0.5, profile.seed)
        own_val, own_test = halves["val"], sorted(halves["test"] + halves["train"])
    else:
        own_val, own_test = [], own_ids
    held = _chunks_of(own, own_test + own_val)
    generated = sorted(data.relevant)
    eligible = [q for q in generated if all_chunks or not (_chunks_of(data, [q]) & held)]
    if own_val:
        val_gen, train = [], eligible
    else:  # val: the generated questions of a seeded share of the chunks no test question touches
        free = sorted({data.relevant[q][0] for q in eligible} - held)
        val_chunks = set(random.Random(profile.seed).sample(free, max(1, round(len(free) * profile.val_fraction))))
        val_gen = [q for q in eligible if data.relevant[q][0] in val_chunks]
        train = [q for q in eligible if not (_chunks_of(data, [q]) & val_chunks)]
    merged = CourseData(data.documents, data.chunks, [*data.questions, *own.questions],
                        {**data.relevant, **own.relevant}, {**data.touching, **own.touching})
    splits = limit_splits({"train": train, "val": own_val or val_gen, "test": own_test}, profile)
    if route == "ict":
        train_pairs, val_ir, _ = ict_proxy_sets(merged, {**splits, "val": [] if own_val else splits["val"],
                                                         "test": []}, seed=profile.seed)
    else:
        train_pairs, val_ir = training_pairs(merged, splits["train"]), None
    if own_val or val_ir is None:
        val_ir = ir_split(merged, splits["val"])
    test_ir = ir_split(merged, splits["test"])
    test_ir["label"] = (
        f"YOUR OWN QUESTIONS ({path.name}, {len(splits['test'])} in the test set) as the test set; training pairs "
        f"from the {route} route, "
        + ("on every chunk (LAB_ICT_ALL_CHUNKS=1: the test chunks' text was trained on, their questions never)"
           if all_chunks else "the chunks that answer your questions held out of training")
        + ("; val from your questions too" if own_val else "; val from held-out generated pairs")
    )
    return merged, splits, train_pairs, val_ir, test_ir
