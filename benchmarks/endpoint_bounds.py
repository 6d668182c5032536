"""How `guideline-reasoner serve` holds up under hostile load, measured on a real server on
loopback (nothing else is contacted):

- a 400 MB chunked POST: how much of it the server reads before its 413, and the peak
  memory (RSS) of the server process;
- a query whose result is about 198 MB, over the 50 MB cap: the peak memory of the server
  and of its query workers;
- eight slow queries at once, then `ASK {}`: how long the ASK waits.

    python benchmarks/endpoint_bounds.py

Peak RSS is sampled from /proc every 20 ms (Linux), for the server and each of its child
processes (the query workers; a worker killed after a timeout counts too). The tests assert
the behaviour (tests/test_endpoint_bounds.py); this script prints the figures."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import chunked_post, free_port, load_store, wait_until_up  # noqa: E402

MB = 2**20
# a cross product of the store with itself: as many rows as asked for, each a few hundred bytes
BIG_RESULT = "SELECT ?s ?p ?o ?x WHERE {{ ?s ?p ?o . ?x ?y ?z }} LIMIT {rows}"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs until the timeout


def rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


class PeakMemory:
    """Peak RSS of a process and (separately) of any one of its children, sampled."""

    def __init__(self, pid: int):
        self.pid, self.parent_kb, self.worker_kb = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            self.parent_kb = max(self.parent_kb, rss_kb(self.pid))
            for child in children(self.pid):
                self.worker_kb = max(self.worker_kb, rss_kb(child))
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def post_query(base: str, query: str, timeout: float = 300) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{base}/sparql", data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    def __init__(self, store: Path, *options: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "reasoner", "serve", "--store", str(store),
                                         "--port", str(self.port), *options], cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until_up(f"{self.base}/sparql", self.process)
        post_query(self.base, "ASK {}")  # the workers are up

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure_body(store: Path, total_mb: int) -> dict:
    with Server(store) as server, PeakMemory(server.process.pid) as peak:
        start = time.perf_counter()
        status, sent = chunked_post(server.port, total_mb * MB)
        seconds = time.perf_counter() - start
        time.sleep(0.5)
        alive = post_query(server.base, "ASK {}")[0]
    return {"status": status, "sent_mb": sent / MB, "seconds": seconds,
            "parent_peak_mb": peak.parent_kb / 1024, "worker_peak_mb": peak.worker_kb / 1024, "then_ask": alive}


def rows_for(store: Path, target_mb: int) -> int:
    """Rows of BIG_RESULT that serialize to about target_mb in JSON (measured on 2,000)."""
    with Server(store, "--max-result-mb", "1000") as server:
        status, body = post_query(server.base, BIG_RESULT.format(rows=2000))
        assert status == 200, body[:200]
    return int(target_mb * MB / (len(body) / 2000))


def measure_result(store: Path, target_mb: int) -> dict:
    rows = rows_for(store, target_mb)
    with Server(store, "--timeout", "300") as server, PeakMemory(server.process.pid) as peak:
        start = time.perf_counter()
        status, body = post_query(server.base, BIG_RESULT.format(rows=rows))
        seconds = time.perf_counter() - start
    return {"rows": rows, "status": status, "message": body[:120].decode(errors="replace"), "seconds": seconds,
            "parent_peak_mb": peak.parent_kb / 1024, "worker_peak_mb": peak.worker_kb / 1024}


def measure_starvation(store: Path, slow: int, timeout: float) -> dict:
    with Server(store, "--timeout", str(timeout)) as server, ThreadPoolExecutor(slow) as pool:
        slow_answers = [pool.submit(post_query, server.base, SLOW) for _ in range(slow)]
        time.sleep(0.5)  # the slow queries are in
        start = time.perf_counter()
        status, body = post_query(server.base, "ASK {}")
        waited = time.perf_counter() - start
        statuses = sorted(f.result()[0] for f in slow_answers)
    return {"ask_status": status, "ask_answer": json.loads(body).get("boolean") if status == 200 else None,
            "ask_seconds": waited, "slow_statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--body-mb", type=int, default=400)
    parser.add_argument("--result-mb", type=int, default=198)
    parser.add_argument("--slow", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=5.0, help="serve --timeout for the slow queries")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = [ROOT / "examples" / "seed-case.ttl"] + sorted((ROOT / "tests" / "fixtures" / "decisions").glob("*.ttl"))
        store = load_store(Path(tmp) / "store", *cases)
        body = measure_body(store, args.body_mb)
        print(f"{args.body_mb} MB chunked POST: status {body['status']} after {body['seconds']:.2f} s; the client could send "
              f"{body['sent_mb']:.1f} MB of it (the rest of that in kernel buffers); peak RSS server "
              f"{body['parent_peak_mb']:.0f} MB, workers {body['worker_peak_mb']:.0f} MB; ASK afterwards: "
              f"{body['then_ask']}")
        result = measure_result(store, args.result_mb)
        print(f"~{args.result_mb} MB result ({result['rows']} rows, cap 50 MB): status {result['status']} after "
              f"{result['seconds']:.1f} s; peak RSS server {result['parent_peak_mb']:.0f} MB, workers "
              f"{result['worker_peak_mb']:.0f} MB ({result['message']!r})")
        starved = measure_starvation(store, args.slow, args.timeout)
        print(f"{args.slow} slow queries (timeout {args.timeout:g} s) then ASK {{}}: answered {starved['ask_status']} "
              f"({starved['ask_answer']}) after {starved['ask_seconds']:.2f} s; slow ones: {starved['slow_statuses']}")


if __name__ == "__main__":
    main()
