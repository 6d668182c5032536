"""Read the query operation out of an HTTP request as the SPARQL 1.1 Protocol defines it
(https://www.w3.org/TR/sparql11-protocol/#query-operation): GET with parameters in the URL,
POST form-encoded with parameters in the body (and the URL), or POST directly with the query
as an `application/sparql-query` body and the graphs in the URL. Exactly one `query`; the
dataset from `default-graph-uri` and `named-graph-uri`, each an absolute IRI; text in UTF-8.

Anything else is refused with the status the Protocol calls for: 400 for a malformed
request (no query, two queries, a bad graph IRI, bytes that are not UTF-8), 415 for a body
of another media type or charset, 403 for an update, since this endpoint is read-only."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import pyoxigraph as ox

from reasoner.serve.query_guard import READ_ONLY

FORM = "application/x-www-form-urlencoded"
DIRECT_QUERY = "application/sparql-query"
DIRECT_UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class QueryOperation:
    query: str
    default_graphs: list[str]
    named_graphs: list[str]


class ProtocolError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def read_query_operation(method: str, url_params: list[tuple[str, str]], content_type: str,
                         body: bytes) -> QueryOperation | None:
    """The request's query operation; None for a GET without any parameter (the client
    asks for the service description). Raises ProtocolError when the request is not one."""
    if any(key == "update" for key, _ in url_params):
        raise ProtocolError(403, READ_ONLY)
    params = list(url_params)
    if method == "POST":
        media_type, charset = _media_type(content_type)
        if media_type == DIRECT_UPDATE:
            raise ProtocolError(403, READ_ONLY)
        if media_type not in (FORM, DIRECT_QUERY):
            raise ProtocolError(415, f"POST a query as {DIRECT_QUERY} or {FORM}")
        if charset not in (None, "utf-8", "utf8"):
            raise ProtocolError(415, f"the body must be UTF-8 (charset={charset} given)")
        text = _utf8(body)
        if media_type == DIRECT_QUERY:
            if any(key == "query" for key, _ in params):
                raise ProtocolError(400, "the query is given twice: in the body and as a `query` URL parameter")
            params.append(("query", text))
        else:
            form = urllib.parse.parse_qsl(text, keep_blank_values=True)
            if any(key == "update" for key, _ in form):
                raise ProtocolError(403, READ_ONLY)
            params += form
    elif not params:
        return None
    queries = [value for key, value in params if key == "query"]
    if not queries:
        raise ProtocolError(400, "no query: give the query in one `query` parameter (or as an "
                                 f"{DIRECT_QUERY} body)")
    if len(queries) > 1:
        raise ProtocolError(400, f"{len(queries)} `query` parameters: give exactly one")
    if not queries[0].strip():
        raise ProtocolError(400, "the query is empty")
    return QueryOperation(queries[0], _graph_iris(params, "default-graph-uri"), _graph_iris(params, "named-graph-uri"))


def _media_type(header: str) -> tuple[str, str | None]:
    media_type, *parameters = (part.strip() for part in header.split(";"))
    charset = next((value.strip().strip('"').lower() for name, _, value in (p.partition("=") for p in parameters)
                    if name.strip().lower() == "charset"), None)
    return media_type.lower(), charset


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the body is not UTF-8 (byte {exc.start})") from None


def _graph_iris(params: list[tuple[str, str]], name: str) -> list[str]:
    iris = [value for key, value in params if key == name]
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            raise ProtocolError(400, f"{name}: {iri!r} is not an absolute IRI ({exc})") from None
    return iris
