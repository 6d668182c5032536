"""`guideline-reasoner decide --batch`: many cases at once, fast, with the same decisions as
the single-case path.

Cases are read in chunks; each chunk goes into one in-memory pyoxigraph store beside the
knowledge base, and every pipeline query runs once for the whole chunk. SHACL validation of
the case input and of the requirement checks runs as SPARQL compiled from the same shapes
(reasoner/shacl/compiler.py, checked against pyshacl in the tests). Chunks are spread over
worker processes (--jobs). Every input case yields exactly one record: its decisions, or an
error naming the case and the reason. Records come out in input order.

Inputs: a folder of case files (.ttl, .jsonld, .json), an N-Quads file with one named graph
per case, or a JSON lines file with one (plain or JSON-LD) case per line."""

from __future__ import annotations

import errno
import fcntl
import json
import multiprocessing as mp
import os
import re
import time
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Container, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import takewhile
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox

from reasoner.errors import InputError
from reasoner.namespaces import BATCH_CASE, BATCH_ERROR, CASE_BASE, ERRORS_GRAPH, GR
from reasoner.pipeline import case_input
from reasoner.pipeline import run as pipeline
from reasoner.pipeline.case_input import FORMATS
from reasoner.pipeline.stores import ChunkStore
from reasoner.output.render import decision_records

CHUNK = 500
_HAS_REQUEST = f"<{GR.hasRequest}>"  # as case_input.statements write it


@dataclass
class RawCase:
    id: str                 # file name, graph IRI or "file:line"
    data: bytes | str
    format: object          # "turtle", "ntriples" or "json"; ("error", reason) when unreadable
    base: str | None = None


@dataclass
class Summary:
    cases: int = 0
    requests: int = 0
    errors: int = 0
    outcomes: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def as_text(self) -> str:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (f"{self.cases} cases, {self.requests} requests ({outcomes or 'none'}), "
                f"{self.errors} errors, {self.seconds:.2f} s")


# --- reading -------------------------------------------------------------------------

def read_inputs(paths: list[Path]) -> Iterator[RawCase]:
    for path in paths:
        if path.is_dir():
            # expected-output files beside test cases (NAME.expected.json) are not cases
            for file in sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS and p.is_file()
                               and ".expected." not in p.name):
                yield _file_case(file)
        elif path.suffix.lower() == ".nq":
            yield from _nquads_cases(path)
        elif path.suffix.lower() == ".jsonl":
            with open(path, encoding="utf-8-sig", errors="replace") as lines:
                for n, line in enumerate(lines, start=1):
                    if line.strip():
                        yield RawCase(f"{path}:{n}", line, "json", f"{CASE_BASE}{path.stem}-{n}")
        else:
            yield _file_case(path)


def _file_case(path: Path) -> RawCase:
    from reasoner.cases.loader import read_case_file

    fmt = FORMATS.get(path.suffix.lower())
    try:
        data = read_case_file(path)  # the single path's file checks, in its words
    except InputError as exc:
        return RawCase(str(path), b"", ("error", exc.detail))
    return RawCase(str(path), data, fmt, case_input.base_iri(path, fmt))


# One N-Quads statement: (subject predicate object) and the graph label, split by pattern
# (IRIs cannot hold spaces or '>', literals are quoted with escapes). Each case's text is
# parsed properly by its worker; a line this does not match is parsed alone, and a line
# that is not N-Quads at all makes an error record for the graph its label names.
_TERM = r'(?:<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)'
_STATEMENT = re.compile(rf'\s*({_TERM}\s*<[^>]*>\s*{_TERM})\s*(<[^>]*>|_:\S+)?\s*\.\s*(?:#.*)?\s*')
# What follows a statement _STATEMENT matched, from where its group 1 ended: the same label
_REST = re.compile(r'\s*(<[^>]*>|_:\S+)?\s*\.\s*(?:#.*)?\s*')
# The graph label of a line that is not valid N-Quads: its last term before the full stop
_LABEL = re.compile(r'(<[^<>\s]*>|_:\S+)\s*\.\s*(?:#.*)?$')


def _statement(line: str) -> tuple[str, str] | str | None:
    """(graph, "s p o .") of one line, None for a blank or comment line, or the parser's
    message for a line that is not an N-Quads statement."""
    read = _split(line)
    if isinstance(read, tuple) and isinstance(read[1], int):
        return read[0], line[read[2]:read[1]] + " ."
    return read


def _split(line: str) -> tuple[str, int, int] | tuple[str, str] | str | None:
    """As _statement, but a statement the pattern matched as (graph, its end, its start) in
    the line, so a second pass over the file takes it by slicing, without the pattern."""
    match = _STATEMENT.fullmatch(line)
    if match is not None:
        return match.group(2) or "DEFAULT", match.end(1), match.start(1)
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    try:
        [quad] = ox.parse(line, format=ox.RdfFormat.N_QUADS)
    except (SyntaxError, ValueError) as exc:
        # the parser counts lines in the one line it was given: keep the column only
        message = re.sub(r"(?:at|between) line 1 column (\d+)(?: and line 2 column 1)?", r"at column \1", str(exc))
        return re.sub(r"\s*\(line \d+\)$", "", message)
    graph = "DEFAULT" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
    return graph, f"{quad.subject} {quad.predicate} {quad.object} ."


def _nquads_cases(path: Path) -> Iterator[RawCase]:
    """One case per named graph, streamed: a first pass finds the line where each graph
    ends, the second yields each graph's case there, so only graphs still open are held
    in memory (one, in a file grouped by graph) while quads of a graph need not be
    contiguous. A line that is not N-Quads makes its graph an error record (the rest of
    the file is decided). One whose graph label cannot be read is an error record of its
    own, and so are the graphs of the statements just before and after it, which it most
    likely belonged to: no case is decided with a statement silently missing.

    The first pass keeps, per line, where its statement ends (4 bytes a line; statements
    that do not start their line, and lines parsed alone, in `odd`), so the second pass
    slices the statement and reads the graph label after it with a short pattern, instead
    of matching the whole line again: the parent reads the input for every worker, and
    that pattern was most of its time."""
    last: dict[str, int] = {}
    broken: dict[str, tuple[int, str]] = {}  # graph -> its first bad line and the message
    previous, unlabelled = None, None  # the graph of the last statement; a bad line waiting for the next
    ends = array("I")  # per line: the end of its statement; 0: none (blank, comment, odd or not N-Quads)
    odd: dict[int, tuple[int, int] | tuple[str, str]] = {}  # line -> (start, end) of a statement not
    # starting it, or (graph, statement) parsed alone
    bad: set[int] = set()
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines):
            read = _split(line)
            if isinstance(read, tuple):
                graph = read[0]
                if isinstance(read[1], int) and not read[2]:
                    ends.append(read[1])
                else:
                    ends.append(0)
                    odd[number] = (read[2], read[1]) if isinstance(read[1], int) else read
                previous, last[graph] = graph, number
                if unlabelled:
                    broken.setdefault(graph, unlabelled)
                    unlabelled = None
            elif isinstance(read, str):
                ends.append(0)
                bad.add(number)
                label = _LABEL.search(line.rstrip())
                graph = label.group(1) if label else f"{path}, line {number + 1}"
                broken.setdefault(graph, (number, read))
                last[graph] = max(last.get(graph, number), number)
                if not label:
                    unlabelled = (number, read)
                    if previous:
                        broken.setdefault(previous, unlabelled)
            else:
                ends.append(0)
    open_graphs: dict[str, list[str]] = defaultdict(list)
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines):
            end = ends[number]
            spot = odd.get(number) if not end else None
            if end or spot:
                if end:
                    statement = line[:end] + " ."
                elif isinstance(spot[0], int):
                    end, statement = spot[1], line[spot[0]:spot[1]] + " ."
                else:
                    graph, statement = spot
                if end:
                    graph = _REST.fullmatch(line, end).group(1) or "DEFAULT"
                if graph not in broken:
                    open_graphs[graph].append(statement)
            elif number in bad:
                label = _LABEL.search(line.rstrip())
                graph = label.group(1) if label else f"{path}, line {number + 1}"
            else:
                continue
            if last.get(graph) == number:
                if graph in broken:
                    bad_line, message = broken[graph]
                    yield RawCase(graph.strip("<>"), b"", ("error", f"{path}, line {bad_line + 1}: not valid N-Quads: {message}"))
                else:
                    yield RawCase(graph.strip("<>"), "\n".join(open_graphs.pop(graph)), "ntriples")


# --- one chunk ------------------------------------------------------------------------

_KB_QUADS: list = []


_KB_SOURCE: list[bytes] = []  # the N-Triples _KB_QUADS were read from


def _init_worker(kb_ntriples: bytes) -> None:
    if _KB_SOURCE and _KB_SOURCE[0] == kb_ntriples:
        return  # read already: by the parent before it forked this worker (see _warm)
    _KB_SOURCE[:] = [kb_ntriples]
    _KB_QUADS.clear()
    _KB_QUADS.extend(ox.Quad(t.subject, t.predicate, t.object)  # the default graph: see ChunkStore
                     for t in ox.parse(kb_ntriples, format=ox.RdfFormat.N_TRIPLES))
    _check.cache_clear()


def _warm(kb_ntriples: bytes) -> None:
    """Read the knowledge base, compile the shapes and read the queries once, in the parent,
    so forked workers start with them (each used to spend a fifth of a second on it)."""
    from reasoner.pipeline import queries
    from reasoner.pipeline.stores import compiled_requirements, decision_graph

    _init_worker(kb_ntriples)
    _check()
    case_input._input_shapes()
    from reasoner.shacl.report import findings_update

    findings_update(compiled_requirements())
    decision_graph()
    for name in queries.DERIVATION_STAGES + queries.DECISION_STAGES:
        queries.stage(name)


@lru_cache(maxsize=1)
def _check() -> case_input.CaseCheck:
    return case_input.CaseCheck(_KB_QUADS)


def _parse(case: RawCase) -> list[ox.Triple]:
    """A case's triples as the single path reads them; InputError naming the case."""
    if isinstance(case.format, tuple):
        raise InputError(case.id, case.format[1])
    if case.format == "json":
        from reasoner.fhir.bundle import looks_like_bundle

        text = case.data.decode("utf-8", "replace") if isinstance(case.data, bytes) else case.data
        if '"resourceType"' in text and looks_like_bundle(text):  # the cheap test first: most JSON cases are not FHIR
            raise InputError(case.id, "a FHIR Bundle, which --batch does not read: decide it on its own, or write "
                                      "its case with import-fhir first")
    return case_input.parse(case.data, case.format, case.id, case.base)


PHASE_SECONDS: Counter = Counter()  # CPU seconds per phase in this process, for benchmarks/run.py


@contextmanager
def _phase(name: str):
    start = time.process_time()
    try:
        yield
    finally:
        PHASE_SECONDS[name] += time.process_time() - start


def decide_chunk(chunk: list[RawCase], explain: bool = False) -> list[dict]:
    """Decision records (or error records) for a chunk of cases, in order. With `explain`,
    each record also carries its explanation triples as N-Quads in the case's graph.

    The cases that pass the input checks (reasoner/pipeline/case_input.py, the single-case
    ones) go into one store beside the knowledge base, where the pipeline runs once for
    all of them (reasoner/pipeline/run.py, ChunkStore); cases naming a node another case
    of the chunk names go into a store of their own (see _Group)."""
    with _phase("input"):
        records, groups = _read_chunk(chunk)
    for group in groups:
        decided = pipeline.decide(partial(ChunkStore, _KB_QUADS), list(group.inputs.values()), _phase)
        with _phase("output"):
            for n in group.inputs:
                records[n] = {"case": chunk[n].id, "decisions": []}
            for store, inputs in decided:
                keys = {case.key for case in inputs}
                for record in decision_records(store, source=""):
                    record.pop("case")
                    n = group.owner.get(record["request"])
                    if n in keys:
                        records[n]["decisions"].append(record)
                if explain:
                    _attach_quads(store, records, group.owner, {n: group.inputs[n] for n in keys})
    return [records[n] for n in range(len(chunk))]


@dataclass
class _Group:
    """Cases decided in one store: by position, those read and checked, the owner of each
    request IRI, and every node (request, episode, patient, case ...) they name. No two
    cases of a group name one node, or in a shared store they would see, or state facts
    about, each other's nodes (case A naming case B's episode would count B's visits, or
    give them an outcome); so each case is decided exactly as the single path decides it."""

    inputs: dict[int, pipeline.CaseInput] = field(default_factory=dict)
    owner: dict[str, int] = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)


def _read_chunk(chunk: list[RawCase]) -> tuple[dict[int, dict], list[_Group]]:
    """Every case read and checked as the single-case path reads and checks it, the checks
    over all the chunk's case graphs at once: error records in the single path's words, and
    the cases that passed, in groups of cases with no node in common (one group, usually)."""
    records: dict[int, dict] = {}
    parsed: dict[int, list] = {}
    for n, case in enumerate(chunk):
        try:
            parsed[n] = _parse(case)
        except InputError as exc:  # the case id is the record's own field
            records[n] = {"case": case.id, "error": exc.detail}
    graphs = {n: _graph(n).value for n in parsed}
    texts = {n: case_input.statements(triples) for n, triples in parsed.items()}
    cases = {graphs[n]: triples for n, triples in parsed.items()}
    by_graph = {graphs[n]: texts[n] for n in parsed}
    strict = {graphs[n] for n in parsed if chunk[n].format in ("turtle", "ntriples")}
    problems = _check().problems(case_input.store_of(cases, by_graph, strict), cases, by_graph)
    groups: list[_Group] = []
    for n, triples in parsed.items():
        problem = problems.get(graphs[n])
        if problem:
            records[n] = {"case": chunk[n].id, "error": InputError(chunk[n].id, problem[1], problem[0]).detail}
            continue
        nodes = _check().nodes(texts[n])
        group = next((g for g in groups if g.nodes.isdisjoint(nodes)), None)
        if group is None:
            group = _Group()
            groups.append(group)
        group.nodes |= nodes
        group.owner.update((case_input.value_of(o), n) for _, p, o in texts[n] if p == _HAS_REQUEST)
        group.inputs[n] = pipeline.CaseInput.of(triples, key=n, texts=texts[n])
    return records, groups


def _graph(n: int) -> ox.NamedNode:
    return ox.NamedNode(f"{BATCH_CASE}{n}")


def _attach_quads(store: ChunkStore, records: dict[int, dict], owner: dict[str, int],
                  inputs: dict[int, pipeline.CaseInput]) -> None:
    """The decision graph's triples go to the case they are about: every node of it is named
    after its request (<request>/check/..., <request>/decision...)."""
    lines: dict[int, list[str]] = defaultdict(list)
    for quad in store.explanation():
        if not isinstance(quad.subject, ox.NamedNode):
            continue
        iri = quad.subject.value
        request = iri if iri in owner else iri.split("/check/")[0].split("/decision")[0]
        n = owner.get(request)
        if n in inputs:
            lines[n].append(f"{quad.subject} {quad.predicate} {quad.object} <{sorted(inputs[n].cases)[0]}> .")
    for n, found in lines.items():
        records[n]["nquads"] = "\n".join(sorted(found)) + "\n"


# --- driver ---------------------------------------------------------------------------

def _chunks(cases: Iterator, size: int) -> Iterator[list]:
    chunk: list = []
    for case in cases:
        chunk.append(case)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def decide_batch(paths: list[Path], kb_ntriples: bytes, jobs: int = 1, chunk_size: int = CHUNK,
                 progress=None, explain: bool = False) -> Iterator[dict]:
    """Records in input order. `progress(done)` is called after each chunk."""
    return (record for _, record in decide_numbered(paths, kb_ntriples, jobs, chunk_size, progress, explain))


def decide_numbered(paths: list[Path], kb_ntriples: bytes, jobs: int = 1, chunk_size: int = CHUNK,
                    progress=None, explain: bool = False,
                    skip: Container[tuple[int, str]] = frozenset()) -> Iterator[tuple[int, dict]]:
    """(position, record) in input order, the position being the case's place in the input
    stream, leaving out the (position, case id) pairs in `skip` (decided by an interrupted
    run). Ids alone would not do: the same folder given twice, or two N-Quads files using
    one graph name, repeat them."""
    numbered = ((n, case) for n, case in enumerate(read_inputs(paths)) if (n, case.id) not in skip)
    chunks = _chunks(numbered, chunk_size)
    work = partial(_decide_numbered_chunk, explain=explain)
    done = 0
    with ExitStack() as stack:
        if jobs <= 1:
            _init_worker(kb_ntriples)
            results = map(work, chunks)
        else:
            _warm(kb_ntriples)
            pool = stack.enter_context(mp.get_context("fork").Pool(jobs, initializer=_init_worker,
                                                                   initargs=(kb_ntriples,)))
            results = _in_order(pool, work, chunks, in_flight=2 * jobs)
        for records in results:
            yield from records
            done += len(records)
            if progress:
                progress(done)


def phase_seconds(paths: list[Path], kb_ntriples: bytes, limit: int = 1000,
                  chunk_size: int = CHUNK) -> dict[str, float]:
    """Where the time goes: CPU seconds per phase per 1,000 cases (input, derivation,
    validation, decisions, output), deciding the first `limit` cases in this process; and
    read, the parent splitting the whole input into cases (an N-Quads file is read through
    once before its first case comes out), per 1,000 cases of it."""
    from itertools import islice

    _init_worker(kb_ntriples)
    start = time.process_time()
    total = sum(1 for _ in read_inputs(paths))
    read = time.process_time() - start
    cases = list(islice(read_inputs(paths), limit))
    read *= len(cases) / max(total, 1)  # the share of the first `limit`: divided by their number below
    decide_chunk(cases[:1])  # warm: shapes compiled, queries read
    PHASE_SECONDS.clear()
    PHASE_SECONDS["read"] = read
    for start in range(0, len(cases), chunk_size):
        decide_chunk(cases[start:start + chunk_size])
    return {phase: round(seconds * 1000 / max(len(cases), 1), 3) for phase, seconds in PHASE_SECONDS.items()}


def _decide_numbered_chunk(chunk: list[tuple[int, RawCase]], explain: bool) -> list[tuple[int, dict]]:
    positions, cases = zip(*chunk)
    return list(zip(positions, map(_Record.of, decide_chunk(list(cases), explain))))


class _Record(dict):
    """A record as a worker hands it back: the dict, and its JSON line written once, there.
    It crosses to the parent as that line (and its N-Quads), which the parent reads back with
    json.loads and writes as it is: pickling the dicts and writing them again in the parent
    cost the parent, which reads the input for every worker, more than the line does."""

    __slots__ = ("line",)

    @classmethod
    def of(cls, record: dict) -> _Record:
        made = cls(record)
        made.line = _json_line({k: v for k, v in record.items() if k != "nquads"})
        return made

    def __reduce__(self):
        return _record_from, (self.line, self.get("nquads"))


def _record_from(line: str, nquads: str | None) -> _Record:
    record = _Record(json.loads(line))
    if nquads is not None:
        record["nquads"] = nquads
    record.line = line
    return record


def _json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def _in_order(pool, work, chunks: Iterator[list], in_flight: int) -> Iterator[list]:
    """Each chunk's records, in input order, with at most `in_flight` chunks handed to the
    pool at a time (Pool.imap would read the whole input ahead into memory)."""
    pending: deque = deque()
    for chunk in chunks:
        pending.append(pool.apply_async(work, (chunk,)))
        while len(pending) >= in_flight or (pending and pending[0].ready()):
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def summarise(numbered: Iterator[tuple[int, dict]], summary: Summary) -> Iterator[tuple[int, dict]]:
    """The (position, record) pairs, counted into `summary` as they pass."""
    start = time.perf_counter()
    for position, record in numbered:
        summary.cases += 1
        if "error" in record:
            summary.errors += 1
        for decision in record.get("decisions", []):
            summary.requests += 1
            summary.outcomes[decision["outcome"]] += 1
        yield position, record
    summary.seconds = time.perf_counter() - start


def format_record(record: dict, nquads: bool) -> str:
    """One record as JSON lines text, or as N-Quads (errors as triples in an error graph)."""
    if not nquads:
        record.pop("nquads", None)
        line = getattr(record, "line", None)  # written by the worker (_Record)
        return line if line is not None else _json_line(record)
    if "error" in record:
        message = json.dumps(record["case"] + ": " + record["error"])  # a valid N-Quads string literal
        return f"<{BATCH_ERROR}> <{GR.inputError}> {message} <{ERRORS_GRAPH}> .\n"
    return record.get("nquads", "")


def write_records(records: Iterator[dict], out, nquads: bool) -> None:
    for record in records:
        out.write(format_record(record, nquads))


def progress_bar():
    """A count of decided cases on a terminal; nothing in pipes."""
    import sys

    if not sys.stderr.isatty():
        return None

    def show(done: int) -> None:
        sys.stderr.write(f"\r{done} cases decided")
        sys.stderr.flush()
    return show


class _Logged(NamedTuple):
    position: int   # the case's place in the input stream
    case: str
    start: int      # its record's bytes in OUT.partial
    end: int


class ResumableOutput:
    """Batch output that survives being killed, at any moment. Records go, as they come, to
    OUT.partial; after each one, a line {"position": n, "case": id, "end": byte offset} goes
    to OUT.partial.log, n being the case's place in the input stream: ids repeat (the same
    folder given twice, two N-Quads files using one graph name) and each such case has a
    record of its own. A record counts as written only once its log line is complete and
    its bytes are in the partial file, so a re-run cuts the partial file back to the last
    such offset, skips the logged positions that still hold the logged case, and appends.

    Finishing is one step. The file that is to become OUT (the partial file, or, when the run
    resumed, .OUT.tmp: the records in input order, reordered by offsets, never held in
    memory) is synced to disk, then a last log line {"finished": its name} is; only after
    that is anything renamed or removed. A re-run that finds that line just completes the
    rename and the clean-up and decides nothing, so a kill while finishing never costs OUT
    a record (a log outliving its partial file used to make the next run empty OUT).

    One run at a time: used as a context manager it holds a lock on OUT.lock, with its pid
    in it, and another run on the same OUT stops at once with an input error, having
    written nothing (two runs used to append to one partial file)."""

    def __init__(self, target: Path, shown: str | None = None):
        self.target = target
        self.shown = shown or str(target)  # OUT as the user wrote it, for messages
        self.partial = target.with_name(target.name + ".partial")
        self.log = target.with_name(target.name + ".partial.log")
        self.ordered = target.with_name(f".{target.name}.tmp")
        self.lock = target.with_name(target.name + ".lock")
        self.resumed = False
        self._lock_fd: int | None = None

    def __enter__(self) -> ResumableOutput:
        self._lock_fd = _lock(self.lock, self.shown)
        return self

    def __exit__(self, *_) -> None:
        self.lock.unlink(missing_ok=True)  # still held: a run that opened this file sees it gone (see _lock)
        os.close(self._lock_fd)

    def finished_earlier(self) -> bool:
        """Complete the finish of a run killed after its "finished" line; True if there was one."""
        ready = self._finished()
        if ready is None or not (ready.exists() or self.target.exists()):
            return False  # no such line, or one whose output is gone: resume from the records
        self._put_in_place(ready)
        return True

    def resume(self) -> set[tuple[int, str]]:
        """The (position, case id) pairs already written."""
        size = self.partial.stat().st_size if self.partial.exists() else 0
        entries = list(takewhile(lambda entry: entry.end <= size, self._entries()))
        if self.partial.exists():
            with open(self.partial, "r+b") as partial:
                partial.truncate(entries[-1].end if entries else 0)
        # rewritten whole (dropping a line cut off by a kill) in one rename, so a kill here loses nothing
        rewritten = self.log.with_name(self.log.name + ".tmp")
        rewritten.write_text("".join(_log_line(entry.position, entry.case, entry.end) for entry in entries),
                             encoding="utf-8")
        rewritten.replace(self.log)
        self.resumed = bool(entries)
        return {(entry.position, entry.case) for entry in entries}

    def _entries(self) -> list[_Logged]:
        """Each logged record; a line cut off by a kill (or of another form) ends the list."""
        entries, start = [], 0
        if self.log.exists():
            for line in self.log.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    position, case, end = int(entry["position"]), str(entry["case"]), int(entry["end"])
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    break
                entries.append(_Logged(position, case, start, end))
                start = end
        return entries

    def _finished(self) -> Path | None:
        """The file the log's "finished" line names, if its last line is one."""
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        try:
            name = json.loads(lines[-1])["finished"]
        except (IndexError, json.JSONDecodeError, KeyError, TypeError):
            return None
        if not isinstance(name, str):
            return None
        return {self.partial.name: self.partial, self.ordered.name: self.ordered}.get(name)

    def write_all(self, numbered: Iterator[tuple[int, dict]], nquads: bool) -> None:
        with open(self.partial, "ab") as out, open(self.log, "a", encoding="utf-8") as log:
            for position, record in numbered:
                out.write(format_record(record, nquads).encode("utf-8"))
                out.flush()
                log.write(_log_line(position, record["case"], out.tell()))
                log.flush()

    def finish(self, paths: list[Path]) -> None:
        ready = self.ordered if self.resumed else self.partial
        if self.resumed:
            self._write_in_input_order(paths)
        _sync(ready)  # on disk before the line that says so, or a power cut could leave the line alone
        with open(self.log, "a", encoding="utf-8") as log:
            log.write(json.dumps({"finished": ready.name}) + "\n")
            log.flush()
            os.fsync(log.fileno())
        self._put_in_place(ready)

    def _write_in_input_order(self, paths: list[Path]) -> None:
        where = {(entry.position, entry.case): (entry.start, entry.end) for entry in self._entries()}
        with open(self.partial, "rb") as records, open(self.ordered, "wb") as out:
            for position, case in enumerate(read_inputs(paths)):
                span = where.get((position, case.id))
                if span:  # a position whose case changed since it was logged was decided again
                    records.seek(span[0])
                    out.write(records.read(span[1] - span[0]))

    def _put_in_place(self, ready: Path) -> None:
        """After the "finished" line: each step may be repeated by a re-run; the log goes last."""
        if ready.exists():
            ready.replace(self.target)
        for leftover in (self.partial, self.ordered, self.log):
            leftover.unlink(missing_ok=True)


def _lock(path: Path, shown: str) -> int:
    """A descriptor holding an exclusive lock on `path`, this process's pid written in it.
    A POSIX (fcntl) lock is the process's own: forked workers do not inherit it (a flock
    would outlive a killed run in a worker finishing its chunk), and the kernel drops it
    when the process dies, however it dies."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise InputError(shown, f"cannot create {path.name} beside it ({exc.strerror})") from None
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _lock_holder(fd) if exc.errno in (errno.EACCES, errno.EAGAIN) else None
            os.close(fd)
            if holder is None:
                raise InputError(shown, f"cannot lock {path.name} ({exc.strerror})") from None
            raise InputError(shown, f"is being written by another run (pid {holder})") from None
        try:
            here, held = os.stat(path), os.fstat(fd)
            if (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino):
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the run before removed the file after this one opened it: lock the one there now
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return fd


def _lock_holder(fd: int) -> str:
    """The pid the holder wrote, waiting a moment in case it has only just taken the lock."""
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return text
        time.sleep(0.05)
    return "unknown"


def _sync(path: Path) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def _log_line(position: int, case: str, end: int) -> str:
    # "end" last: a line cut anywhere loses its closing brace, so it never parses
    return json.dumps({"position": position, "case": case, "end": end}) + "\n"
