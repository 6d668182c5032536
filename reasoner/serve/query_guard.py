"""Decide from the parse, not from the text, whether the endpoint may run a query: SPARQL
Update and SERVICE are refused (403), and so is anything that does not parse as a SPARQL
1.1 query (400), since what cannot be parsed cannot be checked.

A regular expression cannot tell a SERVICE keyword from one in a string, a comment or a
variable name, and was bypassed (`FILTER(?a < 2) SERVICE <...>` looked like an IRI to it).
The query is parsed with rdflib's SPARQL parser and refused when the parse holds a
ServiceGraphPattern anywhere (OPTIONAL, UNION, FILTER EXISTS, subqueries, ...).

rdflib and Oxigraph must read the same query, or a SERVICE hidden from one still runs in the
other. Two differences were found and are removed before either parser sees the text, and
the worker runs the normalised text:
- rdflib ends a comment only at LF; Oxigraph (and the grammar) also at CR, so
  `# x<CR> SERVICE ...` was a comment to rdflib and a call to Oxigraph. Line ends become LF.
- Codepoint escapes (\\uXXXX, \\UXXXXXXXX): SPARQL 1.1 expands them before parsing, anywhere
  (so `\\u0053ERVICE` is the keyword); rdflib does so, greedily and case-blind, Oxigraph 0.5
  only inside strings and IRIs. They are expanded here as the 1.1 grammar says, and a query
  whose expansion leaves another escape is refused.
The query worker also runs without network access (reasoner/serve/no_network.py), for whatever
other difference between the two parsers remains."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pyparsing import ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

READ_ONLY = "this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, ...) is refused"
NO_SERVICE = "federated queries (SERVICE) are refused: this endpoint does not call other services"
CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
ANY_ESCAPE_LEFT = re.compile(r"\\u", re.I)  # what rdflib's parser would still expand
CACHED_QUERY_CHARS = 64 * 1024  # big queries are parsed each time rather than held in memory


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


@dataclass(frozen=True)
class Screened:
    text: str  # what to run: line ends and codepoint escapes normalised
    declares_dataset: bool  # FROM / FROM NAMED in the query itself


def screen(query: str) -> Screened | Refusal:
    """The query to run, or why not."""
    if len(query) <= CACHED_QUERY_CHARS:
        return _screen_cached(query)
    return _screen(query)


@lru_cache(maxsize=256)
def _screen_cached(query: str) -> Screened | Refusal:
    # rdflib parses in 15-45 ms per query; clients repeat the same queries
    return _screen(query)


def _screen(query: str) -> Screened | Refusal:
    try:
        # escapes first: \u000D is a CR too, and must not come back after line ends are fixed
        text = _expand_codepoint_escapes(query).replace("\r\n", "\n").replace("\r", "\n")
    except ValueError as exc:
        return Refusal(400, f"the query does not parse: {exc}")
    if ANY_ESCAPE_LEFT.search(text):
        return Refusal(400, "the query does not parse: a codepoint escape (\\u, \\U) expands to another "
                            "escape; write the character itself")
    try:
        tree = parseQuery(text)
    except Exception as exc:  # pyparsing's ParseException; RecursionError on deep nesting
        if _is_update(text):
            return Refusal(403, READ_ONLY)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Refusal(400, f"the query does not parse as SPARQL 1.1 (every query is checked with "
                            f"rdflib's parser before it runs): {reason}")
    if any(node.name == "ServiceGraphPattern" for node in _parse_nodes(tree)):
        return Refusal(403, NO_SERVICE)
    return Screened(text, "datasetClause" in tree[1].keys())


def _expand_codepoint_escapes(text: str) -> str:
    def expand(match: re.Match) -> str:
        digits = match.group(1) or match.group(2)
        codepoint = int(digits, 16)
        if codepoint > 0x10FFFF or 0xD800 <= codepoint <= 0xDFFF:
            raise ValueError(f"\\u{digits} is not a Unicode character")
        return chr(codepoint)

    return CODEPOINT_ESCAPE.sub(expand, text)


def _is_update(text: str) -> bool:
    try:
        parseUpdate(text)
        return True
    except Exception:
        return False


def _parse_nodes(tree):
    """Every CompValue of a parse, walked with a stack (a deep parse must not recurse)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            yield node
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, ParseResults)):
            stack.extend(node)
