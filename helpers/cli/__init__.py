"""Command line: ``python -m helpers <command>`` (``--help`` lists them).

Each module of this package registers the commands of one stage and stays a thin layer: it parses arguments and
calls the package's functions, importing them only when its command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from helpers.cli import course, data, export, figures, generate, index, study, workshop
from helpers.config import PROFILES

DESCRIPTION = "Commands of the matryoshka-lab course (python -m helpers <command> --help for one of them)."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    profiles = sorted(PROFILES)
    data.register(sub)
    export.register(sub)
    figures.register(sub)
    course.register(sub, profiles)
    generate.register(sub)
    workshop.register(sub, profiles)
    index.register(sub, profiles)
    study.register(sub, profiles)
    return parser


def quiet_libraries() -> None:
    """A command shows one progress bar per stage: silence the libraries' own loading/saving bars and advice."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' and the hub's bars follow it
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    args = build_parser().parse_args(argv)
    from helpers.data.lineage import MissingStepError  # after parsing, so that --help stays fast

    try:
        return int(args.func(args) or 0)
    except MissingStepError as err:  # a missing or stale earlier output: the message says what to run
        print(f"python -m helpers {args.command}: {err}", file=sys.stderr)
        return 1
