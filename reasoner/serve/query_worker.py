"""The query worker process of `serve` (started by reasoner/serve/query_runner.py): it opens the
store snapshot read-only, takes network access away from itself (reasoner/serve/no_network.py),
and answers (query, dataset, Accept, base IRI, spool path) messages on its pipe.

Before it runs a query it checks it from its parse (reasoner/serve/query_guard.py: no update, no
SERVICE). Results are serialized as they are produced into a spool that keeps them in
memory up to SPILL_BYTES and in a file after that, and the serialization stops at the result
cap, so a huge result is never built whole, in the worker or in the server."""

from __future__ import annotations

import os

SPILL_BYTES = 1 * 2**20  # results up to this size go back through the pipe, larger ones by file
# what a worker may allocate (its data segment and private mappings; idle it uses ~100 MB): a query
# that sorts or groups a huge intermediate result ends its worker here instead of taking the machine
WORKER_DATA_BYTES = 1 * 2**30

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




class ResultTooLarge(Exception):
    pass


class CappedSpool:
    """A write-only sink for a serialization: bytes in memory up to SPILL_BYTES, then in the
    file at `path`; ResultTooLarge once more than `cap` bytes were written."""

    def __init__(self, path: str, cap: int):
        self.path, self.cap, self.size = path, cap, 0
        self.buffer: bytearray | None = bytearray()
        self.file = None
        self.over_cap = False

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.cap:
            self.over_cap = True
            raise ResultTooLarge(self.size)
        if self.file is None and self.size > SPILL_BYTES:
            self.file = open(self.path, "wb")  # noqa: SIM115 (closed in finish or discard)
            self.file.write(self.buffer)
            self.buffer = None
        if self.file is None:
            self.buffer += data
        else:
            self.file.write(data)
        return len(data)

    def flush(self) -> None:
        pass

    def finish(self) -> tuple:
        """("bytes", data) or ("file", path, size)."""
        if self.file is None:
            return ("bytes", bytes(self.buffer))
        self.file.close()
        return ("file", self.path, self.size)

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
            os.unlink(self.path)


def serialize(ox, result, accept: str, spool: CappedSpool) -> str:
    """Write the result into the spool in the format the Accept header asks for; its media type."""
    if isinstance(result, ox.QueryTriples):
        media = negotiate(accept, GRAPH_FORMATS)
        ox.serialize(result, spool, format=getattr(ox.RdfFormat, GRAPH_FORMATS[media]))
    else:
        media = negotiate(accept, SOLUTION_FORMATS)
        result.serialize(spool, format=getattr(ox.QueryResultsFormat, SOLUTION_FORMATS[media]))
    return media


def serve_queries(path: str, connection, max_result_bytes: int) -> None:
    """The worker's main loop (a process target)."""
    import sys

    from reasoner.serve.no_network import forbid_network

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
    import resource

    resource.setrlimit(resource.RLIMIT_DATA, (WORKER_DATA_BYTES, WORKER_DATA_BYTES))
    import pyoxigraph as ox

    from reasoner.serve.query_guard import Refusal, screen

    store = ox.Store.read_only(path)
    connection.send("ready")  # the server starts a query's clock only from here
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        query, default_graphs, named_graphs, accept, base_iri, spool_path = message
        spool = CappedSpool(spool_path, max_result_bytes)
        try:
            screened = screen(query)
            if isinstance(screened, Refusal):
                kind = "forbidden" if screened.status == 403 else "bad"
                connection.send((kind, "text/plain", ("bytes", screened.message.encode())))
                continue
            kwargs = dataset_options(ox, screened.declares_dataset, default_graphs, named_graphs)
            result = store.query(screened.text, base_iri=base_iri, **kwargs)  # the text the check parsed
            if isinstance(result, ox.QueryBoolean):
                media = negotiate(accept, SOLUTION_FORMATS)
                body = result.serialize(format=getattr(ox.QueryResultsFormat, SOLUTION_FORMATS[media]))
                connection.send(("ok", media, ("bytes", body)))
                continue
            media = serialize(ox, result, accept, spool)
            connection.send(("ok", media, spool.finish()))
        except SyntaxError as exc:
            connection.send(("bad", "text/plain", ("bytes", f"the query does not parse: {exc}".encode())))
        except Exception as exc:  # evaluation errors from the store: report, keep serving
            spool.discard()
            if spool.over_cap:
                connection.send(("too-large", "text/plain", ("bytes", b"")))
            else:
                connection.send(("error", "text/plain", ("bytes", f"the query failed: {exc}".encode())))
