"""The stores the pipeline (reasoner/pipeline/run.py) runs in. Each keeps what a CONSTRUCT
derives, validates the requirement checks and answers SELECTs; nothing else differs.

- CaseStore: one case, embedded (pyoxigraph in memory): the knowledge base, the case, what
  is derived and the SHACL report in graphs of their own; queries see their union.
  Validation is the shapes compiled to SPARQL (reasoner/shacl/plan.py, from the cache),
  over the case and what is derived from it, the data pyshacl was given: the same results
  as pyshacl (tests/test_shacl_compiler.py holds the two equal), without importing pyshacl
  and rdflib, which cost a cold `decide` 0.6 s. pyshacl writes the standard report when a
  caller asks for it as a graph (`validate --format turtle`, `load`).
- ChunkStore: a batch chunk, embedded: the knowledge base in the default graph, every case
  of the chunk beside it; each CONSTRUCT runs as SPARQL Update (no triple passes through
  Python) and validation is SPARQL compiled from the same shapes, keeping of each result
  what the decisions read (focus node, severity, message).
- RemoteStore: one case in an external SPARQL 1.1 store, through the Protocol and the Graph
  Store Protocol: queries run there over the knowledge base's and the case's graphs, their
  results go into the case's graph; a local CaseStore mirrors them for SHACL and rendering."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import pyoxigraph as ox

from reasoner.pipeline import queries
from reasoner.namespaces import CASE_GRAPH, DERIVED_GRAPH, KB_GRAPH, REPORT_GRAPH
from reasoner.pipeline.run import CaseInput, rows

if TYPE_CHECKING:
    from rdflib import Graph  # made only when a caller asks for a report or explanation graph

_CASE, _DERIVED, _REPORT, _KB = (ox.NamedNode(g) for g in (CASE_GRAPH, DERIVED_GRAPH, REPORT_GRAPH, KB_GRAPH))


def graph_of(quads) -> Graph:
    """Quads (or triples) as an rdflib graph."""
    from reasoner.pipeline.case_input import to_graph

    return to_graph(quads, normalize=True)


class CaseStore:
    def __init__(self, kb: list[ox.Quad] | bytes, case: CaseInput):
        """`kb`: the knowledge base's quads, or its closure as N-Triples, which Oxigraph loads
        into the knowledge-base graph without making a Python object per triple (30 ms less)."""
        self.store = ox.Store()
        if isinstance(kb, bytes):
            self.store.load(kb, format=ox.RdfFormat.N_TRIPLES, to_graph=_KB)
        else:
            self.store.extend(kb)
        self.store.extend(ox.Quad(t.subject, t.predicate, t.object, _CASE) for t in case.triples)
        self.conforms = True

    def derive(self, query: queries.Query) -> None:
        self.keep(list(self.store.query(query.text, use_default_graph_as_union=True)))

    def keep(self, triples: list[ox.Triple]) -> None:
        self.store.extend(ox.Quad(t.subject, t.predicate, t.object, _DERIVED) for t in triples)

    def validate(self) -> None:
        from reasoner.shacl.plan import report_quads

        plan = requirement_plan()
        found = plan.rows(self.store, default_graph=[_CASE, _DERIVED])
        report, self.conforms = report_quads(plan, found, _REPORT)
        self.store.extend(report)
        # what was validated, for pyshacl's report if one is asked for (later stages add to _DERIVED)
        self._validated = [q for g in (_CASE, _DERIVED) for q in self.store.quads_for_pattern(None, None, None, g)]

    @property
    def report(self) -> Graph:
        """pyshacl's sh:ValidationReport of the same data, made when asked for (`validate
        --format turtle|json-ld`, `load`, a remote store): the standard report as the
        reference engine writes it (its copies of blank paths, the shapes' prefixes); the
        compiled report in the store has the same results, which the decisions read."""
        from pyshacl import validate

        _, report, _ = validate(graph_of(self._validated), shacl_graph=requirement_shapes(),
                                inference="none", advanced=False)
        return report

    def select(self, query: queries.Query) -> list[dict]:
        return rows(self.store.query(query.text, use_default_graph_as_union=True))

    def explanation(self) -> Graph:
        """The decision graph: decisions, reasons, provenance (queries/output/decision-graph.rq)."""
        return graph_of(self.store.query(decision_graph().text, use_default_graph_as_union=True))


class ChunkStore:
    def __init__(self, kb_quads: list[ox.Quad], cases: Sequence[CaseInput]):
        self.store = ox.Store()
        self.store.extend(kb_quads)
        self.store.extend(ox.Quad(t.subject, t.predicate, t.object) for case in cases for t in case.triples)

    def derive(self, query: queries.Query) -> None:
        self.store.update(_insert(query) if query.path else query.as_insert())

    def validate(self) -> None:
        """The results the decisions read, not the whole report: a chunk outputs none."""
        from reasoner.shacl.report import findings_update

        self.store.update(findings_update(compiled_requirements()))

    def select(self, query: queries.Query) -> list[dict]:
        return rows(self.store.query(query.text))

    def explanation(self) -> list[ox.Triple]:
        """The decision graph of every case of the chunk (queries/output/decision-graph.rq)."""
        return list(self.store.query(decision_graph().text))


@lru_cache(maxsize=None)
def _insert(query: queries.Query) -> str:
    return query.as_insert()


@lru_cache(maxsize=1)
def decision_graph() -> queries.Query:
    return queries.query("output/decision-graph.rq")


class RemoteStore(CaseStore):
    def __init__(self, remote, kb_quads: list[ox.Quad], case: CaseInput):
        super().__init__(kb_quads, case)
        self.remote = remote
        self.name = sorted(case.cases)[0]
        remote.put(self.name, ox.serialize(case.triples, format=ox.RdfFormat.N_TRIPLES), replace=True)

    def derive(self, query: queries.Query) -> None:
        found = self.remote.construct(query.text, [KB_GRAPH, self.name])
        if found.strip():
            self.remote.put(self.name, found, replace=False)
            self.store.load(found, format=ox.RdfFormat.N_TRIPLES, to_graph=_DERIVED)

    def validate(self) -> None:
        super().validate()
        self.remote.put(self.name, self.report.serialize(format="nt", encoding="utf-8"), replace=False)


@lru_cache(maxsize=1)
def requirement_shapes() -> Graph:
    from rdflib import Graph

    from reasoner.paths import SHAPES_DIR

    return Graph().parse(SHAPES_DIR / "requirements.ttl", format="turtle")


def requirement_plan():
    """shapes/requirements.ttl compiled, in the form that needs no rdflib (cached on disk)."""
    from reasoner.paths import SHAPES_DIR
    from reasoner.shacl.plan import cached_plan

    return cached_plan(SHAPES_DIR / "requirements.ttl")


@lru_cache(maxsize=1)
def compiled_requirements():
    from reasoner.shacl.compiler import compile_report

    return compile_report(requirement_shapes())
