"""A case states facts about itself only. Refused, with the triple named:
- a triple about a term of the ontology or the knowledge base (`gr:LowBack gr:partOf
  gr:Knee`, `kb:CPMTG-MassageTherapy gr:maxVisits 100`, a new label for a treatment): the
  knowledge base is not the case's to change, in one case or for the others of a batch;
- a triple about a node nothing in the case leads to from its gr:Case (in a batch, another
  case's request or episodes);
- a triple with a predicate the pipeline derives (`gr:priorVisits`, `gr:outcome`,
  `gr:checkStatus`, ...) or a node typed as a decision or requirement check: a case cannot
  forge what is decided from it.

Which predicates are derived is read from the ontology, once: those whose definition says
"Derived:", those of decisions and checks, and `gr:aboutRequest`. The rules are one SPARQL
query over every case graph of a store (`breach_query`), run by the one input check
(reasoner/pipeline/case_input.py) for a single case and a batch chunk alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rdflib import RDF, RDFS, BNode, Literal
from rdflib.namespace import SKOS

from reasoner.namespaces import GR, KB

PIPELINE_DOMAINS = (GR.Decision, GR.RequirementCheck)
WHY = {
    "term": "a case may not state facts about the ontology's or knowledge base's terms",
    "derived": "a derived or decision property: the reasoner states it, a case may not",
    "type": "a decision or requirement check: the reasoner makes them, a case may not",
    "unreached": "nothing in the case leads to this node from its gr:Case, so it is not the case's to state",
}


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


def first(found: Iterable[tuple[tuple, str]]) -> tuple[tuple, str] | None:
    """The one to report, in a stable order (the same in a single run and a batch)."""
    order = list(WHY)  # a triple that breaks two rules is reported under the first
    return min(found, key=lambda item: (tuple(str(x) for x in item[0]), order.index(item[1])), default=None)


def breach_query(seal: Seal) -> str:
    """The same rules over every named graph of a store: ?g ?s ?p ?o ?kind of each breach.
    A node counts as reached along any chain of statements other than rdf:type from a
    gr:Case of the same graph (case facts backwards from the subject they name)."""
    derived = " ".join(f"<{p}>" for p in sorted(seal.derived))
    types = " ".join(f"<{t}>" for t in sorted(seal.pipeline_types))
    term = f'isIRI(?s) && (STRSTARTS(STR(?s), "{GR}") || STRSTARTS(STR(?s), "{KB}"))'
    return f"""SELECT ?g ?s ?p ?o ?kind WHERE {{
  {{ GRAPH ?g {{ ?s ?p ?o }} FILTER ({term}) BIND ("term" AS ?kind) }}
  UNION {{
    GRAPH ?g {{ ?s ?p ?o }} FILTER (!({term}))
    FILTER NOT EXISTS {{ GRAPH ?g {{ ?case a <{GR.Case}> .
                                   ?case (!(<{RDF.type}>|<{GR.factSubject}>)|^<{GR.factSubject}>)* ?s }} }}
    BIND ("unreached" AS ?kind)
  }}
  UNION {{ VALUES ?p {{ {derived} }} GRAPH ?g {{ ?s ?p ?o }} BIND ("derived" AS ?kind) }}
  UNION {{ VALUES ?o {{ {types} }} GRAPH ?g {{ ?s a ?o }} BIND (<{RDF.type}> AS ?p) BIND ("type" AS ?kind) }}
}}"""


def short(term) -> str:
    if isinstance(term, Literal):
        return f'"{term}"'
    if isinstance(term, BNode):
        return "an unnamed node"
    text = str(term)
    for prefix, ns in (("gr:", str(GR)), ("kb:", str(KB))):
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return f"<{text}>"
