"""The decision pipeline, written once for every store:

    derive    queries/applicability, facts, checks   (each CONSTRUCT's result kept in the store)
    validate  shapes/requirements.ttl over the checks (the store's own SHACL engine)
    decide    queries/decisions
    stamp     each decision's activity gets its case's input hash
    follow-up a surgery found necessary: its case is decided again with the surgery authorized,
              so the associated services follow it (queries/output/surgery-found-necessary.rq)

A store (reasoner/pipeline/stores.py) only knows how to keep a CONSTRUCT's result, validate
and answer a SELECT: embedded per case, a batch chunk, or a remote SPARQL 1.1 store."""

from __future__ import annotations

import hashlib
from contextlib import nullcontext
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import pyoxigraph as ox

from reasoner.pipeline import case_input, queries
from reasoner.namespaces import GR_NS as GR, PROV_NS as PROV, RDF_TYPE, XSD

FOLLOW_UP = "output/surgery-found-necessary.rq"


class Store(Protocol):
    def derive(self, query: queries.Query) -> None:
        """Run a CONSTRUCT and keep its triples where later queries read them."""

    def validate(self) -> None:
        """Validate the requirement checks; keep the sh:ValidationReport in the store."""

    def select(self, query: queries.Query) -> list[dict]:
        """Rows of a SELECT, as {variable: Python value or None}."""


@dataclass(frozen=True)
class CaseInput:
    """A case as read and checked: its gr:Case IRIs, its triples and the hash of them."""

    cases: frozenset[str]
    triples: tuple
    digest: str
    key: object = None  # the caller's handle on it (a batch: its place in the chunk)

    @classmethod
    def of(cls, triples, key: object = None, texts=None) -> CaseInput:
        """`texts`: the triples' `case_input.statements`, when the caller has them."""
        triples = tuple(triples)
        texts = case_input.statements(triples) if texts is None else texts
        cases = frozenset(case_input.value_of(s) for s, p, o in texts if p == _TYPE and _CASE(o))
        return cls(cases, triples, input_hash(texts), key)

    def with_surgery_authorized(self, approved: set[str]) -> CaseInput:
        """The same case (and input hash) with its surgery taken as authorized."""
        added = tuple(ox.Triple(ox.NamedNode(case), _HAS_FINDING, _SURGERY_AUTHORIZED)
                      for case in sorted(self.cases & approved))
        return replace(self, triples=self.triples + added)


_TYPE, _CASE = f"<{RDF_TYPE}>", case_input.has_value(GR.Case)
_HAS_FINDING = ox.NamedNode(GR.hasFinding)
_SURGERY_AUTHORIZED = ox.NamedNode(GR.SurgeryAuthorized)

S = TypeVar("S", bound=Store)


def decide(open_store: Callable[[Sequence[CaseInput]], S], cases: Sequence[CaseInput],
           phase: Callable = lambda name: nullcontext()) -> list[tuple[S, list[CaseInput]]]:
    """Run the pipeline over `cases` in the store `open_store` makes for them; returns each
    store with the cases whose decisions it holds (a second store when a follow-up ran).
    `phase(name)` is a context manager around each phase (benchmarks time them)."""
    store = open_store(cases)
    run(store, cases, phase)
    with phase("decisions"):
        approved = {row["case"] for row in store.select(queries.query(FOLLOW_UP))}
    if not approved:
        return [(store, list(cases))]
    again = [case.with_surgery_authorized(approved) for case in cases if case.cases & approved]
    second = open_store(again)
    run(second, again, phase)
    return [(store, [case for case in cases if not case.cases & approved]), (second, again)]


def run(store: Store, cases: Sequence[CaseInput], phase: Callable = lambda name: nullcontext()) -> None:
    with phase("derivation"):
        for name in queries.DERIVATION_STAGES:
            for query in queries.stage(name):
                store.derive(query)
    with phase("validation"):
        store.validate()
    with phase("decisions"):
        for name in queries.DECISION_STAGES:
            for query in queries.stage(name):
                store.derive(query)
        store.derive(stamp_query(cases))


def stamp_query(cases: Sequence[CaseInput]) -> queries.Query:
    """The input hash on the activity of every decision about a request of each case. Each
    pattern is a sub-SELECT, joined as a table (see docs/architecture.md)."""
    rows = " ".join(f'(<{iri}> "{case.digest}")' for case in cases for iri in sorted(case.cases))
    text = (f"CONSTRUCT {{ ?activity <{GR.inputHash}> ?hash }} WHERE {{ VALUES (?case ?hash) {{ {rows} }} "
            f"{{ SELECT ?case ?request WHERE {{ ?case <{GR.hasRequest}> ?request }} }} "
            f"{{ SELECT ?decision ?request WHERE {{ ?decision <{GR.aboutRequest}> ?request }} }} "
            f"{{ SELECT ?decision ?activity WHERE {{ ?decision <{PROV.wasGeneratedBy}> ?activity }} }} }}")
    return queries.Query("stamp", None, text)


def input_hash(texts) -> str:
    """SHA-256 of the case's triples (their `case_input.statements`) in a canonical text form
    (sorted N-Triples, blank nodes written alike, each triple once: a graph is a set, and a
    triple stated twice is one), so the same input gives the same hash whatever path read it."""
    text = "\n".join(sorted(map(" ".join, texts)))
    if "_:" in text or "<<( " in text:  # a blank node or a triple term, maybe (or a literal saying so)
        lines = []
        for s, p, o in texts:  # two blank nodes stay two lines
            if o.startswith("_:"):
                o = "_:b"
            elif o.startswith("<<( "):
                o = o[4:-4]  # a triple term written as an Oxigraph Triple prints itself (as hashes always were)
            lines.append(f"{'_:b' if s.startswith('_:') else s} {p} {o}")
        text = "\n".join(sorted(lines))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_XSD = XSD
_CONVERTERS = {**{_XSD + name: int for name in ("integer", "int", "long", "nonNegativeInteger")},
               **{_XSD + name: float for name in ("decimal", "double", "float")},
               _XSD + "boolean": lambda value: value == "true"}


def rows(solutions) -> list[dict]:
    """SELECT solutions as {variable: Python value or None}: numbers and booleans typed.
    Each distinct term is converted once: rows repeat most of theirs (statuses, requirement
    ids, labels, messages), and a dictionary lookup costs less than reading a term's value
    and datatype again (a quarter of the conversion time on a chunk's reasons)."""
    names = [v.value for v in solutions.variables]
    converted: dict = {None: None}

    def value(term):
        found = converted.get(term, converted)
        if found is converted:
            found = converted[term] = _to_python(term)
        return found

    return [dict(zip(names, map(value, row))) for row in solutions]


def _to_python(term):
    if term is None:
        return None
    if type(term) is ox.Literal:
        convert = _CONVERTERS.get(term.datatype.value)
        return convert(term.value) if convert else term.value
    return term.value
