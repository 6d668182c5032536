"""Shared fixtures: one Reasoner for the session (the knowledge base loads once)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OUTPUT = Path(__file__).resolve().parent / "output"


@pytest.fixture(scope="session")
def reasoner():
    from reasoner.pipeline.engine import Reasoner

    return Reasoner()


def local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def decisions_by_request(result) -> dict[str, dict]:
    from reasoner.output.render import decision_records

    return {local_name(record["request"]): record for record in decision_records(result)}


def assert_isomorphic(expected, actual, what: str = "") -> None:
    """Two rdflib graphs are the same graph (blank nodes matched); if not, the failure shows
    the triples only in expected and only in actual, in N-Triples, sorted."""
    from rdflib.compare import graph_diff, isomorphic, to_isomorphic

    if isomorphic(expected, actual):
        return
    _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))

    def lines(graph) -> str:
        return "\n".join(sorted(" ".join(term.n3() for term in triple) for triple in graph)) or "(none)"
    raise AssertionError(f"{what}: graphs differ\nonly in expected:\n{lines(only_expected)}\n"
                         f"only in actual:\n{lines(only_actual)}")


def glob_nonempty(folder: Path, pattern: str) -> list[Path]:
    """A fixture glob that silently finds nothing would make a test vacuous: refuse it."""
    found = sorted(folder.glob(pattern))
    assert found, f"no fixtures match {folder}/{pattern}"
    return found


def assert_decision_explains_itself(record: dict) -> None:
    """A decision's outcome follows from its reasons: not medically necessary names at least
    one unmet requirement (a "not recommended" speaks through its status or exclusion check,
    so the evidence search sequence can set it aside); medically necessary has none unmet."""
    unmet = [r for r in record["reasons"] if r["status"] == "not-met"]
    if record["outcome"] == "not-medically-necessary":
        assert unmet, f"{record['request']}: not medically necessary, but every reason is met"
        assert record["evidence_tier"], record["request"]
    elif record["outcome"] == "medically-necessary":
        assert not unmet, f"{record['request']}: medically necessary, with unmet {unmet}"
