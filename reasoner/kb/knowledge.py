"""The knowledge base: ontology + taxonomies + guideline knowledge, loaded through the
catalog and closed under OWL 2 RL once, so that per-case work is plain SPARQL joins.

Why an RL closure and not a DL reasoner per case: applicability needs only the
subclass closure of treatments and conditions and the transitive part-of of body
regions, both inside OWL 2 RL. `reasonable` (Rust) closes the knowledge base in well
under a second; HermiT is kept for the consistency/classification test (see
docs/architecture.md for the measurements). The closure is cached on disk, keyed by
the hash of every knowledge file, so a warm start only parses N-Triples."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from reasoner.kb import cache
from reasoner.kb import catalog
from reasoner.namespaces import OWL_VERSION_INFO
from reasoner.paths import CATALOG, KB_IRI

if TYPE_CHECKING:
    from rdflib import Graph  # only a cache miss (the closure) and callers of .graph need rdflib

@dataclass(frozen=True)
class KnowledgeBase:
    """A loaded knowledge base: its files, version and (lazily) its OWL RL closure."""

    catalog_path: Path = CATALOG
    root_iri: str = KB_IRI

    @cached_property
    def _loaded(self) -> tuple["Graph", list[Path]]:
        return catalog.load_closure(self.catalog_path, self.root_iri)

    @property
    def graph(self) -> "Graph":
        """The asserted triples of the whole import closure."""
        return self._loaded[0]

    @property
    def files(self) -> list[Path]:
        return self._loaded[1]

    @cached_property
    def version(self) -> str:
        """owl:versionInfo of the root ontology, read from the closure (no Turtle parse)."""
        import pyoxigraph as ox

        for triple in ox.parse(self.closure_ntriples, format=ox.RdfFormat.N_TRIPLES):
            if triple.subject == ox.NamedNode(self.root_iri) and triple.predicate.value == OWL_VERSION_INFO \
                    and isinstance(triple.object, ox.Literal):
                return triple.object.value
        return "unversioned"

    @cached_property
    def digest(self) -> str:
        """Hash of the catalog and of every file it maps: the import closure is a subset of
        those files, so the key changes whenever the knowledge base can, and a warm start
        needs no Turtle parse at all."""
        h = hashlib.sha256(self.root_iri.encode())
        h.update(self.catalog_path.read_bytes() if self.catalog_path.exists() else b"no catalog")
        for iri, path in sorted(catalog.read_catalog(self.catalog_path).items()):
            h.update(iri.encode())
            h.update(path.read_bytes() if path.is_file() else b"missing")
        return h.hexdigest()[:16]

    @cached_property
    def closure_ntriples(self) -> bytes:
        """The OWL 2 RL closure as N-Triples, from the cache when the files are unchanged."""
        name = f"kb-{self.digest}.nt"
        data = cache.read(name)
        if data is None:
            data = owl_rl_closure(self.graph).serialize(format="nt", encoding="utf-8")
            cache.write(name, data)
        return data


def owl_rl_closure(graph: "Graph") -> "Graph":
    """Asserted triples plus everything OWL 2 RL entails from them."""
    import reasonable
    from rdflib import Graph

    engine = reasonable.PyReasoner()
    engine.from_graph(graph)
    closed = Graph()
    for triple in engine.reason():
        closed.add(triple)
    closed += graph
    return closed

