"""JSON-LD cases without network: the published context is the only context a case may name,
and it is read from its local copy (ontology/context.jsonld).

A JSON-LD processor fetches every context given by reference: `"@context": "http://..."`
at the top, in a list, inside a node object or `@graph`, as a term definition's scoped
`@context`, or through `@import`. `resolve_contexts` walks the whole document, replaces each
reference to the published context with the context itself and refuses any other reference,
naming where it is (on the way it also refuses an id no IRI can be). `no_network` is the
second line, for any path the walk might miss: while it is active, a Python audit hook turns
every outbound connection into an error (the rdflib security notes suggest audit hooks; its
JSON-LD parser has no option to forbid fetching)."""

from __future__ import annotations

import contextvars
import json
import re
import sys
from contextlib import contextmanager
from functools import lru_cache

from reasoner.errors import InputError
from reasoner.paths import CONTEXT_FILE, CONTEXT_IRI

CONTEXT, IMPORT = "@context", "@import"


@lru_cache(maxsize=1)
def published_context() -> dict:
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


# What an IRI may not hold (N-Triples IRIREF). JSON-LD parsers take any string: rdflib drops a
# node whose @id has a space, request and all, without a word, and keeps other bad IRIs,
# which then break the store's N-Triples.
NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
ID_KEYS = ("@id", "id")  # "id" is the published context's alias


def not_an_iri(text: str) -> str:
    return f"not a valid IRI: {json.dumps(text)[:200]} (no spaces, quotes, <, >, {{, }}, |, ^, ` or \\ in an IRI)"


def resolve_contexts(document, source: str) -> None:
    """Put the published context in place of every reference to it, in place; raise
    InputError naming the field for a reference to any other context, or for an id that
    cannot be an IRI."""
    try:
        _walk(document, "", source)
    except RecursionError:
        raise InputError(source, "JSON nested too deeply") from None


def _walk(value, where: str, source: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else key
            if key == CONTEXT:
                value[key] = _context(item, here, source)
            elif key in ID_KEYS and isinstance(item, str) and NOT_IN_IRI.search(item):
                raise InputError(source, not_an_iri(item), field=here)
            else:
                _walk(item, here, source)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _walk(item, f"{where}[{n}]", source)


def _context(value, where: str, source: str):
    """A value where a context goes: a reference, a list of contexts, or a context object
    (whose term definitions may hold scoped contexts, and which may @import one)."""
    if isinstance(value, str):
        _only_published(value, where, source)
        return published_context()
    if isinstance(value, list):
        return [_context(item, f"{where}[{n}]", source) for n, item in enumerate(value)]
    if isinstance(value, dict):
        _walk(value, where, source)
        if value.get(IMPORT) is not None:
            _only_published(value[IMPORT], f"{where}.{IMPORT}", source)
            # @import: the imported context's definitions, overridden by the importing one's.
            return {**published_context(), **{k: v for k, v in value.items() if k != IMPORT}}
    return value  # null resets the context; anything else the parser rejects


def _only_published(reference, where: str, source: str) -> None:
    if reference != CONTEXT_IRI:
        shown = json.dumps(reference) if not isinstance(reference, str) else f"<{reference}>"
        raise InputError(source, f"remote context {shown} is not allowed: the only context a case may name "
                                 f"is {CONTEXT_IRI}, read from its local copy", field=where)


# --- second line: no connection while untrusted input is parsed ------------------------

class NetworkRefused(Exception):
    """Parsing a case tried to reach the network."""


# Audit events that reach out, and which of their arguments names the target.
_NETWORK_EVENTS = {"urllib.Request": 0, "http.client.connect": 1, "socket.connect": 1, "socket.sendto": 1,
                   "socket.getaddrinfo": 0, "socket.gethostbyname": 0, "socket.gethostbyaddr": 0}
_REFUSING = contextvars.ContextVar("refusing_network", default=False)


def _audit(event: str, args: tuple) -> None:
    if event in _NETWORK_EVENTS and _REFUSING.get():
        raise NetworkRefused(f"{event} {args[_NETWORK_EVENTS[event]]}")


# An audit hook cannot be removed; it does nothing outside `no_network`.
sys.addaudithook(_audit)


@contextmanager
def no_network():
    """Inside this block (this thread or task only) any outbound connection raises NetworkRefused."""
    token = _REFUSING.set(True)
    try:
        yield
    finally:
        _REFUSING.reset(token)
