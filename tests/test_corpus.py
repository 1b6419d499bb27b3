"""Text extraction, chunking offsets and content-hash ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.data.corpus import (
    Document,
    chunk_documents,
    chunk_id,
    extract_text,
    html_to_text,
    load_corpus,
    plain_to_text,
)


def test_html_keeps_block_text_and_joins_inline_tags():
    html = """<html><head><title>T</title><style>p {color: red}</style></head><body>
    <h1>Title</h1><p>BM25 uses <em>k1</em>   and
    <code>b</code>.</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>"""
    assert html_to_text(html) == "Title\n\nBM25 uses k1 and b.\n\none\n\ntwo"


def test_plain_text_paragraphs_are_tidied():
    assert plain_to_text("# Head\n\nline one\nline   two\n\n\n\nlast") == "# Head\n\nline one line two\n\nlast"


def test_unsupported_file_type_is_named(tmp_path: Path):
    bad = tmp_path / "notes.docx"
    bad.write_text("x")
    with pytest.raises(ValueError, match=r"notes.docx: unsupported file type '.docx'"):
        extract_text(bad)


def test_empty_folder_says_what_to_add(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no documents"):
        load_corpus(tmp_path)


def test_chunks_have_exact_offsets_size_and_stable_ids():
    text = "\n\n".join(f"Paragraph {i} " + "word " * (20 + i * 7) for i in range(30))
    doc = Document("d.txt", text)
    chunks = chunk_documents([doc], chunk_size=300, chunk_overlap=20)
    assert len(chunks) > 5
    for chunk in chunks:
        assert len(chunk.text) <= 300
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.id == chunk_id("d.txt", chunk.text)
    again = chunk_documents([doc], chunk_size=300, chunk_overlap=20)
    assert [c.id for c in again] == [c.id for c in chunks]
    resized = chunk_documents([doc], chunk_size=500, chunk_overlap=20)
    assert {c.id for c in resized} != {c.id for c in chunks}


def test_chunk_id_depends_on_document_and_text():
    assert chunk_id("a.md", "same") != chunk_id("b.md", "same")
    assert chunk_id("a.md", "same").startswith("c-") and len(chunk_id("a.md", "x")) == 18
