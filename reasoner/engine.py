"""The decision pipeline for one case:

    knowledge base (OWL RL closure) + case
      -> applicability, facts, requirement checks   (SPARQL CONSTRUCT, queries/)
      -> validation of the checks                    (SHACL, shapes/requirements.ttl)
      -> decisions, reasons, citations, provenance   (SPARQL CONSTRUCT, queries/decisions/)

SPARQL runs on pyoxigraph (an in-memory store per case); SHACL on pyshacl over the case
and the derived checks only, which keeps it to a few hundred triples. The knowledge base
sits in its own named graph and every query sees the union of the graphs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from reasoner import queries
from reasoner.case_loader import check_case, is_fhir_bundle, read_case
from reasoner.case_seal import Seal, check_sealed, seal_from
from reasoner.knowledge import KnowledgeBase
from reasoner.namespaces import GR
from reasoner.paths import SHAPES_DIR

KB_GRAPH = ox.NamedNode("urn:guideline-reasoner:graph:kb")
CASE_GRAPH = ox.NamedNode("urn:guideline-reasoner:graph:case")
DERIVED_GRAPH = ox.NamedNode("urn:guideline-reasoner:graph:derived")
REPORT_GRAPH = ox.NamedNode("urn:guideline-reasoner:graph:report")


@dataclass
class CaseResult:
    """Everything derived for one case; `store` holds all of it for further queries."""

    source: str
    store: ox.Store
    report: Graph
    conforms: bool
    explanation: Graph = field(default_factory=Graph)
    union: bool = True  # queries see every graph; a batch store keeps all in the default graph

    def select(self, query: queries.Query) -> list[dict]:
        """Rows of a SELECT over every graph, as {variable: python value or None}."""
        solutions = self.store.query(query.text, use_default_graph_as_union=self.union)
        names = [v.value for v in solutions.variables]
        return [dict(zip(names, map(_to_python, row))) for row in solutions]


class Reasoner:
    """Decides cases against one knowledge base; reuse it across cases."""

    def __init__(self, kb: KnowledgeBase | None = None):
        self.kb = kb or KnowledgeBase()

    @cached_property
    def _kb_quads(self) -> list[ox.Quad]:
        triples = ox.parse(self.kb.closure_ntriples, format=ox.RdfFormat.N_TRIPLES)
        return [ox.Quad(t.subject, t.predicate, t.object, KB_GRAPH) for t in triples]

    @cached_property
    def vocabulary(self) -> Graph:
        """The closed knowledge base as rdflib, for callers that walk it (letter evaluation)."""
        return Graph().parse(data=self.kb.closure_ntriples, format="nt")

    @cached_property
    def known_terms(self) -> dict[str, set[str]]:
        """For each kind of term a case names (treatment, condition, body region), the IRIs
        the knowledge base knows: the kind itself, its subclasses and its instances. Read
        from the quads already parsed for the pipeline rather than from a second parse."""
        links = {"http://www.w3.org/2000/01/rdf-schema#subClassOf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"}
        known = {str(kind): {str(kind)} for kind in (GR.Treatment, GR.Condition, GR.BodyRegion)}
        for q in self._kb_quads:
            if q.predicate.value in links and q.object.value in known and isinstance(q.subject, ox.NamedNode):
                known[q.object.value].add(q.subject.value)
        return known

    @cached_property
    def seal(self) -> Seal:
        """What a case may not state (reasoner/case_seal.py), read from the vocabulary."""
        return seal_from((q.subject.value, q.predicate.value, q.object.value) for q in self._kb_quads
                         if not isinstance(q.subject, ox.BlankNode))

    @cached_property
    def code_map(self):
        """What codes of imported FHIR records mean (reasoner/fhir/codes.py)."""
        from reasoner.fhir.codes import CodeMap

        return CodeMap(self._kb_quads)

    def load(self, path: Path) -> Graph:
        """Read and check a case file, or a FHIR bundle (.json with "resourceType":
        "Bundle"); raises InputError naming the file and field."""
        graph = self.import_fhir(path).graph if is_fhir_bundle(path) else read_case(path)
        check_case(graph, str(path), self.known_terms)
        check_sealed(graph, str(path), self.seal)
        return graph

    def import_fhir(self, path: Path):
        """The case graph of a FHIR bundle file, with notes on what could not be mapped."""
        from reasoner.fhir.importer import import_bundle

        return import_bundle(path, self.code_map)

    def decide_file(self, path: Path) -> CaseResult:
        return self.decide(self.load(path), str(path))

    def decide(self, case: Graph, source: str = "<graph>") -> CaseResult:
        result = self._decide_once(case, source)
        # Associated surgical services follow the surgery: when the surgery itself was found
        # necessary, decide again with it authorized (queries/output/surgery-found-necessary.rq).
        approved = [row["case"] for row in result.select(queries.query("output/surgery-found-necessary.rq"))]
        if approved:
            case = case + Graph()
            for iri in approved:
                case.add((URIRef(iri), GR.hasFinding, GR.SurgeryAuthorized))
            result = self._decide_once(case, source)
        return result

    def _decide_once(self, case: Graph, source: str) -> CaseResult:
        store = ox.Store()
        store.extend(self._kb_quads)
        store.load(case.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
                   to_graph=CASE_GRAPH)
        derived = Graph()
        for name in queries.DERIVATION_STAGES:
            self._run_stage(store, name, derived)
        report, conforms = self._validate(case, derived)
        store.load(report.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
                   to_graph=REPORT_GRAPH)
        for name in queries.DECISION_STAGES:
            self._run_stage(store, name, derived)
        stamp_inputs(store, derived, input_hash(store.quads_for_pattern(None, None, None, CASE_GRAPH)))
        return CaseResult(source, store, report, conforms, derived)

    def _run_stage(self, store: ox.Store, name: str, collected: Graph) -> None:
        for query in queries.stage(name):
            triples = list(store.query(query.text, use_default_graph_as_union=True))
            store.extend(ox.Quad(t.subject, t.predicate, t.object, DERIVED_GRAPH) for t in triples)
            collected.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")

    def _validate(self, case: Graph, derived: Graph) -> tuple[Graph, bool]:
        from pyshacl import validate

        conforms, report, _ = validate(case + derived, shacl_graph=requirement_shapes(),
                                       inference="none", advanced=False)
        return report, bool(conforms)


INPUT_HASH = ox.NamedNode("https://w3id.org/guideline-reasoner/ontology#inputHash")


def input_hash(quads) -> str:
    """SHA-256 of the case's triples in a canonical text form (sorted N-Triples, blank nodes
    written alike), so the same input gives the same hash whatever parser read it."""
    import hashlib

    lines = sorted(" ".join("_:b" if isinstance(term, ox.BlankNode) else str(term)
                            for term in (q.subject, q.predicate, q.object)) for q in quads)
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def stamp_inputs(store: ox.Store, derived: Graph | None, digest: str | dict[str, str],
                 graphs: tuple = (DERIVED_GRAPH,)) -> None:
    """Record the input hash on each decision's activity: one digest for every decision, or
    a digest per request IRI (a batch, where each case has its own). Activities are read
    from the first of `graphs`; the hash goes into each of them."""
    from rdflib import Literal

    quads = []
    for activity in [q.subject for q in store.quads_for_pattern(
            None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode("http://www.w3.org/ns/prov#Activity"), graphs[0])]:
        found = digest if isinstance(digest, str) else digest.get(activity.value.split("/decision")[0])
        if found is not None:
            quads += [ox.Quad(activity, INPUT_HASH, ox.Literal(found), graph) for graph in graphs]
    store.extend(quads)
    if derived is not None:
        for quad in quads:
            derived.add((URIRef(quad.subject.value), URIRef(INPUT_HASH.value), Literal(quad.object.value)))


@lru_cache(maxsize=1)
def requirement_shapes() -> Graph:
    return Graph().parse(SHAPES_DIR / "requirements.ttl", format="turtle")


_XSD = "http://www.w3.org/2001/XMLSchema#"
_CONVERTERS = {**{_XSD + name: int for name in ("integer", "int", "long", "nonNegativeInteger")},
               **{_XSD + name: float for name in ("decimal", "double", "float")},
               _XSD + "boolean": lambda value: value == "true"}


def _to_python(term):
    """A SPARQL result term as a Python value: numbers and booleans typed, the rest text."""
    if term is None:
        return None
    if type(term) is ox.Literal:
        convert = _CONVERTERS.get(term.datatype.value)
        return convert(term.value) if convert else term.value
    return term.value
