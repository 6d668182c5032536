"""Load test of `guideline-reasoner serve` on loopback: a bounded number of requests from
concurrent clients, mixing SELECT and CONSTRUCT, reporting errors and latency percentiles.

    python benchmarks/load_test.py --requests 2000 --clients 16

It builds a small store (the seed and the decision fixtures), starts the server on a free
loopback port, runs the load, stops the server. Only 127.0.0.1 is ever contacted."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import reasoner_server  # noqa: E402

QUERIES = [(ROOT / "queries" / "analytics" / name).read_text() for name in
           ("decisions-by-outcome.rq", "unmet-requirements-by-treatment.rq", "decision-with-reasons.rq",
            "overturn-rate-by-citation.rq")]


def one(endpoint: str, n: int) -> tuple[float, bool]:
    query = QUERIES[n % len(QUERIES)]
    accept = "text/turtle" if "CONSTRUCT" in query else "application/sparql-results+json"
    request = urllib.request.Request(endpoint, data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            ok = response.status == 200 and bool(response.read())
    except (urllib.error.URLError, OSError):
        ok = False
    return time.perf_counter() - start, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        cases = [str(ROOT / "examples" / "seed-case.ttl")] + [str(p) for p in sorted((ROOT / "tests" / "fixtures" / "decisions").glob("*.ttl"))]
        subprocess.run([sys.executable, "-m", "reasoner", "load", *cases, "--store", str(store)], check=True,
                       cwd=ROOT, capture_output=True)
        with reasoner_server(store, "--workers", "2") as base:
            start = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(lambda n: one(f"{base}/sparql", n), range(args.requests)))
            wall = time.perf_counter() - start
    latencies = sorted(r[0] for r in results)
    errors = sum(not r[1] for r in results)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"{args.requests} requests, {args.clients} clients: {errors} errors, {wall:.1f} s, "
          f"{args.requests / wall:.0f} req/s, p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"mean {statistics.mean(latencies) * 1000:.1f} ms")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
