"""The decision pipeline run inside an external SPARQL 1.1 store (Oxigraph server, Fuseki,
GraphDB, ...) through the standard protocols: the knowledge base and the case are put in
named graphs with the Graph Store Protocol, every CONSTRUCT runs in the store with those
graphs as its default graph (`default-graph-uri`), and each result is added to the case's
graph, so the decisions land in the store (reasoner/pipeline/stores.py, RemoteStore).
SHACL runs here, as in the embedded pipeline; its report is stored with the rest.

Graphs: <urn:guideline-reasoner:graph:kb> for the knowledge base (replaced when its
version changes) and the case IRI for the case with everything derived from it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox

from reasoner.pipeline.engine import Reasoner
from reasoner.errors import InputError
from reasoner.namespaces import KB_GRAPH, KB_ONTOLOGY, OWL_VERSION_INFO
from reasoner.pipeline.stores import RemoteStore


class SparqlService:
    """A SPARQL 1.1 store's query URL and Graph Store Protocol URL."""

    def __init__(self, query_url: str, gsp_url: str, timeout: float = 120.0):
        self.query_url, self.gsp_url, self.timeout = query_url, gsp_url, timeout

    def _http(self, url: str, data: bytes | None = None, headers: dict | None = None, method: str = "GET") -> bytes:
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise InputError(url, f"the store answered {exc.code}: {exc.read()[:300].decode(errors='replace')}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise InputError(url, f"cannot reach the store ({getattr(exc, 'reason', exc)})") from None

    def put(self, graph: str, ntriples: bytes, replace: bool) -> None:
        """Replace (PUT) or add to (POST) a named graph."""
        self._http(f"{self.gsp_url}?{urllib.parse.urlencode({'graph': graph})}", rdf11_ntriples(ntriples),
                   {"Content-Type": "application/n-triples"}, "PUT" if replace else "POST")

    def query(self, query: str, graphs: list[str], accept: str) -> bytes:
        params = [("query", query)] + [("default-graph-uri", g) for g in graphs]
        return self._http(self.query_url, urllib.parse.urlencode(params).encode(),
                          {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}, "POST")

    def construct(self, query: str, graphs: list[str]) -> bytes:
        return self.query(query, graphs, "application/n-triples")

    def holds_kb_version(self, version: str) -> bool:
        """Whether the store's knowledge-base graph is this version. A SELECT read as JSON:
        Virtuoso 7.2 answers ASK as a one-row result set, and a search for "true" in the
        text found `"ordered": true` and skipped the upload."""
        select = f"SELECT ?version WHERE {{ <{KB_ONTOLOGY}> <{OWL_VERSION_INFO}> ?version }}"
        answer = json.loads(self.query(select, [KB_GRAPH], "application/sparql-results+json"))
        return version in {row["version"]["value"] for row in answer["results"]["bindings"]}


class RemoteReasoner(Reasoner):
    def __init__(self, query_url: str, gsp_url: str, kb=None, timeout: float = 120.0):
        super().__init__(kb)
        self.service = SparqlService(query_url, gsp_url, timeout)
        self._kb_ready = False

    def _open_store(self, cases) -> RemoteStore:
        if not self._kb_ready:
            if not self.service.holds_kb_version(self.kb.version):
                self.service.put(KB_GRAPH, self.kb.closure_ntriples, replace=True)
            self._kb_ready = True
        [case] = cases
        return RemoteStore(self.service, self._kb_quads, case)


def rdf11_ntriples(ntriples: bytes) -> bytes:
    """The triples with every `"x"^^xsd:string` written `"x"`, one term as RDF 1.1 says. The
    knowledge-base closure holds both spellings of some literals; a store that keeps them
    apart (Virtuoso 7.2 does, as RDF 1.0 did) would otherwise answer each row twice."""
    return ox.serialize(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES)
