"""The figures command of ``python -m helpers``: the concept figures into ``notebooks/figures/``."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("figures", help="draw the notebooks' concept figures into notebooks/figures/ (--check: only "
                                       "compare with the committed files)")
    p.add_argument("names", nargs="*", help="only these figures (file names, e.g. 01-chunk-boundaries.svg)")
    p.add_argument("--out", default=None, help="folder to write to (default: notebooks/figures/)")
    p.add_argument("--check", action="store_true", help="exit 1 if a committed figure is missing or out of date")
    p.add_argument("--list", action="store_true", help="list the registered figures and exit")
    p.set_defaults(func=cmd_figures)


def cmd_figures(args: argparse.Namespace) -> int:
    from helpers.workshop import figures

    if args.list:
        print("\n".join(figures.registry()))
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as fresh:
            figures.render_all(Path(fresh), args.names or None)
            problems = figures.compare(Path(fresh), Path(args.out) if args.out else figures.FIGURE_DIR)
        if args.names:
            problems = {n: p for n, p in problems.items() if n in args.names}
        for name, problem in problems.items():
            print(f"{name}: {problem}")
        print(f"{len(problems)} figure(s) out of date" + (f": run `{figures.COMMAND}`" if problems else ""))
        return 1 if problems else 0
    for path in figures.render_all(Path(args.out) if args.out else figures.FIGURE_DIR, args.names or None):
        print(path)
    return 0
