"""The evidence of an imported letter's facts, as triples: each stretch of letter text a fact
was read from is a gr:TextSpan (its quote, and its start and end offsets in the letter text
as read, line endings counted as one character); a node read from the letter (a treatment
episode, a request, the patient) is prov:wasDerivedFrom its spans, and a single triple (the
case has a diagnosis, a finding, an injury date) is named by a gr:CaseFact that repeats it
(gr:factSubject, gr:factPredicate, gr:factObject) and is derived from its spans."""

from __future__ import annotations

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from reasoner.letters.sections import Letter, Span, normalise
from reasoner.namespaces import GR, PROV


class EvidenceWriter:
    """Adds the span and fact nodes of one letter to its case graph: one node per distinct
    span and per distinct triple, numbered in the order first used, so the same letter
    always gives the same graph."""

    def __init__(self, graph: Graph, ns: Namespace, letter: Letter):
        self.graph, self.ns, self.letter = graph, ns, letter
        self._spans: dict[Span, URIRef] = {}
        self._facts: dict[tuple, URIRef] = {}

    def in_summary(self, spans: list[Span]) -> list[Span]:
        """Spans of the case summary text as spans of the letter text."""
        return [self.letter.summary_map.to_letter(span) for span in spans]

    def in_header(self, field: str) -> list[Span]:
        return [self.letter.header_spans[field]] if field in self.letter.header_spans else []

    def of_item(self, n: int) -> list[Span]:
        """The line of the n-th disputed item (from 0)."""
        span = self.letter.items[n].span if n < len(self.letter.items) else None
        return [span] if span else []

    def derive(self, node: URIRef, spans: list[Span]) -> None:
        for span in spans:
            if (target := self._span(span)) is not None:
                self.graph.add((node, PROV.wasDerivedFrom, target))

    def fact(self, subject: URIRef, predicate: URIRef, value: Node, spans: list[Span]) -> None:
        """Name the triple (subject, predicate, value), which the graph asserts, by a
        gr:CaseFact derived from `spans`; nothing when there is no span to give."""
        if not any(end > start for start, end in spans):
            return
        key = (subject, predicate, value)
        node = self._facts.get(key)
        if node is None:
            node = self._facts[key] = self.ns[f"fact-{len(self._facts) + 1}"]
            self.graph.add((node, RDF.type, GR.CaseFact))
            self.graph.add((node, GR.factSubject, subject))
            self.graph.add((node, GR.factPredicate, predicate))
            self.graph.add((node, GR.factObject, value))
        self.derive(node, spans)

    def _span(self, span: Span) -> URIRef | None:
        start, end = span
        if end <= start:
            return None
        node = self._spans.get(span)
        if node is None:
            node = self._spans[span] = self.ns[f"evidence-{len(self._spans) + 1}"]
            self.graph.add((node, RDF.type, GR.TextSpan))
            self.graph.add((node, GR.quote, Literal(normalise(self.letter.text[start:end]))))
            self.graph.add((node, GR.startOffset, Literal(start, datatype=XSD.integer)))
            self.graph.add((node, GR.endOffset, Literal(end, datatype=XSD.integer)))
        return node
