"""Run read-only SPARQL queries in worker processes (reasoner/serve/query_worker.py), so a query
that runs past the timeout can really be stopped (the worker is killed and replaced) while
the server goes on answering others.

All workers answer from one snapshot of the store (reasoner/serve/store_snapshot.py), taken when
the runner starts and again on `refresh()`; the parent opens the store only to take it.

Slow queries must not starve fast ones. There are `workers` general workers, taken in
arrival order, and one more worker for short queries: while every general worker is busy,
it takes the newest waiting query that it has not tried yet and gives it SHORT_QUERY_SECONDS.
A query done by then is answered at once; one that is not is stopped (the short worker is
replaced) and waits for a general worker in its old place, having lost that much time. So a
fast query that comes while slow ones hold every general worker waits for at most one short
try of another query, not for the slow ones. At most MAX_WAITING queries wait; more get 503.

Results reach the server as bytes when small and as a spool file when large (deleted once
sent); a result over the cap is stopped while it is being serialized."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from reasoner.serve.query_worker import WORKER_DATA_BYTES, negotiate, serve_queries  # noqa: F401 (negotiate: for the endpoint)
from reasoner.serve.store_snapshot import remove_snapshot, take_snapshot

SHORT_QUERY_SECONDS = 0.5
MAX_WAITING = 64
STARTUP_SECONDS = 60  # a worker that has not opened the snapshot by then is taken as dead
GENERAL, SHORT = "general", "short"
OVERRAN, DIED = "overran", "died"


@dataclass
class Answer:
    status: int
    media_type: str
    body: bytes = b""
    path: str | None = None  # a spool file holding the body instead; whoever sends it deletes it
    size: int = 0
    headers: dict = field(default_factory=dict)


class _Worker:
    def __init__(self, ctx, snapshot: Path, max_result_bytes: int):
        self.snapshot = snapshot
        self.connection, child = ctx.Pipe()
        self.process = ctx.Process(target=serve_queries, args=(str(snapshot), child, max_result_bytes), daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    def execute(self, message: tuple, seconds: float):
        """The worker's reply, or OVERRAN when it takes longer than `seconds`, or DIED."""
        if not self.ready:  # a new worker: its start-up is not the query's time
            if not wait([self.connection, self.process.sentinel], timeout=STARTUP_SECONDS) or \
                    self._receive() != "ready":
                return DIED
            self.ready = True
        try:
            self.connection.send(message)
        except OSError:
            return DIED
        ready = wait([self.connection, self.process.sentinel], timeout=seconds)
        if self.connection in ready:
            return self._receive()
        return DIED if ready else OVERRAN

    def _receive(self):
        try:
            return self.connection.recv()
        except (EOFError, OSError):
            return DIED

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


@dataclass(eq=False)
class _Job:
    message: tuple
    seq: int
    tried_short: bool = False
    lane: str | None = None
    worker: _Worker | None = None


class QueryRunner:
    """The query workers over one store snapshot, with a per-query timeout, a cap on the
    size of a serialized result, a short-query worker and a bounded wait."""

    def __init__(self, path: str, workers: int = 2, timeout: float = 10.0, max_result_bytes: int = 50 * 2**20,
                 short_seconds: float = SHORT_QUERY_SECONDS, max_waiting: int = MAX_WAITING):
        if workers < 1:
            raise ValueError("a query runner needs at least one worker; with none every query waits forever")
        self.path, self.workers, self.timeout = Path(path), workers, timeout
        self.max_result_bytes, self.short_seconds, self.max_waiting = max_result_bytes, short_seconds, max_waiting
        self._ctx = mp.get_context("spawn")
        self._spool = Path(tempfile.mkdtemp(prefix="guideline-reasoner-results-"))  # 0700: results are health data
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._waiting: list[_Job] = []
        self._snapshot = take_snapshot(self.path)
        self._users = {self._snapshot: 0}  # snapshot -> live workers on it
        self._idle = [self._spawn() for _ in range(workers)]
        self._short: _Worker | None = self._spawn()  # None while it runs a query
        self._busy: set[_Worker] = set()

    @property
    def snapshot(self) -> Path:
        return self._snapshot

    def _spawn(self) -> _Worker:
        """A worker on the current snapshot (call with the lock held, or before any thread runs)."""
        self._users[self._snapshot] += 1
        return _Worker(self._ctx, self._snapshot, self.max_result_bytes)

    def _retire(self, worker: _Worker) -> None:
        """Stop a worker; drop its snapshot when it was the last one on an old snapshot."""
        worker.stop()
        with self._cond:
            self._users[worker.snapshot] -= 1
            if worker.snapshot != self._snapshot and self._users[worker.snapshot] == 0:
                del self._users[worker.snapshot]
                remove_snapshot(worker.snapshot)

    # --- scheduling (all with self._cond held) -------------------------------------
    def _dispatch(self) -> None:
        while self._idle and self._waiting:
            job = self._waiting.pop(0)
            job.lane, job.worker = GENERAL, self._idle.pop()
        if self._short is not None:
            untried = [job for job in self._waiting if not job.tried_short]
            if untried:
                job = untried[-1]  # the newest: the one most likely to be waiting behind slow queries
                self._waiting.remove(job)
                job.lane, job.worker, self._short = SHORT, self._short, None
        self._cond.notify_all()

    def _give_back(self, lane: str, worker: _Worker) -> None:
        if worker.snapshot != self._snapshot:  # from before a refresh: retire it, start one on the new snapshot
            threading.Thread(target=self._retire, args=(worker,), daemon=True).start()
            worker = self._spawn()
        if lane == SHORT:
            self._short = worker
        else:
            self._idle.append(worker)
        self._dispatch()

    # --- running -------------------------------------------------------------------
    def run(self, query: str, default_graphs: list[str], named_graphs: list[str], accept: str,
            base_iri: str | None = None) -> Answer:
        """`base_iri` resolves the query's relative IRIs (the endpoint's URL)."""
        spool_path = str(self._spool / f"{next(self._ids)}.out")
        job = _Job((query, default_graphs, named_graphs, accept, base_iri, spool_path), next(self._ids))
        with self._cond:
            if len(self._waiting) >= self.max_waiting:
                return Answer(503, "text/plain", f"{len(self._waiting)} queries are waiting already; try again "
                                                 "shortly".encode(), headers={"Retry-After": "5"})
            self._waiting.append(job)
            self._dispatch()
        while True:
            with self._cond:
                while job.worker is None:
                    self._cond.wait()
                lane, worker = job.lane, job.worker
                self._busy.add(worker)
            seconds = self.timeout if lane == GENERAL else min(self.short_seconds, self.timeout)
            reply = worker.execute(job.message, seconds)
            if reply in (OVERRAN, DIED):
                self._retire(worker)
            with self._cond:
                self._busy.discard(worker)
                if reply in (OVERRAN, DIED):
                    worker = self._spawn()
                if lane == SHORT and reply == OVERRAN and self.short_seconds < self.timeout:
                    # back to its place in the queue, for a general worker
                    job.tried_short, job.lane, job.worker = True, None, None
                    self._waiting.insert(sum(1 for other in self._waiting if other.seq < job.seq), job)
                    self._give_back(lane, worker)
                    continue
                self._give_back(lane, worker)
            return self._answer(reply)

    def _answer(self, reply) -> Answer:
        if reply == OVERRAN:
            return Answer(503, "text/plain", f"the query ran past the {self.timeout:g} s timeout and was stopped; "
                                             "narrow it or raise --timeout".encode())
        if reply == DIED:
            return Answer(503, "text/plain", f"the query needed more than the {WORKER_DATA_BYTES // 2**20} MB a query "
                                             "worker may use (or its worker ended otherwise) and was stopped; narrow "
                                             "it".encode())
        kind, media, payload = reply
        body, path, size = (payload[1], None, len(payload[1])) if payload[0] == "bytes" else (b"", payload[1], payload[2])
        if kind == "ok":
            return Answer(200, media, body, path, size)
        if kind == "too-large":
            return Answer(413, "text/plain", f"the result is over the {self.max_result_bytes // 2**20} MB cap; "
                                             "narrow the query or raise --max-result-mb".encode())
        return Answer({"bad": 400, "forbidden": 403}.get(kind, 500), media, body)

    def refresh(self) -> Path:
        """Take a new snapshot of the store; idle workers are replaced at once, busy ones
        after their query. Queries from now on see the new snapshot."""
        snapshot = take_snapshot(self.path)
        with self._cond:
            self._snapshot = snapshot
            self._users[snapshot] = 0
            stale = list(self._idle) + ([self._short] if self._short is not None else [])
            self._idle = [self._spawn() for _ in self._idle]
            if self._short is not None:
                self._short = self._spawn()
            self._dispatch()
        for worker in stale:
            self._retire(worker)
        return snapshot

    def close(self) -> None:
        with self._cond:
            workers = self._idle + list(self._busy) + ([self._short] if self._short is not None else [])
            self._idle, self._short = [], None
            snapshots = list(self._users)
        for worker in workers:
            try:
                worker.connection.send(None)
            except OSError:
                pass
            worker.stop()
        for snapshot in snapshots:
            remove_snapshot(snapshot)
        shutil.rmtree(self._spool, ignore_errors=True)


def open_spool(answer: Answer):
    """The spool file of an answer, open for reading and already unlinked, so it goes away
    once sent, even if the client hangs up."""
    handle = open(answer.path, "rb")  # noqa: SIM115 (closed by the caller)
    os.unlink(answer.path)
    return handle
