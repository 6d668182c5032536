"""Generated mutations of real cases (the examples and the decision fixtures, Turtle and
JSON) through the real command line, `decide CASE --format json`: keys and properties
dropped or misspelt, counts made negative, huge, fractional, true or text, dates made
impossible, types removed, text cut short. Whatever the mutation, the run ends one of two ways: exit 0
with decisions on standard output and nothing on standard error, or exit 2 with exactly
one line naming the file. Never a traceback, never another exit code, and never a
decision resting on a negative or absurd count: a count made negative or past 10^9 is
always refused, and every observed and limit value of a decision is a count from 0 to
10^6.

Derandomized and bounded (150 examples, about a minute) so CI sees the same inputs each
run; the found failures are printed by hypothesis as the mutated file."""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, ROOT
from reasoner.cli import main

TURTLE_SEEDS = [ROOT / "examples" / "seed-case.ttl",
                *sorted((FIXTURES / "decisions").glob("*.ttl"))[::4]]  # every fourth: kinds of case, bounded time
PLAIN_JSON = {  # the README's plain JSON case, with history, patient and dates
    "type": "Case", "injuryDate": "2016-03-01", "diagnoses": ["LumbarDiscDisorder"],
    "patient": {"type": "Patient", "age": 44, "sex": "female"},
    "history": [{"type": "TreatmentEpisode", "treatment": "ChiropracticManipulation", "visits": 4,
                 "outcome": "ObjectiveFunctionalImprovement", "startDate": "2016-05-01", "endDate": "2016-06-01"}],
    "requests": [{"type": "TreatmentRequest", "treatment": "ChiropracticManipulation", "quantity": 6,
                  "bodyPart": "LowBack", "requestDate": "2016-07-01"}]}
JSON_SEEDS = [json.loads((ROOT / "examples" / "seed-case.jsonld").read_text()), PLAIN_JSON]

# Replacements for a count: negative, zero, huge (past 64 bits, past Python's 4,300-digit
# conversion), fractional, true, text, an ill-typed literal.
NEGATIVE = st.integers(-10**6, -1)
HUGE = st.sampled_from([10**9 + 1, 2**63, 10**30, int("9" * 400)])
ODD = st.sampled_from(["0", "2.5", "1e400", "-0", "true", '"8"', '"abc"^^<http://www.w3.org/2001/XMLSchema#integer>',
                       '"eight"', "1" * 5000])
IMPOSSIBLE_DATES = st.sampled_from(["9999-99-99", "2013-02-30", "0000-00-00", "2013-13-01", "1800-01-01", "2999-01-01",
                                    "99/99/9999", "", "2013-1-1", "yesterday"])
ABSURD = 10**9


@dataclass
class Mutant:
    name: str
    text: str
    negative_count: bool = False  # a count was made negative, or past ABSURD: it must be refused
    suffix: str = ".ttl"

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return f"Mutant({self.name!r}, negative_count={self.negative_count})\n{self.text[:3000]}"


def misspelt(draw, word: str) -> str:
    at = draw(st.integers(0, max(len(word) - 1, 0)))
    how = draw(st.sampled_from(["drop", "double", "case"]))
    if how == "drop":
        return word[:at] + word[at + 1:]
    if how == "double":
        return word[:at + 1] + word[at:]
    return word[:at] + word[at:].swapcase()


def count_replacement(draw) -> str:
    return draw(st.one_of(NEGATIVE.map(str), HUGE.map(str), ODD))


def negative_or_absurd(value: str) -> bool:
    number = re.fullmatch(r"([-+]?)0*(\d*)", value)
    if number is None or not number.group(2):
        return False
    digits = number.group(2)  # compared as digits: int() refuses 5,000 of them
    return number.group(1) == "-" or len(digits) > len(str(ABSURD)) or int(digits) > ABSURD


# Turtle: a bare integer object, an xsd:date literal, a predicate-object pair, a gr: name
TTL_COUNT = re.compile(r"(?<=[\s,])[-+]?\d+(?=\s*[;.,\]])")
TTL_DATE = re.compile(r'(?<=")\d{4}-\d{2}-\d{2}(?="\^\^xsd:date)')
TTL_PAIR = re.compile(r"\b(?:gr|rdfs):\w+\s+[^;.\n]+\s*;")
TTL_NAME = re.compile(r"(?<=gr:)\w+")
TTL_TYPE = re.compile(r"\ba gr:\w+\s*;?")


def in_statement(text: str, at: int) -> bool:
    """Not inside a comment or a string literal (as far as its line shows)."""
    line = text[text.rfind("\n", 0, at) + 1:at]
    return "#" not in line.replace("<https://w3id.org/guideline-reasoner/ontology#>", "") and line.count('"') % 2 == 0


@st.composite
def turtle_mutants(draw) -> Mutant:
    """One to three mutations of a Turtle case, one after the other."""
    seed = draw(st.sampled_from(TURTLE_SEEDS))
    text, done = seed.read_text(), []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["count", "count", "date", "drop", "untype", "rename", "truncate"]))
        if kind == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
            done.append("cut")
            continue
        pattern = {"count": TTL_COUNT, "date": TTL_DATE, "drop": TTL_PAIR, "untype": TTL_TYPE, "rename": TTL_NAME}[kind]
        found = [m for m in pattern.finditer(text) if in_statement(text, m.start())]
        if not found:
            continue
        where = draw(st.sampled_from(found))
        if kind == "count":
            new = count_replacement(draw)
        elif kind == "date":
            new = draw(IMPOSSIBLE_DATES)
        elif kind in ("drop", "untype"):
            new = ""
        else:
            new = misspelt(draw, where.group())
        text = text[:where.start()] + new + text[where.end():]
        done.append(f"{kind} {where.group()[:40]!r} -> {new[:40]!r}")
    negative = any(negative_or_absurd(m.group()) for m in TTL_COUNT.finditer(text) if in_statement(text, m.start()))
    return Mutant(f"{seed.name}: {'; '.join(done)}", text, negative)


def json_places(node, path=()):
    """(path, value) of every key's value in a JSON document, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), value
            yield from json_places(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from json_places(value, (*path, n))


def set_at(document, path, value=None, drop=False, rename=None):
    node = document
    for step in path[:-1]:
        node = node[step]
    if drop:
        del node[path[-1]]
    elif rename is not None:
        node[rename] = node.pop(path[-1])
    else:
        node[path[-1]] = value


@st.composite
def json_mutants(draw) -> Mutant:
    """One to three mutations of a JSON case; a count's new value is written into the text
    as it is (5,000 digits are no Python int), and the text may be cut short last."""
    document = json.loads(json.dumps(draw(st.sampled_from(JSON_SEEDS))))
    done, raw_numbers = [], []
    for n in range(draw(st.integers(1, 3))):
        places = [(path, value) for path, value in json_places(document) if isinstance(path[-1], str)]
        if not places:
            break
        path, value = draw(st.sampled_from(places))
        numbers = [p for p, v in places if isinstance(v, int) and not isinstance(v, bool)]
        dates = [p for p, v in places if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)]
        kind = draw(st.sampled_from(["count", "count", "date", "drop", "untype", "rename", "value", "cut-text"]))
        types = [p for p, _ in places if p[-1] in ("type", "@type")]
        if kind == "count" and numbers:
            path = draw(st.sampled_from(numbers))
            raw = count_replacement(draw)
            set_at(document, path, f"@@NUMBER{n}@@")
            raw_numbers.append((f'"@@NUMBER{n}@@"', json.dumps(raw.strip('"')) if raw.startswith('"') else raw))
        elif kind == "date" and dates:
            set_at(document, path := draw(st.sampled_from(dates)), draw(IMPOSSIBLE_DATES))
        elif kind == "drop":
            set_at(document, path, drop=True)
        elif kind == "untype" and types:
            set_at(document, path := draw(st.sampled_from(types)), drop=True)
        elif kind == "rename":
            set_at(document, path, rename=misspelt(draw, path[-1]))
        elif kind == "value":
            set_at(document, path, draw(st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=8),
                                                  st.just([]), st.just({}), st.integers(-5, 5))))
        elif kind == "cut-text" and isinstance(value, str):
            set_at(document, path, value[:draw(st.integers(0, max(len(value) - 1, 0)))])
        done.append(f"{kind} {'.'.join(map(str, path))}")
    # any whole number in a case is a count: a negative or absurd one anywhere must be refused
    negative = any(isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= ABSURD
                   for _, v in json_places(document))
    text = json.dumps(document, indent=1)
    negative |= any(placeholder in text and negative_or_absurd(raw) for placeholder, raw in raw_numbers)
    for placeholder, raw in raw_numbers:
        text = text.replace(placeholder, raw)
    if draw(st.booleans()) and draw(st.booleans()):
        text = text[:draw(st.integers(0, len(text)))]
        done.append("cut")
    return Mutant("; ".join(done), text, negative, ".json")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def decide(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["decide", str(path), "--format", "json"])
    return code, out.getvalue(), err.getvalue()


def assert_decided_or_one_line(path: Path, mutant: Mutant) -> None:
    code, out, err = decide(path)  # an exception escaping main is a traceback: the test fails with it
    assert code in (0, 2), (code, err)
    if code == 2:
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"guideline-reasoner: error: {path}"), err
        return
    assert err == "", err
    assert not mutant.negative_count, "a negative or absurd count was decided on"
    decisions = json.loads(out)["decisions"]
    assert decisions
    for decision in decisions:
        assert decision["quantity"] is None or 1 <= decision["quantity"] <= 1000, decision["quantity"]
        for reason in decision["reasons"]:
            for value in (reason["observed"], reason["limit"]):
                assert value is None or (not isinstance(value, bool) and 0 <= value <= 10**6), (reason, value)


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])


@FUZZ
@given(mutant=st.one_of(turtle_mutants(), turtle_mutants(), json_mutants()))
def test_a_mutated_case_is_decided_or_refused_in_one_line(folder, mutant):
    path = folder / f"case{mutant.suffix}"
    path.write_text(mutant.text)
    assert_decided_or_one_line(path, mutant)
