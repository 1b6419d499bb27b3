"""Problems found in question files, collected so that one run of ``validate-data`` reports every one of them.

A check appends a :class:`Problem` to a list instead of raising at the first bad line; the bad record is
skipped and the checks go on with the good ones. Callers that want an exception (notebooks, the commands)
call :func:`raise_if_errors` at the end, which raises one :class:`DataError` listing every error at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"

# Kinds of problem: the groups validate-data reports them under, in this order (errors first).
INVALID_JSON = "invalid JSON"
NOT_AN_OBJECT = "not a JSON object"
MISSING_FIELD = "missing field"
UNKNOWN_KIND = "unknown kind"
BAD_ALSO = "bad 'also'"
BAD_NOT_ALSO = "bad 'not_also'"
DUPLICATE_ID = "duplicate id"
NOT_IN_CORPUS = "document not in corpus"
NOT_FOUND = "evidence not found"
SEVERAL = "evidence occurs several times"
NO_CHUNK = "evidence maps to no chunk"
KIND_ORDER = (INVALID_JSON, NOT_AN_OBJECT, MISSING_FIELD, UNKNOWN_KIND, BAD_ALSO, BAD_NOT_ALSO, DUPLICATE_ID,
              NOT_IN_CORPUS, NOT_FOUND, SEVERAL, NO_CHUNK)


class DataError(ValueError):
    """Bad input data; the message names the file, line and field, and what to do.

    ``problems`` holds the :class:`Problem` records behind the message (empty when raised with a message only).
    """

    def __init__(self, message: str, problems: Iterable[Problem] = ()):
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class Problem:
    """One problem of one record: where it is, the field at fault, its kind, and what to do."""

    where: str  # "file:line" of the record (or the file)
    field: str  # the field at fault ("evidence", "also[0].document"), "" for the whole line
    kind: str  # the group it is reported under: "missing field", "evidence not found", ...
    message: str  # what is wrong and what to do; printed after "where: "
    severity: str = ERROR  # ERROR blocks, WARNING does not

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def file(self) -> str:
        head, _, tail = self.where.rpartition(":")
        return head if head and tail.isdigit() else self.where

    @property
    def line(self) -> int:
        head, _, tail = self.where.rpartition(":")
        return int(tail) if head and tail.isdigit() else 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(problems: Iterable[Problem]) -> str:
    """'7 errors, 2 warnings in 1 file': the count that ends a report."""
    problems = list(problems)
    errors = sum(p.is_error for p in problems)
    files = len({p.file for p in problems})
    return f"{_plural(errors, 'error')}, {_plural(len(problems) - errors, 'warning')} in {_plural(files, 'file')}"


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line))


def report_lines(problems: Iterable[Problem]) -> list[str]:
    """The problems grouped by kind, errors first, each group headed by its kind and count, each problem on a
    ``file:line: ...`` line of its own, in file and line order."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in _sorted(problems):
        groups.setdefault((p.severity, p.kind), []).append(p)

    def order(key: tuple[str, str]) -> tuple[bool, int]:
        severity, kind = key
        return severity != ERROR, KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)

    lines = []
    for severity, kind in sorted(groups, key=order):
        members = groups[severity, kind]
        lines.append(f"{severity}: {kind} ({len(members)})")
        lines.extend(f"  {p}" for p in members)
    return lines


def raise_if_errors(problems: list[Problem]) -> None:
    """Raise one DataError listing every error (then every warning) and their count; with warnings only, log
    them and return."""
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    if errors:
        lines = [str(p) for p in _sorted(errors)] + [f"warning: {p}" for p in _sorted(warnings)]
        raise DataError("\n".join([*lines, summary(problems)]), problems)
    for p in warnings:
        log.warning("%s", p)
