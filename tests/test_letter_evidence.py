"""Evidence of facts read from letters: each fact of an imported case points at the sentence
(or header line, or item line) it was read from, with offsets that find it in the letter;
every reason of a decision on such a case carries the quotes of the facts it rests on, in
JSON, text and the report; hand-written cases, which have no evidence, decide as before.

The letter in tests/fixtures/letters/evidence-letter.txt was written for these tests; the
expected quotes below are its sentences."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, Graph

from conftest import FIXTURES, ROOT, assert_isomorphic, decisions_by_request
from reasoner.letters.importer import import_letter
from reasoner.namespaces import GR, PROV

LETTER = FIXTURES / "letters" / "evidence-letter.txt"
DEV = ROOT.parent / "shared" / "letters" / "dev"

PATIENT = "The claimant is a 38 year old female who hurt her back lifting crates at a warehouse."
DIAGNOSIS = "She is being treated for a lumbar sprain."
VISITS = "She has had 12 physical therapy visits over the spring & summer."
NO_IMPROVEMENT = ("There is no documentation of functional improvement after those visits, and the notes describe the "
                  "same pain, the same limits at work and the same trouble with household tasks as before they began.")
EXAM = ("On examination there was decreased sensation over the left lateral calf and the straight leg raise was "
        "positive on the left.")
INJURY_LINE = "Date of Injury: 03/14/2015"
DENIAL_LINE = "UR Denial Date: 01/20/2016"
PT_ITEM = "Physical therapy 2 times a week for 3 weeks for the lumbar spine"
MRI_ITEM = "MRI of the lumbar spine"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasoner", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def quotes(graph: Graph, node) -> list[str]:
    spans = sorted(graph.objects(node, PROV.wasDerivedFrom), key=lambda s: graph.value(s, GR.startOffset).toPython())
    return [str(graph.value(span, GR.quote)) for span in spans]


def fact_quotes(graph: Graph, subject, predicate, value) -> list[str]:
    (fact,) = [f for f in graph.subjects(GR.factSubject, subject)
               if (f, GR.factPredicate, predicate) in graph and (f, GR.factObject, value) in graph]
    assert (subject, predicate, value) in graph, "a case fact repeats a triple the case asserts"
    return quotes(graph, fact)


def letter_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")  # universal newlines: line endings as \n, as the offsets count them


def test_each_fact_quotes_the_sentence_it_was_read_from():
    imported = import_letter(LETTER)
    g = imported.graph
    case = next(g.subjects(RDF.type, GR.Case))
    (episode,) = g.objects(case, GR.hasTreatmentEpisode)
    assert quotes(g, episode) == [VISITS, NO_IMPROVEMENT]  # the count, and the outcome it kept
    assert quotes(g, next(g.objects(case, GR.hasPatient))) == [PATIENT]
    assert fact_quotes(g, case, GR.hasDiagnosis, GR.LumbarSprainStrain) == [DIAGNOSIS]
    assert fact_quotes(g, case, GR.hasFinding, GR.NeurologicalDeficit) == [EXAM]
    assert (case, GR.hasFinding, GR.MuscleSpasm) not in g  # "There was no muscle spasm."
    assert not [f for f in g.subjects(GR.factObject, GR.MuscleSpasm)]
    injury = g.value(case, GR.injuryDate)
    assert fact_quotes(g, case, GR.injuryDate, injury) == [INJURY_LINE]
    # weeks of failed care: from the injury to the review (those two dates), counted because the
    # summary says the care did not help (that sentence)
    weeks = g.value(case, GR.failedConservativeCareWeeks)
    assert fact_quotes(g, case, GR.failedConservativeCareWeeks, weeks) == [INJURY_LINE, DENIAL_LINE, NO_IMPROVEMENT]
    requests = sorted(g.objects(case, GR.hasRequest), key=lambda r: g.value(r, GR.itemNumber).toPython())
    assert [quotes(g, r) for r in requests] == [[PT_ITEM], [MRI_ITEM]]
    for request in requests:
        assert fact_quotes(g, request, GR.requestDate, g.value(request, GR.requestDate)) == [DENIAL_LINE]


def test_offsets_find_each_quote_in_the_letter():
    text = letter_text(LETTER)
    g = import_letter(LETTER).graph
    spans = list(g.subjects(RDF.type, GR.TextSpan))
    assert len(spans) == 9  # five summary sentences, two header lines, two item lines
    crossing = 0
    for span in spans:
        quote = str(g.value(span, GR.quote))
        start, end = g.value(span, GR.startOffset).toPython(), g.value(span, GR.endOffset).toPython()
        stretch = text[start:end]
        assert re.sub(r"\s+", " ", stretch) == quote
        if "\n" in stretch:
            crossing += 1  # a sentence the letter wraps: the quote writes its line break as a space
        else:
            assert stretch == quote
    assert crossing == 2  # the outcome and the examination sentences are wrapped in the fixture


def test_reasons_carry_the_evidence_of_the_facts_they_rest_on(tmp_path):
    case = tmp_path / "case.ttl"
    assert cli("import-letter", str(LETTER), "-o", str(case)).returncode == 0
    decided = cli("decide", str(case), "--format", "json")
    assert decided.returncode == 0, decided.stderr
    decisions = {d["item"]: d for d in json.loads(decided.stdout)["decisions"]}
    text = letter_text(LETTER)

    def evidence(item: str, requirement: str) -> list[str]:
        (reason,) = [r for r in decisions[item]["reasons"] if r["requirement"] == requirement]
        for span in reason.get("evidence", []):
            assert set(span) == {"quote", "start", "end"}
            assert re.sub(r"\s+", " ", text[span["start"]:span["end"]]) == span["quote"]
        return [span["quote"] for span in reason.get("evidence", [])]

    # history checks: the episodes of the requested treatment, then the request line
    assert evidence(PT_ITEM, "functional-improvement-documented") == [VISITS, NO_IMPROVEMENT, PT_ITEM]
    assert evidence(PT_ITEM, "within-visit-limit") == [VISITS, NO_IMPROVEMENT, PT_ITEM]
    assert evidence(PT_ITEM, "body-part-specified") == [PT_ITEM]
    # a documented-finding check: the finding it observed, not the request line
    assert evidence(MRI_ITEM, "red-flag-or-neurological-finding") == [EXAM]
    # failed conservative care: the weeks (from the two dates) and the care tried, then the request
    assert evidence(MRI_ITEM, "conservative-care-failed") == [INJURY_LINE, DENIAL_LINE, VISITS, NO_IMPROVEMENT, MRI_ITEM]

    shown = cli("decide", str(case)).stdout
    assert f'         evidence: "{VISITS}"' in shown
    assert f'         evidence: "{NO_IMPROVEMENT[:159].rstrip()}…"' in shown  # long quotes are cut in text only
    html_file, md_file = tmp_path / "report.html", tmp_path / "report.md"
    assert cli("report", str(case), "-o", str(html_file)).returncode == 0
    assert cli("report", str(case), "-o", str(md_file)).returncode == 0
    html = html_file.read_text()
    assert "over the spring &amp; summer." in html and "spring & summer" not in html  # quotes are escaped
    assert html.count("&ldquo;" + EXAM + "&rdquo;") == 1
    assert f'- "{NO_IMPROVEMENT}"' in md_file.read_text()


def test_batch_decisions_carry_the_same_evidence(tmp_path, reasoner):
    folder = tmp_path / "cases"
    folder.mkdir()
    assert cli("import-letter", str(LETTER), "-o", str(folder / "letter.ttl")).returncode == 0
    out = tmp_path / "out.jsonl"
    assert cli("decide", "--batch", str(folder), "-o", str(out)).returncode == 0
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    single = decisions_by_request(reasoner.decide_file(folder / "letter.ttl"))
    batch = {d["request"].rsplit("#", 1)[1]: d for d in record["decisions"]}
    assert {k: [r.get("evidence") for r in d["reasons"]] for k, d in batch.items()} == \
        {k: [r.get("evidence") for r in d["reasons"]] for k, d in single.items()}
    assert any(r.get("evidence") for d in batch.values() for r in d["reasons"])


def test_hand_written_cases_keep_their_reason_keys():
    """No evidence triples, no `evidence` key: the JSON of hand-written cases is as it was."""
    decided = cli("decide", str(ROOT / "examples" / "seed-case.ttl"), "--format", "json")
    for decision in json.loads(decided.stdout)["decisions"]:
        for reason in decision["reasons"]:
            assert list(reason) == ["requirement", "status", "observed", "limit", "recommendation", "citation",
                                    "message", "label", "hint"]
    assert "evidence:" not in cli("decide", str(ROOT / "examples" / "seed-case.ttl")).stdout


def test_rewritten_rationales_move_only_the_offsets_of_later_item_lines(tmp_path):
    """Offsets count from the top of the letter, so a longer rationale moves the item lines
    after it; no fact and no quote changes (the rationales are still never read)."""
    original = letter_text(LETTER)
    rewritten = original.replace("An invented rationale.", "An invented rationale, now made longer by these words.")
    assert rewritten != original
    (tmp_path / "rewritten.txt").write_text(rewritten)
    before, after = import_letter(LETTER).graph, import_letter(tmp_path / "rewritten.txt").graph

    def without_offsets(g: Graph) -> Graph:
        kept = Graph()
        for triple in g:
            if triple[1] not in (GR.startOffset, GR.endOffset):
                kept.add(triple)
        return kept

    assert_isomorphic(without_offsets(before), without_offsets(after), "rationales rewritten")
    offsets = {}
    for g in (before, after):
        for span in g.subjects(RDF.type, GR.TextSpan):
            offsets.setdefault(str(g.value(span, GR.quote)), []).append(g.value(span, GR.startOffset).toPython())
    moved = {quote for quote, (old, new) in offsets.items() if old != new}
    assert moved == {MRI_ITEM}
    assert offsets[MRI_ITEM][1] - offsets[MRI_ITEM][0] == len(rewritten) - len(original)


@pytest.mark.skipif(not DEV.is_dir(), reason="../shared/letters/dev is not beside the checkout")
def test_every_episode_request_finding_and_diagnosis_of_the_dev_letters_has_evidence():
    from reasoner.letters.reading import read_letter_text

    missing, letters = [], sorted(DEV.glob("*.txt"))
    assert len(letters) >= 100
    for path in letters:
        g = import_letter(path).graph
        text = read_letter_text(path).replace("\r\n", "\n").replace("\r", "\n")
        for kind in (GR.TreatmentEpisode, GR.TreatmentRequest):
            missing += [(path.stem, str(node)) for node in g.subjects(RDF.type, kind) if not quotes(g, node)]
        case = next(g.subjects(RDF.type, GR.Case))
        for predicate in (GR.hasFinding, GR.hasDiagnosis):
            missing += [(path.stem, str(value)) for value in g.objects(case, predicate)
                        if not fact_quotes(g, case, predicate, value)]
        for span in g.subjects(RDF.type, GR.TextSpan):
            start, end = g.value(span, GR.startOffset).toPython(), g.value(span, GR.endOffset).toPython()
            assert re.sub(r"\s+", " ", text[start:end]) == str(g.value(span, GR.quote)), (path.stem, start)
    assert missing == []


def test_an_external_store_gives_the_same_evidence(tmp_path, reasoner):
    """decide --endpoint runs reason-evidence.rq inside a real Oxigraph server."""
    from servers import oxigraph_server

    from reasoner.pipeline.remote import RemoteReasoner
    from reasoner.output.render import decision_records

    graph = import_letter(LETTER).graph
    here = decision_records(reasoner.decide(graph, "letter"))
    with oxigraph_server(tmp_path / "oxigraph") as base:
        there = decision_records(RemoteReasoner(f"{base}/query", f"{base}/store").decide(graph, "letter"))
    assert here == there
    assert sum(len(r.get("evidence", [])) for d in there for r in d["reasons"]) >= 10


def test_a_hand_written_span_without_offsets_shows_on_one_line(tmp_path):
    """A case file may give evidence too: a quote with line breaks and no offsets is one
    `evidence:` line in text and in the report, and null offsets in JSON; a companion
    treatment's reason shows the companion's evidence."""
    seed = (ROOT / "examples" / "seed-case.ttl").read_text()
    case = tmp_path / "case.ttl"
    case.write_text(seed + '\n:massage-x2 <http://www.w3.org/ns/prov#wasDerivedFrom> :note .\n'
                           ':note a gr:TextSpan ; gr:quote """Massage\ntwice, as the <provider> asked""" .\n'
                           ':physical-therapy-x8 <http://www.w3.org/ns/prov#wasDerivedFrom> :pt-note .\n'
                           ':pt-note a gr:TextSpan ; gr:quote "Physical therapy eight times" .\n')
    decided = json.loads(cli("decide", str(case), "--format", "json").stdout)["decisions"]
    (massage,) = [d for d in decided if d["request"].endswith("#massage-x2")]
    (body_part,) = [r for r in massage["reasons"] if r["requirement"] == "body-part-specified"]
    assert body_part["evidence"] == [{"quote": "Massage\ntwice, as the <provider> asked", "start": None, "end": None}]
    # massage is an adjunct: its reason rests on the active treatment requested beside it too
    (adjunct,) = [r for r in massage["reasons"] if r["requirement"] == "adjunct-to-active-treatment"]
    assert [span["quote"] for span in adjunct["evidence"]] == ["Massage\ntwice, as the <provider> asked",
                                                               "Physical therapy eight times"]
    assert '         evidence: "Massage twice, as the <provider> asked"\n' in cli("decide", str(case)).stdout
    report = tmp_path / "report.md"
    assert cli("report", str(case), "-o", str(report)).returncode == 0
    assert '  - "Massage twice, as the \\<provider\\> asked"\n' in report.read_text()  # Markdown-escaped


def test_a_letter_imported_as_json_ld_decides_like_its_turtle(tmp_path):
    """import-letter -o case.jsonld writes a top-level @graph; the loader must read its nodes
    (it named the document '#case', which made them a named graph no decision saw)."""
    decided = {}
    for suffix in (".ttl", ".jsonld"):
        case = tmp_path / f"case{suffix}"
        assert cli("import-letter", str(LETTER), "-o", str(case)).returncode == 0
        run = cli("decide", str(case), "--format", "json")
        assert run.returncode == 0, run.stderr
        decided[suffix] = [{k: v for k, v in d.items() if k != "case"} for d in json.loads(run.stdout)["decisions"]]
    assert decided[".jsonld"] == decided[".ttl"]
    assert any(r.get("evidence") for d in decided[".jsonld"] for r in d["reasons"])
