"""`serve` stays bounded under hostile load, against a real server on loopback:

- a chunked POST far over the 1 MB body limit is refused (413) after the server has read
  no more than the limit; the client can only have sent that much plus what the kernel's
  socket buffers hold (the sizes the system gives: /proc/sys/net/ipv4/tcp_rmem, tcp_wmem);
- a result over --max-result-mb is refused (413) and one under it arrives whole, also when
  it is large enough to go through a spool file;
- a query that sorts a huge intermediate result is stopped at the worker's memory limit
  (it reached 2.2 GB in 10 s), and the server goes on;
- a one-line ASK is answered while slow queries hold every worker (it waited 19.6 s behind
  eight of them);
- every worker answers from one snapshot of the store, including workers started to replace
  one stopped by the timeout, until `kill -HUP` moves them all to a new one.

The memory figures (peak RSS of the server and its workers) are printed by
benchmarks/endpoint_bounds.py, not asserted here."""

from __future__ import annotations

import json
import select
import signal
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import FIXTURES
from servers import chunked_post, load_store, reasoner_server, serve_process
from test_endpoint import SEED, http

MB = 2**20
BODY_LIMIT = 1 * MB  # reasoner/serve/endpoint.py MAX_BODY
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs until the timeout
DECISIONS = "SELECT (COUNT(?d) AS ?n) WHERE { ?d a <https://w3id.org/guideline-reasoner/ontology#Decision> }"


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory):
    return load_store(tmp_path_factory.mktemp("bounds-store"), SEED)


def socket_buffers() -> int:
    """The most the kernel may hold for one loopback connection: the receiver's buffer and
    the sender's, at their largest."""
    read = int(Path("/proc/sys/net/ipv4/tcp_rmem").read_text().split()[2])
    write = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    return read + write


def line_containing(process, word: str, seconds: float = 60) -> str:
    """The first line the process writes on standard error with `word` in it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if select.select([process.stderr], [], [], 1)[0]:
            line = process.stderr.readline().decode()
            if word in line:
                return line
    return ""


def count(endpoint: str, query: str = DECISIONS) -> int | tuple:
    status, _, text = http(endpoint, query, "application/sparql-results+json")
    return int(json.loads(text)["results"]["bindings"][0]["n"]["value"]) if status == 200 else (status, text[:100])


def test_a_huge_chunked_body_is_refused_after_reading_at_most_the_limit(seed_store):
    with serve_process(seed_store) as (base, process):
        port = urllib.parse.urlsplit(base).port
        status, sent = chunked_post(port, 400 * MB)
        assert status == 413
        assert sent <= BODY_LIMIT + socket_buffers() + 64 * 1024, f"the client got {sent / MB:.0f} MB in"
        assert count(f"{base}/sparql") == 3  # and the server goes on


def test_results_over_the_cap_are_refused_and_large_ones_under_it_arrive_whole(seed_store):
    # each row of this cross product is about 300 bytes of JSON: ~3 MB for 10,000 rows
    query = "SELECT ?s ?p ?o ?x WHERE { ?s ?p ?o . ?x ?y ?z } LIMIT %d"
    with reasoner_server(seed_store, "--max-result-mb", "5", "--timeout", "60") as base:
        status, _, text = http(f"{base}/sparql", query % 10_000, "application/sparql-results+json")
        assert status == 200 and len(text) > 2 * MB  # past the 1 MB kept in memory: sent from the spool file
        assert len(json.loads(text)["results"]["bindings"]) == 10_000
        status, _, text = http(f"{base}/sparql", query % 100_000, "application/sparql-results+json")
        assert status == 413 and "5 MB cap" in text
        status, _, text = http(f"{base}/sparql", "CONSTRUCT { ?s ?p ?x } WHERE { ?s ?p ?o . ?x ?y ?z } LIMIT 300000",
                               "application/n-triples")
        assert status == 413 and "5 MB cap" in text
        assert count(f"{base}/sparql") == 3


def test_a_query_past_the_worker_memory_limit_is_stopped(seed_store):
    from reasoner.serve.query_worker import WORKER_DATA_BYTES

    with reasoner_server(seed_store, "--timeout", "60") as base:
        start = time.monotonic()
        status, _, text = http(f"{base}/sparql", "SELECT * WHERE { ?s ?p ?o . ?x ?y ?z } ORDER BY ?z ?o LIMIT 10")
        assert (status, f"{WORKER_DATA_BYTES // MB} MB a query worker may use" in text) == (503, True), text
        assert time.monotonic() - start < 30  # stopped by the limit, not the timeout
        assert count(f"{base}/sparql") == 3


def test_a_fast_query_is_answered_while_slow_queries_hold_every_worker(seed_store):
    with reasoner_server(seed_store, "--timeout", "8", "--workers", "2") as base, ThreadPoolExecutor(8) as pool:
        slow = [pool.submit(http, f"{base}/sparql", SLOW, "text/csv") for _ in range(8)]
        time.sleep(1.0)  # the slow ones hold both workers and the rest wait
        start = time.monotonic()
        status, _, text = http(f"{base}/sparql", "ASK {}", "application/sparql-results+json")
        waited = time.monotonic() - start
        assert (status, json.loads(text)["boolean"]) == (200, True)
        assert waited < 5, f"ASK waited {waited:.1f} s"  # behind 8 slow queries on 2 workers it was 4 x 8 s
        assert [f.result()[0] for f in slow] == [503] * 8  # the slow ones still run to the timeout


def test_all_workers_answer_from_one_snapshot_until_told_to_refresh(tmp_path):
    store = load_store(tmp_path / "store", SEED)
    with serve_process(store, "--timeout", "2", "--workers", "2") as (base, process):
        endpoint = f"{base}/sparql"
        assert count(endpoint) == 3
        # five more decisions land in the store while it is served
        load_store(store, FIXTURES / "decisions" / "chiropractic-first-trial.ttl",
                   FIXTURES / "decisions" / "no-applicable-guideline.ttl",
                   FIXTURES / "decisions" / "hwave-provisional.ttl")
        with ThreadPoolExecutor(4) as pool:  # stop workers by the timeout, so new ones start
            assert [s for s, _, _ in pool.map(lambda _: http(endpoint, SLOW), range(4))] == [503] * 4
        time.sleep(3)  # the new workers are up
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(lambda _: count(endpoint), range(16))) == [3] * 16
        process.send_signal(signal.SIGHUP)
        assert "new snapshot" in line_containing(process, "snapshot")
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(lambda _: count(endpoint), range(16))) == [8] * 16
