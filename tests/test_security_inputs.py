"""Untrusted input. Text from case files and letters (item labels, file names, labels a case
states) never runs as script in a report: the HTML report and the Markdown report rendered
by a CommonMark renderer are loaded in headless Chromium, which must show the text and run
none of it. And no JSON-LD case makes the reader reach the network: remote contexts at any
depth are input errors naming the field (a real HTTP listener on loopback must receive
nothing), while the published context, however it is given, is read from its local copy."""

from __future__ import annotations

import contextlib
import html
import json
import socket
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import ROOT, decisions_by_request
from test_reports import cli, headless

# Two ways markup gets into a page: an element of its own, and breaking out of an attribute.
SCRIPT = "<script>document.title='pwned'</script>"
IMG = "\"><img src=x onerror=\"document.title='pwned'\">"
# Markdown's own ways: a blank line starts an HTML block; images are fetched, links followed.
BLOCKS = "a\n\n<script>document.title='pwned'</script>\n\n![x](x.png) [y](javascript:document.title='pwned')"
TITLE = "<title>Treatment request decisions</title>"
SEED_TTL = ROOT / "examples" / "seed-case.ttl"
SEED_JSONLD = ROOT / "examples" / "seed-case.jsonld"
CONTEXT_IRI = "https://w3id.org/guideline-reasoner/context.jsonld"
SEED_LETTER = ROOT.parent / "shared" / "seed" / "imr-determination-chiropractic-pt-massage.txt"

CASE_WITH_MARKUP = f"""@prefix gr:   <https://w3id.org/guideline-reasoner/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix :     <https://example.org/security/markup#> .

:case a gr:Case ;
    gr:hasDiagnosis gr:LumbarSprainStrain ;
    gr:hasRequest :chiro-x4 , :chiro-x6 , :chiro-x8 .
:chiro-x4 a gr:TreatmentRequest ; rdfs:label {json.dumps(BLOCKS)} ;
    gr:treatment gr:ChiropracticManipulation ; gr:quantity 4 ;
    gr:bodyPart gr:LowBack ; gr:requestDate "2017-01-10"^^xsd:date .
:chiro-x6 a gr:TreatmentRequest ; rdfs:label {json.dumps(SCRIPT)} ;
    gr:treatment gr:ChiropracticManipulation ; gr:quantity 6 ;
    gr:bodyPart gr:LowBack ; gr:requestDate "2017-01-10"^^xsd:date .
:chiro-x8 a gr:TreatmentRequest ; rdfs:label {json.dumps(IMG)} ;
    gr:treatment gr:ChiropracticManipulation ; gr:quantity 8 ;
    gr:bodyPart gr:LowBack ; gr:requestDate "2017-01-10"^^xsd:date .
"""
# Labels restated for knowledge-base terms would be printed as the treatment and in the
# records relied on; a case may no longer state them (reasoner/cases/seal.py), so they are
# refused before any report is written.
RESTATED_LABELS = f"""
gr:ChiropracticManipulation rdfs:label {json.dumps(SCRIPT)}@en .
gr:LumbarSprainStrain rdfs:label {json.dumps(IMG)}@en .
"""


def markup_case(folder: Path, extra: str = "") -> Path:
    path = folder / f"{IMG}.ttl"  # the file name is printed too
    path.write_text(CASE_WITH_MARKUP + extra)
    return path


def letter_with_markup(folder: Path) -> Path:
    """The seed letter with markup in its first item line, imported as a case."""
    letter = folder / "letter.txt"
    letter.write_text(SEED_LETTER.read_text().replace("CHIROPRACTIC X 8:  Upheld",
                                                      f"CHIROPRACTIC X 8 {SCRIPT}{IMG}:  Upheld"))
    case = folder / "letter-case.ttl"
    run = cli("import-letter", str(letter), "-o", str(case))
    assert run.returncode == 0, run.stderr
    return case


def assert_shows_markup_as_text(page: Path, profile: Path, texts: list[str]) -> None:
    """Chromium loads the page and runs whatever would run (virtual time lets load events
    fire); the DOM must have no element the input brought and show the input as text."""
    dom = headless("--virtual-time-budget=3000", "--dump-dom", page.as_uri(), tmp=profile).stdout
    assert TITLE in dom, "the page's title was changed: injected script ran"
    assert "<script" not in dom and "<img" not in dom and "<a " not in dom  # text is serialized as &lt;script
    for text in texts:
        assert html.escape(text, quote=False) in dom, f"{text!r} not shown as text"


@pytest.mark.skipif(not SEED_LETTER.is_file(), reason="../shared/seed is not beside the checkout")
@pytest.mark.parametrize("route", ["case file", "imported letter"])
def test_html_report_shows_input_markup_as_text(tmp_path, route):
    if route == "imported letter":
        case, texts = letter_with_markup(tmp_path), [f"CHIROPRACTIC X 8 {SCRIPT}{IMG}"]
    else:
        case, texts = markup_case(tmp_path), [SCRIPT, IMG, BLOCKS]
    page = tmp_path / "report.html"
    run = cli("report", str(case), "-o", str(page))
    assert run.returncode == 0, run.stderr
    source = page.read_text()
    assert "<script" not in source and "<img" not in source
    assert_shows_markup_as_text(page, tmp_path / "profile", texts + [str(case)])


def test_labels_restated_for_knowledge_base_terms_are_refused(tmp_path):
    case = markup_case(tmp_path, RESTATED_LABELS)
    page = tmp_path / "report.html"
    run = cli("report", str(case), "-o", str(page))
    assert run.returncode == 2 and "knowledge base's terms" in run.stderr, run.stderr
    assert not page.exists()


def test_markdown_report_rendered_shows_input_markup_as_text(tmp_path):
    """A Markdown report is read rendered: through CommonMark with raw HTML allowed (the
    renderer's default), it must still show the text and bring no element."""
    from markdown_it import MarkdownIt

    case = markup_case(tmp_path)
    run = cli("report", str(case), "--format", "markdown")
    assert run.returncode == 0, run.stderr
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(run.stdout)
    page = tmp_path / "report-md.html"
    page.write_text(f'<!doctype html><html><head><meta charset="utf-8">{TITLE}</head><body>{body}</body></html>')
    # one line per value: a line break in a label would end the heading or the table row
    assert_shows_markup_as_text(page, tmp_path / "profile", [SCRIPT, IMG, " ".join(BLOCKS.split()), str(case)])
    assert "<table>" in body and "<h2>Records relied on</h2>" in body  # the layout held


# --- no network from JSON-LD cases ------------------------------------------------------

class Listener(ThreadingHTTPServer):
    """An HTTP server on loopback that records every connection and serves a valid (empty)
    JSON-LD context, so a reader that fetches would also succeed in using it."""

    daemon_threads = True

    def __init__(self):
        self.connections: list = []
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _ContextHandler)

    def verify_request(self, request, client_address) -> bool:
        self.connections.append(client_address)
        return True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/context.jsonld"


class _ContextHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        body = b'{"@context": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # It must notice a fetch, or "received nothing" would prove nothing.
    assert json.load(urllib.request.urlopen(server.url, timeout=10)) == {"@context": {}}
    assert server.requests == ["/context.jsonld"]
    server.connections.clear()
    server.requests.clear()
    yield server
    server.shutdown()
    server.server_close()


def seed_document() -> dict:
    return json.loads(SEED_JSONLD.read_text())


def remote_variants(url: str) -> dict[str, tuple[dict, str]]:
    """(case document, the field the error must name) per way of giving a remote context."""
    def seed_with(context, **changes) -> dict:
        document = seed_document()
        document.update(changes)
        document["@context"] = context
        return document

    published, base = seed_document()["@context"]
    patient = dict(seed_document()["patient"])
    requests_term = {"@id": "gr:hasRequest", "@type": "@id", "@container": "@set"}
    local_copy = (ROOT / "ontology" / "context.jsonld").as_uri()  # even the trusted copy, by file name
    return {
        "as the context": (seed_with(url), "@context"),
        "in the context list": (seed_with([published, base, url]), "@context[2]"),
        "through @import": (seed_with([published, {"@import": url, **base}]), "@context[1].@import"),
        "in a term's scoped context": (seed_with([published, base, {"requests": {**requests_term, "@context": url}}]),
                                       "@context[2].requests.@context"),
        "in a type-scoped context": (seed_with([published, base, {"Patient": {"@id": "gr:Patient", "@context": url}}]),
                                     "@context[2].Patient.@context"),
        "inside a context object": (seed_with([published, base, {"@context": url}]), "@context[2].@context"),
        "in a node object": (seed_with([published, base], patient={**patient, "@context": url}), "patient.@context"),
        "in a node inside @graph": ({"@context": [published, base], "@graph": [
            {**seed_with([published, base]), "@context": [url]}]}, "@graph[0].@context[0]"),
        "in a nested list": (seed_with([published, [base, [url]]]), "@context[1][1][0]"),
        "as a local file": (seed_with([published, base, local_copy]), "@context[2]"),
    }


REMOTE_VARIANTS = list(remote_variants("http://127.0.0.1:1/"))


@pytest.mark.parametrize("variant", REMOTE_VARIANTS)
def test_remote_context_is_an_input_error_and_nothing_is_fetched(tmp_path, listener, variant):
    document, field = remote_variants(listener.url)[variant]
    case = tmp_path / "case.jsonld"
    case.write_text(json.dumps(document))
    out = tmp_path / "decisions.json"
    run = cli("decide", str(case), "--format", "json", "-o", str(out))
    assert listener.connections == [] and listener.requests == []
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == "" and "Traceback" not in run.stderr and not out.exists()
    (line,) = run.stderr.strip().splitlines()
    assert f"{case}: {field}: remote context " in line
    reference = document_reference(document, field)
    assert f"<{reference}>" in line and CONTEXT_IRI in line


def document_reference(document, field: str) -> str:
    """The value at a field path such as '@context[1].@import'."""
    value = document
    for part in field.replace("[", ".[").split("."):
        if part:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def test_batch_gives_the_same_error_and_fetches_nothing(tmp_path, listener, reasoner):
    from reasoner.pipeline.batch import decide_batch

    variants = remote_variants(listener.url)
    for n, (document, _) in enumerate(variants.values()):
        (tmp_path / f"{n:02d}.jsonld").write_text(json.dumps(document))
    records = list(decide_batch([tmp_path], reasoner.kb.closure_ntriples))
    assert listener.connections == [] and listener.requests == []
    assert [r["case"] for r in records] == [str(tmp_path / f"{n:02d}.jsonld") for n in range(len(variants))]
    for record, (document, field) in zip(records, variants.values()):
        assert record["error"].startswith(f"{field}: remote context "), record
        assert f"<{document_reference(document, field)}>" in record["error"]


def published_variants() -> dict[str, dict]:
    """The seed case with the published context given each way a case may give it."""
    published, base = seed_document()["@context"]
    body = {k: v for k, v in seed_document().items() if k != "@context"}
    return {
        "in a list (the seed as written)": seed_document(),
        "as the context": {**body, "@context": published},
        "through @import": {**body, "@context": [{"@import": published, **base}]},
        "in the case node inside @graph": {"@context": base, "@graph": [{**body, "@context": published}]},
        "in every node object": {**body, "@context": [published, base],
                                 "patient": {**body["patient"], "@context": published},
                                 "requests": [{**r, "@context": [published, base]} for r in body["requests"]]},
    }


@contextlib.contextmanager
def outbound_attempts():
    """Every outbound connection or name lookup this process attempts meanwhile (an audit
    hook, since the published context's real home is not on loopback)."""
    seen: list = []
    recording = [True]

    def hook(event, args):
        if recording[0] and event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
            seen.append((event, args[1] if event == "socket.connect" else args[0]))

    sys.addaudithook(hook)  # cannot be removed: switched off on exit instead
    try:
        yield seen
    finally:
        recording[0] = False


def outcomes(result_or_records) -> dict:
    return {name: (d["outcome"], [(r["requirement"], r["status"], r["observed"], r["limit"]) for r in d["reasons"]])
            for name, d in result_or_records.items()}


def test_published_context_given_any_way_decides_as_the_seed_without_network(tmp_path, reasoner):
    from reasoner.pipeline.batch import decide_batch

    expected = outcomes(decisions_by_request(reasoner.decide_file(SEED_TTL)))
    # The seed letter's reviewer upheld the denial of all three items.
    assert sorted(expected) == ["chiropractic-x8", "massage-x2", "physical-therapy-x8"]
    assert {outcome for outcome, _ in expected.values()} == {"not-medically-necessary"}
    folder = tmp_path / "cases"
    folder.mkdir()
    for n, document in enumerate(published_variants().values()):
        (folder / f"{n:02d}.jsonld").write_text(json.dumps(document))
    with outbound_attempts() as attempts:
        for n, variant in enumerate(published_variants()):
            decided = outcomes(decisions_by_request(reasoner.decide_file(folder / f"{n:02d}.jsonld")))
            assert decided == expected, variant
        records = list(decide_batch([folder], reasoner.kb.closure_ntriples))
    assert attempts == []
    for record, variant in zip(records, published_variants()):
        assert "error" not in record, (variant, record)
        by_name = {d["request"].rsplit("#", 1)[-1]: d for d in record["decisions"]}
        assert outcomes(by_name) == expected, variant


def test_a_missed_path_fails_closed(listener):
    """The second line on its own: rdflib asked directly to parse a remote context while
    the guard is on is refused before any connection; off the guard, the listener hears."""
    from rdflib import Graph

    from reasoner.cases.jsonld_contexts import NetworkRefused, no_network

    document = json.dumps({"@context": listener.url, "@id": "https://example.org/a", "https://example.org/p": "x"})
    with no_network(), pytest.raises(NetworkRefused):
        Graph().parse(data=document, format="json-ld")
    with no_network(), pytest.raises(NetworkRefused):
        socket.create_connection(("127.0.0.1", listener.server_address[1]), timeout=5)
    assert listener.connections == [] and listener.requests == []
    assert len(Graph().parse(data=document, format="json-ld")) == 1  # unguarded: fetched, then parsed
    assert listener.requests == ["/context.jsonld"]


IDS_THAT_ARE_NO_IRIS = {
    # rdflib dropped this request without a word (a space in its id), Oxigraph too
    "request id": (("requests", 0, "id"), f"#x{IMG}", f"requests[0].id: not a valid IRI: {json.dumps('#x' + IMG)}"),
    # kept as a property IRI, it broke the store's N-Triples with a traceback
    "property name": (("requests", 0, "odd key"), 1,
                      f"not a valid IRI: {json.dumps('https://w3id.org/guideline-reasoner/ontology#odd key')}"),
}


@pytest.mark.parametrize("where", IDS_THAT_ARE_NO_IRIS)
def test_a_string_that_is_no_iri_is_an_input_error(tmp_path, where):
    """JSON-LD takes any string as an @id or, through @vocab, as a property; such a string
    is refused like other bad input, with nothing written."""
    (key, n, field), value, message = IDS_THAT_ARE_NO_IRIS[where]
    document = seed_document()
    document[key][n][field] = value
    case = tmp_path / "case.jsonld"
    case.write_text(json.dumps(document))
    run = cli("report", str(case), "-o", str(tmp_path / "report.html"))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert f"{case}: {message}" in line
    assert list(tmp_path.iterdir()) == [case]


def test_batch_refuses_a_request_id_that_is_no_iri(tmp_path, reasoner):
    from reasoner.pipeline.batch import decide_batch

    (key, n, field), value, message = IDS_THAT_ARE_NO_IRIS["request id"]
    document = seed_document()
    document[key][n][field] = value
    (tmp_path / "case.jsonld").write_text(json.dumps(document))
    (record,) = decide_batch([tmp_path], reasoner.kb.closure_ntriples)
    assert record["error"].startswith(message)
