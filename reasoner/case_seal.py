"""A case states facts about itself only. Refused, with the triple named:
- a triple about a term of the ontology or the knowledge base (`gr:LowBack gr:partOf
  gr:Knee`, `kb:CPMTG-MassageTherapy gr:maxVisits 100`, a new label for a treatment): the
  knowledge base is not the case's to change, in one case or for the others of a batch;
- a triple with a predicate the pipeline derives (`gr:priorVisits`, `gr:outcome`,
  `gr:checkStatus`, ...) or a node typed as a decision or requirement check: a case cannot
  forge what is decided from it.

Which predicates are derived is read from the ontology, once: those whose definition says
"Derived:", those of decisions and checks, and `gr:aboutRequest`. The single-case
loader checks the parsed graph; batch runs the same rules as one SPARQL query over every
case graph of a chunk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SKOS

from reasoner.errors import InputError
from reasoner.namespaces import GR, KB

PIPELINE_DOMAINS = (GR.Decision, GR.RequirementCheck)


@dataclass(frozen=True)
class Seal:
    derived: frozenset[str]         # predicates only the pipeline states
    pipeline_types: frozenset[str]  # classes only the pipeline gives nodes


def seal_from(triples: Iterable[tuple[str, str, str]]) -> Seal:
    """From the closed knowledge base's triples, as (subject, predicate, object) strings
    (the closure holds every subclass link, so no walk is needed)."""
    definition, domain, subclass = str(SKOS.definition), str(RDFS.domain), str(RDFS.subClassOf)
    pipeline_domains = {str(d) for d in PIPELINE_DOMAINS}
    derived, types = {str(GR.aboutRequest)}, {str(GR.Decision), str(GR.RequirementCheck)}
    for s, p, o in triples:
        if (p == definition and o.startswith("Derived")) or (p == domain and o in pipeline_domains):
            derived.add(s)
        elif p == subclass and o == str(GR.RequirementCheck):
            types.add(s)
    return Seal(frozenset(derived), frozenset(types))


def _about_a_term(subject) -> bool:
    return isinstance(subject, URIRef) and (str(subject).startswith(str(GR)) or str(subject).startswith(str(KB)))


def first_breach(triples: Iterable[tuple], seal: Seal) -> tuple[tuple, str] | None:
    """The first triple (in a stable order) a case may not state, with why."""
    for s, p, o in sorted(triples, key=lambda t: tuple(str(x) for x in t)):
        if _about_a_term(s):
            return (s, p, o), "a case may not state facts about the ontology's or knowledge base's terms"
        if str(p) in seal.derived:
            return (s, p, o), "a derived or decision property: the reasoner states it, a case may not"
        if p == RDF.type and str(o) in seal.pipeline_types:
            return (s, p, o), "a decision or requirement check: the reasoner makes them, a case may not"
    return None


def check_sealed(graph: Graph, source: str, seal: Seal) -> None:
    breach = first_breach(graph, seal)
    if breach:
        (s, p, o), why = breach
        raise InputError(source, why, field=f"{_short(s)} {_short(p)} {_short(o)}")


def breach_text(triples: Iterable[tuple], seal: Seal) -> str:
    """The batch record's error for a case graph with these breaching triples, in the
    single-case loader's words."""
    (s, p, o), why = first_breach(triples, seal)
    return f"{_short(s)} {_short(p)} {_short(o)}: {why}"


def breach_query(seal: Seal) -> str:
    """The same rules over every named graph of a store: ?g ?s ?p ?o of each breach."""
    derived = " ".join(f"<{p}>" for p in sorted(seal.derived))
    types = " ".join(f"<{t}>" for t in sorted(seal.pipeline_types))
    return f"""SELECT ?g ?s ?p ?o WHERE {{
  {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (isIRI(?s) && (STRSTARTS(STR(?s), "{GR}") || STRSTARTS(STR(?s), "{KB}"))) }}
  UNION {{ VALUES ?p {{ {derived} }} GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ VALUES ?o {{ {types} }} GRAPH ?g {{ ?s a ?o }} BIND (<{RDF.type}> AS ?p) }}
}}"""


def _short(term) -> str:
    if isinstance(term, Literal):
        return f'"{term}"'
    if isinstance(term, BNode):
        return "an unnamed node"
    text = str(term)
    for prefix, ns in (("gr:", str(GR)), ("kb:", str(KB))):
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return f"<{text}>"
