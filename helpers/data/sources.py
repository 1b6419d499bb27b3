"""Where documents come from: a small JSON manifest of local folders, files and URLs.

A manifest looks like this (relative paths are resolved against the manifest's own folder)::

    {
      "description": "what this collection is",
      "sources": [
        {"folder": "../corpus"},
        {"file": "notes/extra.md"},
        {"url": "https://example.org/post/", "name": "example-post.html"},
        {"url": "https://example.org/paper", "type": "pdf"}
      ]
    }

URLs are downloaded once into an on-disk cache (``outputs/cache/downloads/`` by default), one
file per URL named after a hash of the URL and keeping the file type, so the usual
:func:`helpers.data.corpus.extract_text` reads it. Offline, a URL that is not cached raises an
error that names the exact file to save the page as.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from helpers.config import ROOT
from helpers.data.corpus import SUPPORTED_SUFFIXES, Document, extract_text, load_corpus
from helpers.data.questions import DataError

SOURCES_DIR = ROOT / "data" / "sources"
DEFAULT_MANIFEST = SOURCES_DIR / "default-corpus.json"
OFFLINE_ENV = "LAB_OFFLINE"
USER_AGENT = "matryoshka-lab/0.1 (course document loader)"
KINDS = ("folder", "file", "url")
_OPTIONAL_KEYS = {"folder": {"prefix"}, "file": {"name"}, "url": {"name", "type"}}


class SourceError(DataError):
    """A bad manifest or a source that cannot be read; the message says which and what to do."""


@dataclass(frozen=True)
class Source:
    """One manifest entry. ``where`` is "manifest.json: sources[i]" for error messages."""

    kind: str  # "folder", "file" or "url"
    target: str  # absolute path for folder/file, the address for url
    where: str
    name: str | None = None  # document name override (file, url) or name prefix (folder)
    type: str | None = None  # file type of a URL's content: "html", "pdf", "md", "txt"


@dataclass(frozen=True)
class Manifest:
    path: Path
    description: str
    sources: list[Source]


def default_download_cache() -> Path:
    """``outputs/cache/downloads`` (under ``$LAB_OUTPUTS`` when it is set)."""
    return Path(os.environ.get("LAB_OUTPUTS", ROOT / "outputs")) / "cache" / "downloads"


def _suffix_for(url: str, type_: str | None) -> str:
    """File extension for a URL's cache file: the declared type, else the URL's own, else .html."""
    if type_:
        return f".{type_.lower().lstrip('.')}"
    suffix = Path(urlsplit(url).path).suffix.lower()
    return suffix if suffix in SUPPORTED_SUFFIXES else ".html"


def url_cache_path(url: str, cache_dir: Path | None = None, type_: str | None = None) -> Path:
    """Where a URL is (or would be) cached: ``<cache_dir>/<sha256(url)[:24]><ext>``."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]
    return Path(cache_dir or default_download_cache()) / f"{digest}{_suffix_for(url, type_)}"


def url_document_name(url: str) -> str:
    """A readable document name for a URL: host and path, e.g. ``example.org/post``."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}".rstrip("/") or url


def _parse_entry(entry: object, where: str, base: Path) -> Source:
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: expected an object such as {{\"folder\": \"../corpus\"}} or {{\"url\": \"https://...\"}}")
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        raise SourceError(f"{where}: give exactly one of the fields {', '.join(KINDS)} (found {kinds or 'none'})")
    kind = kinds[0]
    unknown = sorted(set(entry) - {kind} - _OPTIONAL_KEYS[kind])
    if unknown:
        allowed = ", ".join(sorted(_OPTIONAL_KEYS[kind]))
        raise SourceError(f"{where}: unknown field(s) {', '.join(unknown)} for a {kind} entry; allowed: {allowed}")
    for key, value in entry.items():
        if not isinstance(value, str) or not value.strip():
            raise SourceError(f"{where}.{key}: must be a non-empty string")
    value = entry[kind].strip()
    if kind == "url":
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
            raise SourceError(f"{where}.url: {value!r} is not an http(s) address")
        type_ = entry.get("type")
        if type_ and f".{type_.lower().lstrip('.')}" not in SUPPORTED_SUFFIXES:
            raise SourceError(f"{where}.type: {type_!r} is not supported; use one of html, md, txt, pdf")
        return Source("url", value, where, entry.get("name"), type_)
    path = (base / value).resolve()
    if kind == "folder" and not path.is_dir():
        raise SourceError(f"{where}.folder: {path} is not a folder (paths are relative to the manifest's folder)")
    if kind == "file":
        if not path.is_file():
            raise SourceError(f"{where}.file: {path} does not exist (paths are relative to the manifest's folder)")
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise SourceError(f"{where}.file: {path.name} has an unsupported type; use {', '.join(SUPPORTED_SUFFIXES)}")
    return Source(kind, str(path), where, entry.get("prefix") or entry.get("name"))


def load_manifest(path: Path) -> Manifest:
    """Read and check a manifest; errors name the file and the field (e.g. ``sources[2].url``)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"manifest {path} does not exist; see data/sources/ for examples")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise SourceError(f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg})") from None
    if not isinstance(raw, dict):
        raise SourceError(f"{path}: expected a JSON object with a 'sources' list")
    entries = raw.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourceError(f"{path}: field 'sources' is missing or empty; give a list of folder/file/url entries")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SourceError(f"{path}: field 'description' must be a string")
    unknown = sorted(set(raw) - {"sources", "description"})
    if unknown:
        raise SourceError(f"{path}: unknown top-level field(s) {', '.join(unknown)}; allowed: description, sources")
    sources = [_parse_entry(e, f"{path}: sources[{i}]", path.parent) for i, e in enumerate(entries)]
    return Manifest(path, description, sources)


def _is_offline(offline: bool | None) -> bool:
    if offline is not None:
        return offline
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def _not_cached(url: str, target: Path, why: str) -> SourceError:
    return SourceError(
        f"URL {url} is not cached and there is no network ({why}); save it as {target}"
    )


def fetch_url(
    url: str,
    cache_dir: Path | None = None,
    type_: str | None = None,
    timeout: float = 30.0,
    offline: bool | None = None,
    where: str = "",
) -> Path:
    """Return the cached file for ``url``, downloading it first when it is not cached yet.

    ``offline`` (default: ``$LAB_OFFLINE``) forbids network access. The download is written to
    a temporary file and renamed, so an interrupted download never leaves a half file behind.
    """
    import httpx

    target = url_cache_path(url, cache_dir, type_)
    if target.is_file():
        return target
    if _is_offline(offline):
        raise _not_cached(url, target, f"${OFFLINE_ENV} is set")
    prefix = f"{where}: " if where else ""
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})
    except httpx.TimeoutException:
        raise SourceError(
            f"{prefix}URL {url} did not answer within {timeout:g} s; retry, or save it by hand as {target}"
        ) from None
    except httpx.TransportError as err:
        raise _not_cached(url, target, type(err).__name__) from None
    if response.status_code != 200:
        raise SourceError(f"{prefix}URL {url} answered HTTP {response.status_code}; check the address")
    content_type = response.headers.get("content-type", "")
    if "pdf" in content_type and target.suffix != ".pdf":
        raise SourceError(f"{prefix}URL {url} is a PDF; add \"type\": \"pdf\" to its manifest entry")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(response.content)
    os.replace(partial, target)
    return target


def load_sources(
    manifest: Path | Manifest,
    cache_dir: Path | None = None,
    timeout: float = 30.0,
    offline: bool | None = None,
) -> list[Document]:
    """Load every document a manifest lists, in manifest order, as :class:`helpers.data.corpus.Document`.

    Folder documents keep their names relative to the folder (optionally behind ``prefix``),
    files their file name (or ``name``), URLs ``name`` or host+path. Names must be unique.
    """
    manifest = manifest if isinstance(manifest, Manifest) else load_manifest(Path(manifest))
    documents: list[Document] = []
    origin: dict[str, str] = {}
    for source in manifest.sources:
        if source.kind == "folder":
            prefix = f"{source.name.rstrip('/')}/" if source.name else ""
            try:
                docs = [Document(prefix + d.name, d.text) for d in load_corpus(Path(source.target))]
            except (FileNotFoundError, ValueError) as err:
                raise SourceError(f"{source.where}.folder: {err}") from None
        elif source.kind == "file":
            path = Path(source.target)
            docs = [Document(source.name or path.name, extract_text(path))]
        else:
            path = fetch_url(source.target, cache_dir, source.type, timeout, offline, source.where)
            docs = [Document(source.name or url_document_name(source.target), extract_text(path))]
        for doc in docs:
            if not doc.text.strip():
                raise SourceError(f"{source.where}: no text could be extracted from {doc.name}")
            if doc.name in origin:
                raise SourceError(
                    f"{source.where}: document name {doc.name!r} is already used by {origin[doc.name]}; "
                    "give this entry a distinct 'name' (file, url) or 'prefix' (folder)"
                )
            origin[doc.name] = source.where
            documents.append(doc)
    return documents
