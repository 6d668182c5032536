"""The command line as a user runs it: console script, JSON contract, formats, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

from rdflib import Graph

from conftest import ROOT
from reasoner.namespaces import GR, SH

SEED = str(ROOT / "examples" / "seed-case.ttl")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasoner", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_console_script_resolves():
    scripts = [e for e in entry_points(group="console_scripts") if e.name == "guideline-reasoner"]
    assert scripts, "guideline-reasoner is not installed as a console script"
    from reasoner.cli import main

    assert scripts[0].load() is main


def test_decide_json_contract():
    result = run("decide", SEED, "--format", "json")
    assert result.returncode == 0, result.stderr
    decisions = json.loads(result.stdout)["decisions"]
    assert [d["treatment"] for d in decisions] == ["chiropractic manipulation", "physical therapy", "massage therapy"]
    assert [d["quantity"] for d in decisions] == [8, 8, 2]
    for d in decisions:
        assert set(d) >= {"request", "treatment", "quantity", "outcome", "imr_outcome", "reasons"}
        assert d["outcome"] == "not-medically-necessary" and d["imr_outcome"] == "Upheld"
        assert d["request"].startswith("https://w3id.org/guideline-reasoner/example/seed#")
        for reason in d["reasons"]:
            assert set(reason) >= {"requirement", "status", "observed", "limit", "recommendation", "citation"}
            assert reason["status"] in {"met", "not-met"}
            assert reason["recommendation"].startswith("https://w3id.org/guideline-reasoner/kb#")
            assert "MTUS" in reason["citation"] or "ODG" in reason["citation"]


def test_decide_text_names_outcomes_and_citations():
    result = run("decide", SEED)
    assert result.returncode == 0
    assert result.stdout.count("NOT MEDICALLY NECESSARY (IMR: Upheld)") == 3
    assert "page 58" in result.stdout and "pages 98-99" in result.stdout and "page 60" in result.stdout


def test_decide_turtle_and_jsonld_are_the_same_graph():
    ttl = run("decide", SEED, "--format", "turtle")
    jsonld = run("decide", SEED, "--format", "json-ld")
    assert ttl.returncode == 0 and jsonld.returncode == 0
    a = Graph().parse(data=ttl.stdout, format="turtle")
    b = Graph().parse(data=jsonld.stdout, format="json-ld")
    assert len(a) == len(b) > 0
    assert len(set(a.subjects(None, GR.Decision))) == 3


def test_validate_reports_in_the_shacl_vocabulary(tmp_path):
    out = tmp_path / "report.ttl"
    result = run("validate", SEED, "--format", "turtle", "-o", str(out))
    assert result.returncode == 1  # does not conform
    report = Graph().parse(out)
    assert (None, SH.conforms, None) in report
    results = list(report.subjects(None, SH.ValidationResult))
    assert len(results) == 9  # 3 + 3 + 3 unmet requirements, as the decisions say
    text = run("validate", SEED)
    assert text.returncode == 1
    assert "does not conform - 9 requirement(s) not met" in text.stdout


def test_validate_conforming_case_exits_zero():
    case = str(ROOT / "tests" / "fixtures" / "decisions" / "chiropractic-continued-with-improvement.ttl")
    result = run("validate", case)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "conforms" in result.stdout


def test_check_passes_on_the_shipped_knowledge_base():
    result = run("check")
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout
    assert result.stdout.count("ok ") >= 6


def test_help_and_usage_errors():
    assert "decide" in run("--help").stdout
    assert run().returncode == 2
    bad = run("decide", SEED, "--format", "yaml")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
