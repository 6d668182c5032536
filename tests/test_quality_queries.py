"""The knowledge-base checks find what they are written to find: each defect in the
broken fixture is reported (by shapes/knowledge-base.ttl or a quality query), and the
shipped knowledge base has none."""

from __future__ import annotations

from rdflib import Graph

from conftest import FIXTURES
from reasoner.kb.selfcheck import knowledge_violations, violation_rows

GR = "https://w3id.org/guideline-reasoner/ontology#"
KB = "https://w3id.org/guideline-reasoner/kb#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"


def broken() -> Graph:
    return Graph().parse(FIXTURES / "quality" / "broken-knowledge.ttl")


def test_knowledge_shapes_catch_each_defect():
    found = {(focus, path) for focus, path, _ in knowledge_violations(broken())}
    assert (GR + "Unlabelled", RDFS + "label") in found
    assert (GR + "Unlabelled", SKOS + "definition") in found
    assert (KB + "Uncited", GR + "hasCitation") in found
    assert (KB + "Uncited", GR + "grade") in found
    assert (KB + "BadGrade", GR + "grade") in found
    assert (KB + "NoNumbers", GR + "aboutTreatment") in found
    assert (KB + "Pageless", "") in found  # neither section nor pages (an sh:or)
    assert (KB + "Undated", GR + "effectiveFrom") in found


def test_wiring_queries_catch_each_defect():
    flat = {(name, entity, prop) for name, rows in violation_rows(broken()).items() for entity, prop, _ in rows}
    assert ("requirement-wiring-violation", KB + "NoNumbers", GR + "maxVisits") in flat
    assert ("requirement-wiring-violation", KB + "NowhereExcluded", GR + "requires") in flat
    assert ("requirement-wiring-violation", KB + "RequiresNothing", GR + "requires") in flat
    assert ("requirement-wiring-violation", KB + "ExcludedNowhere", GR + "appliesToBodyRegion") in flat
    assert ("requirement-wiring-violation", GR + "Unshaped", GR + "checkClass") in flat
    assert ("iri-clash-violation", KB + "Clash", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") in flat
    for term in ("UntypedCode", "MisspeltSystem", "CodedTwiceA", "CodedTwiceB"):
        assert ("code-mapping-violation", GR + term, SKOS + "notation") in flat, term


def test_shipped_knowledge_base_is_clean():
    from reasoner.kb.knowledge import KnowledgeBase
    from reasoner.paths import SHAPES_DIR

    kb = KnowledgeBase().graph
    assert knowledge_violations(kb) == []
    graph = kb + Graph().parse(SHAPES_DIR / "requirements.ttl")
    assert {name: rows for name, rows in violation_rows(graph).items() if rows} == {}


def test_queries_name_only_terms_the_vocabulary_defines(tmp_path):
    """A query matching a renamed property finds nothing without an error (the evidence query
    once named gr:activeTreatmentEvidence after it became gr:companionTreatmentEvidence)."""
    from reasoner.kb.knowledge import KnowledgeBase
    from reasoner.paths import QUERIES_DIR
    from reasoner.kb.selfcheck import unknown_query_terms

    kb = KnowledgeBase().graph
    assert unknown_query_terms(kb, sorted(QUERIES_DIR.rglob("*.rq"))) == []
    stale = tmp_path / "stale.rq"
    stale.write_text("# gr:InAComment is not read\nPREFIX gr: <https://w3id.org/guideline-reasoner/ontology#>\n"
                     "SELECT ?x WHERE { ?x gr:activeTreatmentEvidence ?y ; gr:hasFinding ?z }\n")
    assert unknown_query_terms(kb, [stale]) == [(stale, "activeTreatmentEvidence")]
