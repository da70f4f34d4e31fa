"""The error hierarchy: every message names where the problem is and what to do about it.

Errors are raised where the fact is known and caught only at a boundary (the CLI, the server, or
a batch's per-file loop), which turns them into exit codes or per-file reports.
"""

from __future__ import annotations

from pathlib import Path


class KgError(Exception):
    """Root of kg's errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InputError(KgError):
    """An article could not be read; the batch reports it and goes on."""

    exit_code = 1

    def __init__(self, path: Path | str, problem: str, fix: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {problem}. {fix}")


class UsageError(KgError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = 2


class CatalogError(KgError):
    """A catalogue file is malformed; lists every problem at once, each with file and line."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("catalogue problems:\n  " + "\n  ".join(self.problems))


class OntologyError(KgError):
    """The ontology or shapes file is missing or does not parse."""

    exit_code = 2


class StoreError(KgError):
    """The store cannot be opened or written."""

    exit_code = 1


class QueryError(KgError):
    """A query is malformed, refers to an unknown canned query, or tries to modify the store."""

    exit_code = 2
