"""Run read-only SPARQL queries against the on-disk store in worker processes, so a query
that runs past the timeout can really be stopped (the worker is killed and replaced)
while the server goes on answering others.

Each worker opens the store read-only once and answers (query, graphs, formats) messages
with serialized results. The parent never opens the store itself. Before it runs a query a
worker checks it from its parse (reasoner/query_guard.py: no update, no SERVICE), inside the
timeout like the query; and the worker has no network access (reasoner/no_network.py), so
a SERVICE call the check missed still reaches nothing."""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from dataclasses import dataclass

# Media types per result kind, first is the default.
SOLUTION_FORMATS = {
    "application/sparql-results+json": "JSON", "application/json": "JSON",
    "application/sparql-results+xml": "XML", "application/xml": "XML",
    "text/csv": "CSV", "text/tab-separated-values": "TSV",
}
GRAPH_FORMATS = {
    "text/turtle": "TURTLE", "application/n-triples": "N_TRIPLES", "application/ld+json": "JSON_LD",
    "application/rdf+xml": "RDF_XML", "application/n-quads": "N_QUADS", "application/trig": "TRIG",
}


@dataclass
class Answer:
    status: int
    media_type: str
    body: bytes


def negotiate(accept: str, offered: dict[str, str]) -> str:
    """The first offered media type the Accept header admits (q-values respected roughly:
    entries with q=0 are skipped); the default when it admits none or is */*."""
    wanted = []
    for part in (accept or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        q = next((float(f[2:]) for f in fields[1:] if f.startswith("q=") and _is_float(f[2:])), 1.0)
        if fields[0] and q > 0:
            wanted.append((q, fields[0].lower()))
    for _, media in sorted(wanted, key=lambda w: -w[0]):
        if media in offered:
            return media
        if media.endswith("/*") and media != "*/*":
            match = next((m for m in offered if m.startswith(media[:-1])), None)
            if match:
                return match
    return next(iter(offered))


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def dataset_options(ox, declares_dataset: bool, default_graphs: list[str], named_graphs: list[str]) -> dict:
    """Store.query options for the RDF dataset. A protocol dataset (default-graph-uri,
    named-graph-uri) replaces the query's FROM / FROM NAMED, all of it, as the Protocol says
    (2.1.4): with only default-graph-uri there are no named graphs, with only named-graph-uri
    an empty default graph. Without one, the query's own FROM / FROM NAMED hold; and without
    those, the default graph is the union of all graphs."""
    if default_graphs or named_graphs:
        return {"default_graph": [ox.NamedNode(g) for g in default_graphs],
                "named_graphs": [ox.NamedNode(g) for g in named_graphs]}
    if declares_dataset:
        return {}  # Oxigraph's union option would override the query's FROM
    return {"use_default_graph_as_union": True}


def _worker(path: str, inbox, outbox) -> None:
    import sys

    from reasoner.no_network import forbid_network

    try:
        forbid_network()  # first, so every thread started from here on inherits it
    except OSError as exc:
        print(f"guideline-reasoner: query worker keeps network access ({exc.strerror}); "
              "SERVICE is still refused by the query check", file=sys.stderr)
    if sys.version_info >= (3, 11):
        # rdflib's parser takes ~11 frames per triple pattern, so the default limit refused
        # queries of 85 patterns; 3.11 keeps Python calls off the C stack (measured: no crash
        # up to this limit, deeper queries get 400)
        sys.setrecursionlimit(20_000)
    import pyoxigraph as ox

    from reasoner.query_guard import Refusal, screen

    store = ox.Store.read_only(path)
    while True:
        message = inbox.get()
        if message is None:
            return
        query, default_graphs, named_graphs, accept, base_iri = message
        try:
            screened = screen(query)
            if isinstance(screened, Refusal):
                kind = "forbidden" if screened.status == 403 else "bad"
                outbox.put((kind, "text/plain", screened.message.encode()))
                continue
            kwargs = dataset_options(ox, screened.declares_dataset, default_graphs, named_graphs)
            result = store.query(screened.text, base_iri=base_iri, **kwargs)  # the text the check parsed
            if isinstance(result, ox.QueryTriples):
                media = negotiate(accept, GRAPH_FORMATS)
                body = ox.serialize(result, format=getattr(ox.RdfFormat, GRAPH_FORMATS[media]))
            elif isinstance(result, ox.QueryBoolean):
                media = negotiate(accept, SOLUTION_FORMATS)
                body = result.serialize(format=getattr(ox.QueryResultsFormat, SOLUTION_FORMATS[media]))
            else:
                media = negotiate(accept, SOLUTION_FORMATS)
                body = result.serialize(format=getattr(ox.QueryResultsFormat, SOLUTION_FORMATS[media]))
            outbox.put(("ok", media, body))
        except SyntaxError as exc:
            outbox.put(("bad", "text/plain", f"the query does not parse: {exc}".encode()))
        except Exception as exc:  # evaluation errors from the store: report, keep serving
            outbox.put(("error", "text/plain", f"the query failed: {exc}".encode()))


class _Worker:
    def __init__(self, ctx, path: str):
        self.inbox, self.outbox = ctx.Queue(), ctx.Queue()
        self.process = ctx.Process(target=_worker, args=(path, self.inbox, self.outbox), daemon=True)
        self.process.start()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class QueryRunner:
    """A small pool of query workers over one store, with a per-query timeout and a cap on
    the size of a serialized result."""

    def __init__(self, path: str, workers: int = 2, timeout: float = 10.0, max_result_bytes: int = 50 * 2**20):
        self.path, self.timeout, self.max_result_bytes = path, timeout, max_result_bytes
        if workers < 1:
            raise ValueError("a query runner needs at least one worker; with none every query waits forever")
        self._ctx = mp.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        for _ in range(workers):
            self._add_worker()

    def _add_worker(self) -> None:
        worker = _Worker(self._ctx, self.path)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def run(self, query: str, default_graphs: list[str], named_graphs: list[str], accept: str,
            base_iri: str | None = None) -> Answer:
        """`base_iri` resolves the query's relative IRIs (the endpoint's URL)."""
        worker = self._idle.get()
        worker.inbox.put((query, default_graphs, named_graphs, accept, base_iri))
        try:
            kind, media, body = worker.outbox.get(timeout=self.timeout)
        except queue.Empty:
            worker.stop()
            with self._lock:
                self._all.remove(worker)
            self._add_worker()
            return Answer(503, "text/plain", f"the query ran past the {self.timeout:g} s timeout and was stopped; "
                                             "narrow it or raise --timeout".encode())
        self._idle.put(worker)
        if kind == "bad":
            return Answer(400, media, body)
        if kind == "forbidden":
            return Answer(403, media, body)
        if kind == "error":
            return Answer(500, media, body)
        if len(body) > self.max_result_bytes:
            return Answer(413, "text/plain", f"the result is {len(body) // 2**20} MB, over the "
                                             f"{self.max_result_bytes // 2**20} MB cap; narrow the query or raise "
                                             "--max-result-mb".encode())
        return Answer(200, media, body)

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.inbox.put(None)
            worker.stop()
