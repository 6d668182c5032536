"""Read a case file (Turtle, JSON-LD, or plain JSON in the published @context): the file
checks, and the JSON document ready for a JSON-LD parser. Parsing and the input checks
are reasoner/pipeline/case_input.py's, one for every path.

Every problem becomes an InputError naming the file and the field or line; nothing here
lets a parser traceback through."""

from __future__ import annotations

import json
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from reasoner.cases.names import suggestion
from reasoner.errors import InputError
from reasoner.cases.jsonld_contexts import NOT_IN_IRI, published_context, resolve_contexts
from reasoner.namespaces import GR_NS as GR  # a plain string: reading a case needs no rdflib
from reasoner.paths import CONTEXT_IRI

if TYPE_CHECKING:
    from rdflib import Graph

FORMATS = (".ttl", ".turtle", ".nt", ".jsonld", ".json")
MAX_BYTES = 50 * 1024 * 1024


def read_case_file(path: Path) -> str:
    """The text of a case file; InputError for anything that is not a readable case file.
    Parsing and checking are reasoner/pipeline/case_input.py's, the same for every path."""
    if path.suffix.lower() not in FORMATS:
        raise InputError(str(path), f"unknown file type '{path.suffix}' (use .ttl, .jsonld or .json)")
    return read_text_file(path)


def read_case(path: Path) -> Graph:
    """Parse `path` into a graph; raise InputError on anything unreadable."""
    from reasoner.pipeline import case_input

    fmt = case_input.FORMATS[path.suffix.lower()] if path.suffix.lower() in FORMATS else None
    text = read_case_file(path)
    return case_input.to_graph(case_input.parse(text, fmt, str(path), case_input.base_iri(path, fmt)))


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
        return raw.decode("utf-8-sig")  # a byte-order mark, as some editors write, is not text
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


def json_case(text: str, source: str) -> dict:
    """A JSON or JSON-LD case ready for a JSON-LD parser (this one and batch's): unnamed
    nodes named, every context reference resolved locally or refused (no network)."""
    try:
        document = parse_json(text, source, object_pairs_hook=_one_value_per_key, parse_int=_json_integer)
    except _KeyTwice as exc:
        raise InputError(source, f"key {json.dumps(exc.args[0])} given twice in one object: which one is meant?",
                         field=exc.args[0]) from None
    if not isinstance(document, dict):
        raise InputError(source, "a case must be a JSON object", field="top level")
    _check_fields(document, source, "", _keys(document))
    _name_unnamed_nodes(document)
    document.setdefault("@context", CONTEXT_IRI)  # plain JSON cases are in the published context
    resolve_contexts(document, source)
    return document


# JSON-LD 1.1 keywords that may stand in a node or value object
_KEYWORDS = ("@context", "@id", "@type", "@value", "@language", "@direction", "@graph", "@list", "@set",
             "@reverse", "@index", "@included", "@nest", "@json")


def parse_json(text: str, source: str, **hooks):
    """json.loads, with every way it can fail an InputError naming `source` (the hooks'
    own exceptions pass through)."""
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"not valid JSON: {exc.msg}", field=f"line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise InputError(source, "JSON nested too deeply") from None
    except _KeyTwice:
        raise
    except ValueError:  # an integer of thousands of digits (Python's conversion limit)
        raise InputError(source, "not valid JSON: a number has more digits than can be read") from None


class _KeyTwice(ValueError):
    pass


def _one_value_per_key(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object; a key given twice would silently keep the last value ("quantity": 6,
    ..., "quantity": 60), so it is refused."""
    found = dict(pairs)
    if len(found) < len(pairs):
        seen = set()
        raise _KeyTwice(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return found


# No number in a case comes near 19 digits; the SPARQL store's integers are 64-bit, and
# Python will not even convert one of over 4300 digits (a ValueError, once a traceback).
MAX_DIGITS = 18


class _HugeNumber(str):
    """A JSON integer of more than MAX_DIGITS digits, kept as its digits to be refused by field."""


def _json_integer(digits: str):
    return _HugeNumber(digits) if len(digits.lstrip("-")) > MAX_DIGITS else int(digits)


def _huge_number_error(digits: str) -> str:
    return f"a number of {len(digits.lstrip('-'))} digits; a case's numbers have at most {MAX_DIGITS}"


def huge_number(text: str, source: str) -> InputError | None:
    """A bare integer in Turtle too long for any reader to convert, named by its line
    (a quoted one is a literal the input shapes refuse by field)."""
    found = re.search(r"(?<![\w.\"])[+-]?[0-9]{4301,}", text)
    if found is None:
        return None
    return InputError(source, _huge_number_error(found.group()), field=f"line {text.count(chr(10), 0, found.start()) + 1}")


@lru_cache(maxsize=1)
def _integer_keys() -> frozenset[str]:
    """The published context's terms coerced to a whole number (quantity, visits, ...)."""
    return frozenset(term for term, definition in published_context().items()
                     if isinstance(definition, dict) and str(definition.get("@type", "")).endswith("integer"))


@lru_cache(maxsize=1)
def published_keys() -> tuple[str, ...]:
    """The keys the published context gives a case: its terms, less its prefixes."""
    return tuple(sorted(term for term, definition in published_context().items()
                        if not term.startswith("@") and not (isinstance(definition, str) and definition[-1:] in "#/")))


def _keys(document: dict) -> frozenset[str]:
    """Keys a document may use: the published context's, and any a context inside it defines
    (a JSON-LD case may bring its own terms; what they expand to is checked on the graph)."""
    found = set(published_keys())

    def walk(node, in_context: bool) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, in_context)
        elif isinstance(node, dict):
            if in_context:
                found.update(node)
            for key, value in node.items():
                walk(value, key == "@context" or (in_context and isinstance(value, dict)))

    walk(document, False)
    return frozenset(found)


def _check_fields(node, source: str, where: str, keys: frozenset[str]) -> None:
    """Every key is a known one: a key no context defines would be expanded by @vocab into
    an ontology IRI that means nothing and be ignored, changing the decision without a word
    (`"outcom"`, `"quantitty"`). A JSON true/false (or a fraction, or an object) under a
    whole-number key would be coerced into an ill-formed number. Refused, naming the field."""
    if isinstance(node, _HugeNumber):
        raise InputError(source, _huge_number_error(node), field=where or "top level")
    if isinstance(node, list):
        for n, item in enumerate(node):
            _check_fields(item, source, f"{where}[{n}]", keys)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                continue  # term definitions, not values
            field = f"{where}.{key}" if where else key
            if key.startswith("@") and key not in _KEYWORDS:  # JSON-LD drops an unknown keyword silently
                raise InputError(source, f"unknown keyword {json.dumps(key)}"
                                 f"{suggestion(key, _KEYWORDS, prefix='', quote=chr(34))}", field=field)
            # (a key no IRI can hold is refused as such once expanded)
            if not key.startswith("@") and ":" not in key and key not in keys and not NOT_IN_IRI.search(key):
                hint = suggestion(key, published_keys(), prefix="", quote='"') or \
                    " (the keys: `guideline-reasoner terms --kind property`)"
                raise InputError(source, f"unknown key {json.dumps(key)}{hint}", field=field)
            number = value.get("@value") if isinstance(value, dict) and "@value" in value else value  # a JSON-LD value object
            if key in _integer_keys() and (isinstance(number, bool) or not isinstance(number, (int, str))):
                raise InputError(source, f"{key} must be a whole number, not {json.dumps(number)[:40]}", field=field)
            _check_fields(value, source, field, keys)


# Plain JSON cases need not name their nodes; stable IRIs keep decision IRIs stable. Each
# property's keys are read from the published context ("requests" and "hasRequest").
_NODE_NAMES = {GR.hasPatient: "patient", GR.hasRequest: "request", GR.hasTreatmentEpisode: "episode"}


@lru_cache(maxsize=1)
def _named_keys() -> tuple[tuple[str, str, bool], ...]:
    """(key, stem, numbered) for each published key that holds nodes needing a name."""
    found = []
    for term, definition in published_context().items():
        iri = definition.get("@id", "") if isinstance(definition, dict) else ""
        iri = iri.replace("gr:", str(GR), 1)
        for prop, stem in _NODE_NAMES.items():
            if iri == str(prop):
                found.append((term, stem, prop != GR.hasPatient))
    return tuple(found)


def _name_unnamed_nodes(document: dict) -> None:
    # A top-level "@graph" (how import-letter writes JSON-LD) holds the nodes; naming the
    # document itself would make that a named graph, which a case graph never reads.
    if "@id" not in document and "id" not in document and "@graph" not in document:
        document["id"] = "#case"
    count: dict[str, int] = {}  # numbered across keys, so "requests" and "hasRequest" never share a name
    for key, stem, numbered in _named_keys():
        value = document.get(key)
        for item in value if isinstance(value, list) else [value] if key in document else []:
            count[stem] = count.get(stem, 0) + 1
            if isinstance(item, dict) and "@id" not in item and "id" not in item:
                item["id"] = f"#{stem}-{count[stem]}" if numbered else f"#{stem}"


