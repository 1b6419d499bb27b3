"""notebooks/GLOSSARY.md: one `### term` per entry, enough terms, each saying where it is introduced; every link to it
from a notebook or a page lands on an entry (GitHub's heading anchors, which the site uses too)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "notebooks" / "GLOSSARY.md"
REQUIRED = ("mrl", "mnrl", "in-batch-negative", "hard-negative", "false-negative", "ict", "ndcg-and-idcg", "mrr",
            "recallk", "bm25", "chunk-grouping", "split-regimes", "paired-bootstrap", "clustered-bootstrap", "hnsw-m",
            "efconstruction", "efsearch", "int8-quantization", "binary-quantization", "rescoring", "funnel",
            "prompts", "rrf-and-hybrid-retrieval", "cross-encoder-reranker", "the-published-system")
LINK = re.compile(r"GLOSSARY\.md#([\w-]+)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (not - or _), spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def entries() -> dict[str, str]:
    text = GLOSSARY.read_text(encoding="utf-8")
    parts = re.split(r"^### (.+)$", text, flags=re.M)
    return {slug(title): body for title, body in zip(parts[1::2], parts[2::2])}


def test_the_glossary_has_its_terms_each_with_a_notebook():
    found = entries()
    assert len(found) >= 20, len(found)
    assert not set(REQUIRED) - set(found), sorted(set(REQUIRED) - set(found))
    for anchor, body in found.items():
        assert re.search(r"Introduced in \d\d\.", body), f"{anchor}: say which notebook introduces it"
    assert "github.com/cantemizyurek/ai-maker-space" in found["the-published-system"]


def test_every_glossary_link_lands_on_an_entry():
    anchors = set(entries())
    sources = {p: p.read_text(encoding="utf-8") for p in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("*.md"),
                                                          *ROOT.glob("notebooks/*.md"), *ROOT.glob("docs/*.md")]}
    broken = []
    for path, text in sources.items():
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
        broken += [f"{path.name}#{a}" for a in LINK.findall(text) if a not in anchors]
        if path == GLOSSARY:
            broken += [f"GLOSSARY.md#{a}" for a in re.findall(r"\]\(#([\w-]+)\)", text) if a not in anchors]
    assert not broken, broken


def test_notebooks_00_to_03_link_the_glossary():
    for name in ("00_environment_check", "01_load_corpus", "02_build_pairs", "03_train_matryoshka"):
        text = (ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert LINK.search(text), f"{name} links no glossary term"
