"""Two holes, closed and checked with real parts.

SERVICE: the endpoint refused federated queries by regular expression, which
`FILTER(?a < 2) SERVICE <...>` and strings holding '#' got past, and the store then called
the remote service. A loopback listener (a real socket server) stands in for that service:
for every way of writing SERVICE tried here, `serve` must refuse the query and the listener
must hear nothing; queries that only mention SERVICE are answered. The query workers must
also be unable to open a network socket at all (defence in depth).

Store: `load` cleared a case's graph and loaded the new version in two transactions, and a
kill between them left the case empty. A writer process replacing a case (and the knowledge
base) over and over is killed with SIGKILL at seeded random moments; after each kill the
store holds the whole old or the whole new version, never neither."""

from __future__ import annotations

import json
import multiprocessing
import random
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from conftest import ROOT
from reasoner.namespaces import GR
from servers import load_store, reasoner_server
from test_endpoint import SEED, http

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
DECISION = "<https://w3id.org/guideline-reasoner/ontology#Decision>"
SEED_GRAPH = "https://w3id.org/guideline-reasoner/example/seed#case"
KB_GRAPH = "urn:guideline-reasoner:graph:kb"


class Listener(socketserver.ThreadingTCPServer):
    """A SPARQL service on loopback that records every connection made to it and answers
    with one empty solution, so a query that reached it would also succeed."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.heard: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Record)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/sparql"


class _Record(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(2)
        try:
            data = self.request.recv(65536)
        except OSError:
            data = b""
        self.server.heard.append(data)
        body = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory):
    return load_store(tmp_path_factory.mktemp("seed-store"), SEED)


@pytest.fixture(scope="module")
def endpoint(seed_store):
    with reasoner_server(seed_store, "--timeout", "10") as base:
        yield f"{base}/sparql"


# Ways to write a SERVICE call; {svc} is the listener's URL. Each names what it tries.
BYPASSES = {
    "filter before SERVICE (the regex read '< 2) SERVICE <...>' as an IRI)":
        "SELECT * WHERE { BIND(1 AS ?n) FILTER(?n < 2) SERVICE <{svc}> { ?s ?p ?o } }",
    "long string holding a quote and '#' (the regex read a comment)":
        'SELECT * WHERE { ?a ?b ?c BIND("""a " # b""" AS ?x) SERVICE <{svc}> { ?s ?p ?o } }',
    "comment ended by a lone CR (rdflib reads on to LF; Oxigraph ends it at CR)":
        "SELECT * WHERE { ?a ?b ?c # note\r SERVICE <{svc}> { ?s ?p ?o }\n}",
    "comment ended by a CR written \\u000D (found by fuzzing the first fix)":
        "SELECT * WHERE { ?a ?b ?c # note\\u000D SERVICE <{svc}> { ?s ?p ?o }\n}",
    "lowercase": "select * where { ?a ?b ?c service <{svc}> { ?s ?p ?o } }",
    "SERVICE SILENT": "SELECT * WHERE { ?a ?b ?c SERVICE SILENT <{svc}> { ?s ?p ?o } }",
    "inside OPTIONAL": "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE <{svc}> { ?s ?p ?o } } }",
    "inside UNION": "SELECT * WHERE { { ?a ?b ?c } UNION { SERVICE <{svc}> { ?s ?p ?o } } }",
    "inside FILTER EXISTS": "SELECT * WHERE { ?a ?b ?c FILTER EXISTS { SERVICE <{svc}> { ?s ?p ?o } } }",
    "inside a subquery": "SELECT * WHERE { { SELECT * WHERE { SERVICE <{svc}> { ?s ?p ?o } } } }",
    "inside GRAPH and MINUS": "SELECT * WHERE { GRAPH ?g { ?a ?b ?c MINUS { SERVICE <{svc}> { ?s ?p ?o } } } }",
    "variable service IRI": "SELECT * WHERE { VALUES ?where { <{svc}> } SERVICE ?where { ?s ?p ?o } }",
    "prefixed-name service IRI": "PREFIX remote: <{base}> SELECT * WHERE { ?a ?b ?c SERVICE remote:sparql { ?s ?p ?o } }",
    # SPARQL 1.1 section 19.2: codepoint escapes are expanded anywhere before parsing
    "\\u escape in the keyword": "SELECT * WHERE { ?a ?b ?c \\u0053ERVICE <{svc}> { ?s ?p ?o } }",
    "\\U escape in the keyword": "SELECT * WHERE { ?a ?b ?c \\U00000073ervice <{svc}> { ?s ?p ?o } }",
    "CONSTRUCT": "CONSTRUCT { ?s ?p ?o } WHERE { ?a ?b ?c SERVICE <{svc}> { ?s ?p ?o } }",
    "ASK": "ASK { ?a ?b ?c SERVICE <{svc}> { ?s ?p ?o } }",
    "DESCRIBE": "DESCRIBE ?s WHERE { ?a ?b ?c SERVICE <{svc}> { ?s ?p ?o } }",
}
# rdflib's parser cannot read this one (a '#' in a string before SERVICE): refused unparsed
UNPARSED = {"long string holding a quote and '#' (the regex read a comment)"}


def _ask(endpoint: str, query: str, how: str = "get"):
    if how == "get":
        return http(endpoint, query, "application/sparql-results+json")
    if how == "post":
        return http(endpoint, None, "application/sparql-results+json", "POST", query.encode(),
                    "application/sparql-query")
    return http(endpoint, None, "application/sparql-results+json", "POST",
                urllib.parse.urlencode({"query": query}).encode(), "application/x-www-form-urlencoded")


def test_no_way_of_writing_service_reaches_the_network(endpoint, listener):
    base = listener.url.rsplit("/", 1)[0] + "/"
    got_through = {}
    for (name, template), how in zip(BYPASSES.items(), ["get", "post", "form"] * len(BYPASSES)):
        listener.heard.clear()
        query = template.replace("{svc}", listener.url).replace("{base}", base)
        status, _, text = _ask(endpoint, query, how)
        time.sleep(0.05)  # a connection still being accepted would show up now
        wanted = (400, 403) if name in UNPARSED else (403,)
        if listener.heard or status not in wanted or (status == 403 and "SERVICE" not in text):
            got_through[name] = (status, text[:120], len(listener.heard))
    assert got_through == {}


def test_queries_without_a_service_call_are_answered(endpoint):
    # the seed case has three decisions; a string, a comment or a variable named like the
    # keyword must not change that, nor must a query of many patterns (rdflib's parser
    # recursed past Python's default limit at 85)
    many = " ".join(f"?d <https://w3id.org/guideline-reasoner/ontology#outcome> ?o{i} ." for i in range(100))
    queries = {
        "100 triple patterns": f"SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a {DECISION} . {many} }}",
        "string": f"SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a {DECISION} FILTER(STR(?d) != 'SERVICE') }}",
        "long string": f'SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a {DECISION} BIND("""SERVICE <http://x/> {{ }}""" AS ?t) }}',
        "comment": f"SELECT (COUNT(?d) AS ?n) # SERVICE <http://example.org/sparql> {{ }}\nWHERE {{ ?d a {DECISION} }}",
        "variable": f"SELECT (COUNT(?service) AS ?n) WHERE {{ ?service a {DECISION} }}",
        "IRI": f"SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a {DECISION} FILTER(?d != <http://example.org/SERVICE>) }}",
        "escaped character": f'SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a {DECISION} FILTER(STR(?d) != "caf\\u00E9") }}',
    }
    answers = {}
    for name, query in queries.items():
        status, _, text = _ask(endpoint, query)
        answers[name] = json.loads(text)["results"]["bindings"][0]["n"]["value"] if status == 200 else (status, text)
    assert answers == {name: "3" for name in queries}


def test_updates_are_refused_from_their_parse(endpoint):
    # however it is written: after a comment, a BASE, or with its keyword escaped
    for update in ("# a note\nINSERT DATA { <urn:a> <urn:b> <urn:c> }",
                   "BASE <http://example.org/> PREFIX : <urn:x:> DELETE WHERE { ?s ?p ?o }",
                   "LOAD <http://example.org/data.ttl> INTO GRAPH <urn:g>",
                   "\\u0049NSERT DATA { <urn:a> <urn:b> <urn:c> }"):  # SPARQL 1.1 section 19.2
        status, _, text = _ask(endpoint, update)
        assert (status, "read-only" in text) == (403, True), update
    status, _, text = _ask(endpoint, f"ASK {{ ?d a {DECISION} }}")
    assert status == 200 and json.loads(text)["boolean"] is True  # nothing was removed


def test_service_description_does_not_claim_federated_query(endpoint):
    status, _, text = http(endpoint, accept="text/turtle")
    assert status == 200
    description = Graph().parse(data=text, format="turtle")
    assert set(description.objects(None, SD.feature)) == {SD.UnionDefaultGraph}


def test_without_network_access_oxigraph_cannot_call_a_service(listener):
    # the second line of defence on its own: pyoxigraph does SERVICE by HTTP unless the
    # process cannot open a socket
    code = ("import pyoxigraph as ox\n"
            "from reasoner.serve.no_network import forbid_network\n"
            "forbid_network()\n"
            "store = ox.Store()\n"
            "store.add(ox.Quad(ox.NamedNode('urn:a'), ox.NamedNode('urn:b'), ox.NamedNode('urn:c')))\n"
            "try:\n"
            f"    print(list(store.query('SELECT * WHERE {{ ?a ?b ?c SERVICE <{listener.url}> {{ ?s ?p ?o }} }}')))\n"
            "except OSError as exc:\n"
            "    print('refused:', exc)\n")
    listener.heard.clear()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    time.sleep(0.05)
    assert run.returncode == 0, run.stderr
    assert listener.heard == [] and run.stdout.startswith("refused:"), run.stdout


def test_query_workers_run_without_network_access(seed_store):
    from reasoner.serve.query_runner import QueryRunner

    runner = QueryRunner(str(seed_store), workers=2, timeout=30)
    try:
        answer = runner.run(f"SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a {DECISION} }}", [], [], "text/csv")
        assert (answer.status, answer.body.decode().split()[-1]) == (200, "3")  # workers still answer
        workers = multiprocessing.active_children()
        assert len(workers) == 3  # two general workers and the short-query one
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(_seccomp_mode(w.pid) == "2" for w in workers):
            time.sleep(0.1)  # the second worker may still be starting
        assert [_seccomp_mode(w.pid) for w in workers] == ["2", "2", "2"]  # 2: a seccomp filter is on
    finally:
        runner.close()


def _seccomp_mode(pid: int) -> str:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(line.split()[1] for line in status.splitlines() if line.startswith("Seccomp:"))


# The writer process: reloads the knowledge base (the version it is told never matches),
# then replaces the case with each version in turn, three times over, until it is killed.
WRITER = """
import sys
from pathlib import Path
from types import SimpleNamespace
from rdflib import Graph
from reasoner.serve import store
mode, store_dir, kb_path, *version_paths = sys.argv[1:]
target = store.open_store(Path(store_dir))
kb = Path(kb_path).read_bytes()
versions = [Graph().parse(path, format="nt") for path in version_paths]
nothing = SimpleNamespace(explanation=Graph(), report=Graph())
print("writing", flush=True)
while True:
    store.ensure_knowledge(target, kb, "a version the store never holds")
    for version in versions * (1 if mode == "once" else 3):
        store.put_case(target, version, nothing)
    if mode == "once":
        target.flush()
        sys.exit(0)
"""


def _case_versions(reasoner, folder: Path) -> list[Path]:
    """The seed case decided as it is, and with 4 chiropractic visits requested instead of
    8: same case graph name, different decisions. Facts, decisions, explanation and SHACL
    report, blank nodes included, as `load` stores them."""
    paths = []
    for quantity in (8, 4):
        case = reasoner.load(SEED)
        request = URIRef("https://w3id.org/guideline-reasoner/example/seed#chiropractic-x8")
        case.set((request, GR.quantity, Literal(quantity)))
        result = reasoner.decide(case, str(SEED))
        path = folder / f"chiropractic-x{quantity}.nt"
        (case + result.explanation + result.report).serialize(path, format="nt", encoding="utf-8")
        paths.append(path)
    return paths


def _complete_write(path: Path) -> Graph:
    """What the store holds after the file is loaded whole (Oxigraph merges some literals
    rdflib keeps apart, such as "x" and "x"^^xsd:string)."""
    reference = ox.Store()
    reference.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("urn:reference"))
    return _graph_in_store(reference, "urn:reference")


def _graph_in_store(store: ox.Store, name: str) -> Graph:
    quads = store.quads_for_pattern(None, None, None, ox.NamedNode(name))
    return Graph().parse(data=ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES),
                         format="nt")


def _writer(mode: str, store_dir: Path, kb: Path, versions: list[Path]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, mode, str(store_dir), str(kb), *map(str, versions)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_load_leaves_the_old_or_the_new_version_never_neither(reasoner, tmp_path):
    versions = _case_versions(reasoner, tmp_path)
    expected = [_complete_write(path) for path in versions]
    assert not isomorphic(*expected)
    assert all(any(isinstance(node, BNode) for node in version.all_nodes()) for version in expected)
    kb_path = tmp_path / "kb.nt"
    kb_path.write_bytes(reasoner.kb.closure_ntriples)
    kb_triples = len(_complete_write(kb_path))
    store_dir = tmp_path / "store"
    first = _writer("once", store_dir, kb_path, versions)  # the store as an earlier load left it
    assert first.wait(timeout=120) == 0, first.stderr.read()

    rng = random.Random(20261128)
    found = []
    for _ in range(8):
        writer = _writer("forever", store_dir, kb_path, versions)
        assert writer.stdout.readline().strip() == "writing", writer.stderr.read()
        time.sleep(rng.uniform(0.0, 1.5))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
        writer.stderr.close()
        store = ox.Store.read_only(str(store_dir))  # as `serve` opens it
        case = _graph_in_store(store, SEED_GRAPH)
        kb = _graph_in_store(store, KB_GRAPH)
        del store
        which = next((f"version {i + 1}" for i, version in enumerate(expected) if isomorphic(case, version)),
                     f"neither version: {len(case)} triples")
        found.append((which, "whole knowledge base" if len(kb) == kb_triples else f"{len(kb)} knowledge-base triples"))
    print("after each kill:", found)
    assert [kb for _, kb in found] == ["whole knowledge base"] * len(found), found
    assert all(case.startswith("version") for case, _ in found), found
