"""Load documents, extract clean text, and cut it into chunks with stable ids.

Text extraction is deterministic so that evidence quotes in ``data/questions`` can be
matched verbatim against it: every paragraph (HTML block, Markdown/plain-text paragraph)
has its internal whitespace collapsed to single spaces, and paragraphs are joined by a
blank line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".txt", ".pdf")

# Leaf block elements whose text becomes one paragraph each.
_HTML_BLOCKS = (
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote",
    "dt", "dd", "td", "th", "figcaption", "caption", "title",
)


@dataclass(frozen=True)
class Document:
    """One source document after text extraction."""

    name: str  # path relative to the corpus folder, e.g. "bm25.md"
    text: str


@dataclass(frozen=True)
class Chunk:
    """A slice of one document; ``start``/``end`` are character offsets in its text."""

    id: str
    document: str
    start: int
    end: int
    text: str


def _join_paragraphs(paragraphs: list[str]) -> str:
    cleaned = (" ".join(p.split()) for p in paragraphs)
    return "\n\n".join(p for p in cleaned if p)


def html_to_text(html: str) -> str:
    """Extract the text of every leaf block element (p, li, h1..h6, ...) with BeautifulSoup."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "head"]):
        tag.decompose()
    blocks = [
        el for el in soup.find_all(_HTML_BLOCKS) if el.find(_HTML_BLOCKS) is None
    ]
    return _join_paragraphs([el.get_text() for el in blocks])


def plain_to_text(raw: str) -> str:
    """Split plain text or Markdown on blank lines and tidy whitespace inside paragraphs."""
    return _join_paragraphs(re.split(r"\n\s*\n", raw))


def pdf_to_text(path: Path) -> str:
    """Extract the text of a PDF page by page with pypdf."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    return plain_to_text("\n\n".join(pages))


def extract_text(path: Path) -> str:
    """Return the clean text of one file, chosen by its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_to_text(path)
    raw = path.read_text(encoding="utf-8")
    if suffix in (".html", ".htm"):
        return html_to_text(raw)
    if suffix in (".md", ".markdown", ".txt"):
        return plain_to_text(raw)
    raise ValueError(
        f"{path}: unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
    )


def load_corpus(folder: Path) -> list[Document]:
    """Load every supported file under ``folder`` (recursively), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {folder} does not exist")
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )
    if not files:
        raise FileNotFoundError(
            f"no documents in {folder}: add {', '.join(SUPPORTED_SUFFIXES)} files"
        )
    docs = [Document(p.relative_to(folder).as_posix(), extract_text(p)) for p in files]
    empty = [d.name for d in docs if not d.text.strip()]
    if empty:
        raise ValueError(f"{folder}: no text could be extracted from {', '.join(empty)}")
    return docs


def chunk_id(document: str, text: str) -> str:
    """Content-hash id: stable across runs, changes when the text or its document does."""
    digest = hashlib.sha256(f"{document}\x00{text}".encode()).hexdigest()
    return f"c-{digest[:16]}"


def chunk_documents(
    docs: list[Document], chunk_size: int = 750, chunk_overlap: int = 20
) -> list[Chunk]:
    """Cut documents with LangChain's RecursiveCharacterTextSplitter, keeping offsets."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True
    )
    chunks: list[Chunk] = []
    for doc in docs:
        for piece in splitter.create_documents([doc.text]):
            start = piece.metadata["start_index"]
            text = piece.page_content
            if doc.text[start : start + len(text)] != text:  # guard the offset contract
                raise RuntimeError(f"{doc.name}: splitter offset mismatch at {start}")
            chunks.append(Chunk(chunk_id(doc.name, text), doc.name, start, start + len(text), text))
    return chunks
