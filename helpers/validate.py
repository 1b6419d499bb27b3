"""``python -m helpers validate-data``: check a corpus and its questions, and print their counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from helpers.config import CORPUS_DIR, QUESTIONS_DIR
from helpers.corpus import chunk_documents, is_course_corpus, scan_corpus
from helpers.dataset import load_user_questions
from helpers.questions import questions_per_chunk

# The shipped data promises three questions per chunk; a user's own 30-50 questions cannot.
COURSE_MIN_PER_CHUNK = 3


def default_min_per_chunk(corpus_dir: Path) -> int:
    """3 for the course's own corpus, 0 for any other folder."""
    return COURSE_MIN_PER_CHUNK if is_course_corpus(corpus_dir) else 0


def validate_data(
    corpus_dir: Path = CORPUS_DIR,
    questions_dir: Path = QUESTIONS_DIR,
    chunk_size: int = 750,
    chunk_overlap: int = 20,
    min_questions_per_chunk: int = 0,
) -> dict:
    """Validate a corpus and its questions; raise DataError naming file, line and field on a problem.

    ``questions_dir`` is a JSONL file, a folder of them, or a published/LlamaIndex pair file. Files
    of the corpus that cannot be used are reported in ``corpus_problems``, not raised. Returns the
    counts that ``validate-data`` prints.
    """
    scan = scan_corpus(Path(corpus_dir))
    chunks = chunk_documents(scan.documents, chunk_size, chunk_overlap)
    data = load_user_questions(Path(questions_dir), scan.documents, chunks)
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
        "chunks_without_questions": sum(v == 0 for v in values),
        "chunks_under_minimum": [c.id for c in data.chunks if per_chunk[c.id] < min_questions_per_chunk],
        "questions_per_document": dict(sorted(per_doc.items())),
        "documents_without_questions": sorted({d.name for d in data.documents} - set(per_doc)),
        "skipped_files": scan.skipped,
        "corpus_problems": scan.problems,
    }
    return report
