"""The ``generate`` command of ``python -m helpers``: training questions from an LLM or the offline ICT."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helpers.config import ROOT


def register(sub) -> None:
    """Add the ``generate`` subcommand to an argparse subparsers object."""
    from helpers.data.ict import ICT_KEEP_PROBABILITY
    from helpers.data.llm_client import DEFAULT_MODEL
    from helpers.data.sources import DEFAULT_MANIFEST

    p = sub.add_parser(
        "generate",
        help="write training questions for every chunk: with an LLM (any OpenAI-compatible endpoint) or offline (ICT)",
        description="LLM: the key comes from $OPENAI_API_KEY (or a hidden prompt in a terminal), the address from "
        "--base-url or $OPENAI_BASE_URL. Finished chunks are cached, so a rerun continues where the last one stopped.",
    )
    p.add_argument("--source", choices=["llm", "ict"], required=True,
                   help="llm: ask a model; ict: Inverse Cloze Task, one sentence of each chunk as its query (offline)")
    p.add_argument("--manifest", default=str(DEFAULT_MANIFEST),
                   help="JSON list of folders, files and URLs (default: data/sources/default-corpus.json)")
    p.add_argument("--chunk-size", type=int, default=750)
    p.add_argument("--chunk-overlap", type=int, default=20)
    p.add_argument("--limit", type=int, default=None, help="only the first N chunks (a cheap first try)")
    p.add_argument("--out", default=None, help="questions JSONL (default: outputs/generated/<manifest>-<source>.jsonl)")
    p.add_argument("--offline", action="store_true", help="never download; URLs must already be cached")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    llm = p.add_argument_group("llm")
    llm.add_argument("--model", default=DEFAULT_MODEL, help=f"model name at the endpoint (default: {DEFAULT_MODEL})")
    llm.add_argument("--base-url", default=None, help="e.g. http://localhost:11434/v1 for Ollama (default: $OPENAI_BASE_URL or OpenAI)")
    llm.add_argument("--n-questions", type=int, default=2, help="questions per chunk (default 2, as published)")
    llm.add_argument("--concurrency", type=int, default=4, help="calls in flight at once")
    llm.add_argument("--max-attempts", type=int, default=5, help="calls per chunk before it counts as failed")
    llm.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    llm.add_argument("--cache", default=None, help="answer cache (default: outputs/cache/llm-questions.jsonl)")
    ict = p.add_argument_group("ict")
    ict.add_argument("--seed", type=int, default=42)
    ict.add_argument("--keep-probability", type=float, default=ICT_KEEP_PROBABILITY,
                     help=f"chance the query sentence stays in its passage (default {ICT_KEEP_PROBABILITY}, as in the paper)")
    p.set_defaults(func=cmd_generate)

    w = sub.add_parser(
        "write-questions",
        help="write your own evidence-anchored questions: shows a chunk, records a question and its quote",
        description="Shows the chunks of your corpus one at a time (those with the fewest questions first) and "
        "appends each question with its evidence quote to --out, checking the quote as you type it. Enter on an "
        "empty question moves to the next chunk; q quits. Check the result with `validate-data`.",
    )
    w.add_argument("--corpus", required=True, help="your corpus folder")
    w.add_argument("--out", required=True, help="questions JSONL to append to (created if missing)")
    w.add_argument("--chunk-size", type=int, default=750)
    w.add_argument("--chunk-overlap", type=int, default=20)
    w.set_defaults(func=cmd_write_questions)


def default_output(manifest: Path, source: str) -> Path:
    base = Path(os.environ.get("LAB_OUTPUTS", ROOT / "outputs"))
    return base / "generated" / f"{manifest.stem}-{source}.jsonl"


def cmd_generate(args: argparse.Namespace) -> int:
    from helpers.data.corpus import chunk_documents
    from helpers.data.generate import generate_questions, write_records
    from helpers.data.ict import ict_examples
    from helpers.data.llm_client import GenerationError, LLMConfig
    from helpers.data.questions import DataError
    from helpers.data.sources import load_sources

    manifest = Path(args.manifest)
    out = Path(args.out) if args.out else default_output(manifest, args.source)
    try:
        documents = load_sources(manifest, offline=True if args.offline else None)
        chunks = chunk_documents(documents, args.chunk_size, args.chunk_overlap)[: args.limit]
        print(f"{len(documents)} documents from {manifest} -> {len(chunks)} chunks")
        if args.source == "ict":
            records = ict_examples(chunks, seed=args.seed, keep_probability=args.keep_probability)
            summary = f"{len(records)} ICT pairs (seed {args.seed}, keep probability {args.keep_probability})"
        else:
            config = LLMConfig(
                model=args.model, base_url=args.base_url, n_questions=args.n_questions,
                concurrency=args.concurrency, max_attempts=args.max_attempts, timeout=args.timeout,
            )
            result = generate_questions(
                chunks, config, cache_path=Path(args.cache) if args.cache else None, progress=not args.no_progress
            )
            records, summary = result.records, str(result.summary)
            for chunk_id, error in sorted(result.failures.items())[:5]:
                print(f"  failed {chunk_id}: {error}", file=sys.stderr)
    except (DataError, GenerationError, ValueError) as err:
        print(f"generate: FAILED\n{err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("generate: interrupted; finished chunks are cached, run the same command again to continue",
              file=sys.stderr)
        return 130
    write_records(records, out)
    print(summary)
    print(f"questions: {out}")
    if args.source == "llm" and result.failures:
        print(f"{len(result.failures)} chunk(s) failed; run the same command again to retry only those",
              file=sys.stderr)
        return 1
    return 0


def _next_id(used: set[str]) -> str:
    n = len(used) + 1
    while f"q-{n:03d}" in used:
        n += 1
    return f"q-{n:03d}"


def _ask_evidence(chunk, doc_text: str, ask, say) -> str | None:
    """Ask for a quote until it is usable (in this chunk, once in its document); whitespace and line breaks count
    alike, and a quote outside 40-300 characters is kept with a warning, as ``validate-data`` does."""
    from helpers.data.questions import EVIDENCE_MAX_CHARS, EVIDENCE_MIN_CHARS, find_quote

    while True:
        quote = " ".join(ask("evidence: a quote from the chunk that answers it (Enter: drop the question)> ").split())
        if not quote:
            return None
        in_document = find_quote(doc_text, quote)
        if not find_quote(chunk.text, quote):
            say("  not found in this chunk: copy it from the chunk shown above")
        elif len(in_document) != 1:
            say(f"  it occurs {len(in_document)} times in {chunk.document}: quote a longer passage")
        else:
            if not EVIDENCE_MIN_CHARS <= len(quote) <= EVIDENCE_MAX_CHARS:
                say(f"  kept, with a warning: the quote has {len(quote)} characters; {EVIDENCE_MIN_CHARS}-"
                    f"{EVIDENCE_MAX_CHARS} are easiest to check (validate-data warns about it)")
            return quote


def write_questions_session(corpus_dir: Path, out: Path, ask=input, say=print, chunk_size: int = 750,
                            chunk_overlap: int = 20) -> int:
    """Show chunks and append the questions the user writes to ``out``; returns how many were recorded."""
    import json
    from collections import Counter

    from helpers.data.corpus import chunk_documents, scan_corpus
    from helpers.data.questions import KINDS, load_questions, map_to_chunks

    scan = scan_corpus(corpus_dir)
    for problem in scan.problems:
        say(f"  ! {problem}")
    chunks = chunk_documents(scan.documents, chunk_size, chunk_overlap)
    texts = {d.name: d.text for d in scan.documents}
    existing = load_questions(out) if out.exists() and out.stat().st_size else []
    per_chunk = Counter(cid for ids in map_to_chunks(existing, scan.documents, chunks).values() for cid in ids)
    used = {q.id for q in existing}
    say(f"{len(chunks)} chunks, {len(existing)} questions so far in {out}. Ask as a user would, in your own words.")
    recorded = 0
    try:
        for chunk in sorted(chunks, key=lambda c: (per_chunk[c.id], c.document, c.start)):
            say(f"\n--- {chunk.document}, characters {chunk.start}-{chunk.end} ({per_chunk[chunk.id]} questions) ---")
            say(chunk.text)
            while True:
                question = " ".join(ask("question (Enter: next chunk, q: quit)> ").split())
                if question.lower() == "q":
                    return recorded
                if not question:
                    break
                quote = _ask_evidence(chunk, texts[chunk.document], ask, say)
                if quote is None:
                    continue
                kind = ask(f"kind, one of {', '.join(KINDS)} (Enter: factoid)> ").strip() or "factoid"
                while kind not in KINDS:
                    kind = ask(f"  one of {', '.join(KINDS)}> ").strip() or "factoid"
                record = {"id": _next_id(used), "question": question, "document": chunk.document,
                          "evidence": quote, "kind": kind}
                out.parent.mkdir(parents=True, exist_ok=True)
                with out.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                used.add(record["id"])
                recorded += 1
                say(f"  saved {record['id']} to {out}")
    except EOFError:
        pass
    return recorded


def cmd_write_questions(args: argparse.Namespace) -> int:
    from helpers.data.questions import DataError

    out = Path(args.out)
    try:
        n = write_questions_session(Path(args.corpus), out, chunk_size=args.chunk_size,
                                    chunk_overlap=args.chunk_overlap)
    except (DataError, FileNotFoundError) as err:
        print(f"write-questions: FAILED\n{err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        n = 0
    print(f"\nrecorded {n} question(s) in {out}. Check them with: python -m helpers validate-data "
          f"--corpus {args.corpus} --questions {out}")
    return 0
