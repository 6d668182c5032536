"""Compiled shapes (reasoner/shacl/compiler.py) in a form that needs no rdflib: the queries,
and per constraint the triples every one of its results has in a sh:ValidationReport. A
shapes file's plan is kept in the cache (reasoner/kb/cache.py) under a hash of the file and
of the code that compiles it, so a cold `decide` validates with Oxigraph alone: importing
rdflib, parsing the shapes and compiling them cost it 0.4 s.

`report_quads` turns the rows of the plan's query into the report: the same triples
pyshacl gives (reasoner/shacl/report.py says which), blank nodes aside."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from reasoner.kb import cache
from reasoner.namespaces import RDF_TYPE, SH_NS as SH, SHACL_PLAN_RESULT, SHACL_PLAN_SOURCE, XSD

_RESULT = ox.NamedNode(SHACL_PLAN_RESULT)  # stands for each result's blank node
_TYPE = ox.NamedNode(RDF_TYPE)
_RESULT_PATH = ox.NamedNode(SH.resultPath)


@dataclass(frozen=True)
class SourcePlan:
    """One compiled constraint (a ?c of the query)."""
    path: object           # Oxigraph term of its fixed sh:path; None when the row gives it
    fixed: tuple           # (predicate, object) every result has: type, shape, component, severity, messages
    copies: tuple          # the triples of its blank path and shape, copied into the report
    message: str           # its first sh:message, or "violation"
    path_iri: str | None   # its path as an IRI (of the inverse path when inverse); None when the row gives it
    inverse: bool
    needs: int = 0         # a result needs a node with this many values on the path (a predicate or
    # its inverse, path_iri): 1 for a test of each value, n + 1 for sh:maxCount n; 0: no such bound


@dataclass(frozen=True)
class ShapePlan:
    """One query per compiled constraint branch rather than their UNION: Oxigraph takes 60 ms
    to plan the case-input shapes' 87-branch UNION, 13 ms for the branches one by one, with
    the same rows (a UNION's solutions are its branches' together)."""
    queries: tuple         # ?focus ?value ?path ?c over the default graph
    graph_queries: tuple   # ?g ?focus ?value ?path ?c, each named graph ?g on its own
    sources: tuple

    def rows(self, store: ox.Store, **options) -> list:
        """The solutions of every branch (over the default graph; `options` as Store.query's)."""
        return [row for query in self.queries for row in store.query(query, **options)]

    @property
    def bounded_paths(self) -> set[tuple[str, bool]]:
        """(predicate IRI, inverse) of the sources with `needs`."""
        return {(source.path_iri, source.inverse) for source in self.sources if source.needs}

    def graph_rows(self, store: ox.Store, most=None) -> list:
        """The solutions of every branch in each named graph, ?g bound to it. `most(iri,
        inverse)`, when given, is the most values any node of any graph has on that predicate
        (inverse: as the object): a branch whose results need more is not run, as it finds
        none. In a chunk of cases that state each value once, that spares the sh:maxCount
        branches (over half the time), and those on properties no case uses."""
        return [row for query, source in zip(self.graph_queries, self.sources, strict=True)
                if most is None or not source.needs or most(source.path_iri, source.inverse) >= source.needs
                for row in store.query(query)]


# Components whose every result is about a value node on the shape's path (SHACL Core 4.x):
# no value, no result
_EACH_VALUE = {f"{SH}{name}ConstraintComponent" for name in (
    "Class", "Datatype", "NodeKind", "MinExclusive", "MinInclusive", "MaxExclusive", "MaxInclusive", "MinLength",
    "MaxLength", "Pattern", "LanguageIn", "In", "Node", "Not", "And", "Or", "Xone", "Disjoint", "LessThan",
    "LessThanOrEquals")}
_MAX_COUNT = SH.MaxCountConstraintComponent


def _needs(compiled, source, simple: bool) -> int:
    """SourcePlan.needs of a compiled constraint (`simple`: on a predicate or its inverse)."""
    from rdflib import URIRef

    if not simple:
        return 0
    if str(source.component) in _EACH_VALUE:
        return 1
    if str(source.component) == _MAX_COUNT:  # the compiler takes whole numbers only; the least bounds them all
        return min(n.toPython() for n in compiled.shapes.objects(source.shape, URIRef(SH.maxCount))) + 1
    return 0


def plan_of(compiled) -> ShapePlan:
    """The plan of compiled shapes (an rdflib-based shacl_compiler.Compiled)."""
    from reasoner.shacl.report import copied_triples, to_ox

    inverse_path = compiled.shapes.value
    sources = []
    for c, source in enumerate(compiled.sources):
        fixed = [(_TYPE, ox.NamedNode(SH.ValidationResult)), (ox.NamedNode(SH.sourceShape), to_ox(source.shape)),
                 (ox.NamedNode(SH.sourceConstraintComponent), to_ox(source.component)),
                 (ox.NamedNode(SH.resultSeverity), to_ox(source.severity))]
        fixed += [(ox.NamedNode(SH.resultMessage), to_ox(m)) for m in source.messages]
        path, inverse, path_iri, simple = source.path, False, None, False
        if path is not None:
            from rdflib import BNode, URIRef

            target = inverse_path(path, URIRef(SH.inversePath)) if isinstance(path, BNode) else None
            inverse, path_iri = target is not None, str(target if target is not None else path)
            simple = isinstance(target if inverse else path, URIRef)
        sources.append(SourcePlan(None if path is None else to_ox(path), tuple(fixed),
                                  tuple(ox.Triple(*map(to_ox, t)) for t in copied_triples(compiled, c)),
                                  str(source.messages[0]) if source.messages else "violation", path_iri, inverse,
                                  _needs(compiled, source, simple)))
    one_each = [replace(compiled, branches=(branch,)) for branch in compiled.branches]
    return ShapePlan(tuple(c.query for c in one_each),
                     tuple(f"SELECT ?g ?focus ?value ?path ?c WHERE {{ {c.where('?g')} }}" for c in one_each),
                     tuple(sources))


def report_quads(plan: ShapePlan, rows, graph=None) -> tuple[list[ox.Quad], bool]:
    """The sh:ValidationReport of the rows of the plan's queries as quads (in `graph`, else the
    default graph), and whether it conforms (no rows)."""
    graph = ox.DefaultGraph() if graph is None else graph
    report = ox.BlankNode()
    quads = [ox.Quad(report, _TYPE, ox.NamedNode(SH.ValidationReport), graph)]
    copied: set = set()
    conforms = True
    for row in rows:
        conforms = False
        c = int(row["c"].value)
        source = plan.sources[c]
        result = ox.BlankNode()
        quads.append(ox.Quad(report, ox.NamedNode(SH.result), result, graph))
        quads += [ox.Quad(result, p, o, graph) for p, o in source.fixed]
        quads.append(ox.Quad(result, ox.NamedNode(SH.focusNode), row["focus"], graph))
        if (value := row["value"]) is not None:
            quads.append(ox.Quad(result, ox.NamedNode(SH.value), value, graph))
        if (path := source.path or row["path"]) is not None:
            quads.append(ox.Quad(result, _RESULT_PATH, path, graph))
        if c not in copied:
            copied.add(c)
            quads += [ox.Quad(t.subject, t.predicate, t.object, graph) for t in source.copies]
    quads.append(ox.Quad(report, ox.NamedNode(SH.conforms),
                         ox.Literal(str(conforms).lower(), datatype=ox.NamedNode(XSD + "boolean")), graph))
    return quads, conforms   # a blank shape copied for two sources comes twice: the store keeps it once


@lru_cache(maxsize=None)
def cached_plan(shapes_file: Path) -> ShapePlan:
    """The plan of a shapes file, from the cache when the file and the compiler are unchanged."""
    data = shapes_file.read_bytes()
    name = "shapes-" + cache.key(data, str(shapes_file.name), ox.__version__, cache.code_of(
        "reasoner.shacl.compiler", "reasoner.shacl.report", "reasoner.shacl.plan", "reasoner.namespaces", "rdflib")) + ".json"
    stored = cache.read(name)
    if stored is not None:
        try:
            return _loads(stored)
        except (ValueError, KeyError, TypeError, SyntaxError, IndexError, AttributeError):
            pass  # a damaged cache file is rebuilt
    from rdflib import Graph

    from reasoner.shacl.compiler import compile_report

    plan = plan_of(compile_report(Graph().parse(data=data, format="turtle", publicID=shapes_file.resolve().as_uri())))
    cache.write(name, _dumps(plan))
    return plan


# On disk: JSON, with the terms of every source in one N-Quads document, each source's in a
# graph of its own (one parse; the blank path and the blank nodes of its copies keep their
# labels, so they stay one node).
_SOURCE = SHACL_PLAN_SOURCE


def _dumps(plan: ShapePlan) -> bytes:
    quads, sources = [], []
    for n, s in enumerate(plan.sources):
        graph = ox.NamedNode(f"{_SOURCE}{n}")
        quads += [ox.Quad(_RESULT, p, o, graph) for p, o in s.fixed]
        if s.path is not None:
            quads.append(ox.Quad(_RESULT, _RESULT_PATH, s.path, graph))
        quads += [ox.Quad(t.subject, t.predicate, t.object, graph) for t in s.copies]
        sources.append({"message": s.message, "path_iri": s.path_iri, "inverse": s.inverse, "needs": s.needs})
    terms = ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode("utf-8")
    return json.dumps({"queries": plan.queries, "graph_queries": plan.graph_queries, "sources": sources,
                       "terms": terms}).encode("utf-8")


def _loads(data: bytes) -> ShapePlan:
    document = json.loads(data)
    parts = [([], [], []) for _ in document["sources"]]  # fixed, copies, path
    for q in ox.parse(document["terms"], format=ox.RdfFormat.N_QUADS):
        fixed, copies, path = parts[int(q.graph_name.value[len(_SOURCE):])]
        if q.subject != _RESULT:
            copies.append(ox.Triple(q.subject, q.predicate, q.object))
        elif q.predicate == _RESULT_PATH:
            path.append(q.object)
        else:
            fixed.append((q.predicate, q.object))
    return ShapePlan(tuple(document["queries"]), tuple(document["graph_queries"]), tuple(
        SourcePlan(path[0] if path else None, tuple(fixed), tuple(copies), s["message"], s["path_iri"], bool(s["inverse"]),
                   int(s["needs"]))
        for (fixed, copies, path), s in zip(parts, document["sources"])))
