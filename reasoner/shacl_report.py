"""The rows of a compiled shapes query (reasoner/shacl_compiler.py) as SHACL validation
results and as a standard sh:ValidationReport, the same report pyshacl gives: one
sh:ValidationResult per result with sh:focusNode, sh:resultPath, sh:value, sh:sourceShape,
sh:sourceConstraintComponent, sh:resultSeverity and sh:resultMessage; blank-node paths and
shapes are copied into the report (once), as pyshacl does, so the report stands alone."""

from __future__ import annotations

from typing import NamedTuple

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef

from reasoner.namespaces import SH
from reasoner.shacl_compiler import Compiled


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
    triples as report_triples."""
    sources = _ox_sources(compiled)
    report = ox.BlankNode()
    quads = [ox.Quad(report, _OX_TYPE, _OX[SH.ValidationReport])]
    copied: set = set()
    conforms = True
    for row in rows:
        conforms = False
        c = int(row["c"].value)
        path, fixed = sources[c]
        result = ox.BlankNode()
        quads.append(ox.Quad(report, _OX[SH.result], result))
        quads += [ox.Quad(result, p, o) for p, o in fixed]
        quads.append(ox.Quad(result, _OX[SH.focusNode], row["focus"]))
        if (value := row["value"]) is not None:
            quads.append(ox.Quad(result, _OX[SH.value], value))
        if (path := path or row["path"]) is not None:
            quads.append(ox.Quad(result, _OX[SH.resultPath], path))
        if c not in copied:
            copied.add(c)
            quads += _blank_copies(compiled, c)
    quads.append(ox.Quad(report, _OX[SH.conforms], ox.Literal(str(conforms).lower(), datatype=_OX[XSD.boolean])))
    return quads        # a blank shape copied for two sources comes twice: the store keeps it once


_OX = {term: ox.NamedNode(str(term)) for term in (SH.ValidationReport, SH.ValidationResult, SH.result, SH.focusNode,
                                                  SH.value, SH.resultPath, SH.sourceShape, SH.resultSeverity,
                                                  SH.sourceConstraintComponent, SH.resultMessage, SH.conforms,
                                                  XSD.boolean)}
_OX_TYPE = ox.NamedNode(str(RDF.type))


def _ox_sources(compiled: Compiled) -> list[tuple]:
    """Per source: (fixed path or None, the (predicate, object) pairs every result has)."""
    cached = _SOURCES.get(id(compiled))
    if cached is None or cached[0] is not compiled:
        built = []
        for source in compiled.sources:
            fixed = [(_OX_TYPE, _OX[SH.ValidationResult]), (_OX[SH.sourceShape], to_ox(source.shape)),
                     (_OX[SH.sourceConstraintComponent], to_ox(source.component)),
                     (_OX[SH.resultSeverity], to_ox(source.severity))]
            fixed += [(_OX[SH.resultMessage], to_ox(m)) for m in source.messages]
            built.append((None if source.path is None else to_ox(source.path), fixed))
        cached = _SOURCES[id(compiled)] = (compiled, built)
    return cached[1]


_SOURCES: dict = {}


def _blank_copies(compiled: Compiled, c: int) -> list[ox.Quad]:
    source, into = compiled.sources[c], []
    seen: set = set()
    for node in (source.path, source.shape):
        _copy_blank(compiled.shapes, node, into, seen)
    return [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in into]


def report_ntriples(compiled: Compiled, rows) -> str:
    """The triples of report_quads as N-Triples text, for Store.load: formatting text and
    letting the store parse it is faster than building the quads one by one in Python, on
    a batch chunk's thousands of results. Loading gives every blank node of one text a
    fresh one (results, the report, copied shapes), as report_quads does."""
    fixed = _nt_sources(compiled)
    lines = []
    copied: set = set()
    conforms = "true"
    result_of, focus_of, value_of, path_of = (f" <{SH[name]}> " for name in ("result", "focusNode", "value", "resultPath"))
    for n, row in enumerate(rows):
        conforms = "false"
        c = int(row["c"].value)
        path, described, copies = fixed[c]
        result = f"_:r{n}"
        lines.append(f"_:report{result_of}{result} .\n{described.format(result)}{result}{focus_of}{row['focus']} .\n")
        if (value := row["value"]) is not None:
            lines.append(f"{result}{value_of}{value} .\n")
        if (path := path or row["path"]) is not None:
            lines.append(f"{result}{path_of}{path} .\n")
        if c not in copied:
            copied.add(c)
            lines.append(copies)
    lines.append(f"_:report <{RDF.type}> <{SH.ValidationReport}> .\n"
                 f"_:report <{SH.conforms}> \"{conforms}\"^^<{XSD.boolean}> .\n")
    return "".join(lines)


def _nt_sources(compiled: Compiled) -> list[tuple]:
    """Per source: (fixed path as N-Triples or None, its fixed triples with {} for the
    result, the triples copying its blank path and shape), all labels prefixed so they
    cannot meet a result's or the report's."""
    cached = _NT_SOURCES.get(id(compiled))
    if cached is None or cached[0] is not compiled:
        built = []
        for c, (path, pairs) in enumerate(_ox_sources(compiled)):
            described = "".join(f"{{0}} {p} {_nt(o).replace('{', '{{').replace('}', '}}')} .\n" for p, o in pairs)
            copies = "".join(f"{_nt(q.subject)} {q.predicate} {_nt(q.object)} .\n" for q in _blank_copies(compiled, c))
            built.append((None if path is None else _nt(path), described, copies))
        cached = _NT_SOURCES[id(compiled)] = (compiled, built)
    return cached[1]


_NT_SOURCES: dict = {}


def _nt(term) -> str:
    """An Oxigraph term as N-Triples, a blank node (from the shapes) under a prefix of its own."""
    return f"_:s{term.value}" if isinstance(term, ox.BlankNode) else str(term)
