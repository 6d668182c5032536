"""The knowledge-base quality queries find what they are written to find: each broken
fixture yields the expected violation, and the shipped knowledge base yields none."""

from __future__ import annotations

from rdflib import Graph

from conftest import FIXTURES
from reasoner.selfcheck import violation_rows

GR = "https://w3id.org/guideline-reasoner/ontology#"
KB = "https://w3id.org/guideline-reasoner/kb#"


def test_broken_knowledge_is_caught():
    broken = Graph().parse(FIXTURES / "quality" / "broken-knowledge.ttl")
    found = violation_rows(broken)
    flat = {(name, entity, prop) for name, rows in found.items() for entity, prop, _ in rows}
    assert ("missing-label-violation", GR + "Unlabelled", "http://www.w3.org/2000/01/rdf-schema#label") in flat
    assert ("missing-definition-violation", GR + "Unlabelled", "http://www.w3.org/2004/02/skos/core#definition") in flat
    assert ("recommendation-provenance-violation", KB + "Uncited", GR + "hasCitation") in flat
    assert ("recommendation-provenance-violation", KB + "Uncited", GR + "grade") in flat
    assert ("recommendation-provenance-violation", KB + "BadGrade", GR + "grade") in flat
    assert ("requirement-wiring-violation", KB + "NoNumbers", GR + "maxVisits") in flat
    assert ("requirement-wiring-violation", KB + "NowhereExcluded", GR + "requires") in flat
    assert ("requirement-wiring-violation", GR + "Unshaped", GR + "checkClass") in flat


def test_shipped_knowledge_base_is_clean():
    from reasoner.knowledge import KnowledgeBase
    from reasoner.paths import SHAPES_DIR

    graph = KnowledgeBase().graph + Graph().parse(SHAPES_DIR / "requirements.ttl")
    assert {name: rows for name, rows in violation_rows(graph).items() if rows} == {}
