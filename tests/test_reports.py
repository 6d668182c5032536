"""Reports people read: the SHACL validation report in the standard vocabulary and as a
checklist, the decision report in HTML (checked in headless Chromium, with screenshots under
tests/output/) and Markdown, modified quantities, and `diff` between knowledge bases."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from rdflib import RDF, Graph

from conftest import FIXTURES, OUTPUT, ROOT
from reasoner.namespaces import SH

SEED = ROOT / "examples" / "seed-case.ttl"
MIXED = FIXTURES / "decisions" / "chiropractic-first-trial.ttl"  # one necessary, one over the trial


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasoner", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_shacl_report_lists_the_same_failures_as_the_decisions(reasoner, tmp_path):
    from reasoner.output.render import decision_records

    out = tmp_path / "report.ttl"
    assert cli("validate", str(SEED), "--format", "turtle", "-o", str(out)).returncode == 1
    report = Graph().parse(out)
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms).toPython() is False
    results = list(report.objects(node, SH.result))
    assert all(report.value(r, SH.resultSeverity) == SH.Violation and report.value(r, SH.resultMessage)
               for r in results)
    checks = {str(report.value(r, SH.focusNode)) for r in results}
    unmet = {f"{d['request']}/check/{r['requirement']}/{r['recommendation'].rsplit('#', 1)[-1]}"
             for d in decision_records(reasoner.decide_file(SEED)) for r in d["reasons"] if r["status"] == "not-met"}
    assert checks == unmet
    assert {c.split("/check/")[1].split("/")[0] for c in checks} == {
        "body-part-specified", "functional-improvement-documented", "within-visit-limit"}


def test_validation_checklist_says_what_to_document():
    text = cli("validate", str(SEED)).stdout
    assert text.count("[ ] body part specified") == 3
    assert "to meet it: Name the body region the treatment is for" in text


def test_markdown_report_of_the_seed_and_a_mixed_case():
    result = cli("report", str(SEED), str(MIXED))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.count("**NOT MEDICALLY NECESSARY** (IMR outcome: Upheld)") == 4
    assert text.count("**MEDICALLY NECESSARY** (IMR outcome: Overturned)") == 1
    for cited in ("Manual therapy & manipulation, page 58", "Physical medicine, pages 98-99", "Massage therapy, page 60",
                  "ODG, Low Back chapter"):
        assert cited in text
    assert "Modified request: a quantity of 6 would fall within the guideline's limit." in text
    assert "Therefore the request for Chiropractic x 8 is not medically necessary." in text
    assert "lumbar intervertebral disc disorder" in text  # records relied on


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed (scripts/test installs Debian's chromium)")
    return path


def headless(*args: str, tmp) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp}", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name,cases", [("seed", [SEED]), ("mixed", [MIXED])])
def test_html_report_in_headless_chromium(tmp_path, name, cases):
    OUTPUT.mkdir(exist_ok=True)
    html_file = OUTPUT / f"report-{name}.html"
    assert cli("report", *map(str, cases), "-o", str(html_file)).returncode == 0
    source = html_file.read_text()
    assert "<script" not in source and '<th scope="col">' in source and '<html lang="en">' in source
    dom = headless("--dump-dom", html_file.as_uri(), tmp=tmp_path / "profile-dom").stdout
    assert "<h1>Treatment request decisions</h1>" in dom
    if name == "seed":
        assert dom.count("IMR outcome: <strong>Upheld</strong>") == 3
    else:
        assert dom.count("IMR outcome: <strong>Overturned</strong>") == 1
        assert "a quantity of 6 would fall within the guideline's limit" in dom
    shot = OUTPUT / f"report-{name}.png"
    shot.unlink(missing_ok=True)
    headless("--window-size=1100,1600", f"--screenshot={shot}", html_file.as_uri(), tmp=tmp_path / "profile-shot")
    assert shot.exists() and shot.stat().st_size > 20_000


def test_diff_names_the_decisions_and_reasons_a_new_knowledge_base_changes(tmp_path):
    new = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", new)
    massage = new / "knowledge" / "physical-medicine.ttl"
    text = massage.read_text()
    assert "gr:status gr:AdjunctOnly ;\n    gr:maxVisits 6 ;" in text
    massage.write_text(text.replace("gr:status gr:AdjunctOnly ;\n    gr:maxVisits 6 ;",
                                    "gr:status gr:AdjunctOnly ;\n    gr:maxVisits 8 ;"))
    result = cli("diff", str(ROOT / "ontology"), str(new), str(SEED), "--format", "json")
    assert result.returncode == 0, result.stderr
    import json

    (change,) = json.loads(result.stdout)["changed"]
    assert change["request"].endswith("#massage-x2")
    assert change["old_outcome"] == change["new_outcome"] == "not-medically-necessary"  # body part still missing
    assert [(r["requirement"], r["status"], r["observed"], r["limit"]) for r in change["reasons_removed"]] == \
        [("within-visit-limit", "not-met", 8, 6)]
    assert [(r["requirement"], r["status"], r["observed"], r["limit"]) for r in change["reasons_added"]] == \
        [("within-visit-limit", "met", 8, 8)]
    assert cli("diff", str(ROOT / "ontology"), str(ROOT / "ontology"), str(SEED)).stdout == "no decision changes\n"
