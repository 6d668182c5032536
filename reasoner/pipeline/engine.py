"""Deciding single cases: `Reasoner` reads and checks a case file (reasoner/pipeline/
case_input.py) and runs the pipeline (reasoner/pipeline/run.py) in an embedded store of
its own (reasoner/pipeline/stores.py, CaseStore); `CaseResult` is what came out, for
rendering and further queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from reasoner.pipeline import queries
from reasoner.kb.knowledge import KnowledgeBase
from reasoner.namespaces import KB_GRAPH
from reasoner.pipeline import case_input, run
from reasoner.pipeline.stores import CaseStore, requirement_shapes  # noqa: F401  (requirement_shapes: public here)

if TYPE_CHECKING:
    # rdflib graphs are made only when asked for: text and JSON output never import rdflib
    from rdflib import Graph


@dataclass
class CaseResult:
    """Everything derived for one case; `store` holds all of it for further queries. The
    SHACL report and the decision graph come as rdflib graphs when first asked for."""

    source: str
    store: ox.Store
    conforms: bool
    pipeline: CaseStore = field(repr=False)

    @cached_property
    def report(self) -> Graph:
        return self.pipeline.report

    @cached_property
    def explanation(self) -> Graph:
        return self.pipeline.explanation()

    def select(self, query: queries.Query) -> list[dict]:
        """Rows of a SELECT over every graph, as {variable: python value or None}."""
        return run.rows(self.store.query(query.text, use_default_graph_as_union=True))


class Reasoner:
    """Decides cases against one knowledge base; reuse it across cases."""

    def __init__(self, kb: KnowledgeBase | None = None):
        self.kb = kb or KnowledgeBase()

    @cached_property
    def _kb_triples(self) -> list[ox.Triple]:
        return list(ox.parse(self.kb.closure_ntriples, format=ox.RdfFormat.N_TRIPLES))

    @cached_property
    def _kb_quads(self) -> list[ox.Quad]:
        graph = ox.NamedNode(KB_GRAPH)
        return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in self._kb_triples]

    @cached_property
    def vocabulary(self) -> Graph:
        """The closed knowledge base as rdflib, for callers that walk it (letter evaluation)."""
        from rdflib import Graph

        return Graph().parse(data=self.kb.closure_ntriples, format="nt")

    @cached_property
    def check(self) -> case_input.CaseCheck:
        """The input rules every path applies, read from the knowledge base."""
        return case_input.CaseCheck.of_closure(self.kb.closure_ntriples)

    @cached_property
    def code_map(self):
        """What codes of imported FHIR records mean (reasoner/fhir/codes.py)."""
        from reasoner.fhir.codes import CodeMap

        return CodeMap(self._kb_quads)

    def load(self, path: Path) -> Graph:
        """Read and check a case file, or a FHIR bundle (.json with "resourceType":
        "Bundle"); raises InputError naming the file and field."""
        return case_input.to_graph(self.read(path))

    def read(self, path: Path) -> list[ox.Triple]:
        """`load`, as the triples read (what `decide` takes without an rdflib round trip)."""
        from reasoner.cases.loader import is_fhir_bundle, read_case_file

        if is_fhir_bundle(path):
            triples = list(ox.parse(self.import_fhir(path).graph.serialize(format="nt", encoding="utf-8"),
                                    format=ox.RdfFormat.N_TRIPLES))
        else:
            fmt = case_input.FORMATS.get(path.suffix.lower())
            triples = case_input.parse(read_case_file(path), fmt, str(path), case_input.base_iri(path, fmt))
        self.check.one(triples, str(path))
        return triples

    def import_fhir(self, path: Path):
        """The case graph of a FHIR bundle file, with notes on what could not be mapped."""
        from reasoner.fhir.importer import import_bundle

        return import_bundle(path, self.code_map)

    def decide_file(self, path: Path) -> CaseResult:
        return self.decide(self.read(path), str(path))

    def decide(self, case: Graph | list[ox.Triple], source: str = "<graph>") -> CaseResult:
        """Decide a case given as an rdflib graph or as the triples `read` gave."""
        if hasattr(case, "serialize"):
            case = ox.parse(case.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
        [*_, (store, _)] = run.decide(self._open_store, [run.CaseInput.of(case)])
        return CaseResult(source, store.store, store.conforms, store)

    def _open_store(self, cases) -> CaseStore:
        [case] = cases
        return CaseStore(self.kb.closure_ntriples, case)
