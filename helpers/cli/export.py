"""The export command of ``python -m helpers``: the notebooks' ``#| export`` cells into ``helpers/lessons/``."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("export", help="copy the notebooks' `#| export` cells into helpers/lessons/ "
                                      "(--check: only compare)")
    p.add_argument("--check", action="store_true", help="exit 1 if a generated module differs from its notebook")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from helpers.export import export, report

    return report(export(check=args.check), check=args.check)
