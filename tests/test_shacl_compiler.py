"""The shapes compiler's known holes, each closed: the compiled report must be pyshacl's
(focus node, path, value, source shape, component, severity), and the batch input checks
must refuse what the single-case loader refuses. Runs without ../shared/conformance."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph

from reasoner.namespaces import SH
from reasoner.shacl.compiler import UnsupportedShape, compile_report
from reasoner.shacl.report import results

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""

CASES = {
    "top-level property shape with a target": (
        "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:minCount 1 .",
        "ex:a a ex:C ."),
    "untyped shape with sh:targetNode": (
        "ex:S sh:targetNode ex:a ; sh:class ex:C .", "ex:a ex:p 1 ."),
    "sh:targetClass follows rdfs:subClassOf": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
        "ex:D rdfs:subClassOf ex:C . ex:a a ex:D ."),
    "sh:maxCount counts 1 and 1.0 as two values": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:maxCount 1 ] .",
        "ex:a ex:p 1, 1.0 ."),
    "sh:in compares terms, not values": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:in ( 1 \"male\" ) ] .",
        "ex:a ex:p \"1\"^^xsd:decimal, \"male\"^^ex:dt, \"male\" ."),
    "every value of a multi-valued sh:hasValue": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:hasValue ex:x, ex:y ] .",
        "ex:a ex:p ex:x ."),
    "every value of a multi-valued sh:lessThan": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:lessThan ex:q, ex:r ] .",
        "ex:a ex:p 5 ; ex:q 9 ; ex:r 3 ."),
    "every value of a multi-valued sh:lessThanOrEquals": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:lessThanOrEquals ex:q, ex:r ] .",
        "ex:a ex:p 5 ; ex:q 9 ; ex:r 3 ."),
    "every value of a multi-valued sh:disjoint": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:disjoint ex:q, ex:r ] .",
        "ex:a ex:p ex:x ; ex:q ex:y ; ex:r ex:x ."),
    "ill-typed literals fail sh:datatype": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:b ; sh:datatype xsd:boolean ] , "
        "[ sh:path ex:d ; sh:datatype xsd:date ] .",
        "ex:a ex:b \"maybe\"^^xsd:boolean, true ; ex:d \"2020-13-45\"^^xsd:date, \"2020-02-30\"^^xsd:date, "
        "\"2020-02-28\"^^xsd:date ."),
    "node-level sh:or of path-less members": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a, ex:b, 7 ; sh:or ( [ sh:nodeKind sh:Literal ] [ sh:class ex:C ] ) .",
        "ex:a a ex:C ."),
    "sh:minCount and sh:maxCount above 1": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a, ex:b ; sh:property [ sh:path ex:p ; sh:minCount 2 ; sh:maxCount 3 ] .",
        "ex:a ex:p 1 . ex:b ex:p 1, 2, 3, 4 ."),
    "sh:pattern with flags, lengths": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:pattern \"^ab\" ; sh:flags \"i\" ;"
        " sh:minLength 3 ; sh:maxLength 4 ] .",
        "ex:a ex:p \"ABc\", \"abcde\", \"xab\", \"ab\" ."),
    "sh:maxCount and sh:datatype on an inverse path": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:b, ex:d ; sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:maxCount 1 ;"
        " sh:nodeKind sh:BlankNode ] .",
        "ex:a ex:p ex:b . ex:c ex:p ex:b . [] ex:p ex:d ."),
    "sh:node, sh:targetSubjectsOf, sh:targetObjectsOf": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:targetObjectsOf ex:p ; sh:node ex:T . "
        "ex:T a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:minCount 1 ] .",
        "ex:a ex:p ex:b . ex:b ex:q 1 ."),
}


def _keys(found) -> list[tuple]:
    return sorted(tuple(str(t) for t in r) for r in found)


def _by_pyshacl(data: Graph, shapes: Graph) -> list[tuple]:
    from pyshacl import validate

    _, report, _ = validate(data, shacl_graph=shapes, inference="none", advanced=False)
    return _keys((report.value(r, SH.focusNode), report.value(r, SH.resultPath), report.value(r, SH.value),
                  report.value(r, SH.sourceShape), report.value(r, SH.sourceConstraintComponent),
                  report.value(r, SH.resultSeverity)) for r in report.objects(None, SH.result))


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_results_are_pyshacl_results(name):
    shapes_text, data_text = CASES[name]
    shapes, data = Graph().parse(data=PREFIXES + shapes_text), Graph().parse(data=PREFIXES + data_text)
    compiled = compile_report(shapes)
    store = ox.Store()      # parsed as batch parses it: rdflib would rewrite "maybe"^^xsd:boolean
    store.load(PREFIXES + data_text, format=ox.RdfFormat.TURTLE)
    ours = _keys(r[:6] for r in results(compiled, store.query(compiled.query)))
    expected = _by_pyshacl(data, shapes)
    assert expected, "each case must produce results"
    assert ours == expected


def test_branches_that_cannot_have_results_are_skipped_with_the_same_rows():
    """ShapePlan.graph_rows skips a constraint when no node of the data has the values its
    results need (a value for a test of each value, n + 1 for sh:maxCount n): the rows are
    the same, on every case above with and without each of its triples, and on the
    case-input shapes over the bad-input corpus and the decision fixtures in one store."""
    from conftest import FIXTURES, ROOT
    from reasoner.errors import InputError
    from reasoner.pipeline import case_input
    from reasoner.shacl.plan import plan_of

    def same_rows(plan, cases: list[list]) -> int:
        store = ox.Store()
        store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(f"urn:case:{n}"))
                     for n, triples in enumerate(cases) for t in triples)
        most = case_input._most_values([case_input.statements(triples) for triples in cases], plan.bounded_paths)
        every = sorted(tuple(map(str, row)) for row in plan.graph_rows(store))
        assert sorted(tuple(map(str, row)) for row in plan.graph_rows(store, most)) == every
        return len(every)

    for shapes_text, data_text in CASES.values():
        plan = plan_of(compile_report(Graph().parse(data=PREFIXES + shapes_text)))
        data = list(ox.parse(PREFIXES + data_text, format=ox.RdfFormat.TURTLE))
        assert same_rows(plan, [data] + [data[:n] + data[n + 1:] for n in range(len(data))])
    cases = []
    for path in [ROOT / "examples" / "seed-case.ttl", *sorted((FIXTURES / "bad-input").rglob("*.ttl")),
                 *sorted((FIXTURES / "decisions").glob("*.ttl"))]:
        try:
            cases.append(case_input.parse(path.read_bytes(), "turtle", str(path), path.as_uri()))
        except InputError:
            pass
    plan = case_input._input_shapes()
    assert same_rows(plan, cases) > 50
    assert sum(s.needs > 1 for s in plan.sources) > 10  # the sh:maxCount ones, the most costly, are bounded


@pytest.mark.parametrize("shape", [
    "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:uniqueLang true ] .",
    "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:datatype xsd:byte ] .",
    "ex:S a sh:NodeShape ; sh:target [ a ex:T ] .",
])
def test_what_it_does_not_understand_raises_naming_it(shape):
    with pytest.raises(UnsupportedShape, match="sh:"):
        compile_report(Graph().parse(data=PREFIXES + shape))


def test_batch_refuses_a_sex_of_another_datatype_like_the_single_case_path(tmp_path, reasoner):
    """shapes/case-input.ttl: gr:sex must be one of the plain strings; "male"^^ex:dt is not."""
    from conftest import ROOT
    from reasoner.pipeline.batch import decide_batch
    from reasoner.errors import InputError

    seed = (ROOT / "examples" / "seed-case.ttl").read_text()
    assert "gr:sex \"male\"" in seed or "gr:sex" in seed
    case = tmp_path / "typed-sex.ttl"
    case.write_text(seed.replace('gr:sex "male"', 'gr:sex "male"^^<http://example.org/dt>', 1))
    assert case.read_text() != seed
    with pytest.raises(InputError, match="sex"):
        reasoner.decide_file(case)
    [record] = decide_batch([case], reasoner.kb.closure_ntriples)
    assert "sex" in record.get("error", ""), record


def test_the_branches_are_one_balanced_union_with_the_flat_unions_solutions():
    """Oxigraph prepares a flat A UNION B UNION C ... chain in time quadratic in its length
    (50 ms per batch chunk for the case-input shapes), so the compiled branches nest as a
    balanced tree: depth logarithmic in their number, the same solutions."""
    from reasoner.paths import SHAPES_DIR

    compiled = compile_report(Graph().parse(SHAPES_DIR / "case-input.ttl"))
    where = compiled.where("?g")

    def longest_chain(text: str) -> int:  # the most UNIONs directly in one group
        stack, longest = [0], 0
        for token in text.replace("{", " { ").replace("}", " } ").split():
            if token == "{":
                stack.append(0)
            elif token == "}":
                longest = max(longest, stack.pop())
            elif token == "UNION":
                stack[-1] += 1
        return max(longest, stack[0])

    flat = "\n  UNION\n  ".join(f"{{ SELECT DISTINCT ?g {keep} WHERE {{ GRAPH ?g {{ {body} }} }} }}"
                                for keep, body in compiled.branches)
    within = max(longest_chain(body) for _, body in compiled.branches)  # a shape's own target UNIONs
    assert len(compiled.branches) > 60 and longest_chain(flat) == len(compiled.branches) - 1 > within
    assert longest_chain(where) == max(within, 1)
    store = ox.Store()
    graph = ox.NamedNode("urn:example:case")
    for t in ox.parse(PREFIXES + """
            ex:c a <https://w3id.org/guideline-reasoner/ontology#Case> ;
                 <https://w3id.org/guideline-reasoner/ontology#hasRequest> ex:r , ex:s .
            ex:r a <https://w3id.org/guideline-reasoner/ontology#TreatmentRequest> ;
                 <https://w3id.org/guideline-reasoner/ontology#quantity> "-3", "x" .
            ex:s <https://w3id.org/guideline-reasoner/ontology#quantity> 1.5 .""",
                      format=ox.RdfFormat.TURTLE):
        store.add(ox.Quad(t.subject, t.predicate, t.object, graph))
    query = "SELECT ?g ?focus ?value ?path ?c WHERE {{ {} }}"
    ours = sorted(tuple(map(str, row)) for row in store.query(query.format(where)))
    assert ours and ours == sorted(tuple(map(str, row)) for row in store.query(query.format(flat)))
