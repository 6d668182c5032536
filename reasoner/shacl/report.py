"""The rows of a compiled shapes query (reasoner/shacl/compiler.py) as SHACL validation
results and as a standard sh:ValidationReport, the same report pyshacl gives: one
sh:ValidationResult per result with sh:focusNode, sh:resultPath, sh:value, sh:sourceShape,
sh:sourceConstraintComponent, sh:resultSeverity and sh:resultMessage; blank-node paths and
shapes are copied into the report (once), as pyshacl does, so the report stands alone."""

from __future__ import annotations

from typing import NamedTuple

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef

from reasoner.namespaces import SH, SH_NS
from reasoner.shacl.compiler import Compiled


class Result(NamedTuple):
    focus: object        # rdflib terms throughout
    path: object
    value: object
    shape: object
    component: URIRef
    severity: URIRef
    messages: tuple


def to_rdflib(term, normalize: bool | None = None):
    """An Oxigraph term as rdflib's (None stays None); `normalize` as rdflib's Literal takes it
    (None: rdflib's default)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == str(XSD.string) else URIRef(datatype), normalize=normalize)


def to_ox(term):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))


def results(compiled: Compiled, rows) -> list[Result]:
    found = []
    for row in rows:
        source = compiled.sources[int(row["c"].value)]
        path = to_rdflib(row["path"]) if source.path is None else source.path
        found.append(Result(to_rdflib(row["focus"]), path, to_rdflib(row["value"]), source.shape,
                            source.component, source.severity, source.messages))
    return found


def violations(compiled: Compiled, rows) -> list[tuple]:
    """The older (focus, shape, message) form, for callers that need no more."""
    return [(r.focus, r.shape, str(r.messages[0]) if r.messages else None) for r in results(compiled, rows)]


def _copy_blank(shapes: Graph, node, into: list, seen: set) -> None:
    """The triples describing a blank node (its path list, a property shape), recursively."""
    if not isinstance(node, BNode) or node in seen:
        return
    seen.add(node)
    for p, o in shapes.predicate_objects(node):
        into.append((node, p, o))
        _copy_blank(shapes, o, into, seen)


def report_triples(compiled: Compiled, found: list[Result], conforms: bool | None = None) -> list[tuple]:
    report = BNode()
    triples = [(report, RDF.type, SH.ValidationReport),
               (report, SH.conforms, Literal(not found if conforms is None else conforms))]
    seen: set = set()
    for r in found:
        result = BNode()
        triples += [(report, SH.result, result), (result, RDF.type, SH.ValidationResult),
                    (result, SH.focusNode, r.focus), (result, SH.sourceShape, r.shape),
                    (result, SH.sourceConstraintComponent, r.component), (result, SH.resultSeverity, r.severity)]
        triples += [(result, SH.resultMessage, m) for m in r.messages]
        if r.path is not None:
            triples.append((result, SH.resultPath, r.path))
        if r.value is not None:
            triples.append((result, SH.value, r.value))
        for node in (r.path, r.shape):
            _copy_blank(compiled.shapes, node, triples, seen)
    return triples


def report_graph(compiled: Compiled, rows) -> Graph:
    graph = Graph()
    for triple in report_triples(compiled, results(compiled, rows)):
        graph.add(triple)
    return graph


def report_quads(compiled: Compiled, rows) -> list[ox.Quad]:
    """The report as quads for the store (default graph): what batch validation adds. Built
    from the rows' own terms (no rdflib round trip: that tripled validation time); the same
    triples as report_triples (reasoner/shacl/plan.py builds them, for a single case too)."""
    from reasoner.shacl.plan import report_quads as plan_report_quads

    return plan_report_quads(_plan(compiled), rows)[0]


def _plan(compiled: Compiled):
    from reasoner.shacl.plan import plan_of

    cached = _PLANS.get(id(compiled))
    if cached is None or cached[0] is not compiled:
        cached = _PLANS[id(compiled)] = (compiled, plan_of(compiled))
    return cached[1]


_PLANS: dict = {}


def copied_triples(compiled: Compiled, c: int) -> list[tuple]:
    """The triples of source c's blank path and shape (rdflib terms), copied into a report."""
    source, into = compiled.sources[c], []
    seen: set = set()
    for node in (source.path, source.shape):
        _copy_blank(compiled.shapes, node, into, seen)
    return into


def findings_update(compiled: Compiled) -> str:
    """A SPARQL Update that adds, per validation result, only what the decisions read
    (queries/decisions/01-check-status.rq, queries/output/reasons.rq): a blank node with
    sh:focusNode, sh:resultSeverity and sh:resultMessage (one node per message). A batch
    chunk outputs no report, so it keeps no more: the update runs inside the store, with no
    row passing through Python, three triples a result where the standard report has nine
    and copies of the shapes (72 ms a chunk of 500 cases for the query, text and load; 30 ms)."""
    cached = _FINDINGS.get(id(compiled))
    if cached is None or cached[0] is not compiled:
        sources = " ".join(f"({c} {_nt(to_ox(source.severity))} {'UNDEF' if message is None else _nt(to_ox(message))})"
                           for c, source in enumerate(compiled.sources) for message in source.messages or (None,))
        text = (f"INSERT {{ _:result <{SH_NS}focusNode> ?focus ; <{SH_NS}resultSeverity> ?severity ; "
                f"<{SH_NS}resultMessage> ?message }}\nWHERE {{\n  {compiled.where()}\n"
                f"  VALUES (?c ?severity ?message) {{ {sources} }}\n}}")
        cached = _FINDINGS[id(compiled)] = (compiled, text)
    return cached[1]


_FINDINGS: dict = {}


def _nt(term) -> str:
    """An Oxigraph term as N-Triples, a blank node (from the shapes) under a prefix of its own."""
    return f"_:s{term.value}" if isinstance(term, ox.BlankNode) else str(term)
