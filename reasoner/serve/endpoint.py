"""`guideline-reasoner serve`: the store over the SPARQL 1.1 Protocol.

GET and POST (form-encoded or direct `application/sparql-query`) on /sparql; content
negotiation for SELECT/ASK (SPARQL results JSON, XML, CSV, TSV) and CONSTRUCT/DESCRIBE
(Turtle, N-Triples, JSON-LD, RDF/XML); `default-graph-uri` / `named-graph-uri` replace the
query's dataset, and without either (or FROM in the query) the default graph is the union of
all graphs; relative IRIs resolve against the endpoint's URL; a service description (Turtle,
RDF/XML or JSON-LD) on GET /sparql without parameters; an HTML page with a query box and the
example queries on /. How a request is read: reasoner/serve/protocol_request.py. CORS only for the
origins given (`serve --cors`).
Read-only: updates, LOAD/CLEAR/DROP and SERVICE are refused with 403, decided from the
query's parse (reasoner/serve/query_guard.py); a query the check cannot parse gets 400. Queries
run in worker processes with a timeout and without network access, all on one snapshot of
the store, with a worker kept for short queries (reasoner/serve/query_runner.py). A request body is
read only up to MAX_BODY, and a result over the cap is stopped while it is serialized, so
neither is ever held whole. An optional bearer token guards every route.
Spec: https://www.w3.org/TR/sparql11-protocol/"""

from __future__ import annotations

import contextlib
import html
import secrets
from pathlib import Path

import anyio.to_thread
import pyoxigraph as ox
from anyio import CapacityLimiter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from reasoner.namespaces import FORMATS_NS, SD_NS
from reasoner.paths import QUERIES_DIR
from reasoner.serve.protocol_request import ProtocolError, read_query_operation
from reasoner.serve.query_runner import Answer, QueryRunner, negotiate, open_spool

MAX_BODY = 1 * 2**20
CHUNK = 256 * 1024


def too_large() -> Response:
    # Connection: close, so the server stops reading the rest of the body instead of
    # reading it to throw it away
    return PlainTextResponse(f"request body over {MAX_BODY // 1024} KB", status_code=413,
                             headers={"Connection": "close"})


async def read_body(request: Request) -> bytes | None:
    """The request body, read as it arrives; None as soon as it passes MAX_BODY."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def response_for(answer: Answer) -> Response:
    if answer.path is None:
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type, headers=answer.headers)
    handle = open_spool(answer)

    def chunks():
        with handle:
            while data := handle.read(CHUNK):
                yield data

    return StreamingResponse(chunks(), status_code=answer.status, media_type=answer.media_type,
                             headers={"Content-Length": str(answer.size), **answer.headers})


class BearerToken(BaseHTTPMiddleware):
    def __init__(self, app, token: str):
        super().__init__(app)
        self.expected = f"Bearer {token}"

    async def dispatch(self, request, call_next):
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), self.expected.encode()):
            return PlainTextResponse("a bearer token is required (Authorization: Bearer ...)", status_code=401,
                                     headers={"WWW-Authenticate": "Bearer"})
        return await call_next(request)


# What the service description claims, and nothing more: the result formats served (media
# type -> its W3C format IRI), SPARQL 1.1 Query only, the union default graph.
RESULT_FORMATS = {
    "application/sparql-results+json": "SPARQL_Results_JSON", "application/sparql-results+xml": "SPARQL_Results_XML",
    "text/csv": "SPARQL_Results_CSV", "text/tab-separated-values": "SPARQL_Results_TSV",
    "text/turtle": "Turtle", "application/n-triples": "N-Triples", "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
}
DESCRIPTION_FORMATS = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld"}


def service_description(endpoint: str, accept: str) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint, in Turtle, RDF/XML or JSON-LD by
    the Accept header (Turtle by default)."""
    from rdflib import RDF, BNode, Graph, Namespace, URIRef

    sd = Namespace(str(SD_NS))
    graph = Graph()
    graph.bind("sd", sd)
    service = BNode("service")
    graph.add((service, RDF.type, sd.Service))
    graph.add((service, sd.endpoint, URIRef(endpoint)))
    graph.add((service, sd.supportedLanguage, sd.SPARQL11Query))
    graph.add((service, sd.feature, sd.UnionDefaultGraph))
    for name in RESULT_FORMATS.values():
        graph.add((service, sd.resultFormat, URIRef(FORMATS_NS + name)))
    media = negotiate(accept, DESCRIPTION_FORMATS)
    return Response(graph.serialize(format=DESCRIPTION_FORMATS[media], encoding="utf-8"), media_type=media)


def examples() -> list[tuple[str, str, str]]:
    """(file name, header comment, query) of every example query in queries/analytics/."""
    out = []
    for path in sorted((QUERIES_DIR / "analytics").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header = " ".join(line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#"))
        out.append((path.name, header, text))
    return out


def home_page() -> str:
    items = "\n".join(
        f'<li><h3>{html.escape(name)}</h3><p>{html.escape(header)}</p>'
        f'<form action="sparql" method="get"><textarea name="query" rows="6" cols="100" '
        f'aria-label="{html.escape(name)}">{html.escape(query)}</textarea><br>'
        f'<button type="submit">Run</button></form></li>' for name, header, query in examples())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>guideline-reasoner SPARQL endpoint</title></head><body>
<h1>guideline-reasoner SPARQL endpoint</h1>
<p>Guidelines, cases and decisions over the SPARQL 1.1 Protocol at <code>/sparql</code>. Read-only.
The default graph is the union of all graphs; name graphs with <code>default-graph-uri</code>.</p>
<form action="sparql" method="get"><label for="q">Query</label><br>
<textarea id="q" name="query" rows="10" cols="100">SELECT * WHERE {{ ?s ?p ?o }} LIMIT 10</textarea><br>
<button type="submit">Run</button></form>
<h2>Example queries</h2><ul>{items}</ul></body></html>"""


def create_app(store: Path, timeout: float = 10.0, max_result_mb: int = 50, token: str | None = None,
               workers: int = 2, cors_origins: list[str] | None = None) -> Starlette:
    """`cors_origins`: browser origins allowed to call the endpoint (exact match; "*" for
    any); none by default, since the store holds health information."""
    runner = QueryRunner(str(store), workers=workers, timeout=timeout, max_result_bytes=max_result_mb * 2**20)
    # a thread per running or waiting query (the runner bounds how many wait), not the
    # shared default pool of 40, so a queue of slow queries cannot hold every thread
    threads = CapacityLimiter(runner.max_waiting + workers + 8)

    async def sparql(request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return too_large()
        body = await read_body(request) if request.method == "POST" else b""
        if body is None:
            return too_large()
        accept = request.headers.get("accept", "")
        # the endpoint's own URL: the base IRI of relative IRIs in queries, and sd:endpoint
        endpoint = str(request.url.replace(query="", fragment=""))
        try:
            operation = read_query_operation(request.method, request.query_params.multi_items(),
                                             request.headers.get("content-type", ""), body)
            ox.NamedNode(endpoint)
        except ProtocolError as exc:
            return PlainTextResponse(exc.message, status_code=exc.status)
        except ValueError:
            return PlainTextResponse("the Host header does not make the endpoint's URL an IRI", status_code=400)
        if operation is None:  # GET without parameters
            if "text/html" in accept:
                return HTMLResponse(home_page())
            return service_description(endpoint, accept)
        answer = await anyio.to_thread.run_sync(runner.run, operation.query, operation.default_graphs,
                                                operation.named_graphs, accept, endpoint, limiter=threads)
        return response_for(answer)

    async def home(request: Request) -> Response:
        return HTMLResponse(home_page())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        runner.close()

    middleware = []
    if cors_origins:
        # outside the token check: a browser's preflight carries no Authorization header
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                                     allow_headers=["Accept", "Authorization", "Content-Type"], max_age=600))
    if token:
        middleware.append(Middleware(BearerToken, token=token))
    app = Starlette(routes=[Route("/", home), Route("/sparql", sparql, methods=["GET", "POST"])],
                    middleware=middleware, lifespan=lifespan)
    app.state.runner = runner  # `serve` refreshes its snapshot on SIGHUP
    return app

