"""`guideline-reasoner serve`: the store over the SPARQL 1.1 Protocol.

GET and POST (form-encoded or direct `application/sparql-query`) on /sparql; content
negotiation for SELECT/ASK (SPARQL results JSON, XML, CSV, TSV) and CONSTRUCT/DESCRIBE
(Turtle, N-Triples, JSON-LD, RDF/XML); `default-graph-uri` / `named-graph-uri`, and
without them the default graph is the union of all graphs; a service description on GET
/sparql without a query; an HTML page with a query box and the example queries on /.
Read-only: updates, LOAD/CLEAR/DROP and SERVICE are refused with 403, decided from the
query's parse (reasoner/query_guard.py); a query the check cannot parse gets 400. Queries
run in worker processes with a timeout and without network access
(reasoner/query_runner.py). An optional bearer token guards every route.
Spec: https://www.w3.org/TR/sparql11-protocol/"""

from __future__ import annotations

import contextlib
import html
import secrets
import urllib.parse
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from reasoner.paths import QUERIES_DIR
from reasoner.query_guard import READ_ONLY
from reasoner.query_runner import QueryRunner

MAX_BODY = 1 * 2**20


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


def service_description(base: str) -> str:
    formats = sorted({f"<http://www.w3.org/ns/formats/{name}>" for name in (
        "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
        "Turtle", "N-Triples", "JSON-LD", "RDF_XML")})
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
[] a sd:Service ;
   sd:endpoint <{base}> ;
   sd:supportedLanguage sd:SPARQL11Query ;
   sd:feature sd:UnionDefaultGraph ;
   sd:resultFormat {" , ".join(formats)} .
"""


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
               workers: int = 2) -> Starlette:
    runner = QueryRunner(str(store), workers=workers, timeout=timeout, max_result_bytes=max_result_mb * 2**20)

    async def sparql(request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return PlainTextResponse(f"request body over {MAX_BODY // 1024} KB", status_code=413)
        params = request.query_params
        query = params.get("query")
        default_graphs = params.getlist("default-graph-uri")
        named_graphs = params.getlist("named-graph-uri")
        if request.method == "POST":
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = await request.body()
            if len(body) > MAX_BODY:
                return PlainTextResponse(f"request body over {MAX_BODY // 1024} KB", status_code=413)
            if content_type == "application/sparql-update":
                return PlainTextResponse(READ_ONLY, status_code=403)
            if content_type == "application/sparql-query":
                query = body.decode("utf-8", errors="replace")
            elif content_type == "application/x-www-form-urlencoded":
                form = urllib.parse.parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
                if any(key == "update" for key, _ in form):
                    return PlainTextResponse(READ_ONLY, status_code=403)
                query = next((value for key, value in form if key == "query"), query)
                default_graphs += [value for key, value in form if key == "default-graph-uri"]
                named_graphs += [value for key, value in form if key == "named-graph-uri"]
            else:
                return PlainTextResponse("POST a query as application/sparql-query or form-encoded", status_code=415)
        elif "update" in params:
            return PlainTextResponse(READ_ONLY, status_code=403)
        if not query:
            accept = request.headers.get("accept", "")
            if "text/html" in accept:
                return HTMLResponse(home_page())
            return Response(service_description(str(request.url).split("?")[0]), media_type="text/turtle")
        answer = await run_in_threadpool(runner.run, query, default_graphs, named_graphs,
                                         request.headers.get("accept", ""))
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    async def home(request: Request) -> Response:
        return HTMLResponse(home_page())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        runner.close()

    middleware = [Middleware(BearerToken, token=token)] if token else []
    return Starlette(routes=[Route("/", home), Route("/sparql", sparql, methods=["GET", "POST"])],
                     middleware=middleware, lifespan=lifespan)

