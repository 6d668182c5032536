"""One reading and one input check of a case, for every path (a single case, a batch
chunk, a remote store), so all of them accept and refuse the same inputs with the same
words and hash the same triples.

Reading: Turtle and N-Triples by Oxigraph's parsers; JSON and JSON-LD through
`case_loader.json_case` (published context only, unnamed nodes named, no network) and
Oxigraph's JSON-LD parser. Checking, in this order, the first problem found: the case
structure (a gr:Case), the case-input shapes (shapes/case-input.ttl compiled to SPARQL,
one query over every case graph of a store), requests named by IRI, known treatments,
conditions and body regions, and the seal (reasoner/cases/seal.py). A problem is a
(field, problem) pair: an InputError for a single case, `"field: problem"` in a batch
record, the single path's message without its file name."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Container
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import quote

from typing import TYPE_CHECKING

import pyoxigraph as ox

from reasoner.cases.names import TERM_RULES as NAMED_TERM_RULES
from reasoner.cases.names import unknown_term
from reasoner.errors import InputError
from reasoner.namespaces import BATCH_CASE, CASE_BASE, RDF_TYPE, RDFS_SUBCLASS_OF
from reasoner.namespaces import GR_NS as GR  # a plain string: reading and checking a case needs no rdflib

if TYPE_CHECKING:
    from rdflib import Graph

FORMATS = {".ttl": "turtle", ".turtle": "turtle", ".nt": "ntriples", ".jsonld": "json", ".json": "json"}
_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}
_FORMAT_NAMES = {"turtle": "Turtle", "ntriples": "N-Triples", "json": "JSON-LD"}
Problem = tuple  # (field or None, problem)


def base_iri(path: Path, fmt: str) -> str:
    """What relative IRIs of a case file resolve against: the file itself, or for JSON
    (whose ids are usually relative fragments) the case base plus the file's stem."""
    return CASE_BASE + quote(path.stem) if fmt == "json" else path.resolve().as_uri()


def parse(data: bytes | str, fmt: str, source: str, base: str) -> list[ox.Triple]:
    """A case's triples; InputError naming `source` on anything unreadable."""
    from reasoner.cases.jsonld_contexts import NOT_IN_IRI, not_an_iri

    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(source, f"not UTF-8 text (bad byte at offset {exc.start})") from None
    if not data.strip():
        raise InputError(source, "file is empty")
    try:
        if fmt == "json":
            from reasoner.cases.loader import json_case

            data = json.dumps(json_case(data, source))
            # lenient: a strict parse drops a node with an IRI that is no IRI without a word;
            # kept, it is refused by name below
            triples = list(ox.parse(data.encode("utf-8"), format=ox.RdfFormat.JSON_LD, base_iri=base, lenient=True))
        else:
            from reasoner.cases.loader import huge_number

            # no store holds it; named by its line, as the JSON reader names its field (a text
            # shorter than such a number has none: most cases, spared the search)
            huge = huge_number(data, source) if len(data) > 4300 else None
            if huge:
                raise huge
            # as UTF-8 bytes: Oxigraph reads them in a third less time than a str (same messages)
            triples = list(ox.parse(data.encode("utf-8"), format=_OX_FORMATS[fmt], base_iri=base))
    except (SyntaxError, ValueError, RecursionError) as exc:
        raise InputError(source, f"not valid {_FORMAT_NAMES[fmt]}: {_syntax_message(exc)}") from None
    if not triples:
        raise InputError(source, "no RDF statements in the file")
    # ids are checked in the JSON; this catches the rest (terms expanded by @vocab), which the
    # lenient parse lets through (a strict one, of Turtle or N-Triples, refuses such an IRI
    # itself). One search over all the case's IRIs, joined; the loop only to name the first bad one.
    if fmt == "json" and NOT_IN_IRI.search("".join(term.value for triple in triples for term in triple
                                                    if type(term) is ox.NamedNode)):
        for triple in triples:
            for term in triple:
                if isinstance(term, ox.NamedNode) and NOT_IN_IRI.search(term.value):
                    raise InputError(source, not_an_iri(term.value))
    return triples


def _syntax_message(exc: Exception) -> str:
    text = " ".join((str(exc).strip() or type(exc).__name__).split())
    found = re.fullmatch(r"Parser error at line (\d+) column (\d+): (.*?)(?: \(line \d+\))?", text)
    if found:
        return f"line {found.group(1)}, column {found.group(2)}: {found.group(3)}"[:300]
    return text[:300]


def to_graph(triples, normalize: bool = False) -> Graph:
    """Triples (or quads) as rdflib; a case's literals keep their lexical form as read, so
    every path hashes the same text."""
    from rdflib import Graph

    from reasoner.shacl.report import to_rdflib

    graph = Graph()
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object, normalize)))
    return graph


def statements(triples) -> list[tuple[str, str, str]]:
    """A case's distinct triples (a graph is a set), each as the N-Triples text of its
    subject, predicate and object, which names the term exactly: what the checks, the seal
    and the input hash read, made once per case, as reading a term out of Oxigraph costs
    more than a test on it. Triples or quads (their graph aside: JSON-LD can name one), as
    `parse` gives them; a subject or predicate has no space in it (a strict parse refuses
    such an IRI, `parse` the lenient one's, and the JSON reader such a blank node id)."""
    quad, default = ox.Quad, ox.DefaultGraph
    if all(type(t) is quad and type(t.graph_name) is default for t in triples):
        lines = set(map(str, triples))  # a default-graph quad prints as its triple
    else:
        lines = {str(t.triple) if type(t) is quad else str(t) for t in triples}
    return [tuple(line.split(" ", 2)) for line in lines]


def has_value(value: str):
    """A test of a term's N-Triples text: is its value (IRI, blank node label or literal's
    lexical form) `value`, as `term.value == value` tests? For a value N-Triples writes
    as is (an IRI of the ontology)."""
    texts = (f"<{value}>", f"_:{value}")
    literal = f'"{value}"'
    return lambda text: text in texts or text.startswith(literal)


def value_of(text: str) -> str:
    """The value of an IRI's or blank node's N-Triples text (a subject's)."""
    return text[1:-1] if text[0] == "<" else text[2:]


def store_of(cases: dict[str, list], texts: dict[str, list], strict: Container[str] = ()) -> ox.Store:
    """The store the case-input shapes run over: each of `cases` in the named graph its key
    names. A case read by a strict parser (Turtle, N-Triples: `strict` names its graph) is
    loaded from the text of its `statements`, which Oxigraph parses faster than Python
    makes its quads (its blank nodes get new labels there: a result names one by its type,
    read from the store); a case the lenient JSON-LD parser read, from its triples, which
    their text might not give back (a language tag in capitals, an IRI a strict parser
    refuses)."""
    store = ox.Store()
    text = "".join(f"{s} {p} {o} <{graph}> .\n" for graph in cases if graph in strict for s, p, o in texts[graph])
    try:
        store.load(text, format=ox.RdfFormat.N_QUADS, lenient=True)  # valid terms: no need to validate again
    except SyntaxError:  # not expected; the triples say the same
        store, strict = ox.Store(), ()
    store.extend([ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
                  for graph, triples in cases.items() if graph not in strict for t in triples])
    return store


def _most_values(cases, paths):
    """For ShapePlan.graph_rows, from the `statements` of cases: the most values a node has,
    in one case, on each path of `paths`, (predicate IRI, inverse) pairs."""
    forward = {f"<{iri}>" for iri, inverse in paths if not inverse}
    backward = {f"<{iri}>" for iri, inverse in paths if inverse}
    most: dict[tuple[str, bool], int] = {}
    for texts in cases:
        counted = Counter([(p, s, False) for s, p, _ in texts if p in forward] +
                          [(p, o, True) for _, p, o in texts if p in backward])
        for (p, _, inverse), n in counted.items():
            if n > most.get((p, inverse), 0):
                most[p, inverse] = n
    return lambda iri, inverse: most.get((f"<{iri}>", inverse), 0)


def _term(text: str, triples: list[ox.Triple]):
    """The term of a case whose N-Triples text is `text` (to name it in an error)."""
    return next(term for t in triples for term in (t.subject, t.predicate, t.object)
                if str(term) == text or type(term) is ox.Triple and f"<<( {term} )>>" == text)


# (property, class its values must fall under, what to call it): reasoner/cases/names.py
TERM_RULES = tuple((str(prop), str(kind), what) for prop, kind, what in NAMED_TERM_RULES)
_UNNAMED_REQUEST = "give every gr:TreatmentRequest an IRI (decisions are named after it)"
_UNNAMED_CASE = "give the gr:Case an IRI (its records and its decisions' provenance name it)"
_TRIPLE_TERM = ("a statement about a statement (an RDF 1.2 triple term): a case states facts about "
                "its own nodes, with IRIs, blank nodes and literals only")
# as strings once: an rdflib namespace attribute builds a URIRef on every use (hot loops below)
_CASE = str(GR.Case)
_NT_TYPE, _NT_HAS_REQUEST, _NT_CASE = f"<{RDF_TYPE}>", f"<{GR.hasRequest}>", f"<{_CASE}>"
_TYPE_NODE = ox.NamedNode(RDF_TYPE)
_TREATMENT_REQUEST = has_value(GR.TreatmentRequest)


class CaseCheck:
    """The input rules, read once from the closed knowledge base's triples."""

    def __init__(self, kb_triples):
        from reasoner.cases.seal import seal_from

        links = {RDFS_SUBCLASS_OF, RDF_TYPE}
        kinds = {kind for _, kind, _ in TERM_RULES}
        self.known = {kind: {kind} for kind in kinds}
        named = []
        for t in kb_triples:
            if isinstance(t.subject, ox.BlankNode):
                continue
            named.append((t.subject.value, t.predicate.value, t.object.value))
            if t.predicate.value in links and t.object.value in kinds:
                self.known[t.object.value].add(t.subject.value)
        self.seal = seal_from(named)
        self.kb_terms = frozenset(s for s, _, _ in named)

    @classmethod
    def of_closure(cls, ntriples: bytes) -> CaseCheck:
        """The rules of the closed knowledge base given as N-Triples, from the cache
        (reasoner/kb/cache.py) when this closure and this code made them before: reading them
        from the 7,000 triples took a cold start 0.06 s."""
        from reasoner.kb import cache

        name = "input-rules-" + cache.key(ntriples, cache.code_of(
            "reasoner.pipeline.case_input", "reasoner.cases.seal", "reasoner.cases.names", "reasoner.namespaces")) + ".json"
        stored = cache.read(name)
        if stored is not None:
            try:
                return cls._from_json(stored)
            except (ValueError, KeyError, TypeError):
                pass  # a damaged cache file is rebuilt
        check = cls(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))
        cache.write(name, check._to_json())
        return check

    def _to_json(self) -> bytes:
        seal = {name: sorted(map(list, value) if name == "allowed" else value)
                for name, value in vars(self.seal).items()}
        return json.dumps({"known": {kind: sorted(terms) for kind, terms in self.known.items()},
                           "seal": seal, "kb_terms": sorted(self.kb_terms)}).encode("utf-8")

    @classmethod
    def _from_json(cls, data: bytes) -> CaseCheck:
        from reasoner.cases.seal import Seal

        document = json.loads(data)
        check = cls.__new__(cls)
        check.known = {kind: set(terms) for kind, terms in document["known"].items()}
        check.seal = Seal(**{name: frozenset(map(tuple, value) if name == "allowed" else value)
                             for name, value in document["seal"].items()})
        check.kb_terms = frozenset(document["kb_terms"])
        return check

    def nodes(self, statements: list[tuple[str, str, str]]) -> set[str]:
        """The IRIs a case's facts (its `statements`) are about or lead to, knowledge-base
        terms aside: two cases sharing one would see each other's facts in a shared store."""
        found = {s[1:-1] for s, _, _ in statements if s[0] == "<"}
        found |= {o[1:-1] for _, _, o in statements if o[0] == "<" and o[1] != "<"}  # "<<(": a triple term
        # a labelled blank node keeps its label from the file ("_:e"), so two cases that use one
        # label would share the node in a store (an anonymous one gets a random label: no clash)
        found |= {term for s, _, o in statements for term in (s, o) if term[:2] == "_:"}
        return found - self.kb_terms

    def one(self, triples: list[ox.Triple], source: str) -> None:
        """Raise InputError for a single case's first problem."""
        graph = BATCH_CASE + "0"  # the graph it would have in a batch
        cases, texts = {graph: triples}, {graph: statements(triples)}
        problem = self.problems(store_of(cases, texts), cases, texts).get(graph)
        if problem:
            raise InputError(source, problem[1], field=problem[0])

    def problems(self, store: ox.Store, cases: dict[str, list[ox.Triple]],
                 texts: dict[str, list[tuple[str, str, str]]]) -> dict[str, Problem]:
        """The first problem of each case with one; `store` holds each case of `cases` in the
        named graph its key names, and `texts` its `statements`."""
        found: dict[str, Problem] = {}
        for graph, triples in cases.items():
            problem = _triple_term(triples) or _unnamed_cases(texts[graph])
            if problem:
                found[graph] = problem
            elif not any(t.predicate.value == RDF_TYPE and t.object.value == _CASE for t in triples):
                found[graph] = (None, "no gr:Case in it: not a case file")
        rest = {graph: triples for graph, triples in cases.items() if graph not in found}
        for graph, problem in self._shape_problems(store, rest, texts).items():
            found.setdefault(graph, problem)
        for graph, triples in cases.items():
            if graph not in found:
                problem = (_unnamed_requests(texts[graph]) or self._unknown_term(texts[graph], triples)
                           or self._breach(texts[graph], triples))
                if problem:
                    found[graph] = problem
        return found

    def _shape_problems(self, store: ox.Store, cases: dict[str, list[ox.Triple]],
                        texts: dict[str, list[tuple[str, str, str]]]) -> dict[str, Problem]:
        """The case-input shapes' results per graph, the first in a stable order, as the
        field (focus node and path) and the shape's message."""
        plan = _input_shapes()
        by_graph: dict[str, list[tuple]] = {}
        for row in plan.graph_rows(store, _most_values(texts.values(), plan.bounded_paths)):
            graph = row["g"].value
            if graph not in cases:
                continue
            source = plan.sources[int(row["c"].value)]
            by_graph.setdefault(graph, []).append(
                (_describe(row["focus"], store, row["g"]), _path_text(source, row["path"]), source.message))
        first = {}
        for graph, results in by_graph.items():
            focus, path, message = min(results)
            more = f" (and {len(results) - 1} more problems)" if len(results) > 1 else ""
            first[graph] = (f"{focus} {path}".strip(), message + more)
        return first

    @cached_property
    def _term_rules(self) -> dict[str, tuple[int, frozenset[str]]]:
        """Per property of TERM_RULES as N-Triples text: its place there and the known terms
        of its kind, as N-Triples text too."""
        return {f"<{prop}>": (n, frozenset(f"<{iri}>" for iri in self.known[kind]))
                for n, (prop, kind, _) in enumerate(TERM_RULES)}

    def _unknown_term(self, texts: list[tuple[str, str, str]], triples: list[ox.Triple]) -> Problem | None:
        """The first value, by TERM_RULES then subject and value, that is not a known term
        of its property's kind (an IRI the knowledge base has under that kind)."""
        rules = self._term_rules
        unknown = [(rules[p][0], s, o) for s, p, o in texts if p in rules and o not in rules[p][1]]
        if not unknown:
            return None
        n, subject, value = min(unknown)
        prop, kind, what = TERM_RULES[n]
        return (f"{_short_text(subject)} {_short_text(prop)}", unknown_term(what, _term(value, triples).value, self.known[kind]))

    def _breach(self, texts: list[tuple[str, str, str]], triples: list[ox.Triple]) -> Problem | None:
        """The seal's first breach (reasoner/cases/seal.py), the triple named."""
        from reasoner.cases.seal import breaches, first, short, why

        found = breaches(texts, self.seal)
        if not found:
            return None  # the usual case: no rdflib terms to make
        from reasoner.shacl.report import to_rdflib

        (s, p, o), kind = first([(tuple(to_rdflib(_term(text, triples), False) for text in triple), kind)
                                 for triple, kind in found])
        return (f"{short(s)} {short(p)} {short(o)}", why(((s, p, o), kind), self.seal))


def _triple_term(triples: list[ox.Triple]) -> Problem | None:
    """A statement about a statement (an RDF 1.2 triple term): no case fact is one."""
    for t in triples:
        if type(t.subject) is ox.Triple or type(t.object) is ox.Triple:
            subject = {ox.Triple: "a triple term", ox.BlankNode: "an unnamed node"}.get(type(t.subject))
            return (f"{subject or _short_text(t.subject.value)} {_short_text(t.predicate.value)}", _TRIPLE_TERM)
    return None


def _unnamed_cases(texts: list[tuple[str, str, str]]) -> Problem | None:
    unnamed = {s for s, p, o in texts if p == _NT_TYPE and s.startswith("_:") and o == _NT_CASE}
    return (f"{len(unnamed)} blank-node case(s)", _UNNAMED_CASE) if unnamed else None


def _unnamed_requests(texts: list[tuple[str, str, str]]) -> Problem | None:
    unnamed = {s for s, p, o in texts if p == _NT_TYPE and s.startswith("_:") and _TREATMENT_REQUEST(o)}
    # a request by its place, typed or not
    unnamed |= {o for _, p, o in texts if p == _NT_HAS_REQUEST and o.startswith("_:")}
    return (f"{len(unnamed)} blank-node request(s)", _UNNAMED_REQUEST) if unnamed else None


@lru_cache(maxsize=1)
def _input_shapes():
    """shapes/case-input.ttl compiled (reasoner/shacl/plan.py: cached, no rdflib)."""
    from reasoner.paths import SHAPES_DIR
    from reasoner.shacl.plan import cached_plan

    return cached_plan(SHAPES_DIR / "case-input.ttl")


def _describe(node, store: ox.Store, graph) -> str:
    """An IRI as itself; a blank node by its type, since its label means nothing to a user."""
    if isinstance(node, ox.BlankNode):
        kinds = sorted(q.object.value for q in store.quads_for_pattern(node, _TYPE_NODE, None, graph))
        return f"an unnamed {_short_text(kinds[0])}" if kinds else "an unnamed node"
    return _short_text(node.value)


def _path_text(source, row_path) -> str:
    """The shape's path (`^gr:p` for an inverse path), or the one the result row gives."""
    if source.path_iri is not None:
        return ("^" if source.inverse else "") + _short_text(source.path_iri)
    return _short_text(row_path.value) if row_path is not None else ""


def _short_text(text: str) -> str:
    if text.startswith(str(GR)):
        return "gr:" + text[len(str(GR)):]
    return text.rsplit("/", 1)[-1] if text.startswith("file:") else text
