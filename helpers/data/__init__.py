"""Data: documents and their chunks, question files, and synthetic pairs (notebooks 01-02).

Notebooks import the names below from ``helpers.data``; the rest of the package imports the modules:

- ``corpus``: read a folder of documents (HTML, Markdown, text, PDF) into text; ``sources``: the pinned manifest
  of the course's documents; ``questions``: the question records and where each one's evidence lies;
  ``readers``/``jsonl``: the published and LlamaIndex pair files, JSON Lines; ``validate``: ``validate-data``.
- ``dataset``: the question routes (shipped, file, llm, ict), the split and the pair files notebook 02 writes.
- ``ict``: the offline Inverse Cloze Task; ``generate`` with ``llm_client`` and ``llm_answers``: LLM questions.
- ``lineage``: what each output under ``outputs/<profile>/`` was made from (content fingerprints), which
  ``helpers.pipeline.require`` checks before a notebook reads it.

This file imports only light modules (no torch, no LangChain), so the ``data.dataset`` module, which builds on
notebook 02's ``helpers.lessons.splits``, is imported as a module of its own.
"""

from helpers.data.corpus import (
    corpus_folder,
    load_corpus,
    markdown_to_text,
    plain_to_text,
    scan_corpus,
    truncation_report,
)
from helpers.data.ict import ict_example, ict_examples
from helpers.data.questions import (
    DataError,
    Question,
    evidence_chunks,
    load_questions,
    map_to_chunks,
    questions_per_chunk,
)
from helpers.lessons.chunking import Chunk, Document, chunk_documents

__all__ = [
    "Chunk",
    "DataError",
    "Document",
    "Question",
    "chunk_documents",
    "corpus_folder",
    "evidence_chunks",
    "ict_example",
    "ict_examples",
    "load_corpus",
    "load_questions",
    "markdown_to_text",
    "plain_to_text",
    "map_to_chunks",
    "questions_per_chunk",
    "scan_corpus",
    "truncation_report",
]
