"""The persistent store: an embedded Oxigraph (pyoxigraph on disk) holding the knowledge
base in one named graph and each case, with its decisions, explanation triples and SHACL
report, in a named graph of its own, named by the case IRI. Loading a case again replaces
its graph, in one transaction: a process killed while loading leaves the old version or the
new one, never an empty or half-written graph.

Why pyoxigraph: it is a SPARQL 1.1 store with RocksDB persistence in the same wheel we
already use for the pipeline, about 20 times faster than rdflib on our queries, and its
on-disk format is the one `oxigraph serve` reads, so a store built here can be served by
the Oxigraph server unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph

from reasoner import namespaces
from reasoner.namespaces import GR

KB_GRAPH = ox.NamedNode(namespaces.KB_GRAPH)
DEFAULT_STORE = Path(os.environ.get("GUIDELINE_REASONER_STORE", Path.home() / ".local/share/guideline-reasoner/store"))


def open_store(path: Path | None, read_only: bool = False) -> ox.Store:
    if path is None:
        return ox.Store()
    if read_only:
        return ox.Store.read_only(str(path))
    path.mkdir(parents=True, exist_ok=True)
    return ox.Store(str(path))


def ensure_knowledge(store: ox.Store, kb_ntriples: bytes, version: str) -> None:
    """(Re)load the knowledge base graph when the store holds another version."""
    if store.query(namespaces.kb_version_ask(version, KB_GRAPH.value)):
        return
    replace_graph(store, KB_GRAPH, kb_ntriples)


def case_graph_name(case: Graph) -> ox.NamedNode:
    cases = sorted(str(c) for c in case.subjects(RDF.type, GR.Case))
    if not cases:
        raise ValueError("the case graph has no gr:Case")
    return ox.NamedNode(cases[0])


def put_case(store: ox.Store, case: Graph, result) -> ox.NamedNode:
    """Replace the case's named graph with its facts, decisions and SHACL report."""
    name = case_graph_name(case)
    whole = case + result.explanation + result.report
    replace_graph(store, name, whole.serialize(format="nt", encoding="utf-8"))
    return name


def replace_graph(store: ox.Store, name: ox.NamedNode, ntriples: bytes) -> None:
    """Replace a named graph's triples in one step. clear_graph then load are two
    transactions, and a kill between them left the graph empty; Oxigraph runs one SPARQL
    Update request as one transaction, so DROP and INSERT DATA go in one request.
    N-Triples lines are valid triples inside INSERT DATA, blank nodes included."""
    store.update(f"DROP SILENT GRAPH <{name.value}> ;\n"
                 f"INSERT DATA {{ GRAPH <{name.value}> {{\n{ntriples.decode('utf-8')}\n}} }}")


def case_graphs(store: ox.Store) -> list[str]:
    return sorted(g.value for g in store.named_graphs() if g != KB_GRAPH)
