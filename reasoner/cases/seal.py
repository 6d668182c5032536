"""A case states facts about itself only. Refused, with the triple named:
- a triple about a term of the ontology or the knowledge base (`gr:LowBack gr:partOf
  gr:Knee`, `kb:CPMTG-MassageTherapy gr:maxVisits 100`, a new label for a treatment): the
  knowledge base is not the case's to change, in one case or for the others of a batch;
- a triple about a node nothing in the case leads to from its gr:Case (in a batch, another
  case's request or episodes);
- a triple with a predicate the pipeline derives (`gr:priorVisits`, `gr:outcome`,
  `gr:checkStatus`, ...) or a node typed as a decision or requirement check: a case cannot
  forge what is decided from it;
- a name in the project's namespaces (gr:, kb:) the ontology and knowledge base do not
  define: a predicate that is not one of the ontology's properties (`gr:functionalOutcom`,
  any kb: predicate), a value or type they have no term for. Such a triple would be ignored
  by every query and change the decision without a word; the error suggests the closest
  defined name;
- a case property on a node it is not said of (its rdfs:domain in the ontology): visits on
  a request, a finding on an episode; the queries read it only where the ontology puts it.
  A node's kind is its type among the case classes or its place (under gr:hasRequest a
  request, under gr:hasTreatmentEpisode an episode, ...).

Which predicates are derived is read from the ontology, once: those whose definition says
"Derived:", those of decisions and checks, and `gr:aboutRequest`. The one input check
(reasoner/pipeline/case_input.py) applies the rules to each case's triples with `breaches`,
for a single case and a batch chunk alike. `breach_query` states the same rules as one
SPARQL query over every case graph of a store: it is the reference the tests hold
`breaches` to (tests/test_sealed_cases.py), as pyshacl is for the compiled shapes; run
over a chunk it cost a third of a second per 1,000 cases, one scan of the case graphs per
rule."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from reasoner.cases.names import local, suggestion
from reasoner.namespaces import (  # plain strings: checking needs no rdflib
    GR_NS as GR, KB_NS as KB, OWL_NS as OWL, PROV_NS as PROV, RDF_TYPE, RDFS_NS as RDFS, SKOS_NS as SKOS)

PIPELINE_DOMAINS = (GR.Decision, GR.RequirementCheck)
WHY = {
    "term": "a case may not state facts about the ontology's or knowledge base's terms",
    "derived": "a derived or decision property: the reasoner states it, a case may not",
    "type": "a decision or requirement check: the reasoner makes them, a case may not",
    "unreached": "nothing in the case leads to this node from its gr:Case, so it is not the case's to state",
    "unknown": "the ontology defines no such name",
    "misplaced": "the ontology says this property of another kind of node",
}
CASE_CLASSES = (GR.Case, GR.Patient, GR.TreatmentEpisode, GR.TreatmentRequest, GR.TextSpan, GR.CaseFact)
# a node's kind by its place: the object of this property is one of this class
PLACES = ((GR.hasRequest, GR.TreatmentRequest), (GR.hasTreatmentEpisode, GR.TreatmentEpisode),
          (GR.hasPatient, GR.Patient), (PROV.wasDerivedFrom, GR.TextSpan))
_PROPERTY_TYPES = {str(OWL.ObjectProperty), str(OWL.DatatypeProperty), str(OWL.AnnotationProperty)}


@dataclass(frozen=True)
class Seal:
    derived: frozenset[str]         # predicates only the pipeline states
    pipeline_types: frozenset[str]  # classes only the pipeline gives nodes
    properties: frozenset[str]      # the ontology's properties in its namespace
    defined: frozenset[str]         # every gr: and kb: name the knowledge base says anything about
    allowed: frozenset[tuple[str, str]]  # (case property, case class it may be said of)


def seal_from(triples: Iterable[tuple[str, str, str]]) -> Seal:
    """From the closed knowledge base's triples, as (subject, predicate, object) strings
    (the closure holds every subclass link, so no walk is needed)."""
    definition, domain, subclass = str(SKOS.definition), str(RDFS.domain), str(RDFS.subClassOf)
    pipeline_domains = {str(d) for d in PIPELINE_DOMAINS}
    derived, types = {str(GR.aboutRequest)}, {str(GR.Decision), str(GR.RequirementCheck)}
    properties, defined, domains, above = set(), set(), {}, {str(c): {str(c)} for c in CASE_CLASSES}
    for s, p, o in triples:
        if p == domain:
            domains.setdefault(s, set()).add(o)
        elif p == subclass and s in above:
            above[s].add(o)
        if (p == definition and o.startswith("Derived")) or (p == domain and o in pipeline_domains):
            derived.add(s)
        elif p == subclass and o == str(GR.RequirementCheck):
            types.add(s)
        if s.startswith(str(GR)) or s.startswith(str(KB)):
            defined.add(s)
            if p == RDF_TYPE and o in _PROPERTY_TYPES:
                properties.add(s)
    allowed = {(prop, case_class) for prop, classes in domains.items() if prop not in derived
               for case_class, supers in above.items() if classes & supers}
    return Seal(frozenset(derived), frozenset(types), frozenset(properties), frozenset(defined), frozenset(allowed))


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
    properties = " ".join(f"<{p}>" for p in sorted(seal.properties))
    defined = " ".join(f"<{d}>" for d in sorted(seal.defined))
    placed = " ".join(sorted({f"<{p}>" for p, _ in seal.allowed}))
    allowed = " ".join(f"(<{p}> <{c}>)" for p, c in sorted(seal.allowed))
    case_classes = " ".join(f"<{c}>" for c in CASE_CLASSES)
    # one branch per way a node gets its kind (a join around a UNION is slow on Oxigraph)
    misplaced = "".join(f"""
  UNION {{ VALUES ?p {{ {placed} }} {where} GRAPH ?g {{ {pattern} ?s ?p ?o }}
          MINUS {{ VALUES (?p ?kindOfNode) {{ {allowed} }} }} BIND ("misplaced" AS ?kind) }}"""
        for where, pattern in [(f"VALUES ?kindOfNode {{ {case_classes} }}", "?s a ?kindOfNode .")] +
                              [(f"BIND (<{c}> AS ?kindOfNode)", f"[] <{p}> ?s .") for p, c in PLACES])
    project = f'(STRSTARTS(STR({{v}}), "{GR}") || STRSTARTS(STR({{v}}), "{KB}"))'
    term = "isIRI(?s) && " + project.format(v="?s")
    return f"""SELECT ?g ?s ?p ?o ?kind WHERE {{
  {{ GRAPH ?g {{ ?s ?p ?o }} FILTER ({term}) BIND ("term" AS ?kind) }}
  UNION {{
    GRAPH ?g {{ ?s ?p ?o }} FILTER (!({term}))
    MINUS {{ GRAPH ?g {{ ?case a <{GR.Case}> .
                       ?case (!(<{RDF_TYPE}>|<{GR.factSubject}>)|^<{GR.factSubject}>)* ?s }} }}
    BIND ("unreached" AS ?kind)  # MINUS, not FILTER NOT EXISTS: the closure once per case, not per triple
  }}
  UNION {{ VALUES ?p {{ {derived} }} GRAPH ?g {{ ?s ?p ?o }} BIND ("derived" AS ?kind) }}
  UNION {{ VALUES ?o {{ {types} }} GRAPH ?g {{ ?s a ?o }} BIND (<{RDF_TYPE}> AS ?p) BIND ("type" AS ?kind) }}
  UNION {{ GRAPH ?g {{ ?s ?p ?o }} FILTER ({project.format(v="?p")}) MINUS {{ VALUES ?p {{ {properties} }} }}
          BIND ("unknown" AS ?kind) }}
  UNION {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (isIRI(?o) && {project.format(v="?o")}) MINUS {{ VALUES ?o {{ {defined} }} }}
          BIND ("unknown" AS ?kind) }}{misplaced}
}}"""


def breaches(statements, seal: Seal) -> list[tuple[tuple[str, str, str], str]]:
    """Every breach among one case's distinct triples, each given as the N-Triples text of its
    terms (`statements` of reasoner/pipeline/case_input.py), as ((s, p, o), kind): the rules
    of `breach_query`, as set tests over the case's triples. A triple may come under
    several kinds."""
    names = _nt_names(seal)
    follows: dict[str, list[str]] = {}  # node -> nodes one step on, along breach_query's reaching path
    kinds: dict[str, set[str]] = {}     # node -> the case classes it is (typed, or by its place)
    starts = []
    for s, p, o in statements:
        if p == _TYPE:
            if o == _CASE:
                starts.append(s)
            if o in _CASE_CLASS_NAMES:
                kinds.setdefault(s, set()).add(o)
        elif p == _FACT_SUBJECT:
            follows.setdefault(o, []).append(s)
        else:
            follows.setdefault(s, []).append(o)
            if p in _PLACE_KINDS:
                kinds.setdefault(o, set()).add(_PLACE_KINDS[p])
    reached = set(starts)
    todo = list(starts)
    while todo:
        for node in follows.get(todo.pop(), ()):
            if node not in reached:
                reached.add(node)
                todo.append(node)
    outside = {s for s, _, _ in statements if s not in reached or s.startswith(_PROJECT)}
    found = []
    for triple in statements:
        s, p, o = triple
        if s in outside:
            found.append((triple, "term" if s.startswith(_PROJECT) else "unreached"))
        if p in names.derived:
            found.append((triple, "derived"))
        if p not in names.properties and p.startswith(_PROJECT):
            found.append((triple, "unknown"))
        if o not in names.defined and o.startswith(_PROJECT):
            found.append((triple, "unknown"))
        if p == _TYPE and o in names.pipeline_types:
            found.append((triple, "type"))
        if s in kinds and p in names.placed:
            for kind in kinds[s]:
                if p not in names.allowed[kind]:
                    found.append((triple, "misplaced"))
    return found


def _nt(iri: str) -> str:
    return f"<{iri}>"


# In N-Triples text an IRI is <...> and no other term starts with "<" and a letter (a triple
# term starts "<<("), so a prefix test on the text is one on the IRI.
_PROJECT = (_nt(GR)[:-1], _nt(KB)[:-1])
_TYPE, _CASE, _FACT_SUBJECT = _nt(RDF_TYPE), _nt(GR.Case), _nt(GR.factSubject)
_CASE_CLASS_NAMES = frozenset(_nt(c) for c in CASE_CLASSES)
_PLACE_KINDS = {_nt(p): _nt(c) for p, c in PLACES}


@dataclass(frozen=True)
class _NtSeal:
    """A seal's names as N-Triples text."""
    derived: frozenset[str]
    pipeline_types: frozenset[str]
    properties: frozenset[str]
    defined: frozenset[str]
    allowed: dict[str, frozenset[str]]  # case class -> the properties that may be said of it
    placed: frozenset[str]              # the properties said of some case class


@lru_cache(maxsize=4)
def _nt_names(seal: Seal) -> _NtSeal:
    names = [frozenset(map(_nt, names)) for names in (seal.derived, seal.pipeline_types, seal.properties, seal.defined)]
    allowed = {_nt(c): frozenset(_nt(p) for p, of in seal.allowed if of == c) for c in CASE_CLASSES}
    return _NtSeal(*names, allowed, frozenset(_nt(p) for p, _ in seal.allowed))


def _in_project(term) -> bool:
    return str(term).startswith(str(GR)) or str(term).startswith(str(KB))


def why(breach: tuple[tuple, str], seal: Seal) -> str:
    """WHY of its kind; for an unknown name, which one and the closest the ontology defines;
    for a misplaced property, what it is said of."""
    (s, p, o), kind = breach
    if kind == "misplaced":
        said_of = " or ".join(sorted(short(c) for prop, c in seal.allowed if prop == str(p)))
        return f"{short(p)} is said of a {said_of}, not of this node (see `guideline-reasoner terms --kind property`)"
    if kind != "unknown":
        return WHY[kind]
    if _in_project(p) and str(p) not in seal.properties:
        name, known, what = str(p), seal.properties, "property"
    else:
        name, known, what = str(o), seal.defined - seal.properties, "term"
    return f"the ontology defines no {what} {short(name)}{suggestion(local(name), map(local, known))}"


def short(term) -> str:
    """A term (rdflib's, or an IRI as a string) as the error names it."""
    from rdflib import BNode, Literal  # only an input error comes here

    if isinstance(term, Literal):
        return f'"{term}"'
    if isinstance(term, BNode):
        return "an unnamed node"
    text = str(term)
    for prefix, ns in (("gr:", str(GR)), ("kb:", str(KB))):
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return f"<{text}>"
