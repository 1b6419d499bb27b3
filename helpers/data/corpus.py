"""Load documents, extract clean text, and cut it into chunks with stable ids.

Text extraction is deterministic so that evidence quotes in ``data/questions`` can be
matched against it: Markdown is rendered to the text a reader sees (markdown-it-py), and every paragraph
(HTML block, Markdown block, plain-text paragraph)
has its internal whitespace collapsed to single spaces, and paragraphs are joined by a
blank line.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from helpers.config import CORPUS_DIR, ROOT
from helpers.lessons.chunking import Chunk, Document, chunk_documents, chunk_id, make_splitter  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

CORPUS_ENV = "LAB_CORPUS"
SUPPORTED_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".txt", ".pdf")
MARKDOWN_SUFFIXES = (".md", ".markdown")
# A document holding more than this share of the corpus's characters dominates training and test.
DOMINANT_SHARE = 0.5

# Leaf block elements whose text becomes one paragraph each.
_HTML_BLOCKS = (
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote",
    "dt", "dd", "td", "th", "figcaption", "caption", "title",
)


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
    """Split plain text on blank lines and tidy whitespace inside paragraphs."""
    return _join_paragraphs(re.split(r"\n\s*\n", raw))


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*\n", re.S)
# MkDocs / Python-Markdown admonitions: `!!! note "Title"` (or `???` collapsible) and an indented body.
_ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?)[ \t]+([\w-]+)(?:[ \t]+"([^"]*)")?[ \t]*$')


def _unfold_admonitions(raw: str) -> str:
    """An admonition's title becomes a paragraph and its indented body ordinary text (CommonMark would read the
    body as a code block)."""
    out: list[str] = []
    inside = False
    for line in raw.split("\n"):
        match = _ADMONITION.match(line)
        if match:
            out += ["", match.group(2) if match.group(2) is not None else match.group(1).capitalize(), ""]
            inside = True
        elif inside and (line.startswith("    ") or line.startswith("\t") or not line.strip()):
            out.append(line[4:] if line.startswith("    ") else line.lstrip("\t"))
        else:
            inside = False
            out.append(line)
    return "\n".join(out)


def _inline_text(token) -> str:
    """What a reader sees of one inline token: text and inline code, line breaks as spaces; no markup, no raw HTML
    tags, no images."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def markdown_to_text(raw: str) -> str:
    """Extract the text a reader of the rendered page sees, with markdown-it-py (CommonMark plus tables).

    Headings, paragraphs, list items and table rows become one paragraph each; emphasis, backticks and link
    syntax are removed (a link keeps its text); code blocks keep their code as text; raw HTML is reduced to its
    text; YAML front matter is dropped and admonitions (``!!! note``) keep their title and body.
    """
    from markdown_it import MarkdownIt  # imported here: only Markdown files need it

    tokens = MarkdownIt("commonmark").enable("table").parse(_unfold_admonitions(_FRONT_MATTER.sub("", raw)))
    paragraphs: list[str] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            paragraphs.append(" ".join(row))
            row = None
        elif token.type == "inline":
            (row if row is not None else paragraphs).append(_inline_text(token))
        elif token.type in ("fence", "code_block"):
            paragraphs.append(token.content)
        elif token.type == "html_block":
            paragraphs.append(html_to_text(token.content) or _html_fragment_text(token.content))
    return _join_paragraphs(paragraphs)


_REFERENCE_LINK = re.compile(r"\[([^\]]*)\]\[[^\]]*\]")  # [text][label], whose definition a quote lacks


def markdown_quote_text(quote: str) -> str:
    """What a reader sees of a quote copied from a Markdown source: rendered like the document, reference-style
    links (``[text][label]``) reduced to their text, since the quote does not carry the label's definition."""
    return markdown_to_text(_REFERENCE_LINK.sub(r"\1", quote))


def _html_fragment_text(html: str) -> str:
    """The text of an HTML fragment without block elements (e.g. ``<div>...</div>``)."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text(" ")


def pdf_to_text(path: Path) -> str:
    """Extract the text of a PDF page by page with pypdf."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    return plain_to_text("\n\n".join(pages))


def read_utf8(path: Path) -> tuple[str, str | None]:
    """The file's text, and a problem line when some bytes are not UTF-8 (they become U+FFFD)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as err:
        bad = raw.decode("utf-8", errors="replace").count("\ufffd")
        return raw.decode("utf-8", errors="replace"), (
            f"{path}: {bad} byte(s) are not UTF-8 (the first at byte {err.start}); they were replaced by '\ufffd'. "
            "Save the file as UTF-8 to keep those characters"
        )


def extract_text(path: Path) -> str:
    """Return the clean text of one file, chosen by its suffix (bytes that are not UTF-8 become U+FFFD)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(
            f"{path}: unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if suffix == ".pdf":
        return pdf_to_text(path)
    return text_of(read_utf8(path)[0], suffix)


def text_of(raw: str, suffix: str) -> str:
    """The clean text of a file's contents, by the file's suffix (HTML, Markdown or plain text)."""
    if suffix in (".html", ".htm"):
        return html_to_text(raw)
    return markdown_to_text(raw) if suffix in MARKDOWN_SUFFIXES else plain_to_text(raw)


@dataclass
class CorpusScan:
    """What :func:`scan_corpus` found: the documents kept, and one line per file it skipped or warns about."""

    folder: Path
    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # file names left out of the corpus

    @property
    def formats(self) -> Counter:
        """Documents per file type, e.g. Counter({'.md': 3, '.pdf': 1})."""
        return Counter(Path(d.name).suffix.lower() for d in self.documents)


def corpus_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(supported, unsupported) files under ``folder``, recursively, sorted; hidden files are ignored."""
    every = sorted(
        p for p in Path(folder).rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    supported = [p for p in every if p.suffix.lower() in SUPPORTED_SUFFIXES]
    return supported, [p for p in every if p.suffix.lower() not in SUPPORTED_SUFFIXES]


def _extract_one(path: Path, scan: CorpusScan) -> str | None:
    """The text of one file, or None (with a problem line) when the file has to be skipped."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        scan.problems.append(f"{path}: the file is empty; skipped")
        return None
    if suffix == ".pdf":
        try:
            text = pdf_to_text(path)
        except Exception as err:  # pypdf raises many types on a damaged file
            scan.problems.append(f"{path}: pypdf cannot read this PDF ({type(err).__name__}: {err}); skipped")
            return None
        if not text.strip():
            scan.problems.append(
                f"{path}: no extractable text (a scanned PDF holds images, not text); skipped. "
                "Run OCR first (e.g. `ocrmypdf in.pdf out.pdf`) and put the result in the folder"
            )
            return None
        return text
    raw, problem = read_utf8(path)
    if problem:
        scan.problems.append(problem)
    text = text_of(raw, suffix)
    if not text.strip():
        scan.problems.append(f"{path}: no text (the file holds only whitespace or markup); skipped")
        return None
    return text


def scan_corpus(folder: Path, dominant_share: float = DOMINANT_SHARE) -> CorpusScan:
    """Load every supported file under ``folder`` and report, file by file, what could not be used.

    Unsupported types, empty files, PDFs without text and exact duplicates are skipped; bytes that
    are not UTF-8 are replaced; a document holding more than ``dominant_share`` of the characters is
    kept with a warning. Raises FileNotFoundError only when nothing usable is left.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {folder} does not exist (set {CORPUS_ENV} to a folder of documents)")
    supported, unsupported = corpus_files(folder)
    scan = CorpusScan(folder)
    if unsupported:
        names = ", ".join(p.relative_to(folder).as_posix() for p in unsupported)
        scan.problems.append(
            f"{folder}: {len(unsupported)} file(s) of unsupported types skipped: {names} "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
        scan.skipped += [p.relative_to(folder).as_posix() for p in unsupported]
    seen: dict[str, str] = {}  # text -> the first document that had it
    for path in supported:
        name = path.relative_to(folder).as_posix()
        text = _extract_one(path, scan)
        if text is not None and text in seen:
            scan.problems.append(
                f"{path}: the same text as {seen[text]}; skipped (a duplicate could put one passage in both "
                "training and test)"
            )
            text = None
        if text is None:
            scan.skipped.append(name)
            continue
        seen[text] = name
        scan.documents.append(Document(name, text))
    if not scan.documents:
        detail = "; ".join(scan.problems) or f"add {', '.join(SUPPORTED_SUFFIXES)} files"
        raise FileNotFoundError(f"no documents in {folder} can be used: {detail}")
    total = sum(len(d.text) for d in scan.documents)
    for doc in scan.documents:
        share = len(doc.text) / total
        if len(scan.documents) > 1 and share > dominant_share:
            scan.problems.append(
                f"{folder / doc.name}: {len(doc.text):,} characters, {share:.0%} of the corpus; its chunks will "
                "dominate training and test, so scores mostly describe this one file. Split it, or add other documents"
            )
    return scan


def load_corpus(folder: Path) -> list[Document]:
    """Load every usable document under ``folder`` (recursively), sorted by name; problems are logged."""
    scan = scan_corpus(folder)
    for problem in scan.problems:
        log.warning("%s", problem)
    return scan.documents


def user_path(value: str) -> Path:
    """A path a user typed: relative paths are tried from the current folder, then from the repository root.

    Notebooks run in ``notebooks/`` while ``python -m helpers course`` is usually started from the root.
    """
    path = Path(value).expanduser()
    if path.is_absolute() or path.exists() or not (ROOT / path).exists():
        return path
    return ROOT / path


def corpus_folder() -> Path:
    """The corpus folder: ``$LAB_CORPUS`` when set, else the course's own ``data/corpus``."""
    value = os.environ.get(CORPUS_ENV, "").strip()
    return user_path(value) if value else CORPUS_DIR


def is_course_corpus(folder: Path) -> bool:
    """Whether ``folder`` is the corpus shipped with the course (whose questions are in data/questions)."""
    return Path(folder).resolve() == CORPUS_DIR.resolve()


@dataclass(frozen=True)
class TruncationReport:
    """How many chunks are longer than the model reads, and how much of them is lost."""

    limit: int
    chunks: int
    over: int
    tokens_lost: int
    max_lost: int
    share_lost: float  # of the tokens of the chunks that are over the limit

    def __str__(self) -> str:
        if not self.over:
            return f"all {self.chunks} chunks fit in max_seq_length = {self.limit} tokens"
        return (
            f"{self.over} of {self.chunks} chunks are longer than max_seq_length = {self.limit} tokens and will be "
            f"truncated: they lose {self.tokens_lost:,} tokens in all (up to {self.max_lost} in one chunk), "
            f"{self.share_lost:.0%} of their text, which the model never reads. Use a smaller chunk_size "
            "to keep it"
        )


def truncation_report(token_counts: list[int], limit: int) -> TruncationReport:
    """Count the chunks over ``limit`` tokens and the tokens the model will drop from them."""
    over = [n for n in token_counts if n > limit]
    lost = [n - limit for n in over]
    return TruncationReport(limit, len(token_counts), len(over), sum(lost), max(lost, default=0),
                            sum(lost) / sum(over) if over else 0.0)
