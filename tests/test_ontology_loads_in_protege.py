"""Protégé check: the knowledge base opens in the OWL API through the catalog with zero
OWL 2 DL profile violations, and HermiT finds it consistent with no unsatisfiable class."""

from __future__ import annotations

import pytest
from rdflib import OWL, Graph

from conftest import FIXTURES
from owl_api import check_dl_profile
from reasoner.kb.knowledge import KnowledgeBase
from reasoner.paths import CATALOG, KB_IRI


def test_knowledge_base_is_owl2_dl_in_the_owl_api():
    report = check_dl_profile(CATALOG, KB_IRI)
    assert report.ontologies == len(KnowledgeBase().files), report.output
    assert report.axioms > 500
    assert report.violations == [], "\n".join(report.violations)
    assert report.exit_code == 0


def test_the_profile_check_can_fail():
    """An xsd:date literal is outside the OWL 2 datatype map: the check must say so."""
    report = check_dl_profile(FIXTURES / "owlapi" / "catalog-v001.xml", "https://example.org/not-dl")
    assert report.exit_code == 1
    assert any("xsd:date" in v or "XMLSchema#date" in v for v in report.violations), report.output


def test_hermit_finds_the_knowledge_base_consistent(tmp_path):
    owlready2 = pytest.importorskip("owlready2")
    graph = Graph()
    graph += KnowledgeBase().graph
    graph.remove((None, OWL.imports, None))  # merged already; owlready2 would fetch them
    path = tmp_path / "kb.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load()
    with onto:
        owlready2.sync_reasoner_hermit([onto], infer_property_values=False, debug=0)
    assert list(world.inconsistent_classes()) == []
    chiropractic = onto.search_one(iri="*#ChiropracticManipulation")
    assert {c.name for c in chiropractic.ancestors()} >= {"ManualTherapy", "PhysicalMedicine", "Treatment"}
