"""``python -m helpers validate-data``: check ``data/`` and print its counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from helpers.config import CORPUS_DIR, QUESTIONS_DIR
from helpers.dataset import build_course_data
from helpers.questions import questions_per_chunk


def validate_data(
    corpus_dir: Path = CORPUS_DIR,
    questions_dir: Path = QUESTIONS_DIR,
    chunk_size: int = 750,
    chunk_overlap: int = 20,
    min_questions_per_chunk: int = 0,
) -> dict:
    """Validate the corpus and questions; raise DataError naming file, line and field on a problem.

    Returns the counts that ``validate-data`` prints.
    """
    data = build_course_data(corpus_dir, questions_dir, chunk_size, chunk_overlap)
    per_chunk = questions_per_chunk(data.relevant, data.chunks)
    per_doc = Counter(q.document for q in data.questions)
    values = sorted(per_chunk.values())
    report = {
        "documents": len(data.documents),
        "characters": sum(len(d.text) for d in data.documents),
        "formats": dict(Counter(Path(d.name).suffix for d in data.documents)),
        "chunks": len(data.chunks),
        "questions": len(data.questions),
        "kinds": dict(Counter(q.kind for q in data.questions)),
        "questions_per_chunk_min": values[0],
        "questions_per_chunk_median": values[len(values) // 2],
        "questions_per_chunk_max": values[-1],
        "chunks_under_minimum": [c.id for c in data.chunks if per_chunk[c.id] < min_questions_per_chunk],
        "questions_per_document": dict(sorted(per_doc.items())),
        "documents_without_questions": sorted({d.name for d in data.documents} - set(per_doc)),
    }
    return report
