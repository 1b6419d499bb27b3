"""The committed data the figures draw from: ``data/corpus`` cut by the lessons' own code, and ``data/questions``.

Nothing here reads ``outputs/``: the figures must be drawable on a fresh clone (and in CI) before any notebook ran.
"""

from __future__ import annotations

from functools import lru_cache

from helpers.config import CORPUS_DIR, PROFILES, QUESTIONS_DIR
from helpers.data import Chunk, Document, load_questions, scan_corpus
from helpers.data.dataset import evidence_course_data
from helpers.lessons.chunking import chunk_documents
from helpers.lessons.splits import CourseData

DEFAULT = PROFILES["default"]  # the figures show the offline default's settings


@lru_cache(maxsize=1)
def documents() -> tuple[Document, ...]:
    """The course corpus, extracted as notebook 01 does."""
    return tuple(scan_corpus(CORPUS_DIR).documents)


@lru_cache(maxsize=4)
def chunks(chunk_size: int = DEFAULT.chunk_size, chunk_overlap: int = DEFAULT.chunk_overlap) -> tuple[Chunk, ...]:
    """The corpus cut by the course's ``chunk_documents``."""
    return tuple(chunk_documents(list(documents()), chunk_size, chunk_overlap))


@lru_cache(maxsize=1)
def course_data() -> CourseData:
    """The shipped questions mapped onto the default chunks, as notebook 02 builds them."""
    docs = list(documents())
    known = {d.name for d in docs}
    questions = [q for q in load_questions(QUESTIONS_DIR) if q.document in known]
    return evidence_course_data(questions, docs, list(chunks()))
