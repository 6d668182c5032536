"""The names a case may use, and what to suggest when one is misspelled.

Which kinds of term a case property takes (treatment, condition, body region, finding) is
`TERM_RULES`, read by the single-case loader and, as SPARQL, by batch; the suggestion is
difflib's closest known name, or for a sided region (`RightKnee`) the region and the side."""

from __future__ import annotations

import difflib
import re
from typing import Iterable

from reasoner.namespaces import GR_NS as GR, KB_NS as KB, RDF_TYPE, RDFS_NS, RDFS_SUBCLASS_OF  # plain strings: no rdflib on the decide path

# (property, class its values must fall under, what to call it)
TERM_RULES = (
    (GR.treatment, GR.Treatment, "treatment"),
    (GR.hasIngredient, GR.Treatment, "ingredient (a treatment class)"),
    (GR.hasDiagnosis, GR.Condition, "condition"),
    (GR.bodyPart, GR.BodyRegion, "body region"),
    (GR.hasFinding, GR.ClinicalFinding, "finding"),
)
TERM_KINDS = tuple(dict.fromkeys(kind for _, kind, _ in TERM_RULES))
_SUBCLASS = RDFS_SUBCLASS_OF
_TYPE = RDF_TYPE


def known_terms(triples: Iterable[tuple[str, str, str]]) -> dict[str, set[str]]:
    """For each kind of term a case names, the IRIs the knowledge base knows: the kind
    itself, its subclasses and its instances (from the closed knowledge base's triples, as
    strings; the closure holds every subclass link)."""
    known = {str(kind): {str(kind)} for kind in TERM_KINDS}
    for s, p, o in triples:
        if (p == _SUBCLASS or p == _TYPE) and o in known:
            known[o].add(s)
    return known


def local(iri: str) -> str:
    """The name of an IRI of the project's namespaces (gr:, kb:), or the IRI."""
    for ns in (str(GR), str(KB)):
        if iri.startswith(ns):
            return iri[len(ns):]
    return iri


def suggestion(name: str, known: Iterable[str], prefix: str = "gr:", quote: str = "") -> str:
    """ ' (did you mean gr:X?)' for the closest of `known` (names, not IRIs), or ''. A name
    that is a side and a known name (RightKnee) gets both parts back."""
    known = sorted(set(known))
    side = re.fullmatch(r"(Left|Right|Bilateral)(\w+)", name)
    if side and side.group(2) in known:
        return (f" (did you mean {quote}{prefix}{side.group(2)}{quote} with laterality "
                f"{quote}{prefix}{side.group(1)}{quote}? the side is a property of its own)")
    close = difflib.get_close_matches(name, known, n=1) or difflib.get_close_matches(
        name.lower(), {k.lower(): k for k in known}, n=1)
    if not close:
        return ""
    found = close[0] if close[0] in known else {k.lower(): k for k in known}[close[0]]
    return f" (did you mean {quote}{prefix}{found}{quote}?)"


def unknown_term(what: str, value: str, known_iris: Iterable[str]) -> str:
    """The message for a value that is not a known term of its kind."""
    prefix = "gr:" if value.startswith(str(GR)) else "kb:" if value.startswith(str(KB)) else None
    shown = f"{prefix}{local(value)}" if prefix else f"<{value}>"
    return f"unknown {what} {shown} (not in the knowledge base){suggestion(local(value), map(local, known_iris))}"


def term_query() -> str:
    """Batch: ?g ?subject ?property ?value of every value in a case graph (GRAPH ?g) that is
    not a known term of its property's kind, read from the knowledge base in the default
    graph; the rules are TERM_RULES."""
    rules = " ".join(f"(<{prop}> <{kind}>)" for prop, kind, _ in TERM_RULES)
    return f"""PREFIX rdfs: <{RDFS_NS}>
SELECT ?g ?subject ?property ?value WHERE {{
  VALUES (?property ?kind) {{ {rules} }}
  GRAPH ?g {{ ?subject ?property ?value }}
  FILTER (?value != ?kind)
  FILTER NOT EXISTS {{ ?value rdfs:subClassOf ?kind }}
  FILTER NOT EXISTS {{ ?value a ?kind }}
}}"""


def rule_of(prop: str) -> tuple[int, str, str]:
    """(position in TERM_RULES, kind IRI, what to call it) of a property's rule."""
    return next((n, str(kind), what) for n, (p, kind, what) in enumerate(TERM_RULES) if str(p) == prop)
