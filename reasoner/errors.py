"""Errors the command line reports as one clear line (exit code 2) instead of a traceback."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: names the file and, where known, the field or line at fault."""

    def __init__(self, source: str, problem: str, field: str | None = None):
        self.source = source
        self.problem = problem
        self.field = field
        super().__init__(str(self))

    @property
    def detail(self) -> str:
        """The message without the file name: a batch record's error, whose case is its own field."""
        return f"{self.field}: {self.problem}" if self.field else self.problem

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"
