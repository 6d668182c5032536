"""Start real servers on loopback for the tests: our endpoint (`guideline-reasoner serve`)
and the Oxigraph server (`oxigraph serve`, from the `oxigraph` package on PyPI)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60, headers: dict | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode(errors='replace') if process.stderr else ''}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {seconds} s")


def load_store(path: Path, *cases: Path) -> Path:
    """`guideline-reasoner load` the cases into a store at `path` (a real run of the CLI)."""
    run = subprocess.run([sys.executable, "-m", "reasoner", "load", *map(str, cases), "--store", str(path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    return path


@contextlib.contextmanager
def reasoner_server(store: Path, *extra: str):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "reasoner", "serve", "--store", str(store), "--port", str(port),
                                *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        token = extra[extra.index("--token") + 1] if "--token" in extra else None
        wait_until_up(f"{base}/sparql", process, headers={"Authorization": f"Bearer {token}"} if token else None)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def oxigraph_server(location: Path):
    binary = shutil.which("oxigraph")
    if binary is None:
        raise RuntimeError("the Oxigraph server is not installed (pip install oxigraph; scripts/test does)")
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/query?query=ASK%7B%7D", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
