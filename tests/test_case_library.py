"""The case library (tests/case-library/, built by tests/build_case_library.py): every
recommendation has a case that meets it and one that fails it, each decided as its
expected file says; and a coverage report names any recommendation or requirement shape
that no case exercises."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from rdflib import URIRef

from build_case_library import LIBRARY, build
from conftest import OUTPUT, assert_decision_explains_itself, decisions_by_request, glob_nonempty, local_name
from reasoner.namespaces import GR, KB

CASES = glob_nonempty(LIBRARY, "*.ttl")
SEEN: dict[str, list] = defaultdict(list)  # what the runs exercised, for the coverage report


def test_library_is_current():
    """Regenerating from the knowledge base gives the files on disk (no stale library)."""
    on_disk = {p.name: p.read_text() for p in LIBRARY.iterdir() if p.name != "README.md"}
    assert build() == on_disk, "run: python tests/build_case_library.py"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_library_case(reasoner, case):
    expected = json.loads(case.with_name(case.stem + ".expected.json").read_text())
    result = reasoner.decide_file(case)
    request = URIRef(f"{case_base(case)}request")
    target = KB[expected["recommendation"]]
    # working data of the pipeline, in its store (the decision graph leaves it out)
    applicable = bool(result.store.query(f"ASK {{ <{request}> <{GR.applicableRecommendation}> <{target}> }}",
                                         use_default_graph_as_union=True))
    decision = decisions_by_request(result)["request"]
    assert_decision_explains_itself(decision)
    for reason in decision["reasons"]:
        SEEN["reasons"].append((local_name(reason["recommendation"]), reason["requirement"], reason["status"]))
    SEEN["applicable" if applicable else "not-applicable"].append(expected["recommendation"])
    assert applicable == expected["applicable"]
    if not expected["applicable"]:
        return
    by_rec = defaultdict(set)
    for r in decision["reasons"]:
        by_rec[local_name(r["recommendation"])].add((r["requirement"], r["status"]))
    if "yields_to" in expected:
        # the earlier tier decides: the conflicting recommendation gives no reason
        assert expected["recommendation"] not in by_rec, decision["reasons"]
        assert expected["yields_to"] in by_rec, decision["reasons"]
        return
    assert decision["outcome"] == expected["outcome"], decision["reasons"]
    statuses = {(r["requirement"], r["status"]) for r in decision["reasons"]}
    if expected["variant"] == "meets":
        judged = by_rec[expected["recommendation"]] if "vetoed_by" in expected else statuses
        assert {status for _, status in judged} == {"met"}, decision["reasons"]
        assert set(expected["requirements"]) <= {req for req, _ in statuses}
        if "vetoed_by" in expected:
            assert any(status == "not-met" for _, status in by_rec[expected["vetoed_by"]]), decision["reasons"]
    else:
        assert (expected["requirement"], "not-met") in statuses, decision["reasons"]
    SEEN["passed"].append((expected["recommendation"], expected["variant"]))


def case_base(case) -> str:
    first = case.read_text().split("@prefix :    <", 1)[1]
    return first.split(">", 1)[0]


def test_coverage_report(reasoner):
    """Every recommendation has both cases unless it cannot by construction, and every
    requirement shape was seen met and not met. Writes tests/output/case-library-coverage.txt."""
    from build_case_library import Library
    from reasoner.kb.knowledge import KnowledgeBase

    lib = Library(KnowledgeBase())
    recs = lib.recs()
    names = {p.stem for p in CASES}
    by_id = {r.id: r for r in recs}
    missing, cannot_fail, cannot_meet, yielding = [], [], [], []
    for rec in recs:
        has = {v.split("-")[0] for v in ("meets", "fails", "yields")
               for name in names if name == f"{rec.id}-{v}" or name.startswith(f"{rec.id}-{v}-")}
        if has >= {"meets", "fails"}:
            continue
        if has == {"yields"} and lib.yields_to(rec, by_id):
            yielding.append(rec.id)
        elif rec.status == "NotRecommended" and not rec.regions and has == {"fails"}:
            cannot_meet.append(rec.id)
        elif rec.status != "NotRecommended" and not lib.failable(rec) and has == {"meets"}:
            cannot_fail.append(rec.id)
        else:
            missing.append(rec.id)
    requirement_ids = {str(o) for o in KnowledgeBase().graph.objects(None, GR.requirementId)}
    reasons = [json.loads(p.read_text()) for p in LIBRARY.glob("*.expected.json")]
    met = {r["requirement"] for r in reasons if r.get("status") == "met" for r in [r] if "requirement" in r}
    met |= {req for r in reasons if r.get("variant") == "meets" for req in r.get("requirements", [])}
    failed = {r["requirement"] for r in reasons if r.get("status") == "not-met"}
    never_met = sorted(requirement_ids - met - {"treatment-recommended", "body-part-not-excluded"})
    never_failed = sorted(requirement_ids - failed)
    OUTPUT.mkdir(exist_ok=True)
    report = [f"case library: {len(CASES)} cases for {len(recs)} recommendations",
              f"recommendations without a meeting or failing case (gaps): {missing or 'none'}",
              f"yield to a conflicting recommendation of an earlier tier (a case shows it): {len(yielding)} {yielding}",
              f"not recommended everywhere, so only a failing case exists: {len(cannot_meet)} {cannot_meet}",
              f"recommended with nothing that can fail, so only a meeting case exists: {len(cannot_fail)} {cannot_fail}",
              f"requirement shapes never met in a case: {never_met or 'none'}",
              f"requirement shapes never failed in a case: {never_failed or 'none'}"]
    (OUTPUT / "case-library-coverage.txt").write_text("\n".join(report) + "\n")
    assert missing == [] and never_met == [] and never_failed == [], "\n".join(report)
