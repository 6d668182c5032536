"""Read a case file (Turtle, JSON-LD, or plain JSON in the published @context) into an
rdflib graph, and check that it holds what a decision needs.

Every problem becomes an InputError naming the file and the field or line; nothing here
lets a parser traceback through."""

from __future__ import annotations

import json
import re
import stat
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from rdflib import RDF, BNode, Graph, URIRef

from reasoner.errors import InputError
from reasoner.jsonld_contexts import NOT_IN_IRI, NetworkRefused, no_network, not_an_iri, published_context, resolve_contexts
from reasoner.namespaces import GR
from reasoner.paths import CONTEXT_IRI, SHAPES_DIR

FORMATS = {".ttl": "turtle", ".turtle": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".json": "json-ld"}
MAX_BYTES = 50 * 1024 * 1024
# Relative ids in JSON cases resolve against this base plus the file's stem.
CASE_BASE = "https://w3id.org/guideline-reasoner/case/"


def read_case(path: Path) -> Graph:
    """Parse `path` into a graph; raise InputError on anything unreadable."""
    source = str(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(source, f"unknown file type '{path.suffix}' (use .ttl, .jsonld or .json)")
    text = read_text_file(path)
    graph = Graph()
    if fmt == "json-ld":
        _parse_json(graph, text, source)
    else:
        try:
            with no_network():
                graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
        except NetworkRefused as exc:
            raise InputError(source, f"reading it tried to reach the network ({exc})") from None
        except Exception as exc:  # rdflib's parsers raise many types; all mean bad syntax
            raise _huge_number(exc, text, source) or InputError(source, f"not valid {fmt.title()}: {_first_line(exc)}") from None
    if len(graph) == 0:
        raise InputError(source, "no RDF statements in the file")
    _check_iris(graph, source)
    return graph


def read_text_file(path: Path, what: str = "case file") -> str:
    """The UTF-8 text of `path`, a regular file of at most MAX_BYTES; an InputError
    naming the file otherwise (missing, a folder, a pipe or device, empty, not UTF-8)."""
    source = str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):  # a pipe or device would block or never end
            raise InputError(source, f"not a regular file (a pipe, socket or device); give a {what}")
        size = info.st_size
        if size > MAX_BYTES:
            raise InputError(source, f"file is {size // 2**20} MB; a {what} is at most {MAX_BYTES // 2**20} MB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(source, "file not found") from None
    except IsADirectoryError:
        raise InputError(source, f"is a directory, not a {what}") from None
    except OSError as exc:
        raise InputError(source, f"cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise InputError(source, "file is empty")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not UTF-8 text (bad byte at offset {exc.start})") from None


def is_fhir_bundle(path: Path) -> bool:
    """A .json file holding a FHIR Bundle (read by reasoner/fhir/, not as a JSON case);
    a file that cannot be read is left to read_case, which says why."""
    if path.suffix.lower() != ".json":
        return False
    try:
        text = read_text_file(path)
    except InputError:
        return False
    from reasoner.fhir.bundle import looks_like_bundle

    return looks_like_bundle(text)


def _check_iris(graph: Graph, source: str) -> None:
    """Ids are checked in the JSON; this catches the rest (terms expanded by @vocab)."""
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and NOT_IN_IRI.search(term):
                raise InputError(source, not_an_iri(str(term)))


def json_case(text: str, source: str) -> dict:
    """A JSON or JSON-LD case ready for a JSON-LD parser (this one and batch's): unnamed
    nodes named, every context reference resolved locally or refused (no network)."""
    try:
        document = json.loads(text, parse_int=_json_integer)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"not valid JSON: {exc.msg}", field=f"line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise InputError(source, "JSON nested too deeply") from None
    except ValueError:  # an integer of thousands of digits (Python's conversion limit)
        raise InputError(source, "not valid JSON: a number has more digits than can be read") from None
    if not isinstance(document, dict):
        raise InputError(source, "a case must be a JSON object", field="top level")
    _refuse_non_numbers(document, source, "")
    _name_unnamed_nodes(document)
    document.setdefault("@context", CONTEXT_IRI)  # plain JSON cases are in the published context
    resolve_contexts(document, source)
    return document


# No number in a case comes near 19 digits; the SPARQL store's integers are 64-bit, and
# Python will not even convert one of over 4300 digits (a ValueError, once a traceback).
MAX_DIGITS = 18


class _HugeNumber(str):
    """A JSON integer of more than MAX_DIGITS digits, kept as its digits to be refused by field."""


def _json_integer(digits: str):
    return _HugeNumber(digits) if len(digits.lstrip("-")) > MAX_DIGITS else int(digits)


def _huge_number_error(digits: str) -> str:
    return f"a number of {len(digits.lstrip('-'))} digits; a case's numbers have at most {MAX_DIGITS}"


def _huge_number(exc: Exception, text: str, source: str) -> InputError | None:
    """The Turtle parser's failure on a too-long integer, named by its line."""
    if not (isinstance(exc, ValueError) and "integer string conversion" in str(exc)):
        return None
    found = re.search(r"(?<![\w.])[+-]?[0-9]{4301,}", text)
    if found is None:
        return None
    return InputError(source, _huge_number_error(found.group()), field=f"line {text.count(chr(10), 0, found.start()) + 1}")


@lru_cache(maxsize=1)
def _integer_keys() -> frozenset[str]:
    """The published context's terms coerced to a whole number (quantity, visits, ...)."""
    return frozenset(term for term, definition in published_context().items()
                     if isinstance(definition, dict) and str(definition.get("@type", "")).endswith("integer"))


def _refuse_non_numbers(node, source: str, where: str) -> None:
    """A JSON true/false (or a fraction, or an object) under a whole-number key would be
    coerced into an ill-formed number; refuse it, naming the field."""
    if isinstance(node, _HugeNumber):
        raise InputError(source, _huge_number_error(node), field=where or "top level")
    if isinstance(node, list):
        for n, item in enumerate(node):
            _refuse_non_numbers(item, source, f"{where}[{n}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                continue  # term definitions, not values
            field = f"{where}.{key}" if where else key
            number = value.get("@value") if isinstance(value, dict) and "@value" in value else value  # a JSON-LD value object
            if key in _integer_keys() and (isinstance(number, bool) or not isinstance(number, (int, str))):
                raise InputError(source, f"{key} must be a whole number, not {json.dumps(number)[:40]}", field=field)
            _refuse_non_numbers(value, source, field)


def _parse_json(graph: Graph, text: str, source: str) -> None:
    document = json_case(text, source)
    try:
        with no_network():
            graph.parse(data=json.dumps(document), format="json-ld", base=CASE_BASE + quote(Path(source).stem))
    except NetworkRefused as exc:
        raise InputError(source, f"reading it tried to reach the network ({exc})", field="@context") from None
    except Exception as exc:
        raise InputError(source, f"not valid JSON-LD: {_first_line(exc)}") from None


# Plain JSON cases need not name their nodes; stable IRIs keep decision IRIs stable.
_LIST_NAMES = {"requests": "request", "history": "episode"}


def _name_unnamed_nodes(document: dict) -> None:
    # A top-level "@graph" (how import-letter writes JSON-LD) holds the nodes; naming the
    # document itself would make that a named graph, which a case graph never reads.
    if "@id" not in document and "id" not in document and "@graph" not in document:
        document["id"] = "#case"
    patient = document.get("patient")
    if isinstance(patient, dict) and "@id" not in patient and "id" not in patient:
        patient["id"] = "#patient"
    for key, stem in _LIST_NAMES.items():
        items = document.get(key)
        if isinstance(items, list):
            for n, item in enumerate(items, start=1):
                if isinstance(item, dict) and "@id" not in item and "id" not in item:
                    item["id"] = f"#{stem}-{n}"


def _first_line(exc: Exception) -> str:
    text = " ".join((str(exc).strip() or type(exc).__name__).split())
    # rdflib's Turtle errors quote the whole input after the message: keep the message.
    found = re.search(r"at line (\d+).*?(Bad syntax \([^)]*\))", text)
    if found:
        return f"line {found.group(1)}: {found.group(2)}"
    return text[:300]


@lru_cache(maxsize=1)
def _input_shapes() -> Graph:
    return Graph().parse(SHAPES_DIR / "case-input.ttl", format="turtle")


def check_case(graph: Graph, source: str, known_terms: dict[str, set[str]]) -> None:
    """Raise InputError unless the case has the structure a decision needs and uses only
    treatments, body regions and conditions the knowledge base knows (`known_terms`: kind
    IRI -> known IRIs, as Reasoner.known_terms gives)."""
    from pyshacl import validate

    if (None, RDF.type, GR.Case) not in graph:
        raise InputError(source, "no gr:Case in it: not a case file")
    conforms, report, _ = validate(graph, shacl_graph=_input_shapes(), inference="none", advanced=False)
    if not conforms:
        raise _first_violation(report, graph, source)
    unnamed = sorted(str(r) for r in graph.subjects(RDF.type, GR.TreatmentRequest) if isinstance(r, BNode))
    if unnamed:
        raise InputError(source, "give every gr:TreatmentRequest an IRI (decisions are named after it)",
                         field=f"{len(unnamed)} blank-node request(s)")
    _check_terms(graph, source, known_terms)


def _first_violation(report: Graph, data: Graph, source: str) -> InputError:
    from reasoner.namespaces import SH

    problems = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        inverse = report.value(path, SH.inversePath) if isinstance(path, BNode) else None
        path_text = "^" + _short(inverse) if inverse is not None else _short(path)
        message = report.value(result, SH.resultMessage)
        problems.append((_describe(focus, data), path_text, str(message)))
    problems.sort()
    focus, path, message = problems[0]
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return InputError(source, message + more, field=f"{focus} {path}".strip())


# (property, class its values must fall under, what to call it)
_TERM_RULES = (
    (GR.treatment, GR.Treatment, "treatment"),
    (GR.hasDiagnosis, GR.Condition, "condition"),
    (GR.bodyPart, GR.BodyRegion, "body region"),
)


def _check_terms(graph: Graph, source: str, known_terms: dict[str, set[str]]) -> None:
    for prop, kind, what in _TERM_RULES:
        for subject, value in sorted(graph.subject_objects(prop)):
            if str(value) not in known_terms[str(kind)]:
                raise InputError(source, f"unknown {what} <{value}> (not in the knowledge base)",
                                 field=f"{_short(subject)} {_short(prop)}")


def _describe(node, data: Graph) -> str:
    """An IRI as itself; a blank node by its type, since its label means nothing to a user."""
    if isinstance(node, BNode):
        kind = data.value(node, RDF.type)
        return f"an unnamed {_short(kind)}" if kind is not None else "an unnamed node"
    return _short(node)


def _short(term) -> str:
    if term is None:
        return ""
    text = str(term)
    if isinstance(term, URIRef) and str(term).startswith(str(GR)):
        return "gr:" + text[len(str(GR)):]
    return text.rsplit("/", 1)[-1] if text.startswith("file:") else text
