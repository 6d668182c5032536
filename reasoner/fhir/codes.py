"""What the codes of a FHIR record mean, read from the ontology: the terms whose
skos:notation (or gr:impliedByCode) is the code, typed with its code system's datatype
(ontology/guideline-reasoner.ttl, "Codes of other code systems"), by the one query
queries/fhir/code-terms.rq. No code is mapped here; a code the query finds no term for
is unmapped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from reasoner.pipeline import queries
from reasoner.namespaces import GR

QUERY = "fhir/code-terms.rq"
EMPTY_VALUES = "VALUES (?system ?code) { }"


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str = ""

    def token(self) -> str:
        """system|code (the FHIR token form) with the display text, for people to read."""
        shown = f" ({self.display})" if self.display else ""
        return f"{self.system}|{self.code}{shown}"


@dataclass
class Meaning:
    """The terms one coding means, by kind (local name of gr:Treatment, gr:BodyRegion, ...),
    and the regions a procedure code is directed to."""
    terms: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    regions: set[str] = field(default_factory=set)


class CodeMap:
    """Looks codes up in the knowledge base of a Reasoner (its closed triples)."""

    def __init__(self, kb_quads: list[ox.Quad]):
        self._store = ox.Store()
        self._store.extend(kb_quads)

    def meanings(self, codings: list[Coding]) -> dict[tuple[str, str], Meaning]:
        """(system, code) -> Meaning, for every coding the ontology maps; absent if none."""
        rows = sorted({(c.system, c.code) for c in codings if c.system and c.code})
        if not rows:
            return {}
        values = " ".join(f"({ox.Literal(system)} {ox.Literal(code)})" for system, code in rows)
        text = queries.query(QUERY).text
        if text.count(EMPTY_VALUES) != 2:
            raise RuntimeError(f"{QUERY} must hold two empty '{EMPTY_VALUES}' blocks to fill")
        text = text.replace(EMPTY_VALUES, f"VALUES (?system ?code) {{ {values} }}")
        rows = [{name: row[name].value for name in ("system", "code", "term", "kind", "use", "length")}
                for row in self._store.query(text, use_default_graph_as_union=True)]
        longest: dict[tuple, int] = {}
        for row in rows:  # of one code, kind and use, the most specific notation applies (the query says why)
            key = (row["system"], row["code"], row["kind"], row["use"])
            longest[key] = max(longest.get(key, 0), int(row["length"]))
        found: dict[tuple[str, str], Meaning] = {}
        for row in rows:
            if int(row["length"]) < longest[(row["system"], row["code"], row["kind"], row["use"])]:
                continue
            meaning = found.setdefault((row["system"], row["code"]), Meaning())
            term = row["term"].removeprefix(str(GR))
            if row["use"] == "region":
                meaning.regions.add(term)
            else:
                meaning.terms[row["kind"].removeprefix(str(GR))].add(term)
        return found
