"""The data command of ``python -m helpers``: validate-data (evidence, ids, fields, chunk coverage)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.config import CORPUS_DIR, QUESTIONS_DIR


def register(sub) -> None:
    p = sub.add_parser("validate-data", help="check data/ (evidence, ids, fields, chunk coverage) and print counts; "
                                             "warn where a question's facts occur in a passage it does not list")
    p.add_argument("--corpus", default=str(CORPUS_DIR), help="corpus folder (default: data/corpus)")
    p.add_argument("--questions", default=str(QUESTIONS_DIR),
                   help="questions: a .jsonl file or folder of them, or a published/LlamaIndex pair file "
                        "(default: data/questions)")
    p.add_argument("--chunk-size", type=int, default=750)
    p.add_argument("--chunk-overlap", type=int, default=20)
    p.add_argument("--min-per-chunk", type=int, default=None,
                   help="questions each chunk needs (default: 3 for data/corpus, 0 for your own corpus)")
    p.set_defaults(func=cmd_validate_data)


def cmd_validate_data(args: argparse.Namespace) -> int:
    """Print every problem of the question files, grouped by kind, and a count; with no error, the counts."""
    from helpers.data.problems import Problem, report_lines, summary
    from helpers.data.questions import DataError
    from helpers.data.validate import default_min_per_chunk, validate_data

    if args.min_per_chunk is None:
        args.min_per_chunk = default_min_per_chunk(Path(args.corpus))
    problems: list[Problem] = []
    try:
        report = validate_data(
            Path(args.corpus), Path(args.questions), args.chunk_size, args.chunk_overlap, args.min_per_chunk,
            problems=problems,
        )
    except (DataError, FileNotFoundError) as err:
        print(f"validate-data: FAILED\n{err}", file=sys.stderr)
        return 1
    for problem in report["corpus_problems"]:
        print(f"  ! {problem}", file=sys.stderr)
    if any(p.is_error for p in problems):  # the counts of a file with errors would mislead: only the problems
        for line in report_lines(problems):
            print(line, file=sys.stderr)
        print(f"validate-data: FAILED: {summary(problems)}", file=sys.stderr)
        return 1
    for key, value in report.items():
        if key not in ("chunks_under_minimum", "corpus_problems", "unlisted_facts"):
            print(f"{key:>28}: {value}")
    unlisted = report["unlisted_facts"]
    print(f"{'unlisted_facts':>28}: {len(unlisted)}")
    for line in report_lines(problems):  # warnings only: they do not block
        print(line, file=sys.stderr)
    for warning in unlisted:  # a warning, not a failure: a person decides whether the passage answers
        print(f"  warning: {warning}", file=sys.stderr)
    under = report["chunks_under_minimum"]
    if under:
        print(
            f"validate-data: FAILED\n{len(under)} chunk(s) have fewer than {args.min_per_chunk} questions "
            f"(first: {under[0]}); add questions whose evidence lies in them",
            file=sys.stderr,
        )
        return 1
    warnings = len(problems) + len(unlisted)
    print(f"validate-data: OK ({warnings} warning{'' if warnings == 1 else 's'})" if warnings else "validate-data: OK")
    return 0
