"""Start real servers on loopback for the tests: our endpoint (`guideline-reasoner serve`),
the Oxigraph server (`oxigraph serve`, from the `oxigraph` package on PyPI) and Virtuoso 7.2
(`virtuoso-t`, Debian's virtuoso-opensource; scripts/test installs both)."""

from __future__ import annotations

import contextlib
import select
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
    with serve_process(store, *extra) as (base, _):
        yield base


def stop(process: subprocess.Popen, seconds: float) -> None:
    """Ask a server process to end; kill it if it has not within `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def serve_process(store: Path, *extra: str):
    """A real `serve` on a free loopback port: (base URL, the process)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "reasoner", "serve", "--store", str(store), "--port", str(port),
                                *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        token = extra[extra.index("--token") + 1] if "--token" in extra else None
        wait_until_up(f"{base}/sparql", process, headers={"Authorization": f"Bearer {token}"} if token else None)
        yield base, process
    finally:
        stop(process, 10)


def chunked_post(port: int, total: int, chunk: int = 64 * 1024) -> tuple[int | None, int]:
    """POST `total` bytes of query text in chunks, stopping as soon as the server answers or
    drops the connection. Returns (status or None, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"%x\r\n%s\r\n" % (chunk, b"ASK {} #" + b"x" * (chunk - 8))
    sent, status = 0, None
    try:
        while sent < total:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                break
            if writable:
                sock.sendall(piece)
                sent += chunk
        if sent >= total:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    try:
        head = sock.recv(4096)
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else None
    except OSError:
        pass
    sock.close()
    return status, sent


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
        stop(process, 10)


# Virtuoso with every file in one folder, on free ports, nothing else of the system used.
# ResultSetMaxRows is raised from Debian's 10,000, which would cut CONSTRUCT results short.
VIRTUOSO_INI = """[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
[Parameters]
ServerPort = {sql_port}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {folder}
[HTTPServer]
ServerPort = {http_port}
ServerThreads = 10
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""


@contextlib.contextmanager
def virtuoso_server(folder: Path):
    """Virtuoso on loopback with SPARQL Update allowed for its anonymous SPARQL user (the
    Graph Store Protocol at /sparql-graph-crud needs it); yields the base URL."""
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        raise RuntimeError("Virtuoso is not installed (Debian virtuoso-opensource; scripts/test installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(folder=folder, sql_port=sql_port, http_port=http_port))
    with open(folder / "console.log", "wb") as console:  # a file: a full pipe would stop the server
        process = subprocess.Popen([binary, "-f", "-c", str(ini)], cwd=folder, stdout=console, stderr=console)
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_up(f"{base}/sparql?query=ASK%7B%7D", process, seconds=120)
        grant = subprocess.run([isql, str(sql_port), "dba", "dba", 'exec=grant SPARQL_UPDATE to "SPARQL";'],
                               capture_output=True, text=True, timeout=60)
        assert grant.returncode == 0, grant.stdout + grant.stderr
        yield base
    finally:
        stop(process, 30)
