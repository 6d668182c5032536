"""Every decision fixture (tests/fixtures/decisions/NAME.ttl) against the decisions the
guideline calls for (NAME.expected.json, written by hand), plus the seed example."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, ROOT, assert_decision_explains_itself, decisions_by_request, glob_nonempty, local_name

DECISIONS = FIXTURES / "decisions"
CASES = [(p, p.with_name(p.stem + ".expected.json")) for p in glob_nonempty(DECISIONS, "*.ttl")]
CASES.append((ROOT / "examples" / "seed-case.ttl", DECISIONS / "seed.expected.json"))


@pytest.mark.parametrize("case, expected_file", CASES, ids=[c.stem for c, _ in CASES])
def test_decisions_match_the_guideline(reasoner, case, expected_file):
    expected = json.loads(expected_file.read_text())
    actual = decisions_by_request(reasoner.decide_file(case))
    assert sorted(actual) == sorted(expected), "requests decided differ from those expected"
    for request, want in expected.items():
        got = actual[request]
        assert_decision_explains_itself(got)
        assert got["outcome"] == want["outcome"], request
        assert got["imr_outcome"] == want["imr_outcome"], request
        reasons = sorted([r["requirement"], r["status"], r["observed"], r["limit"],
                          local_name(r["recommendation"])] for r in got["reasons"])
        assert reasons == sorted(want["reasons"]), request
        for key in ("provisional", "evidence_tier", "problems"):
            if key in want:
                assert got[key] == want[key], (request, key)
        if "citation" in want:
            assert {r["citation"] for r in got["reasons"]} == {want["citation"]}, request


def test_seed_decisions_are_the_letters(reasoner):
    """The seed letter: three items, all Upheld, for the letter's reasons."""
    decided = decisions_by_request(reasoner.decide_file(ROOT / "examples" / "seed-case.ttl"))
    assert [d["imr_outcome"] for d in decided.values()] == ["Upheld"] * 3
    unmet = {name: {r["requirement"] for r in d["reasons"] if r["status"] == "not-met"}
             for name, d in decided.items()}
    assert unmet["chiropractic-x8"] >= {"body-part-specified", "functional-improvement-documented"}
    assert unmet["physical-therapy-x8"] >= {"body-part-specified", "functional-improvement-documented",
                                            "within-visit-limit"}
    assert unmet["massage-x2"] >= {"body-part-specified", "functional-improvement-documented",
                                   "within-visit-limit"}
    pt_limit = [r for r in decided["physical-therapy-x8"]["reasons"] if r["requirement"] == "within-visit-limit"]
    assert [(r["observed"], r["limit"]) for r in pt_limit] == [(16, 10)]
    massage_limit = [r for r in decided["massage-x2"]["reasons"] if r["requirement"] == "within-visit-limit"]
    assert [(r["observed"], r["limit"]) for r in massage_limit] == [(8, 6)]


def test_turtle_and_jsonld_examples_decide_alike(reasoner):
    ttl = decisions_by_request(reasoner.decide_file(ROOT / "examples" / "seed-case.ttl"))
    jsonld = decisions_by_request(reasoner.decide_file(ROOT / "examples" / "seed-case.jsonld"))
    for record in list(ttl.values()) + list(jsonld.values()):
        record.pop("case")
    assert ttl == jsonld


def test_kb_summary_counts_recommendations_by_grade_and_guideline():
    from reasoner.kb.summary import summary
    from reasoner.kb.knowledge import KnowledgeBase

    data = summary(KnowledgeBase())
    assert data["recommendations"] >= 120
    assert sum(data["by_grade"].values()) == data["recommendations"]
    assert set(data["by_grade"]) == {"A", "B", "C"}
    assert data["guidelines"]["MTUS Chronic Pain Medical Treatment Guidelines"] > 30
    assert data["guidelines"]["Official Disability Guidelines"] > 20
    assert data["guidelines"]["California Labor Code"] == 3
