"""The seed's decision triples against the expected graph, compared as graphs on the
decision vocabulary; a failure prints what is only in expected and only in actual."""

from __future__ import annotations

from rdflib import RDF, Graph

from conftest import FIXTURES, ROOT, assert_isomorphic
from reasoner.namespaces import GR

DECISION_PREDICATES = {GR.aboutRequest, GR.outcome, GR.basedOn, GR.hasReason}
REASON_PREDICATES = {GR.checkStatus, GR.requirement, GR.observedValue, GR.limitValue}


def _project(graph: Graph, subjects) -> set:
    decisions = set(graph.subjects(RDF.type, GR.Decision))
    kept = set()
    for s, p, o in graph:
        if s not in subjects:
            continue
        if s in decisions and (p in DECISION_PREDICATES or (p == RDF.type and o == GR.Decision)):
            kept.add((s, p, o))
        elif s not in decisions and p in REASON_PREDICATES:
            kept.add((s, p, o))
    return kept


def test_seed_decision_graph(reasoner):
    expected = Graph().parse(FIXTURES / "graphs" / "seed-decisions.expected.ttl")
    actual = reasoner.decide_file(ROOT / "examples" / "seed-case.ttl").explanation
    subjects = set(expected.subjects()) | set(actual.subjects(RDF.type, GR.Decision)) \
        | set(actual.objects(None, GR.hasReason))
    assert_isomorphic(_as_graph(_project(expected, subjects)), _as_graph(_project(actual, subjects)), "seed decisions")


def _as_graph(triples) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


def test_decisions_carry_provenance(reasoner):
    from reasoner.namespaces import PROV

    version = reasoner.kb.version
    result = reasoner.decide_file(ROOT / "examples" / "seed-case.ttl")
    graph = result.explanation
    decisions = set(graph.subjects(RDF.type, GR.Decision))
    assert len(decisions) == 3
    for decision in decisions:
        activity = graph.value(decision, PROV.wasGeneratedBy)
        assert activity is not None
        used = {str(u) for u in graph.objects(activity, PROV.used)}
        assert "https://w3id.org/guideline-reasoner/example/seed#case" in used
        assert f"https://w3id.org/guideline-reasoner/kb/{version}" in used
        assert "https://w3id.org/guideline-reasoner/kb#MTUS-CPMTG-2009" in used
        assert str(graph.value(activity, GR.knowledgeBaseVersion)) == version


def test_same_case_gives_the_same_triples(reasoner):
    case = ROOT / "examples" / "seed-case.ttl"
    assert_isomorphic(reasoner.decide_file(case).explanation, reasoner.decide_file(case).explanation, case.name)


def test_output_is_byte_identical_and_names_its_input_and_knowledge(tmp_path, reasoner):
    import json
    import subprocess
    import sys

    def run(path):
        done = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(path), "--format", "json"],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    seed = ROOT / "examples" / "seed-case.ttl"
    first, second = run(seed), run(seed)
    assert first == second
    records = json.loads(first)["decisions"]
    assert {r["kb_version"] for r in records} == {reasoner.kb.version}
    (digest,) = {r["input_hash"] for r in records}
    assert digest.startswith("sha256:") and len(digest) == 71
    assert {r["input_hash"] for r in json.loads(run(ROOT / "examples" / "seed-case.jsonld"))["decisions"]} == {digest}
    changed = tmp_path / "changed.ttl"
    changed.write_text(seed.read_text().replace("gr:age 51", "gr:age 52"))
    assert {r["input_hash"] for r in json.loads(run(changed))["decisions"]} != {digest}


def _decide(path, fmt: str, seed: str) -> str:
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(path), "--format", fmt],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONHASHSEED": seed})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_rdf_output_is_byte_identical_across_runs():
    """rdflib writes JSON-LD in hash order; two runs with other hash seeds must still agree."""
    seed = ROOT / "examples" / "seed-case.ttl"
    for fmt in ("json-ld", "turtle"):
        assert _decide(seed, fmt, "1") == _decide(seed, fmt, "2"), fmt


def test_decision_graph_holds_decisions_reasons_and_provenance_only(reasoner):
    """No knowledge-base triples, no pipeline working data, no copies of knowledge-base
    text: every subject is a decision, one of its reasons or its activity."""
    from reasoner.namespaces import PROV

    working = {GR.evidenceRank, GR.scopeSpecificity, GR.candidateRecommendation, GR.applicableRecommendation,
               GR.scopeCondition, GR.scopeRegion, GR.priorVisits, GR.citationText, GR.message}
    for case in [ROOT / "examples" / "seed-case.ttl", *sorted((FIXTURES / "decisions").glob("*.ttl"))[:12]]:
        graph = reasoner.decide_file(case).explanation
        decisions = set(graph.subjects(RDF.type, GR.Decision))
        allowed = decisions | set(graph.objects(None, GR.hasReason)) | set(graph.objects(None, PROV.wasGeneratedBy))
        assert decisions, case.name
        assert set(graph.subjects()) <= allowed, (case.name, set(graph.subjects()) - allowed)
        assert not {p for p in graph.predicates()} & working, case.name
        for reason in graph.objects(None, GR.hasReason):  # a reason points at what it rests on
            assert graph.value(reason, GR.recommendation) is not None and graph.value(reason, GR.requirement) is not None
