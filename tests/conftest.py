"""Shared fixtures: one Reasoner for the session (the knowledge base loads once)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OUTPUT = Path(__file__).resolve().parent / "output"


@pytest.fixture(scope="session")
def reasoner():
    from reasoner.engine import Reasoner

    return Reasoner()


def local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def decisions_by_request(result) -> dict[str, dict]:
    from reasoner.render import decision_records

    return {local_name(record["request"]): record for record in decision_records(result)}


def glob_nonempty(folder: Path, pattern: str) -> list[Path]:
    """A fixture glob that silently finds nothing would make a test vacuous: refuse it."""
    found = sorted(folder.glob(pattern))
    assert found, f"no fixtures match {folder}/{pattern}"
    return found
