"""Errors the command line reports as one clear line (exit code 2) instead of a traceback."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: names the file and, where known, the field or line at fault."""

    def __init__(self, source: str, problem: str, field: str | None = None):
        self.source = source
        self.problem = problem
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where}: {self.problem}"
