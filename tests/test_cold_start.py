"""A cold `decide` (issue 14: one case from the CLI in 0.5 s): text and JSON output import
neither rdflib nor pyshacl (0.6 s of the old start), validation by the compiled shapes gives
pyshacl's results, and what is cached on disk is keyed by content and never needed: a
changed shapes file is compiled again, an unwritable or damaged cache gives the same
answer. The time itself is measured by benchmarks/cold_cli.py, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SEED = "examples/seed-case.ttl"
LIBRARY = ROOT / "tests" / "case-library"


def _python(code: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _decide(cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "reasoner", "decide", SEED, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_decide_text_and_json_import_neither_rdflib_nor_pyshacl(tmp_path):
    assert _decide(tmp_path, "--format", "json").returncode == 0  # a first start fills the cache
    found = _python(
        "import contextlib, io, sys\n"
        "from reasoner.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    codes = [main(['decide', {SEED!r}, '--format', fmt]) for fmt in ('text', 'json')]\n"
        "assert codes == [0, 0] and 'NOT MEDICALLY NECESSARY' in out.getvalue(), codes\n"
        "print(sorted(m for m in ('rdflib', 'pyshacl') if m in sys.modules))\n", tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"


def test_the_help_imports_no_rdflib(tmp_path):
    found = _python("import sys\nfrom reasoner.cli import build_parser\nbuild_parser().format_help()\n"
                    "print('rdflib' in sys.modules)\n", tmp_path)
    assert found.stdout.strip() == "False", found.stderr


def test_an_unwritable_or_damaged_cache_gives_the_same_answer(tmp_path):
    expected = _decide(tmp_path / "cache", "--format", "json")
    assert expected.returncode == 0
    assert json.loads(expected.stdout)["decisions"][2]["outcome"] == "not-medically-necessary"  # README: Massage x 2
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    unwritable = _decide(not_a_folder, "--format", "json")
    assert (unwritable.returncode, unwritable.stdout, unwritable.stderr) == (0, expected.stdout, "")
    cached = sorted((tmp_path / "cache" / "guideline-reasoner").glob("*.json"))
    assert {p.name.split("-")[0] for p in cached} == {"shapes", "input"}
    for path in cached:
        path.write_text(path.read_text()[:100])  # cut short, as by a full disk
    damaged = _decide(tmp_path / "cache", "--format", "json")
    assert (damaged.returncode, damaged.stdout, damaged.stderr) == (0, expected.stdout, "")


SHAPE = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message "%s" ] .
"""


def test_a_changed_shapes_file_is_compiled_again(tmp_path, monkeypatch):
    import pyoxigraph as ox

    from reasoner.shacl.plan import cached_plan, report_quads

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shapes = tmp_path / "shapes.ttl"
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.org/x"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      ox.NamedNode("http://example.org/C")))
    messages = []
    for message in ("first wording", "second wording", "first wording"):
        shapes.write_text(SHAPE % message)
        cached_plan.cache_clear()  # a new process: only the disk cache is left
        plan = cached_plan(shapes)
        quads, conforms = report_quads(plan, plan.rows(store))
        assert not conforms
        messages.append([q.object.value for q in quads if q.predicate.value.endswith("#resultMessage")])
    assert messages == [["first wording"], ["second wording"], ["first wording"]]
    cached_plan.cache_clear()


@pytest.mark.parametrize("case", sorted(LIBRARY.glob("*.ttl"))[::6] + [ROOT / SEED], ids=lambda p: p.name)
def test_single_case_validation_finds_what_pyshacl_finds(reasoner, case):
    """The report the decisions read (compiled shapes, in the store) and pyshacl's report of
    the same data (CaseResult.report): the same results, focus node, path, value, shape and
    message, and the same conforms."""
    from rdflib import URIRef
    from rdflib.namespace import SH

    from reasoner.pipeline.stores import graph_of

    result = reasoner.decide_file(case)
    ours = graph_of(result.store.quads_for_pattern(None, None, None, ox_graph("urn:guideline-reasoner:graph:report")))
    theirs = result.report

    def path(graph, node):
        if node is None or isinstance(node, URIRef):
            return node and str(node)
        inverse = graph.value(node, SH.inversePath)
        return "^" + str(inverse) if inverse is not None else "/".join(map(str, graph.items(node)))

    def results(graph):
        return sorted((str(graph.value(r, SH.focusNode)), str(graph.value(r, SH.value)),
                       path(graph, graph.value(r, SH.resultPath)), str(graph.value(r, SH.sourceConstraintComponent)),
                       str(graph.value(r, SH.resultMessage))) for r in graph.subjects(None, SH.ValidationResult))

    assert results(ours) == results(theirs)
    [conforms] = theirs.objects(None, SH.conforms)
    [ours_conforms] = ours.objects(None, SH.conforms)
    assert result.conforms == conforms.toPython() == ours_conforms.toPython() == (not results(theirs))


def ox_graph(name: str):
    import pyoxigraph as ox

    return ox.NamedNode(name)


def test_a_command_parsed_alone_is_parsed_as_by_the_whole_command_line():
    """`decide` builds only its own parser; its help, defaults and errors are the whole one's."""
    from reasoner.cli import COMMANDS, build_parser

    def command_parser(parser, name):
        [choices] = [a.choices for a in parser._actions if getattr(a, "choices", None) and name in a.choices]
        return choices[name]

    whole = build_parser()
    for name in COMMANDS:
        alone = build_parser(only=name)
        assert command_parser(alone, name).format_help() == command_parser(whole, name).format_help(), name
    argv = ["decide", SEED, "--format", "json", "-o", "out.json"]
    assert build_parser(only="decide").parse_args(argv) == whole.parse_args(argv)


def test_the_cache_keeps_the_most_recently_used_versions_of_each_kind(tmp_path, monkeypatch):
    """Each new version of a file (a knowledge base edited again) is a new name; the cache
    keeps KEEP versions of each kind, pushing out the least recently used, and never
    another kind's files."""
    from reasoner.kb import cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "guideline-reasoner"
    cache.write("shapes-0000000000000000.json", b"other kind")
    for n in range(cache.KEEP):
        cache.write(f"kb-{n:016x}.nt", b"v%d" % n)
        stamp = 1_000_000 + n  # n used last: the file times, not the clock's resolution, order them
        os.utime(folder / f"kb-{n:016x}.nt", (stamp, stamp))
    assert cache.read(f"kb-{0:016x}.nt") == b"v0"  # read: now the most recently used
    cache.write(f"kb-{99:016x}.nt", b"new")
    kept = sorted(p.name for p in folder.glob("kb-*"))
    assert len(kept) == cache.KEEP
    assert f"kb-{1:016x}.nt" not in kept  # the least recently used one went
    assert {f"kb-{0:016x}.nt", f"kb-{99:016x}.nt"} <= set(kept)
    assert (folder / "shapes-0000000000000000.json").read_bytes() == b"other kind"
