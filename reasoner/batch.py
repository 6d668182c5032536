"""`guideline-reasoner decide --batch`: many cases at once, fast, with the same decisions as
the single-case path.

Cases are read in chunks; each chunk goes into one in-memory pyoxigraph store beside the
knowledge base, and every pipeline query runs once for the whole chunk. SHACL validation of
the case input and of the requirement checks runs as SPARQL compiled from the same shapes
(reasoner/shacl_compiler.py, checked against pyshacl in the tests). Chunks are spread over
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
from collections import Counter, defaultdict, deque
from collections.abc import Container, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import takewhile
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox

from reasoner import queries
from reasoner.engine import input_hash, stamp_inputs
from reasoner.errors import InputError
from reasoner.paths import SHAPES_DIR

CHUNK = 500
GR = "https://w3id.org/guideline-reasoner/ontology#"
DERIVED = ox.NamedNode("urn:guideline-reasoner:graph:derived")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
HAS_REQUEST = GR + "hasRequest"
FORMATS = {".ttl": "turtle", ".nt": "ntriples", ".jsonld": "json", ".json": "json"}
RDF_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}


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
            with open(path, encoding="utf-8", errors="replace") as lines:
                for n, line in enumerate(lines, start=1):
                    if line.strip():
                        yield RawCase(f"{path}:{n}", line, "json", f"https://w3id.org/guideline-reasoner/case/{path.stem}-{n}")
        else:
            yield _file_case(path)


def _file_case(path: Path) -> RawCase:
    fmt = FORMATS.get(path.suffix.lower())
    try:
        data = path.read_bytes()
    except OSError as exc:
        return RawCase(str(path), b"", ("error", f"cannot read ({exc.strerror})"))
    if fmt is None:
        return RawCase(str(path), b"", ("error", f"unknown file type '{path.suffix}'"))
    return RawCase(str(path), data, fmt, path.resolve().as_uri())


# One N-Quads statement: (subject predicate object) and the graph label, split by pattern
# (IRIs cannot hold spaces or '>', literals are quoted with escapes). Each case's text is
# parsed properly by its worker; a file with any line this does not match goes through
# the full parser instead, which also gives the error message.
_TERM = r'(?:<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)'
_STATEMENT = re.compile(rf'\s*({_TERM}\s*<[^>]*>\s*{_TERM})\s*(<[^>]*>|_:\S+)?\s*\.\s*(?:#.*)?\s*')


def _nquads_cases(path: Path) -> Iterator[RawCase]:
    """One case per named graph, streamed: a first pass finds the line where each graph
    ends, the second yields each graph's case there, so only graphs still open are held
    in memory (one, in a file grouped by graph) while quads of a graph need not be
    contiguous."""
    last: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines):
            match = _STATEMENT.fullmatch(line)
            if match is not None:
                last[match.group(2) or "DEFAULT"] = number
            elif line.strip() and not line.lstrip().startswith("#"):
                yield from _nquads_cases_parsed(path)
                return
    open_graphs: dict[str, list[str]] = defaultdict(list)
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines):
            match = _STATEMENT.fullmatch(line)
            if match is None:
                continue
            graph = match.group(2) or "DEFAULT"
            open_graphs[graph].append(match.group(1) + " .")
            if last[graph] == number:
                yield RawCase(graph.strip("<>"), "\n".join(open_graphs.pop(graph)), "ntriples")


def _nquads_cases_parsed(path: Path) -> Iterator[RawCase]:
    graphs: dict[str, list[str]] = defaultdict(list)
    try:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
            graphs[str(quad.graph_name)].append(f"{quad.subject} {quad.predicate} {quad.object} .")
    except SyntaxError as exc:
        yield RawCase(str(path), b"", ("error", f"not valid N-Quads: {exc}"))
        return
    for graph, lines in graphs.items():
        yield RawCase(graph.strip("<>"), "\n".join(lines), "ntriples")


# --- one chunk ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _compiled():
    from rdflib import Graph

    from reasoner.shacl_compiler import compile_report

    return (compile_report(Graph().parse(SHAPES_DIR / "case-input.ttl")),
            compile_report(Graph().parse(SHAPES_DIR / "requirements.ttl")))


_KB_QUADS: list = []


def _init_worker(kb_ntriples: bytes) -> None:
    _KB_QUADS.clear()
    _KB_QUADS.extend(ox.Quad(t.subject, t.predicate, t.object)  # the default graph: see decide_chunk
                     for t in ox.parse(kb_ntriples, format=ox.RdfFormat.N_TRIPLES))


def _parse(case: RawCase) -> list[ox.Triple]:
    if isinstance(case.format, tuple):
        raise ValueError(case.format[1])
    if case.format == "json":
        from reasoner.case_loader import json_case
        from reasoner.fhir.bundle import looks_like_bundle

        text = case.data.decode("utf-8") if isinstance(case.data, bytes) else case.data
        if '"resourceType"' in text and looks_like_bundle(text):  # the cheap test first: most JSON cases are not FHIR
            raise ValueError("a FHIR Bundle, which --batch does not read: decide it on its own, or write its case "
                             "with import-fhir first")
        # Oxigraph has no remote-context loader set, so it cannot fetch either.
        return list(ox.parse(json.dumps(json_case(text, case.id)), format=ox.RdfFormat.JSON_LD, base_iri=case.base))
    return list(ox.parse(case.data, format=RDF_FORMATS[case.format], base_iri=case.base))


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

    The store keeps everything it derives: the knowledge base sits in the default graph,
    each case first in a graph of its own (so input problems can be told apart by case),
    then, once it has passed the input checks, in the default graph too, where every
    pipeline query reads and inserts (SPARQL Update, no round trip through Python)."""
    store = ox.Store()
    store.extend(_KB_QUADS)
    with _phase("input"):
        cases = _read_chunk(chunk)
        _check_inputs(store, cases, chunk)
    graphs = (DERIVED.value,) if explain else ()
    with _phase("derivation"):
        for name in queries.DERIVATION_STAGES:
            _run(store, name, graphs)
    with _phase("validation"):
        _validate(store)
    with _phase("decisions"):
        for name in queries.DECISION_STAGES:
            _run(store, name, graphs)
        digests = {n: input_hash(triples) for n, triples in cases.triples.items()}
        stamp_inputs(store, None, {request: digests[n] for request, n in cases.owner.items() if n in digests},
                     graphs=(ox.DefaultGraph(),) + tuple(ox.NamedNode(g) for g in graphs))
    with _phase("output"):
        records = cases.records
        for n, decisions in _decisions_by_case(store, cases.owner).items():
            if n in cases.triples:
                records[n] = {"case": chunk[n].id, "decisions": decisions}
        for n in cases.triples:
            records.setdefault(n, {"case": chunk[n].id, "decisions": []})
        surgery = {row["case"].value for row in store.query(queries.query("output/surgery-found-necessary.rq").text)}
        if surgery:  # rare: associated services follow a surgery found necessary; take the single-case path
            for n in cases.triples:
                if cases.iri[n] in surgery:
                    records[n] = _single_case(chunk[n])
        if explain:
            _attach_quads(store, records, cases.owner, cases.iri)
    if cases.deferred:
        for n, record in zip(cases.deferred, decide_chunk([chunk[n] for n in cases.deferred], explain)):
            records[n] = record
    return [records[n] for n in range(len(chunk))]


@dataclass
class _Chunk:
    """A chunk's cases by position: parsed triples and case IRI of those still in play,
    the owner of each request IRI, records decided already (errors), and the cases whose
    request IRIs clash with an earlier case's (decided apart, in a store of their own)."""

    triples: dict[int, list] = field(default_factory=dict)
    iri: dict[int, str] = field(default_factory=dict)
    owner: dict[str, int] = field(default_factory=dict)
    records: dict[int, dict] = field(default_factory=dict)
    deferred: list[int] = field(default_factory=list)


def _read_chunk(chunk: list[RawCase]) -> _Chunk:
    cases = _Chunk()
    for n, case in enumerate(chunk):
        try:
            triples = _parse(case)
        except InputError as exc:  # the case id is the record's own field
            where = f"{exc.field}: " if exc.field else ""
            cases.records[n] = {"case": case.id, "error": f"not readable: {where}{exc.problem}"}
            continue
        except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            cases.records[n] = {"case": case.id, "error": f"not readable: {' '.join(str(exc).split())[:300]}"}
            continue
        problem, iri, requests = _shape_of(triples)
        if problem:
            cases.records[n] = {"case": case.id, "error": problem}
        elif any(request in cases.owner for request in requests):
            cases.deferred.append(n)
        else:
            cases.owner.update((request, n) for request in requests)
            cases.triples[n], cases.iri[n] = triples, iri
    return cases


def _check_inputs(store: ox.Store, cases: _Chunk, chunk: list[RawCase]) -> None:
    """Input checks over every case graph at once (compiled case-input shapes, unknown
    terms); the cases that pass go into the default graph."""
    store.extend([ox.Quad(t.subject, t.predicate, t.object, graph) for n, triples in cases.triples.items()
                  for graph in (_graph(n),) for t in triples])
    for graph, problem in _input_problems(store, _compiled()[0]):
        n = int(graph.rsplit(":", 1)[1])
        if n in cases.triples:
            cases.records[n] = {"case": chunk[n].id, "error": problem}
            del cases.triples[n]
    store.update("DROP NAMED")
    store.extend([ox.Quad(t.subject, t.predicate, t.object) for triples in cases.triples.values() for t in triples])


def _validate(store: ox.Store) -> None:
    """The requirement shapes, compiled to SPARQL, as the standard sh:ValidationReport in the
    store (the one pyshacl gives the single-case path)."""
    from reasoner.shacl_report import report_quads

    compiled = _compiled()[1]
    store.extend(report_quads(compiled, store.query(compiled.query)))


def _graph(n: int) -> ox.NamedNode:
    return ox.NamedNode(f"urn:guideline-reasoner:batch:{n}")


def _shape_of(triples: list[ox.Triple]) -> tuple[str | None, str | None, list[str]]:
    """(problem, case IRI, request IRIs) read off a parsed case in one pass."""
    if not triples:
        return "no RDF statements", None, []
    iri, requests = None, []
    for t in triples:
        predicate = t.predicate.value
        if predicate == RDF_TYPE.value:
            kind = t.object.value
            if kind == GR + "Case":
                iri = t.subject.value
            elif kind == GR + "TreatmentRequest" and isinstance(t.subject, ox.BlankNode):
                return "give every gr:TreatmentRequest an IRI (decisions are named after it)", None, []
        elif predicate == HAS_REQUEST:
            requests.append(t.object.value)
    if iri is None:
        return "no gr:Case in it: not a case file", None, []
    return None, iri, requests


def _attach_quads(store: ox.Store, records: dict[int, dict], owner: dict[str, int], case_iri: dict[int, str]) -> None:
    """Explanation triples go to the case they are about: every derived node is named
    after its request (<request>/check/..., <request>/decision...)."""
    lines: dict[int, list[str]] = defaultdict(list)
    for quad in store.quads_for_pattern(None, None, None, DERIVED):
        if not isinstance(quad.subject, ox.NamedNode):
            continue
        iri = quad.subject.value
        request = iri if iri in owner else iri.split("/check/")[0].split("/decision")[0]
        n = owner.get(request)
        if n is not None and n in case_iri and "decisions" in records.get(n, {}):
            lines[n].append(f"{quad.subject} {quad.predicate} {quad.object} <{case_iri[n]}> .")
    for n, found in lines.items():
        records[n]["nquads"] = "\n".join(sorted(found)) + "\n"


def _single_case(case: RawCase) -> dict:
    from rdflib import Graph

    from reasoner.render import decision_records

    graph = Graph().parse(data=ox.serialize(_parse(case), format=ox.RdfFormat.N_TRIPLES), format="nt")
    records = decision_records(_single_reasoner().decide(graph, case.id))
    for record in records:
        record.pop("case", None)
    return {"case": case.id, "decisions": records}


@lru_cache(maxsize=1)
def _single_reasoner():
    from reasoner.engine import Reasoner

    return Reasoner()


def _per_graph(where: str) -> str:
    """The compiled shapes query evaluated inside each named graph, returning the graph too."""
    return f"SELECT ?g ?focus ?value ?path ?c WHERE {{ {where} }}"


@lru_cache(maxsize=1)
def _input_queries(input_shapes: str) -> tuple[str, str]:
    unknown = f"""
PREFIX gr: <{GR}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?g ?subject ?property ?value WHERE {{
  VALUES (?property ?kind) {{ (gr:treatment gr:Treatment) (gr:hasDiagnosis gr:Condition) (gr:bodyPart gr:BodyRegion) }}
  GRAPH ?g {{ ?subject ?property ?value }}
  FILTER (?value != ?kind)
  FILTER NOT EXISTS {{ ?value rdfs:subClassOf ?kind }}   # the default graph holds the knowledge base only here
  FILTER NOT EXISTS {{ ?value a ?kind }}
}}"""
    return _per_graph(input_shapes), unknown


def _input_problems(store: ox.Store, input_shapes) -> Iterator[tuple[str, str]]:
    """(graph, first problem) for each case graph with a problem, like the single-case
    loader: the first violation in a stable order, then unknown terms."""
    shapes_query, unknown_query = _input_queries(input_shapes.where('?g'))
    found: dict[str, list[str]] = defaultdict(list)
    for row in store.query(shapes_query):
        messages = input_shapes.sources[int(row["c"].value)].messages
        found[row["g"].value].append(f"{_short(row['focus'])}: {messages[0] if messages else 'violation'}")
    for graph, problems in found.items():
        yield graph, sorted(problems)[0] + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
    for graph, problem in _breaches(store):
        if graph not in found:
            found[graph].append("sealed")
            yield graph, problem
    for row in store.query(unknown_query):
        if row["g"].value not in found:
            found[row["g"].value].append("unknown")
            yield row["g"].value, (f"{_short(row['subject'])} gr:{row['property'].value.rsplit('#', 1)[-1]}: "
                                   f"unknown term <{row['value'].value}>")


@lru_cache(maxsize=1)
def _seal():
    from reasoner.case_seal import seal_from

    return seal_from((q.subject.value, q.predicate.value, q.object.value) for q in _KB_QUADS
                     if not isinstance(q.subject, ox.BlankNode))


def _breaches(store: ox.Store) -> Iterator[tuple[str, str]]:
    """(graph, first breach) for each case graph stating what a case may not
    (reasoner/case_seal.py): the same rules as the single-case loader, as one query."""
    from reasoner.case_seal import breach_query, breach_text

    by_graph: dict[str, list] = defaultdict(list)
    for row in store.query(breach_query(_seal())):
        by_graph[row["g"].value].append((tuple(_rdflib(row[v]) for v in ("s", "p", "o")), row["kind"].value))
    for graph, found in by_graph.items():
        yield graph, breach_text(found)


def _rdflib(term):
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    return Literal(term.value, lang=term.language, datatype=None if term.language else URIRef(term.datatype.value))


def _short(term) -> str:
    return term.value if hasattr(term, "value") else str(term)


def _run(store: ox.Store, stage: str, graphs: tuple[str, ...]) -> None:
    for query in queries.stage(stage):
        store.update(_insert(query, graphs))


@lru_cache(maxsize=None)
def _insert(query: queries.Query, graphs: tuple[str, ...]) -> str:
    return query.as_insert(*graphs)


def _decisions_by_case(store: ox.Store, owner: dict[str, int]) -> dict[int, list[dict]]:
    from reasoner.engine import CaseResult
    from reasoner.render import decision_records

    result = CaseResult("", store, None, True, union=False)
    by_case: dict[int, list[dict]] = defaultdict(list)
    for record in decision_records(result):
        record.pop("case", None)
        n = owner.get(record["request"])
        if n is not None:
            by_case[n].append(record)
    return by_case


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
            pool = stack.enter_context(mp.get_context("fork").Pool(jobs, initializer=_init_worker,
                                                                   initargs=(kb_ntriples,)))
            results = _in_order(pool, work, chunks, in_flight=2 * jobs)
        for records in results:
            yield from records
            done += len(records)
            if progress:
                progress(done)


def _decide_numbered_chunk(chunk: list[tuple[int, RawCase]], explain: bool) -> list[tuple[int, dict]]:
    positions, cases = zip(*chunk)
    return list(zip(positions, decide_chunk(list(cases), explain)))


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
        return json.dumps(record, ensure_ascii=False) + "\n"
    if "error" in record:
        message = json.dumps(record["case"] + ": " + record["error"])  # a valid N-Quads string literal
        return f"<urn:guideline-reasoner:batch:error> <{GR}inputError> {message} <urn:guideline-reasoner:graph:errors> .\n"
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
