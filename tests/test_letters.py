"""Importing real IMR letters (../shared/letters/dev): every disputed item found with its
label; treatment category and quantity right for at least 95% of items (expected values
read by a person, tests/fixtures/letters/dev-items.expected.tsv); negation and outcome
statements handled; rationales never read as facts; unreadable letters reported, not
dropped; and the evaluation report with its JSON keys."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, assert_isomorphic, decisions_by_request
from reasoner.letters.importer import import_letter
from reasoner.letters.reading import LetterError
from reasoner.letters.sections import normalise
from reasoner.letters.summary import read_summary

SHARED = ROOT.parent / "shared"
DEV = SHARED / "letters" / "dev"
SEED_LETTER = SHARED / "seed" / "imr-determination-chiropractic-pt-massage.txt"
pytestmark = pytest.mark.skipif(not DEV.is_dir(), reason="../shared/letters/dev is not beside the checkout")


def labels():
    return [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]


def test_every_disputed_item_is_found_with_its_label():
    expected = labels()
    assert sum(len(case["items"]) for case in expected) == 287  # 129 letters, as the fidelity issue counts them
    missing = []
    for case in expected:
        imported = import_letter(DEV / f"{case['case']}.txt")
        assert len(imported.labels) == len(case["items"]), case["case"]
        ours = [(label.text, label.decision) for label in imported.labels]
        for item in case["items"]:
            wanted = normalise(item["item"]).rstrip(" :")
            if not any(wanted in text and decision == item["decision"] for text, decision in ours):
                missing.append((case["case"], wanted))
    assert missing == []


def test_category_and_quantity_for_95_percent_of_items(reasoner):
    from reasoner.letters.evaluation import category_of

    rows = [line.split("\t") for line in (FIXTURES / "letters" / "dev-items.expected.tsv").read_text().splitlines()
            if line and not line.startswith("#")]
    # Read by a person for the first 64 letters (164 items); the 65 letters added later are not in it yet.
    assert len(rows) == 164
    first = {row[0] for row in rows}
    assert sum(len(case["items"]) for case in labels() if case["case"] in first) == 164
    by_letter: dict[str, list] = {}
    for letter, category, quantity, _ in rows:
        by_letter.setdefault(letter, []).append((category, None if quantity == "-" else int(quantity)))
    right, wrong = 0, []
    for letter, expected in by_letter.items():
        imported = import_letter(DEV / f"{letter}.txt")
        for (category, quantity), parsed in zip(expected, imported.items):
            got = (category_of(parsed.treatment, reasoner.vocabulary), parsed.quantity)
            if got == (category, quantity):
                right += 1
            else:
                wrong.append((letter, parsed.text[:60], (category, quantity), got))
    assert right / len(rows) >= 0.95, wrong


def test_seed_letter_decides_like_the_hand_encoded_case(reasoner):
    imported = import_letter(SEED_LETTER)
    from_letter = decisions_by_request(reasoner.decide(imported.graph, "seed letter"))
    by_hand = decisions_by_request(reasoner.decide_file(ROOT / "examples" / "seed-case.ttl"))
    pairs = zip(sorted(from_letter.values(), key=lambda d: d["treatment"]),
                sorted(by_hand.values(), key=lambda d: d["treatment"]))
    for letter, hand in pairs:
        assert letter["outcome"] == hand["outcome"] == "not-medically-necessary"
        unmet = {(r["requirement"], r["observed"], r["limit"]) for r in letter["reasons"] if r["status"] == "not-met"}
        assert unmet == {(r["requirement"], r["observed"], r["limit"]) for r in hand["reasons"] if r["status"] == "not-met"}
        # the 2013 review date picks the 2009 MTUS edition, cited by page
        mtus = [r["citation"] for r in letter["reasons"] if r["citation"].startswith("MTUS")]
        assert mtus and all("(2009)" in c and "page" in c for c in mtus)


def test_negated_findings_and_outcome_statements():
    facts = read_summary(
        "The patient is a 40 year old female who sustained an industrial injury on 1/2/2015. "
        "There was no sensory deficit, no decreased reflexes and no atrophy. "
        "She has had 6 physical therapy sessions, which produced only temporary relief. "
        "She also completed 4 acupuncture treatments and improved function by 30%.", None)
    assert (facts.age, facts.sex) == (40, "female")
    assert "NeurologicalDeficit" not in facts.findings
    outcomes = {e.treatment: (e.visits, e.outcome) for e in facts.episodes}
    assert outcomes["PhysicalTherapy"] == (6, "TemporaryReliefOnly")
    assert outcomes["Acupuncture"] == (4, "ObjectiveFunctionalImprovement")
    positive = read_summary("Examination showed decreased sensation in the L5 dermatome and a positive straight leg raise.", None)
    assert "NeurologicalDeficit" in positive.findings
    missing = read_summary("She has had 12 chiropractic visits. There is no documentation of functional improvement.", None)
    assert [(e.visits, e.outcome) for e in missing.episodes] == [(12, "OutcomeNotDocumented")]


def test_summary_facts_for_the_new_rules():
    """Phrasings the importer must read: "Treatments to date include" (plural) as history,
    a full-thickness cuff tear as its own diagnosis, and weakness, cardiac risk, bleeding
    risk and return-to-work findings on examination or in the history."""
    facts = read_summary(
        "The injured worker sustained an industrial injury on 10-29-2016. Diagnoses include right shoulder "
        "full thickness rotator cuff tear. Treatments to date include physical therapy and ibuprofen. "
        "Strength was 4/5 in abduction with a positive drop arm test. She has hypertension and takes warfarin. "
        "She reached maximum medical improvement after a failed return to work.", None)
    assert {"FullThicknessRotatorCuffTear", "RotatorCuffSyndrome"} <= set(facts.diagnoses)
    assert {"PhysicalTherapy", "NSAID"} <= {e.treatment for e in facts.episodes}
    assert {"RotatorCuffWeakness", "CardiacRiskFactor", "BleedingRisk", "ReturnToWorkInQuestion"} <= set(facts.findings)
    denied = read_summary("The injured worker denies hypertension or heart disease and takes no anticoagulant.", None)
    assert not {"CardiacRiskFactor", "BleedingRisk"} & set(denied.findings)


def test_rationales_are_never_read_as_facts(tmp_path):
    original = (DEV / "CM17-0010364.txt").read_text()
    # replace every rationale with one that states the opposite facts
    changed = re.sub(r"Decision rationale:.*?(?=\n\S[^\n]*:\s*(?:Upheld|Overturned)\s*\n|\Z)",
                     "Decision rationale: The patient has cauda equina signs, failed 20 weeks of therapy "
                     "and 30 prior physical therapy visits with documented functional improvement.\n",
                     original, flags=re.S)
    assert changed != original
    (tmp_path / "changed.txt").write_text(changed)
    assert_isomorphic(import_letter(DEV / "CM17-0010364.txt").graph, import_letter(tmp_path / "changed.txt").graph,
                      "rationales rewritten")


def _bad_letters(folder: Path) -> dict[str, str]:
    from pypdf import PdfWriter

    (folder / "empty.txt").write_text("")
    (folder / "not-a-letter.txt").write_text("Dear colleague,\nplease find the invoice attached.\n")
    (folder / "fake.pdf").write_text("this is plain text wearing a .pdf name\n")
    blank = PdfWriter()
    blank.add_blank_page(612, 792)
    with open(folder / "scanned.pdf", "wb") as handle:
        blank.write(handle)
    locked = PdfWriter()
    locked.add_blank_page(612, 792)
    locked.encrypt(user_password="secret", owner_password="owner")
    with open(folder / "encrypted.pdf", "wb") as handle:
        locked.write(handle)
    return {"empty.txt": "empty", "not-a-letter.txt": "not an IMR determination letter", "fake.pdf": "not a PDF",
            "scanned.pdf": "no text layer", "encrypted.pdf": "encrypted"}


def test_unreadable_letters_are_reported_and_the_rest_go_on(tmp_path, reasoner):
    from reasoner.letters.evaluation import evaluate, report

    expected = _bad_letters(tmp_path)
    shutil.copy(DEV / "CM17-0004738.txt", tmp_path)
    for name, reason in expected.items():
        with pytest.raises(LetterError, match=reason):
            import_letter(tmp_path / name)
    data = report(evaluate(tmp_path, reasoner))
    assert data["letters"] == 1 and data["items"] == 1
    assert {s["file"] for s in data["skipped"]} == set(expected)
    assert data["per_item"][0]["predicted"] == "Overturned"  # chiropractic after documented gains


SPLIT = FIXTURES / "letters" / "dev-split.json"
MAIN_REASONS = FIXTURES / "letters" / "dev-main-reasons.tsv"


def test_reason_agreement_is_the_reviewers_main_reason_among_our_deciding_ones():
    from reasoner.letters.evaluation import ItemResult

    def item(reviewer, outcome, reasons, label):
        return ItemResult(letter="L.txt", item="x", treatment="PhysicalTherapy", category="physical-medicine", quantity=8,
                          physical_medicine=True, outcome=outcome, reasons=reasons, citations=[], reviewer=reviewer,
                          reviewer_guideline="", number=1, main_reason=label)

    unmet = ["functional-improvement-documented:not-met", "body-part-specified:met"]
    assert item("Upheld", "not-medically-necessary", unmet, "functional-improvement-documented").reason_agrees is True
    assert item("Upheld", "not-medically-necessary", unmet, "body-part-specified").reason_agrees is False  # met, not decisive
    assert item("Upheld", "medically-necessary", ["functional-improvement-documented:met"],
                "functional-improvement-documented").reason_agrees is False  # wrong outcome
    assert item("Overturned", "medically-necessary", ["within-visit-limit:met"], "within-visit-limit").reason_agrees is True
    assert item("Upheld", "not-medically-necessary", unmet, "other").reason_agrees is False
    assert item("Upheld", "not-medically-necessary", unmet, None).reason_agrees is None  # not labelled, not counted


def test_main_reason_labels_name_tune_letters_and_known_requirements():
    from reasoner.kb.knowledge import KnowledgeBase
    from reasoner.namespaces import GR

    ids = {str(o) for o in KnowledgeBase().graph.objects(None, GR.requirementId)} | {"other"}
    tune = set(json.loads(SPLIT.read_text())["tune"])
    decisions = {(c["case"], n): i["decision"] for c in labels() for n, i in enumerate(c["items"], start=1)}
    rows = [line.split("\t") for line in MAIN_REASONS.read_text().splitlines() if line and not line.startswith("#")]
    assert len(rows) >= 60
    for letter, number, decision, reason, _note in rows:
        assert letter in tune, letter
        assert decisions[(letter, int(number))] == decision, (letter, number)
        assert reason in ids, reason


def test_the_tune_check_split_is_the_seeded_one_and_covers_every_letter():
    """The split is drawn once by scripts/split-dev-letters; the committed file must be what
    the seeded script gives, so nobody re-draws it to suit a change."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("split_dev_letters", str(ROOT / "scripts" / "split-dev-letters"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    first = {line.split("\t")[0] for line in module.FIRST_64.read_text().splitlines() if line and not line.startswith("#")}
    committed = json.loads(SPLIT.read_text())
    assert module.split(labels(), first, committed["seed"]) == {"tune": committed["tune"], "check": committed["check"]}
    assert set(committed["tune"]) | set(committed["check"]) == {case["case"] for case in labels()}
    assert not set(committed["tune"]) & set(committed["check"])


def test_evaluate_on_the_development_letters(tmp_path):
    out = tmp_path / "evaluation.json"
    run = subprocess.run([sys.executable, "-m", "reasoner", "evaluate", str(DEV), "--split", str(SPLIT),
                          "--reasons", str(MAIN_REASONS), "--format", "json", "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    keys = {"items", "covered", "coverage", "balanced_accuracy", "upheld_recall", "overturned_recall", "reason_agreement"}
    assert keys <= set(data) and keys <= set(data["physical_medicine"])
    assert data["items"] == 287 and data["skipped"] == []
    assert data["covered"] == sum(1 for r in data["per_item"] if r["outcome"] != "no-applicable-guideline")
    halves = data["halves"]
    assert halves["tune"]["items"] + halves["check"]["items"] == data["items"]
    assert {r["half"] for r in data["per_item"]} == {"tune", "check"}
    # Regression guards on the check half only (the tune half may be read item by item, so a
    # rise there means nothing), each a little below what it measured (README figures).
    check = halves["check"]
    assert check["coverage"] >= 0.96  # measured 0.99
    assert check["balanced_accuracy"] >= 0.78  # measured 0.82; always-Upheld would be 0.5
    assert check["physical_medicine"]["balanced_accuracy"] >= 0.90  # measured 0.97 (31 items)
    # reasons: hand-labelled on the tune half only (71 items), so this is a measure, not a check of generalising
    assert data["reason_labelled"] >= 60 and halves["check"]["reason_labelled"] == 0
    assert data["reason_agreement"] >= 0.62  # measured 0.67
    from reasoner.letters.evaluation import as_markdown, as_text

    assert as_markdown(data).startswith("# Agreement with IMR reviewers")
    assert f"items              {data['items']}" in as_text(data)
    assert f"check balanced_accuracy {check['balanced_accuracy']:.2f}" in as_text(data)


def test_import_letter_cli_writes_case_and_labels_apart(tmp_path):
    case, labels_file = tmp_path / "case.ttl", tmp_path / "labels.json"
    run = subprocess.run([sys.executable, "-m", "reasoner", "import-letter", str(DEV / "CM17-0019907.txt"),
                          "-o", str(case), "--labels", str(labels_file)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    text = case.read_text()
    assert "Overturned" not in text and "Upheld" not in text and "rationale" not in text.lower()
    assert json.loads(labels_file.read_text())["items"][0]["decision"] == "Overturned"
    decided = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(case), "--format", "json"],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert json.loads(decided.stdout)["decisions"][0]["treatment"] == "physical therapy"


PDFS = SHARED / "letters" / "pdf"


@pytest.mark.skipif(not PDFS.is_dir(), reason="../shared/letters/pdf is not beside the checkout")
def test_real_encrypted_pdfs_give_the_case_graph_of_their_text():
    """The real IMR PDFs are AES-encrypted with an empty password (pypdf[crypto] reads them):
    each imports to the same case graph as its text version, evidence aside (offsets count in
    each file's own text)."""
    from rdflib import RDF, Graph

    from reasoner.namespaces import GR

    def facts(graph: Graph) -> Graph:
        evidence = set(graph.subjects(RDF.type, GR.TextSpan)) | set(graph.subjects(RDF.type, GR.CaseFact))
        kept = Graph()
        for s, p, o in graph:
            if s not in evidence and not str(p).startswith("http://www.w3.org/ns/prov#"):
                kept.add((s, p, o))
        return kept

    pdfs = sorted(PDFS.glob("*.pdf"))
    assert len(pdfs) == 4
    for pdf in pdfs:
        from_pdf, from_text = import_letter(pdf), import_letter(DEV / f"{pdf.stem}.txt")
        assert len(from_pdf.items) == len(from_text.items) >= 1, pdf.name
        assert_isomorphic(facts(from_pdf.graph), facts(from_text.graph), pdf.name)


@pytest.mark.parametrize("sentence", [
    "She is bed-bound since the surgery.",
    "The patient has been bedridden for two weeks.",
    "He is confined to his room and unable to walk to the bathroom.",
    "She remains confined to bed.",
])
def test_confinement_to_bed_or_room_is_read_in_several_phrasings(sentence):
    assert "ConfinedToBedOrRoom" in read_summary(sentence, None).findings


def test_walking_to_the_bathroom_is_not_confinement():
    assert "ConfinedToBedOrRoom" not in read_summary("She walks to the bathroom without help.", None).findings
