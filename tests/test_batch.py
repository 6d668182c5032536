"""Batch decisions: identical to the single-case path on the whole case library and the
fixtures, one record per input case (a decision or an error, never neither), every input
kind (folders, N-Quads with a graph per case, JSON lines), N-Quads output with each case's
explanation in its own graph, and the compiled SHACL equal to pyshacl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from conftest import FIXTURES, ROOT, assert_isomorphic
from reasoner.pipeline.batch import decide_batch
from reasoner.output.render import decision_records

LIBRARY = ROOT / "tests" / "case-library"
SEED = ROOT / "examples" / "seed-case.ttl"


def single(reasoner, path: Path) -> list[dict]:
    records = decision_records(reasoner.decide_file(path))
    for record in records:
        record.pop("case")
    return records


def test_batch_decides_exactly_like_the_single_case_path(reasoner):
    inputs = [LIBRARY, FIXTURES / "decisions", SEED]
    records = list(decide_batch(inputs, reasoner.kb.closure_ntriples, jobs=2, chunk_size=97))
    assert len(records) == len(list(LIBRARY.glob("*.ttl"))) + len(list((FIXTURES / "decisions").glob("*.ttl"))) + 1
    differing = [r["case"] for r in records if r.get("decisions") != single(reasoner, Path(r["case"]))]
    assert differing == []


def test_batch_explanation_triples_are_the_single_case_ones(reasoner):
    """The batch keeps what it derives inside its store; each case's explanation must still
    be exactly the single-case path's explanation triples about that case's requests."""
    cases = sorted(LIBRARY.glob("*.ttl"))[::9] + [SEED]
    records = list(decide_batch(cases, reasoner.kb.closure_ntriples, chunk_size=20, explain=True))
    from rdflib import Graph

    for case, record in zip(cases, records):
        result = reasoner.decide_file(case)
        requests = {d["request"] for d in record["decisions"]}
        expected = Graph()
        for s, p, o in result.explanation:
            if str(s).split("/check/")[0].split("/decision")[0] in requests:
                expected.add((s, p, o))
        got = Graph()
        for quad in ox.parse(record["nquads"], format=ox.RdfFormat.N_QUADS):
            got.parse(data=f"{quad.subject} {quad.predicate} {quad.object} .", format="nt")
        assert len(expected), case.name
        assert_isomorphic(expected, got, case.name)


def test_every_bad_input_yields_the_single_case_error(reasoner):
    """One record per bad input, its error the single path's message (without the file
    name, the record's own field), so both paths refuse the same inputs in the same words."""
    from reasoner.errors import InputError

    bad = FIXTURES / "bad-input"
    records = list(decide_batch([bad], reasoner.kb.closure_ntriples))
    files = sorted(p for p in bad.rglob("*") if p.suffix in (".ttl", ".json", ".jsonld") and ".expected." not in p.name)
    assert [r["case"] for r in records] == [str(p) for p in files]
    assert len(records) > 100
    differing = []
    for record in records:
        assert ("error" in record) != ("decisions" in record)
        if record["case"].endswith("expected.json"):
            continue
        try:
            reasoner.load(Path(record["case"]))
            single = None
        except InputError as exc:
            single = exc.detail
        if record.get("error") != single:
            differing.append((record["case"], single, record.get("error")))
    assert differing == []


def test_compiled_shacl_finds_what_pyshacl_finds(reasoner):
    from reasoner.pipeline.engine import requirement_shapes
    from reasoner.namespaces import SH
    from reasoner.shacl.compiler import compile_shapes

    query = compile_shapes(requirement_shapes())
    for case in sorted(LIBRARY.glob("*.ttl"))[::7] + [SEED]:
        result = reasoner.decide_file(case)
        by_pyshacl = {str(result.report.value(r, SH.focusNode)) for r in result.report.subjects(None, SH.ValidationResult)}
        by_sparql = {row["focus"].value for row in result.store.query(query, use_default_graph_as_union=True)}
        assert by_pyshacl == by_sparql, case.name


def _result_keys(graph, results) -> list[tuple]:
    """A report's results, comparable: paths as SPARQL path text, shapes by term."""
    from reasoner.namespaces import SH
    from reasoner.shacl.compiler import _Compiler

    keys = []
    for r in results:
        path = graph.value(r, SH.resultPath)
        keys.append(tuple(str(graph.value(r, p)) for p in (SH.focusNode, SH.value, SH.sourceShape,
                                                           SH.sourceConstraintComponent, SH.resultSeverity))
                    + (None if path is None else _Compiler(graph).path(path),
                       sorted(map(str, graph.objects(r, SH.resultMessage)))))
    return sorted(keys)


def test_compiled_report_is_the_pyshacl_report(reasoner):
    """Batch validation's sh:ValidationReport is the single-case one, result for result:
    focus node, value, source shape, component, severity, path and messages, and conforms."""
    from rdflib import Graph

    from reasoner.pipeline.engine import requirement_shapes
    from reasoner.namespaces import SH
    from reasoner.shacl.compiler import compile_report
    from reasoner.shacl.report import report_quads, to_rdflib

    compiled = compile_report(requirement_shapes())
    compared = 0
    for case in sorted(LIBRARY.glob("*.ttl"))[::5] + [SEED]:
        result = reasoner.decide_file(case)
        store = ox.Store()
        store.extend(ox.Quad(q.subject, q.predicate, q.object) for q in result.store
                     if q.graph_name != ox.NamedNode("urn:guideline-reasoner:graph:report"))
        ours = Graph()
        for q in report_quads(compiled, store.query(compiled.query, use_default_graph_as_union=True)):
            ours.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
        expected = _result_keys(result.report, result.report.subjects(None, SH.ValidationResult))
        assert _result_keys(ours, ours.subjects(None, SH.ValidationResult)) == expected, case.name
        assert ours.value(None, SH.conforms) == result.report.value(None, SH.conforms), case.name
        compared += len(expected)
    assert compared > 50


def test_batch_findings_are_the_reports_results(reasoner):
    """What batch validation keeps (findings_update, run inside the store) is, result for
    result, the focus node, severity and message of the standard report report_quads builds,
    and nothing else: a chunk outputs no report, only what the decisions read from it."""
    from collections import Counter

    from reasoner.pipeline.engine import requirement_shapes
    from reasoner.namespaces import SH_NS
    from reasoner.shacl.compiler import compile_report
    from reasoner.shacl.report import findings_update, report_quads

    compiled = compile_report(requirement_shapes())
    store = ox.Store()
    for case in sorted(LIBRARY.glob("*.ttl"))[::4] + [SEED]:
        for q in reasoner.decide_file(case).store:  # every case's checks in one store, as in a chunk
            if q.graph_name != ox.NamedNode("urn:guideline-reasoner:graph:report"):
                store.add(ox.Quad(q.subject, q.predicate, q.object))
    report = report_quads(compiled, store.query(compiled.query))
    values = {}
    for q in report:
        values.setdefault(q.subject, {}).setdefault(q.predicate.value, []).append(q.object)
    expected = Counter((r[SH_NS + "focusNode"][0], r[SH_NS + "resultSeverity"][0], message)
                       for r in values.values() if SH_NS + "focusNode" in r for message in r[SH_NS + "resultMessage"])
    before = set(store)
    store.update(findings_update(compiled))
    added = set(store) - before
    assert {q.predicate.value for q in added} == {SH_NS + "focusNode", SH_NS + "resultSeverity", SH_NS + "resultMessage"}
    found = Counter(tuple(r) for r in store.query(
        f"SELECT ?focus ?severity ?message WHERE {{ ?r <{SH_NS}focusNode> ?focus ; "
        f"<{SH_NS}resultSeverity> ?severity ; <{SH_NS}resultMessage> ?message }}"))
    assert len(expected) > 40 and found == expected


def test_nquads_and_json_lines_inputs(tmp_path, reasoner):
    nquads = tmp_path / "cases.nq"
    graph = ox.NamedNode("urn:example:seed-graph")
    quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in ox.parse(path=str(SEED))]
    nquads.write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text(json.dumps({"type": "Case", "diagnoses": ["LumbarDiscDisorder"], "requests": [
        {"type": "TreatmentRequest", "treatment": "ChiropracticManipulation", "quantity": 6, "bodyPart": "LowBack"}]})
        + "\n" + "not json\n")
    records = list(decide_batch([nquads, jsonl], reasoner.kb.closure_ntriples))
    assert [r["case"] for r in records] == ["urn:example:seed-graph", f"{jsonl}:1", f"{jsonl}:2"]
    assert [d["outcome"] for d in records[0]["decisions"]] == ["not-medically-necessary"] * 3
    assert [d["outcome"] for d in records[1]["decisions"]] == ["medically-necessary"]
    assert records[2]["error"] == "line 1, column 1: not valid JSON: Expecting value"


def test_cli_batch_nquads_output_and_summary(tmp_path):
    out = tmp_path / "decisions.nq"
    run = subprocess.run([sys.executable, "-m", "reasoner", "decide", "--batch", str(FIXTURES / "decisions"), str(SEED),
                          "--jobs", "2", "-o", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "0 errors" in run.stderr and "cases" in run.stderr
    store = ox.Store()
    store.load(path=str(out), format=ox.RdfFormat.N_QUADS)
    seed_graph = ox.NamedNode("https://w3id.org/guideline-reasoner/example/seed#case")
    decisions = list(store.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                             ox.NamedNode("https://w3id.org/guideline-reasoner/ontology#Decision"), seed_graph))
    assert len(decisions) == 3


def _kill_half_way_and_resume(tmp_path, name: str, inputs: tuple[Path, ...] = (LIBRARY,)
                              ) -> tuple[Path, subprocess.CompletedProcess]:
    import os
    import signal
    import time

    from reasoner.pipeline.batch import read_inputs

    out = tmp_path / name
    log = tmp_path / f"{name}.partial.log"
    command = [sys.executable, "-m", "reasoner", "decide", "--batch", *map(str, inputs), "--chunk-size", "10", "-o", str(out)]
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not log.exists() or log.read_text().count("\n") < 30):
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)  # no clean-up: a crash or a power cut
    first.wait()
    assert not out.exists()
    written_before = log.read_text().count("\n")
    assert 0 < written_before < sum(1 for _ in read_inputs(list(inputs)))
    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stderr
    assert not (tmp_path / f"{name}.partial").exists() and not log.exists()
    return out, second


def test_killed_batch_resumes_and_every_case_gets_exactly_one_record(tmp_path):
    out, _ = _kill_half_way_and_resume(tmp_path, "records.jsonl")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["case"] for r in records] == sorted(str(p) for p in LIBRARY.glob("*.ttl"))  # each once, in input order
    assert all(("decisions" in r) != ("error" in r) for r in records)


def test_killed_nquads_batch_resumes_to_the_uninterrupted_output(tmp_path):
    resumed, _ = _kill_half_way_and_resume(tmp_path, "decisions.nq")
    whole = tmp_path / "whole.nq"
    run = subprocess.run([sys.executable, "-m", "reasoner", "decide", "--batch", str(LIBRARY), "-o", str(whole)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert resumed.read_bytes() == whole.read_bytes()  # nothing lost, nothing twice, same order


def _parsed_whole(path: Path) -> list[tuple[str, list[str]]]:
    """The cases of an N-Quads file as Oxigraph's parser reads the whole file."""
    graphs: dict[str, list[str]] = {}
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
        name = "DEFAULT" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name).strip("<>")
        graphs.setdefault(name, []).append(str(ox.Triple(quad.subject, quad.predicate, quad.object)))
    return [(name, sorted(triples)) for name, triples in graphs.items()]


def _canonical(cases) -> list[tuple[str, list[str]]]:
    return [(c.id, sorted(str(t) for t in ox.parse(c.data, format=ox.RdfFormat.N_TRIPLES))) for c in cases]


NQUADS = ('<urn:a> <urn:p> "say \\"hi\\" > <urn:x> ." <urn:g1> .\n'
          '# a comment line\n'
          '_:b1 <urn:p> "chat"@fr-CA <urn:g2> . # trailing comment\n'
          '<urn:a> <urn:q> "7"^^<http://www.w3.org/2001/XMLSchema#integer> <urn:g1> .\n'
          '<urn:c> <urn:p> <urn:d> .\n'
          '<urn:a> <urn:r> _:b2 <urn:g2> .\n')


def test_nquads_split_by_pattern_matches_the_full_parser(tmp_path):
    """The fast N-Quads split (by line pattern, a line it cannot match parsed alone) gives
    the cases the full parser gives, with escapes, language tags, blank nodes, comments and
    graphs split across the file."""
    from reasoner.pipeline.batch import _nquads_cases

    good = tmp_path / "good.nq"
    good.write_text(NQUADS + '<urn:e>\t<urn:p>   "tabs"   <urn:g1>   .\n')  # odd spacing: parsed alone
    fast = _canonical(_nquads_cases(good))
    assert sorted(fast) == sorted(_parsed_whole(good))
    assert [case for case, _ in fast] == ["DEFAULT", "urn:g2", "urn:g1"]  # each case where its last quad is
    assert [len(triples) for _, triples in fast] == [1, 2, 3]


def test_a_bad_nquads_line_is_an_error_record_for_its_case_only(tmp_path):
    """One line that is not N-Quads makes an error record for the graph its label names,
    saying which line; every other case of the file is read as if the line were not there."""
    from reasoner.pipeline.batch import _nquads_cases

    bad = tmp_path / "bad.nq"
    bad.write_text(NQUADS + '<urn:a> <urn:p> "no closing quote <urn:g2> .\n')
    records = list(_nquads_cases(bad))
    errors = {c.id: c.format[1] for c in records if c.format[0] == "error"}
    assert list(errors) == ["urn:g2"] and errors["urn:g2"].startswith(f"{bad}, line 7: not valid N-Quads")
    whole = dict(_parsed_whole(_write(tmp_path / "good.nq", NQUADS)))
    assert sorted(_canonical(c for c in records if c.format[0] != "error")) == [
        ("DEFAULT", whole["DEFAULT"]), ("urn:g1", whole["urn:g1"])]


def test_a_bad_line_without_a_graph_label_fails_the_cases_beside_it(tmp_path):
    """A line whose graph cannot be read is an error record of its own, and the graphs of the
    statements before and after it (which it most likely belonged to) are errors too, so
    no case is decided with a statement silently missing; the others are decided."""
    from reasoner.pipeline.batch import _nquads_cases

    grouped = ('<urn:a> <urn:p> "1" <urn:g1> .\n<urn:a> <urn:q> "2" <urn:g1> .\n'
               '<urn:b> <urn:p> "3" <urn:g2> .\n<urn:b> <urn:p> "cut off\n<urn:b> <urn:q> "4" <urn:g2> .\n'
               '<urn:c> <urn:p> "5" <urn:g3> .\n')
    bad = _write(tmp_path / "cut.nq", grouped)
    records = [(c.id, c.format[0] == "error") for c in _nquads_cases(bad)]
    assert records == [("urn:g1", False), (f"{bad}, line 4", True), ("urn:g2", True), ("urn:g3", False)]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_cli_batch_decides_the_rest_of_a_file_with_one_bad_line(tmp_path):
    graph = ox.NamedNode("urn:example:case-1")
    seed = ox.serialize([ox.Quad(t.subject, t.predicate, t.object, graph) for t in ox.parse(path=str(SEED))],
                        format=ox.RdfFormat.N_QUADS).decode()
    cases = _write(tmp_path / "cases.nq", seed + '<urn:x> <urn:y> "broken <urn:example:case-2> .\n')
    out = tmp_path / "out.jsonl"
    run = subprocess.run([sys.executable, "-m", "reasoner", "decide", "--batch", str(cases), "-o", str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["case"] for r in records] == ["urn:example:case-1", "urn:example:case-2"]
    assert [d["outcome"] for d in records[0]["decisions"]] == ["not-medically-necessary"] * 3
    assert records[1]["error"].startswith(f"{cases}, line ") and "not valid N-Quads" in records[1]["error"]


def _single_record(reasoner, path: Path) -> dict:
    from reasoner.errors import InputError

    try:
        records = decision_records(reasoner.decide(reasoner.load(path), str(path)))
    except InputError as exc:
        return {"error": exc.detail}
    for record in records:
        record.pop("case")
    return {"decisions": records}


def test_batch_and_single_agree_on_mutated_cases(tmp_path, reasoner):
    """Seeded mutations of real cases (lines dropped or repeated, stray characters): batch
    and single case accept and refuse alike, with the same error, decisions and input hash.
    A triple stated twice used to give the two paths different input hashes."""
    import random

    rng = random.Random(14)
    sources = [SEED, ROOT / "examples" / "seed-case.jsonld"] + sorted((FIXTURES / "decisions").glob("*.ttl"))[:20]
    junk = ['"', "<", ">", " ", "\\", "{", "}", "#", "@", ":", ".", ";", "0", "-1", "1e3", "true", "\u00e9", "_:b",
            "gr:LowBack", "gr:Knee"]
    for i in range(80):
        source = rng.choice(sources)
        text = source.read_text()
        for _ in range(rng.randint(1, 3)):
            lines, op = text.split("\n"), rng.random()
            if op < 0.3 and len(lines) > 3:
                del lines[rng.randrange(len(lines))]
            elif op < 0.5:
                lines.insert(rng.randrange(len(lines)), lines[rng.randrange(len(lines))])
            else:
                k = rng.randrange(len(text))
                lines = (text[:k] + rng.choice(junk) + text[k + rng.randint(0, 3):]).split("\n")
            text = "\n".join(lines)
        (tmp_path / f"m{i:03d}{source.suffix}").write_text(text)
    twice = tmp_path / "stated-twice.ttl"
    twice.write_text(SEED.read_text().replace("gr:age 51", "gr:age 51 ; gr:age 51"))
    batch = {r["case"]: r for r in decide_batch([tmp_path], reasoner.kb.closure_ntriples)}
    differing = [path.name for path in sorted(tmp_path.iterdir())
                 if {k: v for k, v in batch[str(path)].items() if k != "case"} != _single_record(reasoner, path)]
    assert differing == []
    assert sum("decisions" in r for r in batch.values()) > 10  # some mutants are still cases
