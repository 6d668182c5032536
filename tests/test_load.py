"""A bounded load test of the endpoint on loopback (benchmarks/load_test.py): concurrent
clients mixing SELECT and CONSTRUCT get every answer, no errors."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_endpoint_under_concurrent_load():
    run = subprocess.run([sys.executable, "benchmarks/load_test.py", "--requests", "300", "--clients", "8"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "300 requests, 8 clients: 0 errors" in run.stdout
