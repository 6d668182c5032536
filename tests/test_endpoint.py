"""The SPARQL endpoint over real HTTP on loopback: formats, clients (SPARQLWrapper,
rdflib's SPARQLStore), read-only refusals, timeout, token; the example queries of
queries/analytics/ against a small store with expected results written by hand; and the
pipeline run inside external stores: an Oxigraph server and Virtuoso 7.2."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, URIRef

from conftest import FIXTURES, ROOT
from reasoner.namespaces import GR
from servers import load_store, oxigraph_server, reasoner_server, virtuoso_server

SEED = ROOT / "examples" / "seed-case.ttl"
LOADED = [SEED] + [FIXTURES / "decisions" / f"{name}.ttl" for name in
                   ("chiropractic-first-trial", "no-applicable-guideline", "hwave-provisional")]
# Outcomes of LOADED: seed 3 not necessary; first trial: x6 necessary, x8 not;
# no applicable guideline: 2; H-wave: necessary.
EXPECTED_OUTCOMES = {"not-medically-necessary": 4, "medically-necessary": 2, "no-applicable-guideline": 2}
ANALYTICS = ROOT / "queries" / "analytics"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = load_store(tmp_path_factory.mktemp("store"), *LOADED)
    # loading the seed again replaces its graph rather than adding to it
    return load_store(path, SEED)


@pytest.fixture(scope="module")
def endpoint(store):
    with reasoner_server(store, "--timeout", "2") as base:
        yield f"{base}/sparql"


def http(url: str, query: str | None = None, accept: str = "", method: str = "GET", body: bytes | None = None,
         content_type: str | None = None, token: str | None = None):
    if query is not None and method == "GET":
        url = f"{url}?{urllib.parse.urlencode({'query': query})}"
    headers = {"Accept": accept} if accept else {}
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("content-type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read().decode()


def counts_from(text: str, media: str) -> dict[str, int]:
    if "json" in media:
        rows = json.loads(text)["results"]["bindings"]
        return {r["outcome"]["value"]: int(r["decisions"]["value"]) for r in rows}
    if "xml" in media:
        ns = {"s": "http://www.w3.org/2005/sparql-results#"}
        out = {}
        for result in ET.fromstring(text).iterfind(".//s:result", ns):
            values = {b.get("name"): b[0].text for b in result.iterfind("s:binding", ns)}
            out[values["outcome"]] = int(values["decisions"])
        return out
    delimiter = "\t" if "tab" in media else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[1:]
    return {row[0].strip('"'): int(row[1].split("^^")[0].strip('"')) for row in rows if row}


@pytest.mark.parametrize("media", ["application/sparql-results+json", "application/sparql-results+xml",
                                   "text/csv", "text/tab-separated-values"])
def test_select_counts_decisions_by_outcome_in_every_format(endpoint, media):
    status, content_type, text = http(endpoint, (ANALYTICS / "decisions-by-outcome.rq").read_text(), media)
    assert status == 200 and content_type.startswith(media)
    assert counts_from(text, media) == EXPECTED_OUTCOMES


@pytest.mark.parametrize("media,fmt", [("text/turtle", "turtle"), ("application/ld+json", "json-ld")])
def test_construct_returns_a_decision_with_its_reasons(endpoint, media, fmt):
    query = (ANALYTICS / "decision-with-reasons.rq").read_text()
    status, content_type, text = http(endpoint, None, media, "POST", query.encode(), "application/sparql-query")
    assert status == 200 and content_type.startswith(media)
    graph = Graph().parse(data=text, format=fmt)
    decision = URIRef("https://w3id.org/guideline-reasoner/example/seed#chiropractic-x8/decision")
    assert graph.value(decision, GR.outcome) == GR.NotMedicallyNecessary
    reasons = set(graph.objects(decision, GR.hasReason))
    assert len(reasons) == 4
    statuses = {graph.value(r, GR.requirement): graph.value(r, GR.checkStatus) for r in reasons}
    assert statuses[GR.BodyPartSpecified] == GR.NotMet and statuses[GR.NotMaintenanceCare] == GR.Met


def test_sparqlwrapper_and_rdflib_sparqlstore_are_clients(endpoint):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore
    from SPARQLWrapper import JSON, SPARQLWrapper

    client = SPARQLWrapper(endpoint)
    client.setQuery((ANALYTICS / "decisions-by-outcome.rq").read_text())
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert {r["outcome"]["value"]: int(r["decisions"]["value"]) for r in rows} == EXPECTED_OUTCOMES
    graph = Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    found = list(graph.query("SELECT ?d WHERE { ?d <https://w3id.org/guideline-reasoner/ontology#provisional> true }"))
    assert [str(row.d) for row in found] == ["https://example.org/fixture/hwave#hwave/decision"]


@pytest.mark.parametrize("how", ["form-update", "direct-update", "query-insert", "service", "load"])
def test_updates_and_federation_are_refused(endpoint, how):
    if how == "form-update":
        result = http(endpoint, None, "", "POST", b"update=DELETE+WHERE+%7B%3Fs+%3Fp+%3Fo%7D",
                      "application/x-www-form-urlencoded")
    elif how == "direct-update":
        result = http(endpoint, None, "", "POST", b"CLEAR ALL", "application/sparql-update")
    elif how == "query-insert":
        result = http(endpoint, "PREFIX : <urn:x:> INSERT DATA { :a :b :c }")
    elif how == "load":
        result = http(endpoint, "LOAD <http://example.org/data.ttl>")
    else:
        result = http(endpoint, "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    status, _, text = result
    assert status == 403
    assert "read-only" in text or "SERVICE" in text
    assert counts_from(http(endpoint, (ANALYTICS / "decisions-by-outcome.rq").read_text(), "text/csv")[2],
                       "text/csv") == EXPECTED_OUTCOMES  # nothing changed


def test_a_runaway_query_is_stopped_and_the_server_goes_on(endpoint):
    status, _, text = http(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
    assert status == 503 and "timeout" in text
    status, _, text = http(endpoint, "ASK { ?s a <https://w3id.org/guideline-reasoner/ontology#Decision> }",
                           "application/sparql-results+json")
    assert status == 200 and json.loads(text)["boolean"] is True


def test_service_description_and_query_page(endpoint):
    status, content_type, text = http(endpoint, accept="text/turtle")
    assert status == 200 and "sd:Service" in text and "sd:SPARQL11Query" in text
    status, content_type, page = http(endpoint.rsplit("/", 1)[0] + "/")
    assert status == 200 and content_type.startswith("text/html")
    assert all(p.name in page for p in ANALYTICS.glob("*.rq"))


def test_named_graphs_select_one_case(endpoint):
    query = "SELECT (COUNT(?d) AS ?n) WHERE { ?d a <https://w3id.org/guideline-reasoner/ontology#Decision> }"
    url = f"{endpoint}?{urllib.parse.urlencode({'query': query, 'default-graph-uri': 'https://w3id.org/guideline-reasoner/example/seed#case'})}"
    status, _, text = http(url, accept="application/sparql-results+json")
    assert status == 200 and json.loads(text)["results"]["bindings"][0]["n"]["value"] == "3"


def select(endpoint: str, name: str) -> list[dict]:
    status, _, text = http(endpoint, (ANALYTICS / name).read_text(), "application/sparql-results+json")
    assert status == 200, text
    return [{k: v["value"] for k, v in row.items()} for row in json.loads(text)["results"]["bindings"]]


def test_analytics_unmet_requirements_by_treatment(endpoint):
    rows = select(endpoint, "unmet-requirements-by-treatment.rq")
    assert rows[0] == {"treatment": "chiropractic manipulation", "requirement": "within-visit-limit", "failures": "2"}
    table = {(r["treatment"], r["requirement"]): int(r["failures"]) for r in rows}
    assert table[("massage therapy", "within-visit-limit")] == 1
    assert table[("physical therapy", "functional-improvement-documented")] == 1


def test_analytics_provisional_decisions(endpoint):
    rows = select(endpoint, "provisional-decisions.rq")
    assert rows == [{"decision": "https://example.org/fixture/hwave#hwave/decision",
                     "request": "https://example.org/fixture/hwave#hwave",
                     "recommendation": "H-wave stimulation: one-month trial after TENS fails"}]


def test_analytics_overturn_rate_by_citation(endpoint):
    rows = {r["citation"]: r for r in select(endpoint, "overturn-rate-by-citation.rq")}
    manual_2016 = rows["MTUS Chronic Pain Medical Treatment Guidelines (2016), Section: Manual therapy & manipulation"]
    assert (manual_2016["decisions"], manual_2016["medicallyNecessary"], float(manual_2016["rate"])) == ("2", "1", 0.5)
    massage_2009 = rows["MTUS Chronic Pain Medical Treatment Guidelines (2009), Massage therapy, page 60"]
    assert (massage_2009["decisions"], massage_2009["medicallyNecessary"]) == ("1", "0")


def test_bearer_token_is_required_on_every_route(store):
    with reasoner_server(store, "--token", "s3cret") as base:
        for path in ("/", "/sparql"):
            assert http(base + path)[0] == 401
            assert http(base + path, token="wrong")[0] == 401
            assert http(base + path, token="s3cret", accept="text/turtle")[0] == 200


# external stores: (server, query path, Graph Store Protocol path)
EXTERNAL_STORES = {
    "oxigraph": (oxigraph_server, "/query", "/store"),
    "virtuoso": (virtuoso_server, "/sparql", "/sparql-graph-crud"),
}
MISSING = {"oxigraph": "oxigraph", "virtuoso": "virtuoso-t"}


@pytest.mark.parametrize("store_kind", sorted(EXTERNAL_STORES))
def test_pipeline_inside_an_external_store(tmp_path, reasoner, store_kind):
    from reasoner.pipeline.remote import RemoteReasoner
    from reasoner.output.render import decision_records

    if shutil.which(MISSING[store_kind]) is None:
        pytest.skip(f"{MISSING[store_kind]} is not installed (scripts/test installs it)")
    server, query_path, gsp_path = EXTERNAL_STORES[store_kind]
    cases = sorted((FIXTURES / "decisions").glob("*.ttl")) + [SEED]
    with server(tmp_path / store_kind) as base:
        query_url, gsp_url = base + query_path, base + gsp_path
        remote = RemoteReasoner(query_url, gsp_url)
        differ = []
        for case in cases:
            graph = reasoner.load(case)
            if decision_records(reasoner.decide(graph, str(case))) != decision_records(remote.decide(graph, str(case))):
                differ.append(case.name)
        assert differ == []
        # the decisions landed in the store, each case in its own graph
        query = ("SELECT (COUNT(?d) AS ?n) WHERE { GRAPH <https://w3id.org/guideline-reasoner/example/seed#case> "
                 "{ ?d a <https://w3id.org/guideline-reasoner/ontology#Decision> } }")
        status, _, text = http(query_url, query, "application/sparql-results+json")
        assert status == 200 and json.loads(text)["results"]["bindings"][0]["n"]["value"] == "3"
        cli = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(SEED), "--format", "json",
                              "--endpoint", query_url, "--gsp", gsp_url],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert cli.returncode == 0, cli.stderr
        assert [d["outcome"] for d in json.loads(cli.stdout)["decisions"]] == ["not-medically-necessary"] * 3


def test_oversized_bodies_are_refused_and_loopback_is_the_default(endpoint):
    import http.client

    # announce a 2 MB body; the server answers 413 before reading it
    parts = urllib.parse.urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.putrequest("POST", parts.path)
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Content-Length", str(2 * 2**20))
    connection.endheaders(b"query=" + b"%20" * 1000)
    response = connection.getresponse()
    assert response.status == 413 and b"over" in response.read()
    connection.close()
    from reasoner.cli import build_parser

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
