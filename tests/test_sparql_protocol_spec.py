"""The endpoint against the SPARQL 1.1 Protocol and Service Description specifications, for
what the W3C manifest does not test (tests/test_sparql_protocol_conformance.py runs that),
and `serve`'s option checks. A real `serve` on loopback over a store of two named graphs.

Expected values come from the specs:
- Protocol 2.1 (https://www.w3.org/TR/sparql11-protocol/#query-operation): exactly one
  `query`; a request without one is malformed (400). Service Description 3
  (https://www.w3.org/TR/sparql11-service-description/#accessing): the description is returned
  for a GET "without any query parameter strings provided", so only then.
- Protocol 2.1.4: `default-graph-uri` / `named-graph-uri` give the RDF dataset, which
  replaces the query's own (FROM / FROM NAMED), in whole; SPARQL 1.1 Query 13.2: a dataset
  with named graphs only has an empty default graph, and with FROM only, no named graphs.
- Protocol 2.1.2-2.1.3: a query is text in UTF-8."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import urllib.parse

import pytest
from rdflib import Graph, Namespace, URIRef

from conftest import ROOT, assert_isomorphic
from servers import free_port, reasoner_server, stop

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
ONE, TWO = "http://example.org/graph/one", "http://example.org/graph/two"
A, B = "http://example.org/a", "http://example.org/b"  # the subject in graph one, in graph two
YASGUI = "https://yasgui.example.org"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import pyoxigraph as ox

    path = tmp_path_factory.mktemp("protocol-spec-store")
    store = ox.Store(str(path))
    p = ox.NamedNode("http://example.org/p")
    for subject, graph in ((A, ONE), (B, TWO)):
        store.add(ox.Quad(ox.NamedNode(subject), p, ox.Literal("x"), ox.NamedNode(graph)))
    store.flush()
    del store
    return path


@pytest.fixture(scope="module")
def base(store):
    with reasoner_server(store) as url:
        yield url


def request(base: str, method: str = "GET", params: list[tuple[str, str]] | None = None, body: bytes | None = None,
            headers: dict[str, str] | None = None, path: str = "/sparql"):
    """(status, headers, body) over http.client, which adds no Content-Type of its own."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    target = path + (f"?{urllib.parse.urlencode(params)}" if params else "")
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def form(params: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    return urllib.parse.urlencode(params).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def solutions(base: str, query: str, dataset: list[tuple[str, str]] = ()) -> set[str]:
    status, _, body = request(base, params=[("query", query), *dataset],
                              headers={"Accept": "application/sparql-results+json"})
    assert status == 200, body
    rows = json.loads(body)["results"]["bindings"]
    return {value["value"] for row in rows for value in row.values()}


# --- exactly one query ------------------------------------------------------------------

@pytest.mark.parametrize("how", ["two in a form", "one in the URL, one in a form",
                                 "one in the URL, one as the body"])
def test_two_queries_are_a_bad_request(base, how):
    if how == "two in a form":
        status, _, body = request(base, "POST", None, *form([("query", "ASK {}"), ("query", "SELECT * {}")]))
    elif how == "one in the URL, one in a form":
        status, _, body = request(base, "POST", [("query", "ASK {}")], *form([("query", "SELECT * {}")]))
    else:
        status, _, body = request(base, "POST", [("query", "ASK {}")], b"SELECT * {}",
                                  {"Content-Type": "application/sparql-query"})
    assert status == 400 and b"query" in body


@pytest.mark.parametrize("how", ["empty POST body", "?query=", "form without query", "form with an empty query",
                                 "GET with a graph but no query", "blank query"])
def test_a_request_without_a_query_is_a_bad_request(base, how):
    direct = {"Content-Type": "application/sparql-query"}
    status, headers, body = {
        "empty POST body": lambda: request(base, "POST", None, b"", direct),
        "?query=": lambda: request(base, "GET", [("query", "")]),
        "form without query": lambda: request(base, "POST", None, *form([("default-graph-uri", ONE)])),
        "form with an empty query": lambda: request(base, "POST", None, *form([("query", "")])),
        "GET with a graph but no query": lambda: request(base, "GET", [("default-graph-uri", ONE)]),
        "blank query": lambda: request(base, "POST", None, b" \n ", direct),
    }[how]()
    assert status == 400, body
    assert b"sd:Service" not in body and headers["content-type"].startswith("text/plain")


def test_get_without_parameters_gives_the_service_description(base):
    status, headers, body = request(base, headers={"Accept": "text/turtle"})
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    assert (None, SD.endpoint, URIRef(f"{base}/sparql")) in Graph().parse(data=body, format="turtle")


# --- the dataset -----------------------------------------------------------------------

ANY_GRAPH = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
DEFAULT_GRAPH = "SELECT ?s WHERE { ?s ?p ?o }"


def test_without_a_dataset_the_default_graph_is_the_union_of_all_graphs(base):
    assert solutions(base, DEFAULT_GRAPH) == {A, B}
    assert solutions(base, ANY_GRAPH) == {ONE, TWO}


def test_with_only_default_graph_uri_there_are_no_named_graphs(base):
    assert solutions(base, DEFAULT_GRAPH, [("default-graph-uri", ONE)]) == {A}
    assert solutions(base, ANY_GRAPH, [("default-graph-uri", ONE)]) == set()


def test_with_only_named_graph_uri_the_default_graph_is_empty(base):
    assert solutions(base, DEFAULT_GRAPH, [("named-graph-uri", ONE)]) == set()
    assert solutions(base, ANY_GRAPH, [("named-graph-uri", ONE)]) == {ONE}


def test_the_querys_own_from_is_honoured_without_a_protocol_dataset(base):
    assert solutions(base, f"SELECT ?s FROM <{ONE}> WHERE {{ ?s ?p ?o }}") == {A}
    assert solutions(base, f"SELECT ?s FROM NAMED <{ONE}> WHERE {{ ?s ?p ?o }}") == set()
    assert solutions(base, f"SELECT ?g FROM NAMED <{TWO}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}") == {TWO}


def test_the_protocol_dataset_replaces_from_named_too(base):
    query = f"SELECT ?g FROM NAMED <{ONE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert solutions(base, query, [("default-graph-uri", TWO)]) == set()
    assert solutions(base, query, [("named-graph-uri", TWO)]) == {TWO}


@pytest.mark.parametrize("parameter", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("iri", ["not an iri", "data0.rdf", "http://example.org/<x>", ""])
def test_a_bad_graph_iri_is_a_bad_request(base, parameter, iri):
    status, _, body = request(base, params=[("query", "ASK {}"), (parameter, iri)])
    assert status == 400 and parameter.encode() in body


def test_relative_iris_resolve_against_the_endpoint_url_unless_the_query_says_base(base):
    status, headers, body = request(base, "POST", None, b"CONSTRUCT { <s> <p> <o> } WHERE {}",
                                    {"Content-Type": "application/sparql-query", "Accept": "application/n-triples"})
    assert status == 200, body
    assert body.decode().strip() == f"<{base}/s> <{base}/p> <{base}/o> ."
    status, _, body = request(base, params=[("query", "BASE <http://example.org/x/> CONSTRUCT { <s> <p> <o> } WHERE {}")],
                              headers={"Accept": "application/n-triples"})
    assert body.decode().strip() == "<http://example.org/x/s> <http://example.org/x/p> <http://example.org/x/o> ."


# --- text in UTF-8 ---------------------------------------------------------------------

def test_a_query_in_another_charset_or_not_in_utf8_is_refused(base):
    status, _, _ = request(base, "POST", None, "ASK {}".encode("utf-16"),
                           {"Content-Type": "application/sparql-query; charset=UTF-16"})
    assert status == 415
    status, _, body = request(base, "POST", None, b'ASK { ?s ?p "\xff" }', {"Content-Type": "application/sparql-query"})
    assert status == 400 and b"UTF-8" in body
    status, _, _ = request(base, "POST", None, b"ASK {}", {"Content-Type": "application/sparql-query; charset=utf-8"})
    assert status == 200


# --- the service description -------------------------------------------------------------

@pytest.mark.parametrize("media,fmt", [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                                       ("application/ld+json", "json-ld")])
def test_the_service_description_comes_in_the_format_asked_for(base, media, fmt):
    status, headers, body = request(base, headers={"Accept": media})
    assert status == 200 and headers["content-type"].startswith(media)
    turtle = request(base, headers={"Accept": "text/turtle"})[2]
    assert_isomorphic(Graph().parse(data=turtle, format="turtle"), Graph().parse(data=body, format=fmt), media)


# media type of each W3C format IRI (https://www.w3.org/ns/formats/)
FORMAT_MEDIA = {
    "SPARQL_Results_JSON": "application/sparql-results+json", "SPARQL_Results_XML": "application/sparql-results+xml",
    "SPARQL_Results_CSV": "text/csv", "SPARQL_Results_TSV": "text/tab-separated-values",
    "Turtle": "text/turtle", "N-Triples": "application/n-triples", "JSON-LD": "application/ld+json",
    "RDF_XML": "application/rdf+xml",
}


def test_the_service_description_claims_only_what_the_endpoint_does(base):
    description = Graph().parse(data=request(base, headers={"Accept": "text/turtle"})[2], format="turtle")
    service = description.value(None, SD.endpoint, URIRef(f"{base}/sparql"))
    assert set(description.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}  # no update
    assert set(description.objects(service, SD.feature)) == {SD.UnionDefaultGraph}
    assert solutions(base, DEFAULT_GRAPH) == {A, B}  # the union default graph, as claimed
    claimed = {str(f).rsplit("/", 1)[1] for f in description.objects(service, SD.resultFormat)}
    assert claimed and claimed <= set(FORMAT_MEDIA)
    for name in claimed:  # every result format claimed is served
        media = FORMAT_MEDIA[name]
        query = DEFAULT_GRAPH if name.startswith("SPARQL_Results") else "CONSTRUCT WHERE { ?s ?p ?o }"
        status, headers, body = request(base, params=[("query", query)], headers={"Accept": media})
        assert status == 200 and headers["content-type"].startswith(media), (name, body)


# --- CORS, opt-in --------------------------------------------------------------------------

def preflight(base: str, origin: str):
    return request(base, "OPTIONS", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "authorization, content-type"})


def test_without_cors_no_cors_header_is_sent(base):
    status, headers, _ = preflight(base, YASGUI)
    assert status == 405 and not any(h.startswith("access-control-") for h in headers)
    status, headers, _ = request(base, params=[("query", "ASK {}")], headers={"Origin": YASGUI})
    assert status == 200 and not any(h.startswith("access-control-") for h in headers)


def test_cors_for_the_given_origins_only(store):
    other = "https://yasgui.example.org.evil.example"
    with reasoner_server(store, "--cors", YASGUI, "--cors", "http://localhost:8080", "--token", "s3cret") as base:
        status, headers, _ = preflight(base, YASGUI)  # a preflight carries no token
        assert status == 200 and headers["access-control-allow-origin"] == YASGUI
        assert "POST" in headers["access-control-allow-methods"]
        assert {"authorization", "content-type"} <= {h.strip().lower() for h in
                                                     headers["access-control-allow-headers"].split(",")}
        status, headers, body = request(base, "POST", None, b"ASK {}", {
            "Origin": YASGUI, "Content-Type": "application/sparql-query", "Authorization": "Bearer s3cret",
            "Accept": "application/sparql-results+json"})
        assert status == 200 and json.loads(body)["boolean"] is True
        assert headers["access-control-allow-origin"] == YASGUI and "Origin" in headers["vary"]
        assert request(base, params=[("query", "ASK {}")], headers={"Origin": YASGUI})[0] == 401  # still guarded
        assert preflight(base, "http://localhost:8080")[1]["access-control-allow-origin"] == "http://localhost:8080"
        for stranger in (other, "https://yasgui.example.org:444", "http://yasgui.example.org", "null"):
            status, headers, _ = preflight(base, stranger)
            assert status == 400 and "access-control-allow-origin" not in headers, stranger
            headers = request(base, params=[("query", "ASK {}")],
                              headers={"Origin": stranger, "Authorization": "Bearer s3cret"})[1]
            assert "access-control-allow-origin" not in headers, stranger


# --- serve's options -----------------------------------------------------------------------

def serve(store, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "reasoner", "serve", "--store", str(store), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, **(env or {})})


def assert_one_line_error(run: subprocess.CompletedProcess, *words: str) -> None:
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith("guideline-reasoner: error: ") and all(w in lines[0] for w in words), lines[0]
    assert "endpoint on" not in run.stderr and run.stdout == ""


@pytest.mark.parametrize("args,env,words", [
    (["--token", ""], None, ["--token", "empty"]),
    (["--token", "  "], None, ["--token", "empty"]),
    ([], {"GUIDELINE_REASONER_TOKEN": ""}, ["GUIDELINE_REASONER_TOKEN", "empty"]),
    (["--workers", "0"], None, ["--workers"]),
    (["--workers", "-1"], None, ["--workers"]),
    (["--timeout", "0"], None, ["--timeout"]),
    (["--port", "99999"], None, ["--port", "99999"]),
    (["--port", "0"], None, ["--port", "0"]),
    (["--cors", "https://a.example/path"], None, ["--cors"]),
    (["--cors", ""], None, ["--cors"]),
])
def test_unsafe_or_impossible_options_are_refused(store, args, env, words):
    assert_one_line_error(serve(store, *args, env=env), *words)


def test_a_port_in_use_is_one_line_naming_it(store):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(serve(store, "--port", str(port)), "--port", str(port), "in use")


def first_two_lines_of_serve(store, *options) -> list[str]:
    """What a real `serve` prints first on standard error, then it is stopped."""
    process = subprocess.Popen([sys.executable, "-m", "reasoner", "serve", "--store", str(store), *options,
                                "--port", str(free_port())], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        return [process.stderr.readline(), process.stderr.readline()]
    finally:
        stop(process, 20)


def test_a_non_loopback_host_without_a_token_warns_that_health_data_is_exposed(store):
    warning, listening = first_two_lines_of_serve(store, "--host", "0.0.0.0")
    assert warning.startswith("guideline-reasoner: warning: --host 0.0.0.0") and "health data" in warning
    assert "no --token" in warning
    assert "endpoint on" in listening


def test_cors_wildcard_only_when_asked_for_and_with_a_warning(store):
    warning, listening = first_two_lines_of_serve(store, "--cors", "*")
    assert warning.startswith("guideline-reasoner: warning: --cors '*'")
    assert "endpoint on" in listening
