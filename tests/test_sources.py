"""Source manifests: parsing and its errors, local folders and files, URL downloads with a cache, offline errors."""

from __future__ import annotations

import functools
import json
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers.config import CORPUS_DIR
from helpers.data.corpus import load_corpus
from helpers.data.sources import (
    DEFAULT_MANIFEST,
    SOURCES_DIR,
    SourceError,
    default_download_cache,
    load_manifest,
    load_sources,
    url_cache_path,
)

PUBLISHED = ["https://simonwillison.net/2023/Dec/31/ai-in-2023/", "https://simonwillison.net/2024/Dec/31/llms-in-2024/"]
PAGE = "<html><body><h1>Cached page</h1><p>Matryoshka embeddings keep the first dimensions useful.</p></body></html>"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "LAB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def web(tmp_path):
    """A static web server on 127.0.0.1 serving tmp_path/site; ``hits`` counts requests per path."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "post.html").write_text(PAGE)
    (site / "notes.md").write_text("# Notes\n\nBinary quantization keeps one bit per dimension.")
    hits: dict[str, int] = {}

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            hits[self.path] = hits.get(self.path, 0) + 1
            super().do_GET()

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    server.hits = hits
    yield server
    server.shutdown()
    server.server_close()


def write_manifest(path: Path, sources) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sources": sources}, indent=1))
    return path


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_default_manifest_loads_the_course_corpus():
    assert load_sources(DEFAULT_MANIFEST) == load_corpus(CORPUS_DIR)


def test_published_manifest_lists_only_the_two_addresses():
    manifest = load_manifest(SOURCES_DIR / "published-simonwillison.json")
    assert [(s.kind, s.target) for s in manifest.sources] == [("url", u) for u in PUBLISHED]
    raw = json.loads((SOURCES_DIR / "published-simonwillison.json").read_text())
    assert set(raw) == {"description", "sources"} and all(set(e) == {"url"} for e in raw["sources"])


def test_relative_paths_resolve_against_the_manifest_folder(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Alpha paragraph.")
    (tmp_path / "extra.md").write_text("Beta paragraph.")
    manifest = write_manifest(tmp_path / "sub" / "m.json",
                              [{"folder": "../docs", "prefix": "local"}, {"file": "../extra.md", "name": "x.md"}])
    monkeypatch.chdir(tmp_path / "docs")  # the working folder must not matter
    docs = load_sources(manifest)
    assert [(d.name, d.text) for d in docs] == [("local/a.txt", "Alpha paragraph."), ("x.md", "Beta paragraph.")]


@pytest.mark.parametrize("content, message", [
    ('{"sources": [', r"m\.json:1:\d+: not valid JSON"),
    ('{"description": "x"}', r"m\.json: field 'sources' is missing or empty"),
    ('{"sources": [], "extra": 1}', r"m\.json: field 'sources' is missing or empty"),
    ('{"sources": [{"folder": "."}], "extra": 1}', r"m\.json: unknown top-level field\(s\) extra"),
    ('{"sources": ["data/corpus"]}', r"m\.json: sources\[0\]: expected an object"),
    ('{"sources": [{"folder": "."}, {"folder": ".", "url": "https://a.b/"}]}',
     r"m\.json: sources\[1\]: give exactly one of the fields folder, file, url"),
    ('{"sources": [{"url": "https://a.b/", "prefix": "p"}]}', r"m\.json: sources\[0\]: unknown field\(s\) prefix"),
    ('{"sources": [{"url": "ftp://a.b/x"}]}', r"m\.json: sources\[0\]\.url: 'ftp://a.b/x' is not an http\(s\)"),
    ('{"sources": [{"url": "https://a.b/x", "type": "docx"}]}', r"m\.json: sources\[0\]\.type: 'docx'"),
    ('{"sources": [{"folder": "nowhere"}]}', r"m\.json: sources\[0\]\.folder: .*nowhere is not a folder"),
    ('{"sources": [{"file": "none.md"}]}', r"m\.json: sources\[0\]\.file: .*none\.md does not exist"),
    ('{"sources": [{"file": ""}]}', r"m\.json: sources\[0\]\.file: must be a non-empty string"),
])
def test_manifest_errors_name_the_file_and_field(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(SourceError, match=message):
        load_manifest(path)


def test_duplicate_document_names_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "same.md").write_text("Text.")
    manifest = write_manifest(tmp_path / "m.json", [{"folder": "a"}, {"folder": "b"}])
    with pytest.raises(SourceError, match=r"sources\[1\]: document name 'same.md' is already used by .*sources\[0\]"):
        load_sources(manifest)


def test_urls_are_downloaded_once_into_the_cache_keeping_their_type(tmp_path, web):
    cache = tmp_path / "downloads"
    urls = [f"{web.base}/post.html", f"{web.base}/notes.md"]
    manifest = write_manifest(tmp_path / "m.json", [{"url": urls[0], "name": "post"}, {"url": urls[1]}])
    docs = load_sources(manifest, cache_dir=cache)
    assert docs[0].name == "post" and docs[0].text == "Cached page\n\nMatryoshka embeddings keep the first dimensions useful."
    assert docs[1].name == f"127.0.0.1:{web.server_address[1]}/notes.md"
    assert docs[1].text.endswith("Binary quantization keeps one bit per dimension.")
    assert url_cache_path(urls[0], cache).suffix == ".html" and url_cache_path(urls[0], cache).is_file()
    assert url_cache_path(urls[1], cache).suffix == ".md" and url_cache_path(urls[1], cache).is_file()
    assert load_sources(manifest, cache_dir=cache) == docs
    assert web.hits == {"/post.html": 1, "/notes.md": 1}  # the second load came from the cache
    assert not list(cache.glob("*.part"))


def test_cache_names_default_to_html_and_follow_a_declared_type(tmp_path):
    assert url_cache_path("https://example.org/blog/post/", tmp_path).suffix == ".html"
    assert url_cache_path("https://example.org/paper", tmp_path, "pdf").suffix == ".pdf"
    assert url_cache_path("https://example.org/a", tmp_path) != url_cache_path("https://example.org/b", tmp_path)
    assert url_cache_path("https://example.org/a", tmp_path).parent == tmp_path


def test_default_download_cache_follows_lab_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path))
    assert default_download_cache() == tmp_path / "cache" / "downloads"


def test_http_errors_name_the_url(tmp_path, web):
    manifest = write_manifest(tmp_path / "m.json", [{"url": f"{web.base}/missing.html"}])
    with pytest.raises(SourceError, match=r"sources\[0\]: URL http://127\.0\.0\.1:\d+/missing\.html answered HTTP 404"):
        load_sources(manifest, cache_dir=tmp_path / "downloads")


def test_offline_and_not_cached_says_where_to_save_the_page(tmp_path, no_network):
    cache = tmp_path / "downloads"
    manifest = write_manifest(tmp_path / "m.json", [{"url": PUBLISHED[0]}])
    expected = url_cache_path(PUBLISHED[0], cache)
    with pytest.raises(SourceError) as info:
        load_sources(manifest, cache_dir=cache)
    message = str(info.value)
    assert f"URL {PUBLISHED[0]} is not cached and there is no network" in message
    assert message.endswith(f"save it as {expected}")


def test_offline_flag_never_touches_the_network(tmp_path, monkeypatch):
    import httpx

    def forbidden(*args, **kwargs):
        raise AssertionError("no request may be made offline")

    monkeypatch.setattr(httpx, "get", forbidden)
    monkeypatch.setenv("LAB_OFFLINE", "1")
    manifest = write_manifest(tmp_path / "m.json", [{"url": PUBLISHED[1]}])
    with pytest.raises(SourceError, match=r"is not cached and there is no network \(\$LAB_OFFLINE is set\); save it as"):
        load_sources(manifest, cache_dir=tmp_path / "downloads")


def test_pages_saved_by_hand_are_used_offline(tmp_path, no_network):
    cache = tmp_path / "downloads"
    cache.mkdir()
    for url in PUBLISHED:
        url_cache_path(url, cache).write_text(PAGE.replace("Cached page", url))
    docs = load_sources(SOURCES_DIR / "published-simonwillison.json", cache_dir=cache)
    assert [d.name for d in docs] == ["simonwillison.net/2023/Dec/31/ai-in-2023", "simonwillison.net/2024/Dec/31/llms-in-2024"]
    assert [d.text.split("\n\n")[0] for d in docs] == PUBLISHED
