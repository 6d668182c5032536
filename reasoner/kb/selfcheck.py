"""`guideline-reasoner check`: the knowledge base, shapes and queries checked together.

The knowledge base is validated against shapes/knowledge-base.ttl (every recommendation
citable and graded, every term labelled and defined); each *-violation.rq in
queries/quality/ returns ?entity ?property ?value (the ODK convention) for rules that
need the shapes too (requirement wiring); every query must parse and name only gr: terms
the vocabulary defines; every shapes file must be valid SHACL (pyshacl's SHACL-SHACL
meta-validation)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from reasoner import namespaces
from reasoner.errors import InputError
from reasoner.kb.knowledge import KnowledgeBase
from reasoner.paths import QUERIES_DIR, SHAPES_DIR


def run(say: Callable[[str], None]) -> int:
    """Run every check, report each through `say`; return the number of problems."""
    kb = KnowledgeBase()
    try:
        asserted = kb.graph
    except InputError as exc:
        say(f"FAIL  knowledge base: {exc}")
        return 1
    say(f"ok    knowledge base {kb.version}: {len(asserted)} triples from {len(kb.files)} files via the catalog")
    problems = 0
    shapes = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        shapes.parse(path, format="turtle")
    problems += _check_shapes(shapes, say)
    problems += _check_knowledge_shapes(asserted, say)
    problems += _check_quality(asserted + shapes, say)
    problems += _check_queries_parse(say)
    problems += _check_query_terms(asserted, say)
    return problems


def _check_shapes(shapes: Graph, say) -> int:
    from pyshacl import validate

    conforms, _, text = validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    if conforms:
        say(f"ok    shapes: {len(list(SHAPES_DIR.glob('*.ttl')))} files are valid SHACL")
        return 0
    say(f"FAIL  shapes are not valid SHACL:\n{text}")
    return 1


def knowledge_violations(graph: Graph) -> list[tuple[str, str, str]]:
    """(focus node, path, message) for every result of shapes/knowledge-base.ttl."""
    from pyshacl import validate

    from reasoner.namespaces import SH

    shapes = Graph().parse(SHAPES_DIR / "knowledge-base.ttl", format="turtle")
    _, report, _ = validate(graph, shacl_graph=shapes, inference="none", advanced=False)
    return sorted((str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath) or ""),
                   str(report.value(r, SH.resultMessage)))
                  for r in report.subjects(None, SH.ValidationResult))


def _check_knowledge_shapes(graph: Graph, say) -> int:
    found = knowledge_violations(graph)
    if not found:
        say("ok    knowledge-base shapes: every recommendation citable and graded, every term defined")
        return 0
    say(f"FAIL  knowledge-base shapes: {len(found)}")
    for focus, path, message in found:
        say(f"        {focus} {path}: {message}")
    return len(found)


def violation_rows(graph: Graph) -> dict[str, list[tuple[str, str, str]]]:
    """Rows of every quality query over `graph`, by query name."""
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    found = {}
    for path in sorted((QUERIES_DIR / "quality").glob("*-violation.rq")):
        rows = store.query(path.read_text(encoding="utf-8"))
        found[path.stem] = [(r["entity"].value, r["property"].value, r["value"].value) for r in rows]
    return found


def _check_quality(graph: Graph, say) -> int:
    problems = 0
    for name, rows in violation_rows(graph).items():
        if rows:
            problems += len(rows)
            say(f"FAIL  {name}: {len(rows)}")
            for entity, prop, value in rows:
                say(f"        {entity} {prop} {value}")
        else:
            say(f"ok    {name}: none")
    return problems


def _check_queries_parse(say) -> int:
    store = ox.Store()
    files = sorted(QUERIES_DIR.rglob("*.rq"))
    bad = 0
    for path in files:
        try:
            store.query(path.read_text(encoding="utf-8"))
        except SyntaxError as exc:
            bad += 1
            say(f"FAIL  {path.relative_to(QUERIES_DIR.parent)}: {exc}")
    if not bad:
        say(f"ok    queries: all {len(files)} parse")
    return bad


GR = str(namespaces.GR)


def unknown_query_terms(graph: Graph, files: list[Path]) -> list[tuple[Path, str]]:
    """(query file, local name) for each gr: term a query names outside its comments that
    `graph` does not define: a query matching a renamed property finds nothing, silently."""
    defined = {str(subject) for subject in graph.subjects()}
    found = []
    for path in files:
        text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#"))
        found += [(path, name) for name in sorted(set(re.findall(r"\bgr:([A-Za-z_][\w-]*)", text))) if GR + name not in defined]
    return found


def _check_query_terms(graph: Graph, say) -> int:
    unknown = unknown_query_terms(graph, sorted(QUERIES_DIR.rglob("*.rq")))
    for path, name in unknown:
        say(f"FAIL  {path.relative_to(QUERIES_DIR.parent)}: names gr:{name}, which the vocabulary does not define")
    if not unknown:
        say("ok    query terms: every gr: term the queries name is defined")
    return len(unknown)
