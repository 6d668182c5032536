"""The W3C SPARQL 1.1 Protocol tests (../shared/conformance/sparql11/protocol/manifest.ttl),
scripted from the manifest and sent over real HTTP to a real `guideline-reasoner serve` on
loopback, whose store holds the graphs the manifest's `ut:graphData` name (data1-3.nt,
each in the named graph of its `rdfs:label`; data0.rdf is named by some requests but
loaded by none, so it is an empty graph).

Every one of the 34 tests is run. How each is judged:
- query tests and `bad_query_*`: as the manifest says: the status class, the media type
  of `mf:expectedFormat` (boolean: SPARQL results JSON or XML; tabular: also CSV, TSV; RDF:
  RDF/XML, Turtle, N-Triples), the body parsed in that format, and `mf:expectedBoolean`.
  CONSTRUCT with relative IRIs must also resolve them against the endpoint URL.
- tests whose request carries a SPARQL Update (an `update` parameter, or a body of type
  application/sparql-update): this endpoint is read-only, so the update must be refused
  with 403, whatever the manifest expects of a writable store (2xx for `update_*`, 4xx for
  `bad_update_*`). The follow-up ASK of the `update_*` tests is still sent and must answer
  false: the refused update wrote nothing.
Not applicable, as the manifest states them, are therefore the 2xx expectations of the 7
`update_*` tests (update_dataset_default_graph, update_dataset_default_graphs,
update_dataset_named_graphs, update_dataset_full, update_post_form, update_post_direct,
update_base_uri) and the `true` answers of their follow-up ASKs; they are run as refusals.
`bad_update_wrong_media_type` (text/plain) and `bad_update_missing_form_type` (no media type)
are not recognisable as updates and get the 415 a query gets in the same case, which is the
4xx the manifest asks for.
Spec: https://www.w3.org/TR/sparql11-protocol/"""

from __future__ import annotations

import http.client
import json
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDFS, XSD

from conftest import ROOT
from servers import reasoner_server

PROTOCOL = ROOT.parent / "shared" / "conformance" / "sparql11" / "protocol"
MANIFEST = PROTOCOL / "manifest.ttl"
if not MANIFEST.exists():
    pytest.skip(f"the W3C SPARQL 1.1 Protocol suite is not at {PROTOCOL} (../shared/conformance beside "
                "the checkout)", allow_module_level=True)

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

STATUS_CLASSES = {HTS.StatusCode2xx: 2, HTS.StatusCode3xx: 3, HTS.StatusCode4xx: 4, HTS.StatusCode5xx: 5}
# mf:expectedFormat -> the media types that satisfy it (SPARQL 1.1 Protocol 2.1.6-2.1.7)
FORMATS = {
    "boolean": ("application/sparql-results+json", "application/sparql-results+xml"),
    "tabular": ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"),
    "RDF": ("application/rdf+xml", "text/turtle", "application/n-triples"),
}
RDFLIB_FORMATS = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt"}
RESULTS_NS = {"s": "http://www.w3.org/2005/sparql-results#"}


@dataclass
class Step:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    status_classes: set[int]
    expected_format: str | None = None
    expected_boolean: bool | None = None

    @property
    def is_update(self) -> bool:
        query_string = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        content_type = self.headers.get("content-type", "").split(";")[0].strip()
        form = urllib.parse.parse_qs((self.body or b"").decode()) if content_type == "application/x-www-form-urlencoded" \
            else {}
        return content_type == "application/sparql-update" or "update" in query_string or "update" in form


@dataclass
class ProtocolTest:
    name: str
    steps: list[Step] = field(default_factory=list)


def manifest() -> tuple[Graph, list[ProtocolTest]]:
    graph = Graph().parse(MANIFEST, format="turtle")
    entries = Collection(graph, graph.value(URIRef(MANIFEST.as_uri()), MF.entries))
    tests = []
    for entry in entries:
        test = ProtocolTest(str(entry).rsplit("#", 1)[-1])
        action = graph.value(entry, MF.action)
        for request in Collection(graph, graph.value(action, HT.requests)):
            headers = {}
            header_list = graph.value(request, HT.headers)
            for header in Collection(graph, header_list) if header_list else []:
                headers[str(graph.value(header, HT.fieldName)).lower()] = str(graph.value(header, HT.fieldValue))
            body = graph.value(request, HT.body)
            data = None
            if body is not None:
                data = str(graph.value(body, CNT.chars)).encode(str(graph.value(body, CNT.characterEncoding)))
            response = graph.value(request, HT.resp)
            boolean = graph.value(response, MF.expectedBoolean)
            expected_format = graph.value(response, MF.expectedFormat)
            test.steps.append(Step(
                method=str(graph.value(request, HT.methodName)),
                path=str(graph.value(request, HT.absolutePath)),
                headers=headers, body=data,
                status_classes={STATUS_CLASSES[s] for s in graph.objects(response, MF.expectedStatus)},
                expected_format=str(expected_format) if expected_format else None,
                expected_boolean=boolean.toPython() if boolean is not None else None))
        tests.append(test)
    return graph, tests


MANIFEST_GRAPH, TESTS = manifest()


def graph_data() -> dict[str, Path]:
    """Graph name -> the file the manifest says holds it, over every test's ut:graphData."""
    out = {}
    for data in MANIFEST_GRAPH.objects(None, UT.graphData):
        out[str(MANIFEST_GRAPH.value(data, RDFS.label))] = Path(urllib.parse.urlsplit(
            str(MANIFEST_GRAPH.value(data, UT.graph))).path)
    return out


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    import pyoxigraph as ox

    path = tmp_path_factory.mktemp("protocol-store")
    store = ox.Store(str(path))
    for name, file in graph_data().items():
        store.load(path=str(file), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
    assert len(graph_data()) == 3 and len(store) == 3
    store.flush()
    del store  # `serve` opens the store read-only; the writer must let go first
    with reasoner_server(path) as base:
        yield base


def send(base: str, step: Step) -> tuple[int, str, bytes]:
    # the manifest's paths start with /sparql/, to be replaced by the endpoint's own
    path = "/sparql" + step.path[len("/sparql/"):] if step.path.startswith("/sparql/") else step.path
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        # http.client adds no Content-Type of its own (urllib would add the form type)
        connection.request(step.method, path, body=step.body, headers=step.headers)
        response = connection.getresponse()
        return response.status, response.headers.get("content-type", ""), response.read()
    finally:
        connection.close()


def check_body(step: Step, media: str, body: bytes, base: str, test: str) -> None:
    """`base`: the server's root; the endpoint is `base`/sparql."""
    assert media in FORMATS[step.expected_format], f"{media} is not a {step.expected_format} format"
    if step.expected_format == "RDF":
        graph = Graph().parse(data=body, format=RDFLIB_FORMATS[media])
        if test == "query_content_type_construct":  # CONSTRUCT { <s> <p> 1 }: relative to the endpoint
            assert set(graph) == {(URIRef(f"{base}/s"), URIRef(f"{base}/p"), Literal(1, datatype=XSD.integer))}, \
                body
        return
    if media == "application/sparql-results+json":
        answer = json.loads(body)
        value = answer.get("boolean") if step.expected_format == "boolean" else \
            answer["results"]["bindings"][0]["value"]["value"]
    elif media == "application/sparql-results+xml":
        root = ET.fromstring(body)
        found = root.find("s:boolean", RESULTS_NS)
        value = {"true": True, "false": False}[found.text] if step.expected_format == "boolean" else \
            root.find(".//s:binding[@name='value']/s:literal", RESULTS_NS).text
    else:
        value = body.decode().splitlines()[1].split("^^")[0].strip('"')
    if step.expected_format == "tabular":  # SELECT (1 AS ?value) {}
        assert value == "1"
    elif step.expected_boolean is not None:
        assert value is step.expected_boolean


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_protocol_manifest(endpoint, test):
    refused_update = False
    for step in test.steps:
        status, content_type, body = send(endpoint, step)
        media = content_type.split(";")[0].strip()
        if step.is_update:
            assert status == 403, (status, body)
            assert b"read-only" in body
            refused_update = True
        elif refused_update:
            # the follow-up ASK of an update test: the refused update wrote nothing
            assert status == 200, body
            assert json.loads(body)["boolean"] is False
        else:
            assert status // 100 in step.status_classes, (status, body)
            if step.expected_format:
                check_body(step, media, body, endpoint, test.name)


def test_the_suite_is_all_here():
    assert len(TESTS) == 34 and all(test.steps for test in TESTS)
    assert sum(1 for test in TESTS if any(step.is_update for step in test.steps)) == 12
